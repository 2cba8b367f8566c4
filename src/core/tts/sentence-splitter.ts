/**
 * Cuts incrementally arriving text into speakable spans (sentences, or clauses of a long
 * run). A cut is decided from the text alone, never from how it was delivered: the same
 * text sent whole or one LLM token at a time yields the same spans. A sentence end is only
 * decided once the character after it is known, and a length cut only once enough text
 * past the bound is buffered, so a decision never depends on where a delta happened to end.
 */

/** Words whose trailing period is not a sentence end (compared lower-case, without the period). */
const ABBREVIATIONS = new Set([
  "mr", "mrs", "ms", "mx", "dr", "prof", "sr", "jr", "st", "mt", "ft", "rev", "hon", "gen", "col", "lt", "sgt",
  "capt", "cmdr", "gov", "sen", "rep", "pres", "vs", "etc", "approx", "inc", "ltd", "co", "corp", "dept", "univ",
  "no", "nos", "fig", "figs", "vol", "vols", "ch", "sec", "p", "pp", "ed", "eds", "est", "min", "max", "avg",
  "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "mon", "tue", "wed", "thu",
  "fri", "sat", "sun", "cf", "al", "ave", "blvd", "rd", "apt",
]);

const SENTENCE_END = new Set([".", "!", "?", "…", "。", "！", "？"]);
const CLOSERS = new Set(['"', "'", "”", "’", ")", "]", "»", "*", "_", "`"]);
const CLAUSE_END = new Set([",", ";", ":", "—", "–", "，", "；", "："]);
/** Characters that must be seen past a candidate cut before it is decided. */
const LOOKAHEAD = 8;

export interface SplitterOptions {
  /** A run longer than this (characters) is cut at a clause or word boundary. Default 160. */
  maxChars?: number;
  /**
   * The first span ends early — at its first clause mark, or after this many words — so the first
   * audio does not wait for a whole sentence (what a listener hears first is what they wait for).
   * 0 or absent: the first span is a sentence like the others.
   */
  firstSpanWords?: number;
}

export class SentenceSplitter {
  private buffer = "";
  private readonly maxChars: number;
  private readonly firstSpanWords: number;
  private cutSoFar = 0;

  constructor(options: SplitterOptions = {}) {
    this.maxChars = Math.max(20, options.maxChars ?? 160);
    this.firstSpanWords = Math.max(0, Math.floor(options.firstSpanWords ?? 0));
  }

  /** The text buffered but not yet cut. */
  get pending(): string {
    return this.buffer;
  }

  /** Adds text; returns the spans that are now complete. */
  push(text: string): string[] {
    this.buffer += text;
    return this.drain(false);
  }

  /** Cuts everything buffered now: complete sentences, then the fragment. */
  flush(): string[] {
    const spans = this.drain(true);
    const rest = this.buffer;
    this.buffer = "";
    if (rest.trim() !== "") spans.push(rest.trim());
    return spans;
  }

  /** End of input: the same as flush. */
  finish(): string[] {
    return this.flush();
  }

  private drain(atEnd: boolean): string[] {
    const spans: string[] = [];
    for (;;) {
      let cut = findCut(this.buffer, this.maxChars, atEnd);
      if (this.cutSoFar === 0 && this.firstSpanWords > 0) {
        const early = earlyCut(this.buffer, this.firstSpanWords);
        if (early !== undefined && (cut === undefined || early < cut)) cut = early;
      }
      if (cut === undefined) break;
      const span = this.buffer.slice(0, cut).trim();
      this.buffer = this.buffer.slice(cut);
      if (span !== "") {
        spans.push(span);
        this.cutSoFar++;
      }
    }
    return spans;
  }
}

/**
 * Index just past the first cut in `text`, or undefined when none can be decided yet.
 * `atEnd`: no more text will come, so the end of the text counts as whitespace.
 */
export function findCut(text: string, maxChars: number, atEnd: boolean): number | undefined {
  let quote = false; // inside "…" or “…”
  let code = false; // inside `…`
  const limit = Math.min(text.length, maxChars);
  for (let i = 0; i < limit; i++) {
    const ch = text[i];
    if (ch === "`") {
      code = !code;
      continue;
    }
    if (code) continue;
    if (ch === '"') quote = !quote;
    else if (ch === "“") quote = true;
    else if (ch === "”") quote = false;
    else if (ch === "\n") {
      if (text.slice(0, i).trim() !== "") return i + 1;
    } else if (SENTENCE_END.has(ch) && !(i > 0 && SENTENCE_END.has(text[i - 1]))) {
      // (A run of marks is decided once, at its first mark.)
      const decision = sentenceEndAt(text, i, quote, atEnd);
      if (decision === "undecided") return undefined;
      if (decision !== "no") return decision;
    }
  }
  if (text.length >= maxChars + LOOKAHEAD || (atEnd && text.length > maxChars)) return boundCut(text, maxChars);
  return undefined;
}

/** Whether the sentence-end mark at `i` ends a span: the index past the cut, "no", or "undecided". */
function sentenceEndAt(text: string, i: number, inQuote: boolean, atEnd: boolean): number | "no" | "undecided" {
  const ch = text[i];
  let j = i + 1;
  // A run of marks ("?!", "...") is one decision, made at its last mark.
  while (j < text.length && SENTENCE_END.has(text[j])) j++;
  if (j === text.length && !atEnd) return "undecided";
  const run = text.slice(i, j);
  // An ellipsis trails off mid-thought ("Well... maybe"): not a cut.
  if (run.includes("..") || run.includes("…")) return "no";
  // Closing quotes/brackets belong to the sentence they close.
  let closedQuote = false;
  while (j < text.length && CLOSERS.has(text[j])) {
    if (text[j] === '"' || text[j] === "”") closedQuote = true;
    j++;
  }
  if (j === text.length && !atEnd) return "undecided";
  const next = text[j];
  if (next !== undefined && !/\s/.test(next)) return "no"; // 3.14, e.g.x, example.com
  if (inQuote && !closedQuote) return "no";
  if (closedQuote && next !== undefined) {
    // 'She said "Go." and left': a quote closed mid-sentence, the sentence goes on in lower case.
    let k = j;
    while (k < text.length && /\s/.test(text[k])) k++;
    if (k === text.length && !atEnd) return "undecided";
    if (k < text.length && /\p{Ll}/u.test(text[k])) return "no";
  }
  if (ch === "." && run.length === 1 && isAbbreviation(text, i)) return "no";
  return j;
}

/** The word before the period at `dot` is an abbreviation, an initial or a list number. */
function isAbbreviation(text: string, dot: number): boolean {
  let start = dot;
  while (start > 0 && /[\p{L}\p{N}.]/u.test(text[start - 1])) start--;
  const word = text.slice(start, dot);
  if (word === "") return false;
  if (ABBREVIATIONS.has(word.toLowerCase())) return true;
  if (/^(?:\p{L}\.)+\p{L}$/u.test(word)) return true; // e.g, i.e, U.S
  if (/^\p{Lu}$/u.test(word)) return true; // an initial: "J. Smith"
  // "1. First item" at the start of a line is a list marker, not a sentence.
  if (/^\d+$/.test(word)) {
    const before = text.slice(0, start).replace(/[ \t]+$/, "");
    return before === "" || before.endsWith("\n");
  }
  return false;
}

/**
 * The first span's early cut: just past the first clause mark that whitespace follows, or past
 * the whitespace after word `words` once the next word has begun (so, like every cut, it is
 * decided from the text alone). Undefined while neither can be decided yet.
 */
export function earlyCut(text: string, words: number): number | undefined {
  let seen = 0;
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (/\s/.test(ch)) {
      if (inWord) {
        inWord = false;
        seen++;
      }
      continue;
    }
    if (!inWord && seen >= words) return i; // word `words + 1` begins: cut before it
    inWord = true;
    if (CLAUSE_END.has(ch) && seen >= 1 && i + 1 < text.length && /\s/.test(text[i + 1])) return i + 1;
  }
  return undefined;
}

/** A cut in a long run: the last clause mark, else the last space, else the bound itself. */
function boundCut(text: string, maxChars: number): number {
  const head = text.slice(0, maxChars);
  const floor = Math.floor(maxChars / 3);
  for (let i = head.length - 1; i >= floor; i--) {
    if (CLAUSE_END.has(head[i]) && /\s/.test(text[i + 1] ?? " ")) return i + 1;
  }
  for (let i = head.length - 1; i >= floor; i--) if (/\s/.test(head[i])) return i + 1;
  return maxChars;
}
