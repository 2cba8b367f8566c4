/**
 * LocalAgreement-2 (Macháček et al., whisper_streaming): a word is committed once two
 * consecutive hypotheses of the growing audio buffer agree on it, so live captions only grow.
 * Pure bookkeeping over word lists — no model, no timing — so it is testable with scripted
 * hypotheses.
 *
 * Each hypothesis covers the whole current buffer. Its first `inBuffer` words are the
 * committed words still inside the buffer; agreement is looked for after them. When the
 * buffer is trimmed after committed words, those words leave the buffer and become the
 * prompt for later passes (text the new audio follows).
 */

/** How words are compared: case and surrounding punctuation do not break agreement. */
export function normalizeWord(word: string): string {
  return word.toLowerCase().replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, "");
}

export function splitWords(text: string): string[] {
  return text.split(/\s+/).filter((w) => w !== "");
}

export class LocalAgreement {
  private readonly committedWords: string[] = [];
  private inBufferCount = 0;
  private previous: string[] | undefined;

  /** All committed text of the turn. */
  get text(): string {
    return this.committedWords.join(" ");
  }

  get words(): readonly string[] {
    return this.committedWords;
  }

  /** Committed words that are still inside the audio buffer. */
  get inBuffer(): number {
    return this.inBufferCount;
  }

  /** A new hypothesis of the whole buffer; returns the words it newly commits. */
  insert(hypothesis: string[]): string[] {
    const tail = hypothesis.slice(this.inBufferCount);
    const before = this.previous?.slice(this.inBufferCount);
    let agreed = 0;
    if (before) {
      while (agreed < tail.length && agreed < before.length && normalizeWord(tail[agreed]) === normalizeWord(before[agreed])) agreed++;
    }
    this.previous = hypothesis;
    return this.commit(tail.slice(0, agreed));
  }

  /** Commits everything `hypothesis` says past the committed words (a flush or the final pass). */
  commitAll(hypothesis: string[]): string[] {
    const newly = this.commit(hypothesis.slice(this.inBufferCount));
    this.previous = hypothesis;
    return newly;
  }

  /** The buffer was cut after its first `count` committed words: they become prompt text. */
  trimmed(count: number): void {
    if (count < 0 || count > this.inBufferCount) throw new Error(`cannot trim ${count} of ${this.inBufferCount} committed words in the buffer`);
    this.inBufferCount -= count;
    this.previous = this.previous?.slice(count);
  }

  /** The whole buffer was cut (after a flush): every committed word is now prompt text. */
  clearBuffer(): void {
    this.inBufferCount = 0;
    this.previous = undefined;
  }

  /** The last ~`maxChars` characters of committed text that is no longer in the buffer, cut at a word. */
  prompt(maxChars = 200): string {
    const outside = this.committedWords.slice(0, this.committedWords.length - this.inBufferCount);
    const words: string[] = [];
    let length = 0;
    for (let i = outside.length - 1; i >= 0; i--) {
      length += outside[i].length + (words.length ? 1 : 0);
      if (length > maxChars && words.length > 0) break;
      words.unshift(outside[i]);
    }
    return words.join(" ");
  }

  private commit(words: string[]): string[] {
    this.committedWords.push(...words);
    this.inBufferCount += words.length;
    return words;
  }
}
