/**
 * What a listener expects to hear from chat-style text: markdown markup, links' targets,
 * code fences and emoji are dropped, the words kept. Applied to each span before synthesis.
 */

const EMOJI = /[\p{Extended_Pictographic}\u{1F1E6}-\u{1F1FF}\u{1F3FB}-\u{1F3FF}\u200D\uFE0E\uFE0F\u20E3]/gu;

export function speakableText(span: string): string {
  let text = span;
  text = text.replace(/```[^\n]*/g, " "); // code fences (the language tag with them)
  text = text.replace(/!\[([^\]]*)\]\([^)]*\)/g, "$1"); // images: their alt text
  text = text.replace(/\[([^\]]+)\]\([^)]*\)/g, "$1"); // links: their text, not the URL
  text = text.replace(/<(https?:\/\/[^>]+)>/g, "$1");
  text = text.replace(/^[ \t]*#{1,6}[ \t]+/gm, ""); // headings
  text = text.replace(/^[ \t]*>[ \t]?/gm, ""); // block quotes
  text = text.replace(/^[ \t]*[-*+•][ \t]+/gm, ""); // bullets
  text = text.replace(/^[ \t]*(?:-{3,}|\*{3,}|_{3,})[ \t]*$/gm, " "); // rules
  text = text.replace(/(\*\*|__|~~)/g, ""); // bold, strike
  text = text.replace(/(^|[\s(])[*_]+(?=\S)/g, "$1"); // emphasis openers
  text = text.replace(/(\S)[*_]+(?=[\s).,;:!?]|$)/g, "$1"); // emphasis closers
  text = text.replace(/`/g, "");
  text = text.replace(EMOJI, "");
  text = text.replace(/[|]/g, " ");
  text = text.replace(/\s+/g, " ").replace(/ ([.,!?;:])/g, "$1").trim();
  return text;
}

/** Whether a span has anything to say (letters or digits), after cleaning. */
export function isSpeakable(text: string): boolean {
  return /[\p{L}\p{N}]/u.test(text);
}
