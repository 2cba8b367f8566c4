/**
 * Block-wise 4-bit weight quantization in the layout of onnxruntime's com.microsoft
 * MatMulNBits (what onnx-community's model_q4.onnx files use):
 *   B            uint8 [N, blocks, blockSize/2]  two codes per byte, low nibble first, along K
 *   scales       float [N · blocks]
 *   zero_points  uint8 [N · ceil(blocks/2)]      packed like B (none when symmetric: 8)
 * and dequantized as (code − zero_point) · scale; Y = A · dequant(B)ᵀ, so B keeps the
 * Hugging Face [out = N, in = K] weight layout.
 *
 * Two schemes: asymmetric (a zero point per block) and symmetric, which is what transformers.js's
 * conversion script writes by default for q4 (MatMul4BitsQuantizer with is_symmetric) and what
 * llama.cpp's Q4_0 is: no zero points, the block's largest-magnitude value maps to code 0.
 */

export interface Q4Weight {
  /** out features */
  n: number;
  /** in features */
  k: number;
  blockSize: number;
  blocks: number;
  packed: Uint8Array;
  scales: Float32Array;
  /** Absent when symmetric (MatMulNBits then takes 8). */
  zeroPoints?: Uint8Array;
}

/**
 * Quantization per block. Asymmetric (default): the range widened to include 0 so that zero (and
 * the zero padding past K in the last block) is exact. Symmetric: scale = m / −8 where m is the
 * block's value of largest magnitude, code = round(v / scale) + 8 (zero is exact too).
 * `blockSize` must be a power of two ≥ 16.
 */
export function quantize4bit(weight: Float32Array, n: number, k: number, blockSize = 32, symmetric = false): Q4Weight {
  if (weight.length !== n * k) throw new Error(`quantize4bit: ${weight.length} values for [${n}, ${k}]`);
  if (blockSize < 16 || (blockSize & (blockSize - 1)) !== 0) {
    throw new Error(`quantize4bit: block size ${blockSize} must be a power of two of at least 16`);
  }
  const blocks = Math.ceil(k / blockSize);
  const blob = blockSize / 2;
  const packed = new Uint8Array(n * blocks * blob);
  const scales = new Float32Array(n * blocks);
  const zeroPoints = symmetric ? undefined : new Uint8Array(n * Math.ceil(blocks / 2));
  for (let row = 0; row < n; row++) {
    for (let b = 0; b < blocks; b++) {
      const from = b * blockSize;
      const to = Math.min(k, from + blockSize);
      let lo = 0;
      let hi = 0;
      for (let i = from; i < to; i++) {
        const v = weight[row * k + i];
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      let scale: number;
      let zero: number;
      if (zeroPoints) {
        scale = Math.fround(hi > lo ? (hi - lo) / 15 : 1);
        zero = Math.min(15, Math.max(0, Math.round(-lo / scale)));
        const zpIndex = row * Math.ceil(blocks / 2) + (b >> 1);
        zeroPoints[zpIndex] |= b & 1 ? zero << 4 : zero;
      } else {
        const extreme = -lo > hi ? lo : hi;
        scale = Math.fround(extreme !== 0 ? extreme / -8 : 1);
        zero = 8;
      }
      scales[row * blocks + b] = scale;
      for (let i = 0; i < blockSize; i++) {
        const v = from + i < to ? weight[row * k + from + i] : 0;
        const code = Math.min(15, Math.max(0, Math.round(v / scale) + zero));
        const byte = (row * blocks + b) * blob + (i >> 1);
        packed[byte] |= i & 1 ? code << 4 : code;
      }
    }
  }
  return { n, k, blockSize, blocks, packed, scales, zeroPoints };
}

/** The float [N, K] weight that MatMulNBits will effectively multiply with. */
export function dequantize4bit(q: Q4Weight): Float32Array {
  const out = new Float32Array(q.n * q.k);
  const blob = q.blockSize / 2;
  for (let row = 0; row < q.n; row++) {
    for (let i = 0; i < q.k; i++) {
      const b = Math.floor(i / q.blockSize);
      const j = i % q.blockSize;
      const byte = q.packed[(row * q.blocks + b) * blob + (j >> 1)];
      const code = j & 1 ? byte >> 4 : byte & 15;
      const zpByte = q.zeroPoints ? q.zeroPoints[row * Math.ceil(q.blocks / 2) + (b >> 1)] : 0x88;
      const zero = b & 1 ? zpByte >> 4 : zpByte & 15;
      out[row * q.k + i] = (code - zero) * q.scales[row * q.blocks + b];
    }
  }
  return out;
}
