/**
 * Turns generated token ids into text deltas as they arrive, without ever emitting half a
 * UTF-8 character: byte-level tokenizers spread one emoji or CJK character over several
 * tokens, and decoding a prefix of them gives U+FFFD. Each push decodes all generated ids
 * so far and emits only the new, stable suffix, so the deltas always concatenate to the
 * decode of all generated ids.
 *
 * An optional anchor (the prompt's last tokens) is decoded in front of the generated ids
 * and cut off again: decoders such as SentencePiece's strip the leading space of a
 * sequence, which would drop the space a continuation starts with.
 */

export type DecodeIds = (ids: number[]) => string;

export interface DetokenizedDelta {
  /** New text; may be "" while a character is incomplete. */
  delta: string;
  /** The ids whose text is in `delta` (ids that produced no text yet ride along with a later delta). */
  ids: number[];
}

const REPLACEMENT = "\uFFFD";
/**
 * A push decodes only the ids after the last commit point (with a few ids before it as
 * context), so its cost stays flat however long the answer grows; the text is committed
 * every COMMIT_EVERY ids, at a point where it ends in a complete character.
 */
const COMMIT_EVERY = 16;
const CONTEXT_IDS = 4;
/** How many prompt tokens to try as the anchor. */
const MAX_ANCHOR = 4;

export class StreamingDetokenizer {
  private readonly generated: number[] = [];
  private readonly anchor: number[];
  private readonly anchorText: string;
  private emitted = "";
  private unreported: number[] = [];
  /** Generated ids whose text is settled in committedText (see COMMIT_EVERY). */
  private committed = 0;
  private committedText = "";
  /** The few ids before the commit point, decoded in front of the tail, and their own text. */
  private context: number[] = [];
  private contextText = "";

  constructor(
    private readonly decode: DecodeIds,
    contextIds: number[] = [],
  ) {
    // The shortest tail of the context that decodes to whole characters, so its text is a stable prefix.
    let anchor: number[] = [];
    for (let n = 1; n <= Math.min(MAX_ANCHOR, contextIds.length); n++) {
      const tail = contextIds.slice(-n);
      const text = decode(tail);
      if (!text.includes(REPLACEMENT)) {
        anchor = tail;
        break;
      }
    }
    this.anchor = anchor;
    this.anchorText = anchor.length ? decode(anchor) : "";
  }

  /** All text emitted so far. */
  get text(): string {
    return this.emitted;
  }

  /** The generated ids pushed so far. */
  get ids(): readonly number[] {
    return this.generated;
  }

  /** Adds one generated id; returns the text that is now certain. */
  push(id: number): DetokenizedDelta {
    this.generated.push(id);
    this.unreported.push(id);
    return this.release(this.decodeIncremental(), false);
  }

  /** End of generation: everything left, including a genuinely invalid byte sequence's U+FFFD. */
  flush(): DetokenizedDelta {
    return this.release(this.decodeGenerated(), true);
  }

  /** The full decode of the generated ids (what the deltas add up to after flush). */
  decodeGenerated(): string {
    if (this.anchor.length) {
      const full = this.decode([...this.anchor, ...this.generated]);
      if (full.startsWith(this.anchorText)) return full.slice(this.anchorText.length);
    }
    return this.decode(this.generated);
  }

  /**
   * The same text as decodeGenerated(), but decoding only the ids after the last commit:
   * the tail is decoded behind a few committed ids (so decoders that strip a sequence's
   * leading space, or merge bytes, see it in context) and that context's text is cut off.
   */
  private decodeIncremental(): string {
    let full: string | undefined;
    if (this.committed > 0) {
      const withTail = this.decode([...this.context, ...this.generated.slice(this.committed)]);
      if (withTail.startsWith(this.contextText)) full = this.committedText + withTail.slice(this.contextText.length);
    }
    // Before the first commit, or if a decoder rewrote the context: decode everything (exact).
    full ??= this.decodeGenerated();
    const last = full.charCodeAt(full.length - 1);
    if (this.generated.length - this.committed >= COMMIT_EVERY && !full.endsWith(REPLACEMENT) && !isHighSurrogate(last)) {
      this.committed = this.generated.length;
      this.committedText = full;
      this.context = this.generated.slice(Math.max(0, this.committed - CONTEXT_IDS), this.committed);
      this.contextText = this.decode(this.context);
    }
    return full;
  }

  private release(full: string, final: boolean): DetokenizedDelta {
    // A trailing U+FFFD is (still) an incomplete character: hold it until more bytes arrive.
    let stable = full;
    if (!final) while (stable.endsWith(REPLACEMENT)) stable = stable.slice(0, -1);
    // Never emit a lone high surrogate either (a split UTF-16 pair would be half a character).
    if (!final && stable.length && isHighSurrogate(stable.charCodeAt(stable.length - 1))) stable = stable.slice(0, -1);
    if (!stable.startsWith(this.emitted) || stable.length === this.emitted.length) {
      // Either nothing new, or a decoder rewrote earlier text (it can only settle later): wait.
      if (!final) return { delta: "", ids: [] };
      if (!stable.startsWith(this.emitted)) {
        // Unreachable with the tokenizers this project ships; kept so deltas still add up to `text`.
        return this.take("");
      }
    }
    return this.take(stable.slice(this.emitted.length));
  }

  private take(delta: string): DetokenizedDelta {
    this.emitted += delta;
    const ids = this.unreported;
    this.unreported = [];
    return { delta, ids };
  }
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}
