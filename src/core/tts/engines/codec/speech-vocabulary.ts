/**
 * The codec LM's speech vocabulary: which token id writes which codec code, the end token, and
 * how a logits row becomes the scores the sampler draws from.
 *
 * The LM may only write speech tokens and, once a span is long enough, the end token. Where the
 * lm_head allowed it, the session computes only those rows (`rows`: code order, then the end
 * token; see onnx/decoder/logit-rows-graph.ts), and index i of its logits is code i (the last
 * index the end); otherwise it returns the whole vocabulary and the other ids are masked out.
 */
import type { LogitsRow, TopLogits } from "../../../onnx/decoder/sampler";

export interface SpeechTokenizer {
  token_to_id(token: string): number | undefined;
}

export class SpeechVocabulary {
  private readonly codeOfId: Int32Array;

  private constructor(
    readonly idOfCode: Int32Array,
    readonly endId: number,
    /** Whether the session was asked for `rows` only (they are fewer than the vocabulary). */
    readonly asksRows: boolean,
  ) {
    let maxId = endId;
    for (const id of idOfCode) maxId = Math.max(maxId, id);
    this.codeOfId = new Int32Array(maxId + 1).fill(-1);
    idOfCode.forEach((id, code) => (this.codeOfId[id] = code));
  }

  /**
   * From the tokenizer: `speechToken` with {i} for the code, `codebookSize` codes. `vocabSize`
   * (config.json) and `askRows` (default true) decide whether the session is asked for `rows` only.
   */
  static of(
    tokenizer: SpeechTokenizer,
    speechToken: string,
    endToken: string,
    codebookSize: number,
    { vocabSize, askRows = true }: { vocabSize?: number; askRows?: boolean } = {},
  ): SpeechVocabulary {
    const endId = tokenizer.token_to_id(endToken);
    if (endId === undefined) throw new Error(`the tokenizer has no '${endToken}' token`);
    const idOfCode = new Int32Array(codebookSize);
    for (let code = 0; code < codebookSize; code++) {
      const token = speechToken.replace("{i}", String(code));
      const id = tokenizer.token_to_id(token);
      if (id === undefined) throw new Error(`the tokenizer has no '${token}' token (codebook_size ${codebookSize})`);
      idOfCode[code] = id;
    }
    // Only worth asking when it leaves rows out, and only then can a row's length tell the two layouts apart.
    return new SpeechVocabulary(idOfCode, endId, askRows && vocabSize !== undefined && codebookSize + 1 < vocabSize);
  }

  /** The ids the session is asked to compute, in the order of its logits then: code order, then the end token. */
  get rows(): number[] {
    return [...this.idOfCode, this.endId];
  }

  /** Whether a logits row of `width` entries holds `rows` only (else the whole vocabulary). */
  compactRow(width: number): boolean {
    return this.asksRows && width === this.idOfCode.length + 1;
  }

  /**
   * The scores to sample from: speech tokens, plus the end token once `allowEnd`. Rows of the
   * speech tokens only are those scores already: the end is masked in `logits` itself (the caller's
   * until its next model call), no copy a step. A whole-vocabulary row is masked into `reuse`, a row
   * this method returned before (only the speech and end entries ever change), so a span's steps
   * share one row instead of allocating one each step.
   */
  scores(logits: Float32Array, allowEnd: boolean, reuse?: LogitsRow): Float32Array;
  scores(logits: LogitsRow, allowEnd: boolean, reuse?: LogitsRow): LogitsRow;
  scores(logits: LogitsRow, allowEnd: boolean, reuse?: LogitsRow): LogitsRow {
    // The best entries of a `rows` row (the LM was asked for one more than the sampler needs): without the end until it is allowed.
    if (!(logits instanceof Float32Array)) return allowEnd ? logits : withoutIndex(logits, this.idOfCode.length);
    if (this.compactRow(logits.length)) {
      if (!allowEnd) logits[logits.length - 1] = -Infinity;
      return logits;
    }
    const row = reuse instanceof Float32Array && reuse.length === logits.length ? reuse : new Float32Array(logits.length).fill(-Infinity);
    const ids = this.idOfCode;
    for (let code = 0; code < ids.length; code++) row[ids[code]] = logits[ids[code]];
    row[this.endId] = allowEnd ? logits[this.endId] : -Infinity;
    return row;
  }

  /** The code at `index` of a `scores` row of length `rowLength`; -1 for the end token. */
  codeAt(index: number, rowLength: number): number {
    if (this.compactRow(rowLength)) return index === this.idOfCode.length ? -1 : index;
    return index === this.endId ? -1 : (this.codeOfId[index] ?? -1);
  }

  /** The token id the LM is fed for `code`. */
  idOf(code: number): number {
    return this.idOfCode[code];
  }
}

/** `top` without the entry for row index `index` (order kept). */
function withoutIndex(top: TopLogits, index: number): TopLogits {
  const at = top.ids.indexOf(index);
  if (at < 0) return top;
  const keep = (_: number, i: number) => i !== at;
  return { values: top.values.filter(keep), ids: top.ids.filter(keep) };
}
