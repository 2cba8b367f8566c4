import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as ort from "onnxruntime-node";
import {
  buildDecoderOnlyGraph,
  randomDecoderOnlyWeights,
  writeDecoderOnlyModel,
  type DecoderOnlyConfig,
  type DecoderOnlyWeights,
} from "../../src/core/onnx-builder/transformer";
import { assertOnnxCommunityNames, runDecoder } from "./decoder-support";

/**
 * A plain, loop-by-loop forward pass written straight from the Llama/Qwen2/Qwen3 equations (no
 * cache: every position recomputed), the oracle the ONNX graph is checked against.
 * Returns logits [T, V] for one sequence; `mask[j] == 0` hides key j from every query.
 */
function referenceForward(
  c: DecoderOnlyConfig,
  w: DecoderOnlyWeights,
  ids: number[],
  positions: number[],
  mask: number[],
): Float64Array[] {
  const T = ids.length;
  const { hiddenSize: H, numHeads: nh, numKvHeads: nkv, headDim: hd, intermediateSize: I, vocabSize: V } = c;
  const matvec = (W: Float32Array, x: ArrayLike<number>, out: number, inp: number) => {
    const y = new Float64Array(out);
    for (let o = 0; o < out; o++) {
      let s = 0;
      for (let k = 0; k < inp; k++) s += W[o * inp + k] * x[k];
      y[o] = s;
    }
    return y;
  };
  const rms = (x: ArrayLike<number>, weight: Float32Array, offset = 0, n = weight.length) => {
    let ss = 0;
    for (let k = 0; k < n; k++) ss += x[offset + k] * x[offset + k];
    const inv = 1 / Math.sqrt(ss / n + c.rmsNormEps);
    const y = new Float64Array(n);
    for (let k = 0; k < n; k++) y[k] = x[offset + k] * inv * weight[k];
    return y;
  };
  const rope = (v: Float64Array, pos: number) => {
    const half = hd / 2;
    const out = new Float64Array(hd);
    for (let k = 0; k < hd; k++) {
      const freq = 1 / Math.pow(c.ropeTheta, (2 * (k % half)) / hd);
      const angle = pos * freq;
      const rotated = k < half ? -v[k + half] : v[k - half];
      out[k] = v[k] * Math.cos(angle) + rotated * Math.sin(angle);
    }
    return out;
  };
  let xs: Float64Array[] = ids.map((id) => Float64Array.from(w.embedTokens.subarray(id * H, (id + 1) * H)));
  for (const l of w.layers) {
    const qs: Float64Array[][] = [];
    const ks: Float64Array[][] = [];
    const vs: Float64Array[][] = [];
    for (let t = 0; t < T; t++) {
      const h = rms(xs[t], l.inputNorm);
      const withBias = (y: Float64Array, bias?: Float32Array) => (c.attentionBias ? y.map((value, o) => value + bias![o]) : y);
      const q = withBias(matvec(l.qProj, h, nh * hd, H), l.qBias);
      const k = withBias(matvec(l.kProj, h, nkv * hd, H), l.kBias);
      const v = withBias(matvec(l.vProj, h, nkv * hd, H), l.vBias);
      const head = (all: Float64Array, i: number, norm?: Float32Array) =>
        norm ? rms(all, norm, i * hd, hd) : all.slice(i * hd, (i + 1) * hd);
      qs.push(Array.from({ length: nh }, (_, i) => rope(head(q, i, c.qkNorm ? l.qNorm : undefined), positions[t])));
      ks.push(Array.from({ length: nkv }, (_, i) => rope(head(k, i, c.qkNorm ? l.kNorm : undefined), positions[t])));
      vs.push(Array.from({ length: nkv }, (_, i) => head(v, i)));
    }
    const next: Float64Array[] = [];
    for (let t = 0; t < T; t++) {
      const context = new Float64Array(nh * hd);
      for (let hIdx = 0; hIdx < nh; hIdx++) {
        const kvIdx = Math.floor(hIdx / (nh / nkv));
        const allowed: number[] = [];
        for (let j = 0; j <= t; j++) if (mask[j]) allowed.push(j);
        if (allowed.length === 0) continue; // fully masked (padding) query: never compared
        const scores = allowed.map((j) => {
          let s = 0;
          for (let d = 0; d < hd; d++) s += qs[t][hIdx][d] * ks[j][kvIdx][d];
          return s / Math.sqrt(hd);
        });
        const max = Math.max(...scores);
        const e = scores.map((s) => Math.exp(s - max));
        const sum = e.reduce((a, b) => a + b, 0);
        allowed.forEach((j, n) => {
          for (let d = 0; d < hd; d++) context[hIdx * hd + d] += (e[n] / sum) * vs[j][kvIdx][d];
        });
      }
      const attn = matvec(l.oProj, context, H, nh * hd);
      const x1 = xs[t].map((v, k) => v + attn[k]);
      const h2 = rms(x1, l.postAttentionNorm);
      const gate = matvec(l.gateProj, h2, I, H);
      const up = matvec(l.upProj, h2, I, H);
      const act = gate.map((gv, k) => (gv / (1 + Math.exp(-gv))) * up[k]);
      const down = matvec(l.downProj, act, H, I);
      next.push(x1.map((v, k) => v + down[k]));
    }
    xs = next;
  }
  const head = c.tieWordEmbeddings ? w.embedTokens : w.lmHead!;
  return xs.map((x) => matvec(head, rms(x, w.finalNorm), V, H));
}

const QWEN3_FORM: DecoderOnlyConfig = {
  vocabSize: 50,
  hiddenSize: 32,
  numLayers: 2,
  numHeads: 4,
  numKvHeads: 2,
  headDim: 8,
  intermediateSize: 48,
  rmsNormEps: 1e-6,
  ropeTheta: 1_000_000,
  qkNorm: true,
  tieWordEmbeddings: true,
};

const LLAMA_FORM: DecoderOnlyConfig = {
  vocabSize: 40,
  hiddenSize: 24,
  numLayers: 3,
  numHeads: 3,
  numKvHeads: 3,
  headDim: 8,
  intermediateSize: 40,
  rmsNormEps: 1e-5,
  ropeTheta: 10_000,
  qkNorm: false,
  tieWordEmbeddings: false,
};

const QWEN2_FORM: DecoderOnlyConfig = {
  vocabSize: 45,
  hiddenSize: 28,
  numLayers: 2,
  numHeads: 7,
  numKvHeads: 1,
  headDim: 4,
  intermediateSize: 36,
  rmsNormEps: 1e-6,
  ropeTheta: 1_000_000,
  attentionBias: true,
  tieWordEmbeddings: true,
};

/** Largest |a − b| between ONNX logits rows (row `from`...) and reference rows. */
function maxError(onnxLogits: Float32Array, V: number, fromRow: number, reference: Float64Array[], refFrom: number, rows: number) {
  let worst = 0;
  for (let r = 0; r < rows; r++) {
    for (let v = 0; v < V; v++) {
      worst = Math.max(worst, Math.abs(onnxLogits[(fromRow + r) * V + v] - reference[refFrom + r][v]));
    }
  }
  return worst;
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

for (const [label, config, seed] of [
  ["Qwen3 form (q/k norm, GQA, tied head)", QWEN3_FORM, 7],
  ["Llama form (MHA, separate head)", LLAMA_FORM, 11],
  ["Qwen2 form (q/k/v bias, GQA 7:1, tied head)", QWEN2_FORM, 13],
] as const) {
  describe(`onnx-builder decoder-only transformer: ${label}`, () => {
    const weights = randomDecoderOnlyWeights(config, seed);
    const ids = [3, 17, 8, 8, 29, 1, 33, 12, 5, 21];
    const T = ids.length;
    const reference = referenceForward(config, weights, ids, range(0, T), ids.map(() => 1));
    let session: ort.InferenceSession;

    before(async () => {
      session = await ort.InferenceSession.create(buildDecoderOnlyGraph(config, weights).toBytes({ opset: 17 }));
    });

    it("declares the onnx-community input and output names", () => {
      assertOnnxCommunityNames(session, config.numLayers);
    });

    it("prefill logits match the reference forward pass within 1e-4", async () => {
      const out = await runDecoder(session, config, [ids], [range(0, T)], [ids.map(() => 1)]);
      assert.deepEqual(out.dims, [1, T, config.vocabSize]);
      assert.deepEqual(out.present["present.0.key"].dims, [1, config.numKvHeads, T, config.headDim]);
      const err = maxError(out.logits, config.vocabSize, 0, reference, 0, T);
      console.log(`      prefill max |logit error| = ${err.toExponential(2)}`);
      assert.ok(err < 1e-4, `max error ${err}`);
    });

    it("single-step decode with the KV cache gives the full-sequence logits", async () => {
      let step = await runDecoder(session, config, [ids.slice(0, 1)], [[0]], [[1]]);
      let worst = maxError(step.logits, config.vocabSize, 0, reference, 0, 1);
      for (let t = 1; t < T; t++) {
        step = await runDecoder(session, config, [[ids[t]]], [[t]], [range(0, t + 1).map(() => 1)], step.present);
        assert.deepEqual(step.dims, [1, 1, config.vocabSize]);
        assert.deepEqual(step.present["present.0.value"].dims, [1, config.numKvHeads, t + 1, config.headDim]);
        worst = Math.max(worst, maxError(step.logits, config.vocabSize, 0, reference, t, 1));
      }
      console.log(`      stepwise max |logit error| = ${worst.toExponential(2)}`);
      assert.ok(worst < 1e-4, `max error ${worst}`);
    });

    it("chunked prefill (several tokens after a cache) gives the full-sequence logits", async () => {
      const first = await runDecoder(session, config, [ids.slice(0, 4)], [range(0, 4)], [range(0, 4).map(() => 1)]);
      const second = await runDecoder(session, config, [ids.slice(4)], [range(4, T)], [ids.map(() => 1)], first.present);
      assert.deepEqual(second.dims, [1, T - 4, config.vocabSize]);
      const err = Math.max(
        maxError(first.logits, config.vocabSize, 0, reference, 0, 4),
        maxError(second.logits, config.vocabSize, 0, reference, 4, T - 4),
      );
      console.log(`      chunked max |logit error| = ${err.toExponential(2)}`);
      assert.ok(err < 1e-4, `max error ${err}`);
    });

    it("left padding in a batch is hidden by attention_mask", async () => {
      // Row 0: the full sequence; row 1: 3 pad tokens, then the first 7 tokens (positions from 0).
      const pad = 3;
      const row1 = [0, 0, 0, ...ids.slice(0, T - pad)];
      const mask1 = [0, 0, 0, ...range(0, T - pad).map(() => 1)];
      const pos1 = [1, 1, 1, ...range(0, T - pad)];
      const out = await runDecoder(session, config, [ids, row1], [range(0, T), pos1], [ids.map(() => 1), mask1]);
      assert.deepEqual(out.dims, [2, T, config.vocabSize]);
      const V = config.vocabSize;
      const err0 = maxError(out.logits, V, 0, reference, 0, T);
      const err1 = maxError(out.logits, V, T + pad, reference, 0, T - pad);
      assert.ok(Math.max(err0, err1) < 1e-4, `max error ${err0} / ${err1}`);
      for (const value of out.logits) assert.ok(Number.isFinite(value), "fully masked pad rows stay finite");

      // ...and decoding one more token for the padded row continues correctly.
      const next = await runDecoder(
        session,
        config,
        [[ids[T - 1]], [ids[T - pad]]],
        [[T], [T - pad]],
        [[...ids.map(() => 1), 1], [...mask1, 1]],
        out.present,
      );
      const fullRef = referenceForward(config, weights, [...ids, ids[T - 1]], range(0, T + 1), [...ids.map(() => 1), 1]);
      assert.ok(maxError(next.logits, V, 0, fullRef, T, 1) < 1e-4);
      assert.ok(maxError(next.logits, V, 1, reference, T - pad, 1) < 1e-4);
    });
  });
}

describe("onnx-builder writeDecoderOnlyModel", () => {
  it("writes onnx/model.onnx, with external data above the size threshold, that runs the same", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vs-transformer-"));
    const weights = randomDecoderOnlyWeights(QWEN3_FORM, 3);
    const inline = writeDecoderOnlyModel(path.join(dir, "a"), QWEN3_FORM, weights);
    const external = writeDecoderOnlyModel(path.join(dir, "b"), QWEN3_FORM, weights, { externalDataAbove: 0 });
    assert.equal(inline, path.join(dir, "a", "onnx", "model.onnx"));
    assert.ok(!fs.existsSync(`${inline}_data`));
    assert.ok(fs.existsSync(`${external}_data`), "external data file");
    assert.ok(fs.statSync(external).size < fs.statSync(inline).size / 4, "weights moved out of the graph file");
    const ids = [[4, 9, 2]];
    const results: Float32Array[] = [];
    for (const file of [inline, external]) {
      const session = await ort.InferenceSession.create(file);
      results.push((await runDecoder(session, QWEN3_FORM, ids, [[0, 1, 2]], [[1, 1, 1]])).logits);
    }
    assert.deepEqual(Array.from(results[1]), Array.from(results[0]));
  });

  it("rejects weights that do not fit the config", () => {
    const weights = randomDecoderOnlyWeights(QWEN3_FORM, 3);
    weights.layers[1].kProj = new Float32Array(5);
    assert.throws(() => buildDecoderOnlyGraph(QWEN3_FORM, weights), /layers\.1\.kProj has 5 values/);
  });
});
