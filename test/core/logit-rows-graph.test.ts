import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as ort from "onnxruntime-node";
import { lastLogitsModel } from "../../src/core/onnx/decoder/last-logits-graph";
import { KvCacheDecoder } from "../../src/core/onnx/decoder/kv-cache-decoder";
import { randomDecoderOnlyWeights, writeDecoderOnlyModel, type DecoderOnlyConfig } from "../../src/core/onnx-builder/transformer";
import { SMALL_DECODER, openRewritten } from "./decoder-support";

const base: DecoderOnlyConfig = SMALL_DECODER;

/** Scattered ids in an order of their own (not ascending), as a codec's code order may be. */
const ROWS = [299, 0, 17, 150, 3, 298, 42, 151, 5];
const PROMPT = [1, 9, 33, 120, 7, 250];

async function open(file: string, logitRows?: number[]) {
  const model = lastLogitsModel(file, { logitRows });
  assert.ok(model, "the decoder graph is recognised");
  const session = await openRewritten(model);
  return { session, keptRows: model.keptRows };
}

/** The logits after the prompt, then after each of three fed ids. */
async function logitsAlong(session: ort.InferenceSession, config: DecoderOnlyConfig): Promise<Float32Array[]> {
  const decoder = new KvCacheDecoder(session, config);
  try {
    const rows = [(await decoder.prefill(PROMPT)).slice()];
    for (const id of [11, 200, 64]) rows.push((await decoder.step(id)).slice());
    return rows;
  } finally {
    decoder.dispose();
  }
}

describe("logit rows graph (an lm_head that computes only the ids a caller samples)", function () {
  this.timeout(60_000);
  let dir: string;
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "logit-rows-"))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const heads: { name: string; config: DecoderOnlyConfig; format: "fp32" | "q4"; tolerance: number }[] = [
    { name: "fp32 tied embedding (MatMul on a Transpose of the table)", config: base, format: "fp32", tolerance: 1e-5 },
    { name: "fp32 own lm_head (MatMul on a [hidden, vocab] initializer)", config: { ...base, tieWordEmbeddings: false }, format: "fp32", tolerance: 1e-5 },
    { name: "4-bit lm_head (MatMulNBits: weights, scales and zero points)", config: base, format: "q4", tolerance: 1e-4 },
  ];
  for (const head of heads) {
    it(`${head.name}: the kept rows' logits, in the asked order, equal the full head's`, async () => {
      const sub = path.join(dir, head.name.replace(/\W+/g, "-"));
      const file = writeDecoderOnlyModel(sub, head.config, randomDecoderOnlyWeights(head.config, 7), { weightFormat: head.format });
      const full = await open(file);
      const kept = await open(file, ROWS);
      try {
        assert.equal(kept.keptRows, true);
        assert.equal(full.keptRows, false);
        const a = await logitsAlong(full.session, head.config);
        const b = await logitsAlong(kept.session, head.config);
        assert.equal(a[0].length, head.config.vocabSize);
        b.forEach((row, step) => {
          assert.equal(row.length, ROWS.length);
          ROWS.forEach((id, i) => {
            const diff = Math.abs(row[i] - a[step][id]);
            assert.ok(diff <= head.tolerance * Math.max(1, Math.abs(a[step][id])), `step ${step}, id ${id}: ${row[i]} against ${a[step][id]}`);
          });
        });
      } finally {
        await full.session.release();
        await kept.session.release();
      }
    });
  }

  it("leaves the head whole when a row is outside the vocabulary (the caller then gets every row)", async () => {
    const sub = path.join(dir, "out-of-range");
    const file = writeDecoderOnlyModel(sub, base, randomDecoderOnlyWeights(base, 8), { weightFormat: "q4" });
    const kept = await open(file, [1, 2, base.vocabSize]);
    try {
      assert.equal(kept.keptRows, false);
      const rows = await logitsAlong(kept.session, base);
      assert.equal(rows[0].length, base.vocabSize);
    } finally {
      await kept.session.release();
    }
  });
});
