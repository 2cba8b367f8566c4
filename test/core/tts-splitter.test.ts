import { strict as assert } from "assert";
import { SentenceSplitter } from "../../src/core/tts/sentence-splitter";
import { speakableText } from "../../src/core/tts/speakable-text";

function splitWhole(text: string, maxChars?: number): string[] {
  const s = new SentenceSplitter({ maxChars });
  return [...s.push(text), ...s.finish()];
}

/** Feeds `text` in pieces of the given sizes (cycled), as LLM deltas would arrive. */
function splitPieces(text: string, sizes: number[], maxChars?: number): string[] {
  const s = new SentenceSplitter({ maxChars });
  const spans: string[] = [];
  for (let at = 0, k = 0; at < text.length; k++) {
    const n = sizes[k % sizes.length];
    spans.push(...s.push(text.slice(at, at + n)));
    at += n;
  }
  return [...spans, ...s.finish()];
}

describe("tts sentence splitter", () => {
  it("cuts at sentence ends", () => {
    assert.deepEqual(splitWhole("Hello world. This is a test! Is it? Yes."), ["Hello world.", "This is a test!", "Is it?", "Yes."]);
  });

  it("does not cut at abbreviations, initials or decimals", () => {
    assert.deepEqual(splitWhole("Dr. Smith met Mr. J. Brown at 3.14 p.m. today. Then they left."), [
      "Dr. Smith met Mr. J. Brown at 3.14 p.m. today.",
      "Then they left.",
    ]);
    assert.deepEqual(splitWhole("Eat fruit, e.g. apples or pears, i.e. something sweet. Done."), [
      "Eat fruit, e.g. apples or pears, i.e. something sweet.",
      "Done.",
    ]);
  });

  it("does not cut at ellipses", () => {
    assert.deepEqual(splitWhole("Well... I think so. Hmm… maybe not. Fine."), ["Well... I think so.", "Hmm… maybe not.", "Fine."]);
  });

  it("does not cut inside quotes, but after a closing quote", () => {
    assert.deepEqual(splitWhole('He said "Stop. Wait here." Then he left. She said “Go. Now.” and went.'), [
      'He said "Stop. Wait here."',
      "Then he left.",
      "She said “Go. Now.” and went.",
    ]);
  });

  it("cuts a long run without punctuation at a clause or word boundary after the bound", () => {
    const clause = "and then the little train kept rolling along the valley past the farms";
    const text = `${clause}, ${clause} ${clause} ${clause}`;
    const spans = splitWhole(text, 100);
    assert.ok(spans.length >= 3, JSON.stringify(spans));
    for (const span of spans) assert.ok(span.length <= 100, `span over the bound: ${span.length}`);
    assert.ok(spans[0].endsWith(","), `first cut should be at the comma: ${spans[0]}`);
    // Word boundaries only: no word is cut in two.
    const words = new Set(text.replace(/,/g, "").split(" "));
    for (const span of spans) for (const w of span.replace(/,/g, "").split(" ")) assert.ok(words.has(w), `split word '${w}'`);
    assert.equal(spans.join(" "), text);
  });

  it("gives the same spans for any delivery, whole or in tiny deltas", () => {
    const text =
      "Dr. Who said \"Run. Now.\" So we ran... fast! The value was 3.14, e.g. about pi. " +
      "A very long run of words without any punctuation at all that just keeps going and going well past the bound " +
      "and further still until it finally ends. Okay?";
    const whole = splitWhole(text, 80);
    for (const sizes of [[1], [2, 3], [5, 1, 7], [13]]) assert.deepEqual(splitPieces(text, sizes, 80), whole, `sizes ${sizes}`);
  });

  it("holds a fragment until flush or finish", () => {
    const s = new SentenceSplitter();
    assert.deepEqual(s.push("Hello there"), []);
    assert.deepEqual(s.flush(), ["Hello there"]);
    assert.deepEqual(s.push("One. Two"), ["One."]);
    assert.deepEqual(s.finish(), ["Two"]);
  });

  it("cuts at line breaks (lists, headings)", () => {
    assert.deepEqual(splitWhole("# Title\n1. First item\n2. Second item\n"), ["# Title", "1. First item", "2. Second item"]);
  });
});

describe("tts speakable text", () => {
  it("removes markdown and emoji the way a listener expects", () => {
    assert.equal(speakableText("**Bold** and _italic_ and `code` here 😀!"), "Bold and italic and code here!");
    assert.equal(speakableText("## Heading"), "Heading");
    assert.equal(speakableText("See [the docs](https://example.com/a.b) now 👍🏽."), "See the docs now.");
    assert.equal(speakableText("- bullet one"), "bullet one");
    assert.equal(speakableText("Flags 🇩🇪 and families 👨‍👩‍👧 go"), "Flags and families go");
    assert.equal(speakableText("2 * 3 = 6"), "2 * 3 = 6");
  });
});

describe("tts sentence splitter: the first span cut early (first_span_words)", () => {
  const split = (text: string, firstSpanWords: number, sizes?: number[]) => {
    const s = new SentenceSplitter({ firstSpanWords });
    const spans: string[] = [];
    if (!sizes) spans.push(...s.push(text));
    else {
      for (let at = 0, k = 0; at < text.length; k++) {
        const n = sizes[k % sizes.length];
        spans.push(...s.push(text.slice(at, at + n)));
        at += n;
      }
    }
    return [...spans, ...s.finish()];
  };

  it("cuts the first span at its first clause of two or more words, then sentences as usual", () => {
    assert.deepEqual(split("Sure thing, the kitchen light is on now. Anything else, or shall I stop?", 6), [
      "Sure thing,",
      "the kitchen light is on now.",
      "Anything else, or shall I stop?",
    ]);
    assert.deepEqual(split("Yes, I turned the kitchen light on. Goodbye.", 6), ["Yes, I turned the kitchen light", "on.", "Goodbye."]);
  });

  it("cuts after N words when no clause mark comes first, and never cuts a sentence that is shorter", () => {
    assert.deepEqual(split("The kitchen light in the north wing is on now.", 4), ["The kitchen light in", "the north wing is on now."]);
    assert.deepEqual(split("It is on. The hall is dark.", 4), ["It is on.", "The hall is dark."]);
  });

  it("is off at 0, and gives the same spans for any delivery", () => {
    const text = "Well then, here is the forecast for tomorrow: sunny and warm. Bring water!";
    assert.deepEqual(split(text, 0), ["Well then, here is the forecast for tomorrow: sunny and warm.", "Bring water!"]);
    const whole = split(text, 5);
    assert.deepEqual(whole[0], "Well then,");
    for (const sizes of [[1], [2, 3], [7]]) assert.deepEqual(split(text, 5, sizes), whole, `sizes ${sizes}`);
  });
});
