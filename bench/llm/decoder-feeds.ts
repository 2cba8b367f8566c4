/**
 * Feeds for a decoder graph as the engine rewrites it (append-only cache): `rows` new tokens
 * after `past` cached positions, the cache in the engine's layout — position-major rows, or
 * heads-major buffers with `spare` masked spare positions, as kv-cache-decoder.ts feeds them.
 * For the bench parts that time the session alone (kernel, prefill).
 */
import * as ort from "onnxruntime-node";
import type { AppendOnlyLayout } from "../../src/core/onnx/decoder/append-only-cache";

export interface CacheShape {
  numLayers: number;
  numKvHeads: number;
  headDim: number;
}

export function decoderFeeds(shape: CacheShape, layout: AppendOnlyLayout, past: number, rows = 1, spare = 0): Record<string, ort.Tensor> {
  const int64 = (values: number[], dims: number[]) => new ort.Tensor("int64", BigInt64Array.from(values.map(BigInt)), dims);
  const capacity = layout === "heads" ? past + spare : past;
  const mask = new Array(capacity + rows).fill(1).fill(0, past, capacity);
  const feeds: Record<string, ort.Tensor> = {
    input_ids: int64(Array.from({ length: rows }, (_, i) => 42 + ((i * 37) % 5000)), [1, rows]),
    attention_mask: int64(mask, [1, capacity + rows]),
    position_ids: int64(Array.from({ length: rows }, (_, i) => past + i), [1, rows]),
  };
  // Small values: a cache of zeros would give the softmax a flat row, which costs the same.
  const size = capacity * shape.numKvHeads * shape.headDim;
  for (let i = 0; i < shape.numLayers; i++) {
    for (const kind of ["key", "value"]) {
      const data = new Float32Array(size);
      for (let j = 0; j < size; j++) data[j] = Math.sin(j * 0.37 + i) * 0.1;
      const dims = layout === "heads" ? [1, shape.numKvHeads, capacity, shape.headDim] : [1, capacity, shape.numKvHeads, shape.headDim];
      feeds[`past_key_values.${i}.${kind}`] = new ort.Tensor("float32", data, dims);
    }
  }
  return feeds;
}
