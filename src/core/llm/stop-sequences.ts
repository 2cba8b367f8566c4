/**
 * Stops generation at the first occurrence of any stop sequence without ever emitting it:
 * text that could still turn out to be the start of a stop sequence is held back until
 * the next text either completes the match (the stream stops before it) or rules it out.
 */

export interface StopFilterResult {
  /** Text that is safe to emit now. */
  text: string;
  /** True once a stop sequence has been seen; nothing after it is ever emitted. */
  stopped: boolean;
}

export class StopSequenceFilter {
  private readonly sequences: string[];
  private held = "";
  private done = false;

  constructor(sequences: readonly string[] = []) {
    this.sequences = sequences.filter((s) => typeof s === "string" && s.length > 0);
  }

  get stopped(): boolean {
    return this.done;
  }

  /** Adds newly decoded text. */
  push(text: string): StopFilterResult {
    if (this.done) return { text: "", stopped: true };
    const pending = this.held + text;
    if (this.sequences.length === 0) {
      this.held = "";
      return { text: pending, stopped: false };
    }
    // Earliest complete match wins.
    let cut = -1;
    for (const sequence of this.sequences) {
      const at = pending.indexOf(sequence);
      if (at >= 0 && (cut < 0 || at < cut)) cut = at;
    }
    if (cut >= 0) {
      this.done = true;
      this.held = "";
      return { text: pending.slice(0, cut), stopped: true };
    }
    const keep = this.longestPartialMatch(pending);
    this.held = pending.slice(pending.length - keep);
    return { text: pending.slice(0, pending.length - keep), stopped: false };
  }

  /** End of the stream without a stop: what was held back was not a stop sequence after all. */
  flush(): string {
    const rest = this.done ? "" : this.held;
    this.held = "";
    return rest;
  }

  /** Length of the longest suffix of `text` that is a proper prefix of some stop sequence. */
  private longestPartialMatch(text: string): number {
    let best = 0;
    for (const sequence of this.sequences) {
      for (let n = Math.min(sequence.length - 1, text.length); n > best; n--) {
        if (text.endsWith(sequence.slice(0, n))) {
          best = n;
          break;
        }
      }
    }
    return best;
  }
}
