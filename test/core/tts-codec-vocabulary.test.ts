import { strict as assert } from "assert";
import { Sampler } from "../../src/core/onnx/decoder/sampler";
import { SpeechVocabulary } from "../../src/core/tts/engines/codec/speech-vocabulary";

const CODES = 8;
const VOCAB = 40;
/** Speech tokens at ids 30, 28, …, 16 (code order is not id order), the end token at 5. */
const idOf = (code: number) => 30 - 2 * code;
const tokenizer = {
  token_to_id(token: string): number | undefined {
    if (token === "<|end|>") return 5;
    const m = /^<\|s(\d+)\|>$/.exec(token);
    return m && Number(m[1]) < CODES ? idOf(Number(m[1])) : undefined;
  },
};
const vocabulary = (options?: { vocabSize?: number; askRows?: boolean }) => SpeechVocabulary.of(tokenizer, "<|s{i}|>", "<|end|>", CODES, options);

/** Seeded pseudo-random logits over the whole vocabulary. */
function fullLogits(seed: number): Float32Array {
  const row = new Float32Array(VOCAB);
  let x = seed;
  for (let i = 0; i < VOCAB; i++) row[i] = ((x = (x * 1103515245 + 12345) % 2147483648) / 2147483648) * 6 - 3;
  return row;
}

describe("codec speech vocabulary (speech codes ↔ ids, the sampler's scores)", () => {
  it("asks for the speech rows in code order, then the end token, only when they leave ids out", () => {
    assert.deepEqual(vocabulary({ vocabSize: VOCAB }).rows, [30, 28, 26, 24, 22, 20, 18, 16, 5]);
    assert.equal(vocabulary({ vocabSize: VOCAB }).asksRows, true);
    assert.equal(vocabulary({ vocabSize: VOCAB, askRows: false }).asksRows, false);
    assert.equal(vocabulary({ vocabSize: CODES + 1 }).asksRows, false, "rows = the whole vocabulary: nothing to leave out");
    assert.equal(vocabulary().asksRows, false, "an unknown vocabulary size: the row's length could not tell the layouts apart");
  });

  it("seeded, the speech rows alone draw the same codes as the whole masked vocabulary, the end only once allowed", () => {
    const rowsOnly = vocabulary({ vocabSize: VOCAB });
    const whole = vocabulary({ vocabSize: VOCAB, askRows: false });
    for (const allowEnd of [false, true]) {
      const a = new Sampler({ temperature: 1, topK: 4, seed: 11 });
      const b = new Sampler({ temperature: 1, topK: 4, seed: 11 });
      const codesA: number[] = [];
      const codesB: number[] = [];
      let rowA: Float32Array | undefined;
      let rowB: Float32Array | undefined;
      for (let step = 0; step < 200; step++) {
        const logits = fullLogits(step + 1);
        const compact = Float32Array.from(rowsOnly.rows, (id) => logits[id]);
        rowA = rowsOnly.scores(compact, allowEnd, rowA);
        rowB = whole.scores(logits, allowEnd, rowB);
        codesA.push(rowsOnly.codeAt(a.next(rowA), rowA.length));
        codesB.push(whole.codeAt(b.next(rowB), rowB.length));
      }
      assert.deepEqual(codesA, codesB);
      assert.equal(codesA.includes(-1), allowEnd, allowEnd ? "the end token is drawn sometimes" : "never the end token while it is masked");
      assert.ok(new Set(codesA.filter((c) => c >= 0)).size > 3, "several codes are drawn");
      for (const code of codesA.filter((c) => c >= 0)) assert.equal(rowsOnly.idOf(code), idOf(code));
    }
  });

  it("seeded, the best top_k + 1 speech rows (as the LM's TopK gives them) draw the same codes as the whole rows, the end only once allowed", () => {
    const rowsOnly = vocabulary({ vocabSize: VOCAB });
    const width = CODES + 1;
    assert.equal(rowsOnly.compactRow(width), true);
    assert.equal(rowsOnly.compactRow(VOCAB), false);
    for (const allowEnd of [false, true]) {
      const a = new Sampler({ temperature: 1, topK: 4, seed: 5 });
      const b = new Sampler({ temperature: 1, topK: 4, seed: 5 });
      const codesA: number[] = [];
      const codesB: number[] = [];
      for (let step = 0; step < 200; step++) {
        const logits = fullLogits(step + 7);
        const compact = Float32Array.from(rowsOnly.rows, (id) => logits[id]);
        // What TopK returns for k = top_k + 1: the best first, equal values lower index first.
        const order = Array.from(compact.keys()).sort((x, y) => compact[y] - compact[x] || x - y).slice(0, 5);
        const top = { ids: Int32Array.from(order), values: Float32Array.from(order, (i) => compact[i]) };
        const scores = rowsOnly.scores(top, allowEnd);
        assert.ok(!(scores instanceof Float32Array));
        assert.equal(scores.ids.includes(CODES), allowEnd && order.includes(CODES), "the end token's entry only once allowed");
        codesA.push(rowsOnly.codeAt(a.next(scores), width));
        codesB.push(rowsOnly.codeAt(b.next(rowsOnly.scores(compact, allowEnd)), width));
      }
      assert.deepEqual(codesA, codesB);
      assert.equal(codesA.includes(-1), allowEnd);
    }
  });

  it("a logits row of the whole vocabulary still works when rows were asked but the head kept them all", () => {
    const v = vocabulary({ vocabSize: VOCAB });
    const logits = new Float32Array(VOCAB).fill(-5);
    logits[idOf(3)] = 9;
    logits[7] = 20; // not a speech token: masked out
    const row = v.scores(logits, false);
    assert.equal(v.codeAt(new Sampler({ temperature: 0, seed: 1 }).next(row), row.length), 3);
  });

  it("names the missing token", () => {
    assert.throws(() => SpeechVocabulary.of(tokenizer, "<|s{i}|>", "<|end|>", CODES + 1), /no '<\|s8\|>' token \(codebook_size 9\)/);
    assert.throws(() => SpeechVocabulary.of(tokenizer, "<|s{i}|>", "<|stop|>", CODES), /no '<\|stop\|>' token/);
  });
});
