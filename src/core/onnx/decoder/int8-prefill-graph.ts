/**
 * A 4-bit decoder's prefill graph with 8-bit integer MatMuls: every com.microsoft MatMulNBits
 * (4-bit, blocks along K) but the lm_head becomes a com.microsoft DynamicQuantizeMatMul over the
 * same weights re-quantized to int8 with one scale per output column. The activations are
 * quantized to uint8 per call and the product runs in onnxruntime's integer GEMM (AMX / VNNI
 * where the CPU has them), which for many rows at once is several times faster than the 4-bit
 * kernel; for one row (a decode step) the 4-bit kernel reads half the bytes and wins. So the
 * decoder keeps two sessions over one file (kv-cache-decoder.ts picks by rows fed).
 *
 * The int8 weights are computed here from the file's 4-bit initializers (read through `read`) and
 * go into the rewritten graph inline: expressing them as constant nodes for onnxruntime to fold
 * at load took 50 s and 24 GB on the Qwen3-0.6B-shaped model (every intermediate kept).
 *
 * Precision: a column's int8 step is its largest weight ÷ 127, finer than a 4-bit block's step
 * (the block's largest ÷ 8) unless a block's weights are ~16× smaller than its column's largest;
 * the activations share one uint8 scale per call (per tensor), which is where the logits move.
 */
import { onnx } from "onnx-proto";
import type { InitializerReader } from "../graph-file";
import { intAttribute } from "../node-attributes";

const PREFIX = "voice_stream_int8";
const INT8 = onnx.TensorProto.DataType.INT8;
const FLOAT = onnx.TensorProto.DataType.FLOAT;
const UINT8 = onnx.TensorProto.DataType.UINT8;

function floats(bytes: Uint8Array): Float32Array {
  // Copied when unaligned (a view needs a 4-byte aligned offset).
  return bytes.byteOffset % 4 === 0 ? new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4) : new Float32Array(Uint8Array.from(bytes).buffer);
}

/**
 * The 4-bit weight [N, K] (codes two a byte, low nibble first, `blockSize` along K, zero point 8
 * or packed per block) as int8 [K, N] with one scale per column (N): round(w ÷ (max|w| ÷ 127)).
 */
export function requantizeToInt8(
  packed: Uint8Array,
  scales: Float32Array,
  zeroPoints: Uint8Array | undefined,
  n: number,
  k: number,
  blockSize: number,
): { weights: Int8Array; scales: Float32Array } {
  const blocks = Math.ceil(k / blockSize);
  const rowBytes = (blocks * blockSize) / 2;
  const zeroRowBytes = Math.ceil(blocks / 2);
  if (packed.length !== n * rowBytes || scales.length !== n * blocks || (zeroPoints && zeroPoints.length !== n * zeroRowBytes)) {
    throw new Error(`4-bit weight [${n}, ${k}] (block ${blockSize}) has ${packed.length} bytes and ${scales.length} scales`);
  }
  const weights = new Int8Array(k * n);
  const columnScales = new Float32Array(n);
  const zeroOf = (c: number, b: number): number => {
    if (!zeroPoints) return 8;
    const z = zeroPoints[c * zeroRowBytes + (b >> 1)];
    return b & 1 ? z >> 4 : z & 15;
  };
  // w = (code − zero) · scale_b, so q = round(w ÷ step) = round((code − zero) · scale_b ÷ step): one
  // 16-entry table a block, one lookup a weight. Columns a chunk at a time, written out transposed a
  // row of the chunk at a time (each column's K values written N bytes apart took 9 s for Qwen3-0.6B).
  const chunk = 64;
  const rows = new Int8Array(chunk * k);
  const table = new Int8Array(16);
  for (let c0 = 0; c0 < n; c0 += chunk) {
    const width = Math.min(chunk, n - c0);
    for (let cc = 0; cc < width; cc++) {
      const c = c0 + cc;
      let max = 0;
      for (let b = 0; b < blocks; b++) {
        const zero = zeroOf(c, b);
        // The block's largest |code − zero| among the codes it uses (K may end inside the last block).
        const first = b * blockSize;
        const last = Math.min(k, first + blockSize);
        const byteAt = c * rowBytes + first / 2;
        let low = 15;
        let high = 0;
        const whole = first + ((last - first) & ~1);
        for (let at = byteAt, end = byteAt + (whole - first) / 2; at < end; at++) {
          const byte = packed[at];
          const a = byte & 15;
          const z = byte >> 4;
          if (a < low) low = a;
          if (a > high) high = a;
          if (z < low) low = z;
          if (z > high) high = z;
        }
        if (whole < last) {
          const a = packed[byteAt + (whole - first) / 2] & 15;
          if (a < low) low = a;
          if (a > high) high = a;
        }
        const codeMax = Math.max(high - zero, zero - low, 0);
        const m = codeMax * Math.abs(scales[c * blocks + b]);
        if (m > max) max = m;
      }
      const step = max > 0 ? max / 127 : 1;
      columnScales[c] = step;
      const out = cc * k;
      for (let b = 0; b < blocks; b++) {
        const zero = zeroOf(c, b);
        const ratio = scales[c * blocks + b] / step;
        // Rounded half away from zero by the Int8Array store's truncation. |(code − zero) · ratio| ≤ 127
        // for the codes the block uses; entries for codes it does not use may wrap, and are never read.
        for (let code = 0; code < 16; code++) {
          const v = (code - zero) * ratio;
          table[code] = v < 0 ? v - 0.5 : v + 0.5;
        }
        const first = b * blockSize;
        const last = Math.min(k, first + blockSize);
        const byteAt = c * rowBytes + first / 2;
        const whole = first + ((last - first) & ~1);
        for (let i = first, at = byteAt; i < whole; i += 2, at++) {
          const byte = packed[at];
          rows[out + i] = table[byte & 15];
          rows[out + i + 1] = table[byte >> 4];
        }
        if (whole < last) rows[out + whole] = table[packed[byteAt + ((whole - first) >> 1)] & 15];
      }
    }
    for (let i = 0; i < k; i++) {
      const at = i * n + c0;
      for (let cc = 0; cc < width; cc++) weights[at + cc] = rows[cc * k + i];
    }
  }
  return { weights, scales: columnScales };
}

/**
 * Rewrites `graph`'s MatMulNBits (except `keep`, e.g. the lm_head) as described above; returns
 * how many were rewritten (0: nothing changed). Nodes with a group index, a bias, another bit
 * width or non-constant weights are left as they are.
 */
export function int8MatMuls(graph: onnx.IGraphProto, read: InitializerReader, keep: ReadonlySet<onnx.INodeProto> = new Set()): number {
  const initializers = new Map((graph.initializer ?? []).map((t) => [t.name!, t]));
  const added: onnx.TensorProto[] = [];
  const replaced = new Map<onnx.INodeProto, onnx.INodeProto>();
  for (const node of graph.node ?? []) {
    const inputs = node.input ?? [];
    if (node.opType !== "MatMulNBits" || node.domain !== "com.microsoft" || keep.has(node)) continue;
    if (inputs.length < 3 || inputs.length > 4 || !inputs.slice(1).every((name) => name === "" || initializers.has(name))) continue;
    const k = intAttribute(node, "K");
    const n = intAttribute(node, "N");
    const blockSize = intAttribute(node, "block_size");
    if (intAttribute(node, "bits") !== 4 || !k || !n || !blockSize) continue;
    const weights = initializers.get(inputs[1])!;
    const scales = initializers.get(inputs[2])!;
    const zeroPoints = inputs[3] ? initializers.get(inputs[3]) : undefined;
    // Packed uint8 zero points only (float zero points are another scheme), float scales only.
    if (weights.dataType !== UINT8 || scales.dataType !== FLOAT || (zeroPoints && zeroPoints.dataType !== UINT8)) continue;

    const int8 = requantizeToInt8(read(weights), floats(read(scales)), zeroPoints ? read(zeroPoints) : undefined, n, k, blockSize);
    const name = `${PREFIX}_${replaced.size}`;
    added.push(
      onnx.TensorProto.create({ name: `${name}_weights`, dims: [k, n], dataType: INT8, rawData: new Uint8Array(int8.weights.buffer) }),
      onnx.TensorProto.create({ name: `${name}_scales`, dims: [n], dataType: FLOAT, rawData: new Uint8Array(int8.scales.buffer) }),
    );
    replaced.set(
      node,
      onnx.NodeProto.create({
        name: `${name}_matmul`,
        opType: "DynamicQuantizeMatMul",
        domain: "com.microsoft",
        input: [inputs[0], `${name}_weights`, `${name}_scales`],
        output: [node.output![0]],
      }),
    );
  }
  if (replaced.size === 0) return 0;
  // The 4-bit initializers only the rewritten nodes read are dropped (onnxruntime would warn about each).
  graph.node = (graph.node ?? []).map((node) => replaced.get(node) ?? node);
  const used = new Set(graph.node.flatMap((node) => node.input ?? []));
  graph.initializer = [...(graph.initializer ?? []).filter((t) => used.has(t.name!)), ...added];
  return replaced.size;
}
