/**
 * Writes a decoder-only model's weights as a GGUF file (format version 3) that llama.cpp loads as
 * its "qwen3" architecture, in F32 or Q4_0, so that the bench can run llama.cpp on the very
 * weights our ONNX files hold. Written from the GGUF specification in ggml's docs/gguf.md:
 * header, metadata key/values, tensor infos, then the tensor data aligned to 32 bytes.
 *
 * Dimensions are listed fastest first (ne0 = the input dimension of a linear weight), so a
 * Hugging Face [out, in] weight keeps its row-major bytes and only its dims are reversed.
 * Q4_0 follows ggml's reference quantizer: blocks of 32 values, an fp16 scale
 * d = (the value of largest magnitude) / -8, and nibbles q = min(15, trunc(x / d + 8.5)) stored
 * as byte j = q[j] | q[j + 16] << 4.
 */
import * as fs from "fs";
import type { DecoderOnlyConfig, DecoderOnlyWeights } from "../src/core/onnx-builder/transformer";

export type GgufTensorType = "F32" | "Q4_0";

const GGML_TYPE = { F32: 0, Q4_0: 2 } as const;
const VALUE = { UINT32: 4, INT32: 5, FLOAT32: 6, BOOL: 7, STRING: 8, ARRAY: 9 } as const;
const ALIGNMENT = 32;
const QK4_0 = 32;

type MetaValue =
  | { type: "u32"; value: number }
  | { type: "f32"; value: number }
  | { type: "bool"; value: boolean }
  | { type: "str"; value: string }
  | { type: "strs"; value: string[] }
  | { type: "i32s"; value: number[] };

interface TensorPlan {
  name: string;
  dims: number[]; // fastest first
  type: GgufTensorType;
  data: Float32Array;
  offset: number;
  bytes: number;
}

/** A growable little-endian byte buffer for the header part of the file. */
class ByteWriter {
  private buf = Buffer.alloc(1 << 20);
  length = 0;

  private ensure(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const grown = Buffer.alloc(Math.max(this.buf.length * 2, this.length + n));
    this.buf.copy(grown, 0, 0, this.length);
    this.buf = grown;
  }
  /** Writes one fixed-size little-endian number with `write` (a Buffer writer method). */
  private put(size: number, write: (buf: Buffer, at: number) => void): void {
    this.ensure(size);
    write(this.buf, this.length);
    this.length += size;
  }
  u32(v: number): void {
    this.put(4, (b, at) => b.writeUInt32LE(v >>> 0, at));
  }
  i32(v: number): void {
    this.put(4, (b, at) => b.writeInt32LE(v, at));
  }
  u64(v: number): void {
    this.put(8, (b, at) => b.writeBigUInt64LE(BigInt(v), at));
  }
  f32(v: number): void {
    this.put(4, (b, at) => b.writeFloatLE(v, at));
  }
  u8(v: number): void {
    this.ensure(1);
    this.buf[this.length++] = v;
  }
  str(s: string): void {
    const bytes = Buffer.from(s, "utf8");
    this.u64(bytes.length);
    this.ensure(bytes.length);
    bytes.copy(this.buf, this.length);
    this.length += bytes.length;
  }
  pad(alignment: number): void {
    while (this.length % alignment !== 0) this.u8(0);
  }
  bytes(): Buffer {
    return this.buf.subarray(0, this.length);
  }
}

function writeMeta(w: ByteWriter, key: string, meta: MetaValue): void {
  w.str(key);
  switch (meta.type) {
    case "u32":
      w.u32(VALUE.UINT32);
      w.u32(meta.value);
      break;
    case "f32":
      w.u32(VALUE.FLOAT32);
      w.f32(meta.value);
      break;
    case "bool":
      w.u32(VALUE.BOOL);
      w.u8(meta.value ? 1 : 0);
      break;
    case "str":
      w.u32(VALUE.STRING);
      w.str(meta.value);
      break;
    case "strs":
      w.u32(VALUE.ARRAY);
      w.u32(VALUE.STRING);
      w.u64(meta.value.length);
      for (const s of meta.value) w.str(s);
      break;
    case "i32s":
      w.u32(VALUE.ARRAY);
      w.u32(VALUE.INT32);
      w.u64(meta.value.length);
      for (const v of meta.value) w.i32(v);
      break;
  }
}

/** float32 → IEEE half bits, round to nearest even (as ggml's GGML_FP32_TO_FP16). */
export function toHalf(value: number): number {
  const f = new Float32Array([value]);
  const x = new Uint32Array(f.buffer)[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rest > halfway || (rest === halfway && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half++;
  return sign | half;
}

/** Q4_0 blocks of `data` (its length a multiple of 32). */
export function quantizeQ4_0(data: Float32Array): Buffer {
  if (data.length % QK4_0 !== 0) throw new Error(`Q4_0 needs a multiple of ${QK4_0} values, got ${data.length}`);
  const blocks = data.length / QK4_0;
  const out = Buffer.alloc(blocks * 18);
  for (let b = 0; b < blocks; b++) {
    const x = data.subarray(b * QK4_0, (b + 1) * QK4_0);
    let amax = 0;
    let max = 0;
    for (let j = 0; j < QK4_0; j++) {
      if (amax < Math.abs(x[j])) {
        amax = Math.abs(x[j]);
        max = x[j];
      }
    }
    const d = max / -8;
    const id = d !== 0 ? 1 / d : 0;
    const o = b * 18;
    out.writeUInt16LE(toHalf(d), o);
    for (let j = 0; j < QK4_0 / 2; j++) {
      // Math.fround: ggml computes these products in float32.
      const q0 = Math.min(15, Math.trunc(Math.fround(Math.fround(x[j] * id) + 8.5)));
      const q1 = Math.min(15, Math.trunc(Math.fround(Math.fround(x[j + 16] * id) + 8.5)));
      out[o + 2 + j] = q0 | (q1 << 4);
    }
  }
  return out;
}

function tensorBytes(type: GgufTensorType, count: number): number {
  return type === "F32" ? count * 4 : (count / QK4_0) * 18;
}

export interface GgufTokenizer {
  /** Token strings by id (byte-level BPE symbols, as tokenizer.json's vocab and added tokens). */
  tokens: string[];
  /** 1 normal, 3 control. */
  tokenTypes: number[];
  merges: string[];
  eosId: number;
  bosId?: number;
}

/** Reads tokens, types and merges for GGUF from a tokenizer.json (byte-level BPE). */
export function ggufTokenizerFrom(tokenizerJson: Record<string, any>, vocabSize: number, eosId: number, bosId?: number): GgufTokenizer {
  const tokens: string[] = new Array(vocabSize);
  const tokenTypes: number[] = new Array(vocabSize).fill(1);
  for (const [token, id] of Object.entries(tokenizerJson.model.vocab as Record<string, number>)) if (id < vocabSize) tokens[id] = token;
  for (const added of tokenizerJson.added_tokens ?? []) {
    if (added.id >= vocabSize) continue;
    tokens[added.id] = added.content;
    if (added.special) tokenTypes[added.id] = 3;
  }
  for (let id = 0; id < vocabSize; id++) if (tokens[id] === undefined) tokens[id] = `<|unused_${id}|>`;
  const merges = (tokenizerJson.model.merges as (string | string[])[]).map((m) => (Array.isArray(m) ? m.join(" ") : m));
  return { tokens, tokenTypes, merges, eosId, bosId };
}

/** Writes `weights` (Hugging Face layouts) as a llama.cpp "qwen3" GGUF file. */
export function writeQwen3Gguf(
  file: string,
  config: DecoderOnlyConfig,
  weights: DecoderOnlyWeights,
  tokenizer: GgufTokenizer,
  type: GgufTensorType,
  contextLength = 40960,
): void {
  if (!config.qkNorm) throw new Error("the qwen3 GGUF layout needs q/k norms");
  const { hiddenSize: H, numHeads: nh, numKvHeads: nkv, headDim: hd, intermediateSize: I, vocabSize: V } = config;
  const matrix = type; // 2-D weights in the file's type; norms stay F32 (as llama.cpp's quantizer leaves them)
  const plans: TensorPlan[] = [];
  const add = (name: string, dims: number[], data: Float32Array, t: GgufTensorType) =>
    plans.push({ name, dims, type: t, data, offset: 0, bytes: tensorBytes(t, data.length) });
  add("token_embd.weight", [H, V], weights.embedTokens, matrix);
  if (weights.lmHead) add("output.weight", [H, V], weights.lmHead, matrix);
  add("output_norm.weight", [H], weights.finalNorm, "F32");
  weights.layers.forEach((l, i) => {
    const p = `blk.${i}`;
    add(`${p}.attn_norm.weight`, [H], l.inputNorm, "F32");
    add(`${p}.attn_q.weight`, [H, nh * hd], l.qProj, matrix);
    add(`${p}.attn_k.weight`, [H, nkv * hd], l.kProj, matrix);
    add(`${p}.attn_v.weight`, [H, nkv * hd], l.vProj, matrix);
    add(`${p}.attn_output.weight`, [nh * hd, H], l.oProj, matrix);
    add(`${p}.attn_q_norm.weight`, [hd], l.qNorm!, "F32");
    add(`${p}.attn_k_norm.weight`, [hd], l.kNorm!, "F32");
    add(`${p}.ffn_norm.weight`, [H], l.postAttentionNorm, "F32");
    add(`${p}.ffn_gate.weight`, [H, I], l.gateProj, matrix);
    add(`${p}.ffn_up.weight`, [H, I], l.upProj, matrix);
    add(`${p}.ffn_down.weight`, [I, H], l.downProj, matrix);
  });

  const meta: [string, MetaValue][] = [
    ["general.architecture", { type: "str", value: "qwen3" }],
    ["general.name", { type: "str", value: `Qwen3-shaped bench model (${type})` }],
    ["general.alignment", { type: "u32", value: ALIGNMENT }],
    ["general.file_type", { type: "u32", value: type === "F32" ? 0 : 2 }],
    ["qwen3.context_length", { type: "u32", value: contextLength }],
    ["qwen3.embedding_length", { type: "u32", value: H }],
    ["qwen3.block_count", { type: "u32", value: config.numLayers }],
    ["qwen3.feed_forward_length", { type: "u32", value: I }],
    ["qwen3.attention.head_count", { type: "u32", value: nh }],
    ["qwen3.attention.head_count_kv", { type: "u32", value: nkv }],
    ["qwen3.attention.key_length", { type: "u32", value: hd }],
    ["qwen3.attention.value_length", { type: "u32", value: hd }],
    ["qwen3.rope.freq_base", { type: "f32", value: config.ropeTheta }],
    ["qwen3.attention.layer_norm_rms_epsilon", { type: "f32", value: config.rmsNormEps }],
    ["tokenizer.ggml.model", { type: "str", value: "gpt2" }],
    ["tokenizer.ggml.pre", { type: "str", value: "qwen2" }],
    ["tokenizer.ggml.tokens", { type: "strs", value: tokenizer.tokens }],
    ["tokenizer.ggml.token_type", { type: "i32s", value: tokenizer.tokenTypes }],
    ["tokenizer.ggml.merges", { type: "strs", value: tokenizer.merges }],
    ["tokenizer.ggml.eos_token_id", { type: "u32", value: tokenizer.eosId }],
    ["tokenizer.ggml.add_bos_token", { type: "bool", value: false }],
  ];
  if (tokenizer.bosId !== undefined) meta.push(["tokenizer.ggml.bos_token_id", { type: "u32", value: tokenizer.bosId }]);

  const header = new ByteWriter();
  header.u32(0x46554747); // "GGUF"
  header.u32(3);
  header.u64(plans.length);
  header.u64(meta.length);
  for (const [key, value] of meta) writeMeta(header, key, value);
  let offset = 0;
  for (const plan of plans) {
    plan.offset = offset;
    offset += Math.ceil(plan.bytes / ALIGNMENT) * ALIGNMENT;
  }
  for (const plan of plans) {
    header.str(plan.name);
    header.u32(plan.dims.length);
    for (const d of plan.dims) header.u64(d);
    header.u32(GGML_TYPE[plan.type]);
    header.u64(plan.offset);
  }
  header.pad(ALIGNMENT);

  const fd = fs.openSync(file, "w");
  try {
    fs.writeSync(fd, header.bytes());
    for (const plan of plans) {
      const bytes =
        plan.type === "F32" ? Buffer.from(plan.data.buffer, plan.data.byteOffset, plan.data.byteLength) : quantizeQ4_0(plan.data);
      fs.writeSync(fd, bytes);
      const padding = Math.ceil(plan.bytes / ALIGNMENT) * ALIGNMENT - plan.bytes;
      if (padding > 0) fs.writeSync(fd, Buffer.alloc(padding));
    }
  } finally {
    fs.closeSync(fd);
  }
}
