/**
 * Shared by the tests of decoder-only ONNX graphs (the builder's, the q4 variant's, the
 * tiny-llm fixture's): one session.run with onnx-community inputs, and the names such a
 * graph must declare.
 */
import { strict as assert } from "assert";
import * as ort from "onnxruntime-node";
import type { RewrittenModel } from "../../src/core/types";
import { sessionOptions } from "../../src/core/onnx/session-factory";

/** What a run needs to know of the model: the KV cache's layout. */
export interface CacheShape {
  numLayers: number;
  numKvHeads: number;
  headDim: number;
}

export interface DecoderStep {
  logits: Float32Array;
  dims: readonly number[];
  /** `present.<layer>.<key|value>`: the cache to pass as `past` to the next run. */
  present: Record<string, ort.Tensor>;
}

/** One session.run: `ids`/`positions`/`mask` are [batch][...] arrays; `past` from the previous call (none: an empty cache). */
export async function runDecoder(
  session: ort.InferenceSession,
  c: CacheShape,
  ids: number[][],
  positions: number[][],
  mask: number[][],
  past?: Record<string, ort.Tensor>,
): Promise<DecoderStep> {
  const B = ids.length;
  const int64 = (rows: number[][]) =>
    new ort.Tensor("int64", BigInt64Array.from(rows.flat().map(BigInt)), [rows.length, rows[0].length]);
  const feeds: Record<string, ort.Tensor> = {
    input_ids: int64(ids),
    position_ids: int64(positions),
    attention_mask: int64(mask),
  };
  for (let i = 0; i < c.numLayers; i++) {
    for (const kind of ["key", "value"]) {
      feeds[`past_key_values.${i}.${kind}`] =
        past?.[`present.${i}.${kind}`] ??
        new ort.Tensor("float32", new Float32Array(0), [B, c.numKvHeads, 0, c.headDim]);
    }
  }
  const out = await session.run(feeds);
  const present: Record<string, ort.Tensor> = {};
  for (const [name, t] of Object.entries(out)) if (name.startsWith("present.")) present[name] = t;
  return { logits: out.logits.data as Float32Array, dims: out.logits.dims, present };
}

/** The onnx-community decoder interface, in order: ids, mask, positions, past per layer in; logits, present per layer out. */
export function assertOnnxCommunityNames(session: ort.InferenceSession, numLayers: number): void {
  const kv = Array.from({ length: numLayers }, (_, i) => [`${i}.key`, `${i}.value`]).flat();
  assert.deepEqual(session.inputNames, [
    "input_ids",
    "attention_mask",
    "position_ids",
    ...kv.map((n) => `past_key_values.${n}`),
  ]);
  assert.deepEqual(session.outputNames, ["logits", ...kv.map((n) => `present.${n}`)]);
}

/** A small Qwen3-like decoder (2 layers, GQA, q/k norm, tied embeddings) for graph-rewrite tests. */
export const SMALL_DECODER: import("../../src/core/onnx-builder/transformer").DecoderOnlyConfig = {
  vocabSize: 300,
  hiddenSize: 64,
  numLayers: 2,
  numHeads: 4,
  numKvHeads: 2,
  headDim: 16,
  intermediateSize: 96,
  rmsNormEps: 1e-6,
  ropeTheta: 10000,
  qkNorm: true,
  tieWordEmbeddings: true,
};

/** What stepDecodersAlike steps: a KvCacheDecoder, or anything with its step(). */
interface Stepper {
  step(id: number): Promise<Float32Array>;
}

/**
 * Steps two decoders with the same ids from logits `la` / `lb` (their last prefills), asserting
 * before every step that the two rows are within `tolerance` (`steps` of them: past the decoder's
 * first 64-position buffer exercises its growth).
 */
export async function stepDecodersAlike(a: Stepper, b: Stepper, la: Float32Array, lb: Float32Array, steps: number, tolerance: number): Promise<void> {
  for (let step = 0; step < steps; step++) {
    const diff = la.reduce((m, v, i) => Math.max(m, Math.abs(v - lb[i])), 0);
    assert.ok(diff <= tolerance, `step ${step}: max |Δ| ${diff}`);
    const next = (step * 37 + 11) % la.length;
    la = await a.step(next);
    lb = await b.step(next);
  }
}

/** A CPU session over a graph rewritten in memory (lastLogitsModel's, windowedEncoderModel's bytes), its external weights read from beside the file. */
export function openRewritten(model: RewrittenModel): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(model.bytes, {
    ...sessionOptions(["cpu"], {}),
    extra: { session: { model_external_initializers_file_folder_path: model.externalDataFolder } },
  });
}
