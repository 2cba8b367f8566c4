import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as ort from "onnxruntime-node";
import { dequantize4bit, quantize4bit } from "../../src/core/onnx-builder/quantize-4bit";
import { SeededRandom } from "../../src/core/onnx-builder/random";
import {
  buildDecoderOnlyGraph,
  randomDecoderOnlyWeights,
  writeDecoderOnlyModel,
  type DecoderOnlyConfig,
  type DecoderOnlyWeights,
} from "../../src/core/onnx-builder/transformer";
import { runDecoder } from "./decoder-support";

// intermediateSize 40 with block 32: down_proj's K is not a multiple of the block (padding path).
const CONFIG: DecoderOnlyConfig = {
  vocabSize: 70,
  hiddenSize: 64,
  numLayers: 2,
  numHeads: 4,
  numKvHeads: 2,
  headDim: 16,
  intermediateSize: 40,
  rmsNormEps: 1e-6,
  ropeTheta: 1_000_000,
  qkNorm: true,
  tieWordEmbeddings: true,
};

/** The float weights a q4 graph effectively uses: every linear layer (and the head) through quantize → dequantize. */
function dequantizedWeights(c: DecoderOnlyConfig, w: DecoderOnlyWeights, blockSize: number, symmetric = false): DecoderOnlyWeights {
  const roundTrip = (data: Float32Array, n: number, k: number) => dequantize4bit(quantize4bit(data, n, k, blockSize, symmetric));
  const { hiddenSize: H, numHeads: nh, numKvHeads: nkv, headDim: hd, intermediateSize: I, vocabSize: V } = c;
  return {
    embedTokens: w.embedTokens,
    finalNorm: w.finalNorm,
    lmHead: roundTrip(w.lmHead ?? w.embedTokens, V, H),
    layers: w.layers.map((l) => ({
      ...l,
      qProj: roundTrip(l.qProj, nh * hd, H),
      kProj: roundTrip(l.kProj, nkv * hd, H),
      vProj: roundTrip(l.vProj, nkv * hd, H),
      oProj: roundTrip(l.oProj, H, nh * hd),
      gateProj: roundTrip(l.gateProj, I, H),
      upProj: roundTrip(l.upProj, I, H),
      downProj: roundTrip(l.downProj, H, I),
    })),
  };
}

/** One sequence from position `start`, every key visible; `past` is the previous step's `present`. */
function logitsOf(session: ort.InferenceSession, ids: number[], start = 0, past?: Record<string, ort.Tensor>) {
  const positions = ids.map((_, i) => start + i);
  return runDecoder(session, CONFIG, [ids], [positions], [Array.from({ length: start + ids.length }, () => 1)], past);
}

const maxAbsDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

describe("onnx-builder 4-bit (MatMulNBits) decoder", () => {
  it("quantizes per block within half a step, padding a partial last block", () => {
    const rng = new SeededRandom(5);
    for (const [n, k, block] of [
      [3, 64, 32],
      [5, 172, 32],
      [2, 40, 16],
    ]) {
      const w = rng.normalArray(n * k, 0.5);
      const q = quantize4bit(w, n, k, block);
      assert.equal(q.blocks, Math.ceil(k / block));
      assert.equal(q.packed.length, n * q.blocks * (block / 2));
      assert.equal(q.zeroPoints!.length, n * Math.ceil(q.blocks / 2));
      const back = dequantize4bit(q);
      for (let r = 0; r < n; r++) {
        for (let i = 0; i < k; i++) {
          const step = q.scales[r * q.blocks + Math.floor(i / block)];
          assert.ok(Math.abs(back[r * k + i] - w[r * k + i]) <= step / 2 + 1e-6, `[${r}, ${i}]`);
        }
      }
    }
    // Zero stays exactly zero (the range always includes it).
    const withZeros = Float32Array.from({ length: 32 }, (_, i) => (i % 3 === 0 ? 0 : i / 10));
    const back = dequantize4bit(quantize4bit(withZeros, 1, 32));
    for (let i = 0; i < 32; i += 3) assert.equal(back[i], 0);
  });

  it("symmetric blocks (transformers.js's q4, llama.cpp's Q4_0): no zero points, the largest magnitude exact, the rest within half a step (one where the far end clamps)", () => {
    const rng = new SeededRandom(6);
    for (const [n, k, block] of [
      [3, 64, 32],
      [5, 172, 32],
    ]) {
      const w = rng.normalArray(n * k, 0.5);
      const q = quantize4bit(w, n, k, block, true);
      assert.equal(q.zeroPoints, undefined);
      const back = dequantize4bit(q);
      for (let r = 0; r < n; r++) {
        for (let b = 0; b < q.blocks; b++) {
          const from = b * block;
          const to = Math.min(k, from + block);
          let extreme = 0;
          for (let i = from; i < to; i++) if (Math.abs(w[r * k + i]) > Math.abs(extreme)) extreme = w[r * k + i];
          const scale = q.scales[r * q.blocks + b];
          assert.ok(Math.abs(scale - extreme / -8) < 1e-6, `scale of block [${r}, ${b}]`);
          for (let i = from; i < to; i++) {
            if (w[r * k + i] === extreme) assert.ok(Math.abs(back[r * k + i] - extreme) < 1e-6, "the extreme maps to code 0 exactly");
            // Codes run from −8 to 7 steps: only values past 7.5 steps the other way from the extreme clamp (at most one step off).
            const steps = w[r * k + i] / scale;
            const bound = steps <= 7.5 ? Math.abs(scale) / 2 : Math.abs(scale);
            assert.ok(Math.abs(back[r * k + i] - w[r * k + i]) <= bound + 1e-6, `[${r}, ${i}]`);
          }
        }
      }
    }
  });

  for (const symmetric of [false, true]) it(`q4 graph logits (${symmetric ? "symmetric, no zero points" : "zero points"}) equal the float graph on the dequantized weights (prefill and stepwise), within 1e-4`, async () => {
    const weights = randomDecoderOnlyWeights(CONFIG, 9, { embeddingStd: 0.3 });
    const q4 = await ort.InferenceSession.create(
      buildDecoderOnlyGraph(CONFIG, weights, { weightFormat: "q4", q4Symmetric: symmetric }).toBytes({ extraOpsets: { "com.microsoft": 1 } }),
    );
    const reference = await ort.InferenceSession.create(
      buildDecoderOnlyGraph({ ...CONFIG, tieWordEmbeddings: false }, dequantizedWeights(CONFIG, weights, 32, symmetric)).toBytes(),
    );
    const ids = [5, 61, 2, 2, 40, 17, 33, 8];
    const expected = (await logitsOf(reference, ids)).logits;
    const prefillError = maxAbsDiff((await logitsOf(q4, ids)).logits, expected);

    let stepError = 0;
    let present: Record<string, ort.Tensor> | undefined;
    for (let t = 0; t < ids.length; t++) {
      const step = await logitsOf(q4, [ids[t]], t, present);
      stepError = Math.max(stepError, maxAbsDiff(step.logits, expected.subarray(t * CONFIG.vocabSize, (t + 1) * CONFIG.vocabSize)));
      present = step.present;
    }
    console.log(`      q4 vs dequantized fp32: prefill ${prefillError.toExponential(2)}, stepwise ${stepError.toExponential(2)}`);
    assert.ok(prefillError < 1e-4, `prefill ${prefillError}`);
    assert.ok(stepError < 1e-4, `stepwise ${stepError}`);

    // ...and 4-bit weights really are coarser than the originals (the check is not vacuous).
    const original = await ort.InferenceSession.create(buildDecoderOnlyGraph(CONFIG, weights).toBytes());
    assert.ok(maxAbsDiff((await logitsOf(original, ids)).logits, expected) > 1e-3);
  });

  it("writeDecoderOnlyModel writes onnx/model_q4.onnx, several times smaller than fp32", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vs-q4-"));
    const config = { ...CONFIG, vocabSize: 400, intermediateSize: 256, tieWordEmbeddings: false };
    const weights = randomDecoderOnlyWeights(config, 1);
    const fp32 = writeDecoderOnlyModel(dir, config, weights);
    const q4 = writeDecoderOnlyModel(dir, config, weights, { weightFormat: "q4" });
    assert.equal(q4, path.join(dir, "onnx", "model_q4.onnx"));
    // The fp32 embedding stays; everything else shrinks ~6x (4 bits + per-block scale/zero point).
    assert.ok(fs.statSync(q4).size < fs.statSync(fp32).size / 2.5, `${fs.statSync(q4).size} vs ${fs.statSync(fp32).size}`);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
