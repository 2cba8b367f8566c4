/**
 * Builds a decoder-only transformer (Llama / Qwen3 form) as an ONNX graph with exactly the
 * inputs and outputs of onnx-community's text-generation exports, so the same loader and
 * generation loop run the test fixture, converted llama2.c checkpoints and real hub models.
 *
 * Architecture: token embedding → N × [RMSNorm → GQA self-attention with RoPE (HF rotate-half
 * form) and KV cache → residual → RMSNorm → SwiGLU MLP → residual] → RMSNorm → lm_head.
 * Qwen3 adds an RMSNorm over each head's query and key (q_norm / k_norm) before RoPE; Qwen2
 * adds a bias to the query, key and value projections.
 *
 * Graph I/O (float32 activations, plain opset-17 ops; optionally 4-bit MatMulNBits weights):
 *   inputs   input_ids int64 [batch_size, sequence_length]
 *            attention_mask int64 [batch_size, total_sequence_length]
 *            position_ids int64 [batch_size, sequence_length]
 *            past_key_values.{i}.key|value f32 [batch_size, num_kv_heads, past_sequence_length, head_dim]
 *   outputs  logits f32 [batch_size, sequence_length, vocab_size]
 *            present.{i}.key|value f32 [batch_size, num_kv_heads, total_sequence_length, head_dim]
 *
 * Masking: query i of this call sits at cache index past + i and may attend to key j when
 * j <= past + i (causal, by cache index as Hugging Face does) and attention_mask[b, j] == 1.
 * That one rule covers prefill (past 0), single-step decode and chunked prefill.
 */
import * as fs from "fs";
import * as path from "path";
import { DataType, GraphBuilder, type SaveOptions } from "./graph";
import { quantize4bit } from "./quantize-4bit";
import { SeededRandom } from "./random";

export interface DecoderOnlyConfig {
  vocabSize: number;
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  intermediateSize: number;
  rmsNormEps: number;
  ropeTheta: number;
  /** Qwen3's per-head RMSNorm on queries and keys before RoPE. */
  qkNorm?: boolean;
  /** Qwen2's bias on the q, k and v projections (o_proj and the MLP have none). */
  attentionBias?: boolean;
  /** lm_head reuses the token embedding (no separate lmHead weight). */
  tieWordEmbeddings?: boolean;
}

/**
 * Weights in Hugging Face layouts: every linear weight is [out, in] (y = W · x), as in
 * PyTorch state dicts and llama2.c checkpoints. The builder transposes them for MatMul.
 */
export interface DecoderLayerWeights {
  /** input_layernorm [hidden] */
  inputNorm: Float32Array;
  /** q_proj [numHeads·headDim, hidden] */
  qProj: Float32Array;
  /** k_proj [numKvHeads·headDim, hidden] */
  kProj: Float32Array;
  /** v_proj [numKvHeads·headDim, hidden] */
  vProj: Float32Array;
  /** o_proj [hidden, numHeads·headDim] */
  oProj: Float32Array;
  /** q_proj / k_proj / v_proj biases [out] (only with attentionBias) */
  qBias?: Float32Array;
  kBias?: Float32Array;
  vBias?: Float32Array;
  /** q_norm [headDim] (only with qkNorm) */
  qNorm?: Float32Array;
  /** k_norm [headDim] (only with qkNorm) */
  kNorm?: Float32Array;
  /** post_attention_layernorm [hidden] */
  postAttentionNorm: Float32Array;
  /** gate_proj [intermediate, hidden] */
  gateProj: Float32Array;
  /** up_proj [intermediate, hidden] */
  upProj: Float32Array;
  /** down_proj [hidden, intermediate] */
  downProj: Float32Array;
}

export interface DecoderOnlyWeights {
  /** embed_tokens [vocab, hidden] */
  embedTokens: Float32Array;
  layers: DecoderLayerWeights[];
  /** final norm [hidden] */
  finalNorm: Float32Array;
  /** lm_head [vocab, hidden]; omitted when tieWordEmbeddings. */
  lmHead?: Float32Array;
}

/** Symbolic dimension names, as in onnx-community exports. */
export const DIMS = {
  batch: "batch_size",
  sequence: "sequence_length",
  past: "past_sequence_length",
  total: "total_sequence_length",
} as const;

/** Checks every weight's length against the config; throws naming the first wrong one. */
export function validateDecoderOnly(config: DecoderOnlyConfig, weights: DecoderOnlyWeights): void {
  const { vocabSize: V, hiddenSize: H, numHeads: nh, numKvHeads: nkv, headDim: hd, intermediateSize: I } = config;
  if (config.numLayers < 1) throw new Error(`numLayers must be at least 1, got ${config.numLayers}`);
  if (nh % nkv !== 0) throw new Error(`numHeads ${nh} is not a multiple of numKvHeads ${nkv}`);
  if (hd % 2 !== 0) throw new Error(`headDim ${hd} must be even for RoPE`);
  const check = (name: string, data: Float32Array | undefined, expected: number) => {
    if (!data) throw new Error(`weight ${name} is missing`);
    if (data.length !== expected) throw new Error(`weight ${name} has ${data.length} values, expected ${expected}`);
  };
  check("embedTokens", weights.embedTokens, V * H);
  check("finalNorm", weights.finalNorm, H);
  if (!config.tieWordEmbeddings) check("lmHead", weights.lmHead, V * H);
  if (weights.layers.length !== config.numLayers) {
    throw new Error(`${weights.layers.length} layers of weights for numLayers ${config.numLayers}`);
  }
  weights.layers.forEach((l, i) => {
    check(`layers.${i}.inputNorm`, l.inputNorm, H);
    check(`layers.${i}.qProj`, l.qProj, nh * hd * H);
    check(`layers.${i}.kProj`, l.kProj, nkv * hd * H);
    check(`layers.${i}.vProj`, l.vProj, nkv * hd * H);
    check(`layers.${i}.oProj`, l.oProj, H * nh * hd);
    if (config.attentionBias) {
      check(`layers.${i}.qBias`, l.qBias, nh * hd);
      check(`layers.${i}.kBias`, l.kBias, nkv * hd);
      check(`layers.${i}.vBias`, l.vBias, nkv * hd);
    }
    if (config.qkNorm) {
      check(`layers.${i}.qNorm`, l.qNorm, hd);
      check(`layers.${i}.kNorm`, l.kNorm, hd);
    }
    check(`layers.${i}.postAttentionNorm`, l.postAttentionNorm, H);
    check(`layers.${i}.gateProj`, l.gateProj, I * H);
    check(`layers.${i}.upProj`, l.upProj, I * H);
    check(`layers.${i}.downProj`, l.downProj, H * I);
  });
}

export interface RandomWeightOptions {
  /**
   * Spread of the token embedding (default 1). With a tied head, a large embedding makes the
   * residual stream echo the input token, so a random model repeats its last token; a small
   * one lets the layers decide and gives varied (still meaningless) text.
   */
  embeddingStd?: number;
}

/**
 * Seeded random weights: linear weights ~ N(0, 1/in) so activations keep their scale through
 * the layers, norms near 1, embeddings N(0, 1). Deterministic for a given seed.
 */
export function randomDecoderOnlyWeights(
  config: DecoderOnlyConfig,
  seed: number,
  options: RandomWeightOptions = {},
): DecoderOnlyWeights {
  const rng = new SeededRandom(seed);
  const { vocabSize: V, hiddenSize: H, numHeads: nh, numKvHeads: nkv, headDim: hd, intermediateSize: I } = config;
  const linear = (out: number, inp: number) => rng.normalArray(out * inp, 1 / Math.sqrt(inp));
  const norm = (n: number) => rng.normalArray(n, 0.1, 1);
  // Drawn only when the config has biases, so models without them keep their weights per seed.
  const bias = (n: number) => (config.attentionBias ? rng.normalArray(n, 0.1) : undefined);
  const layers: DecoderLayerWeights[] = [];
  const embedTokens = rng.normalArray(V * H, options.embeddingStd ?? 1);
  for (let i = 0; i < config.numLayers; i++) {
    layers.push({
      inputNorm: norm(H),
      qProj: linear(nh * hd, H),
      kProj: linear(nkv * hd, H),
      vProj: linear(nkv * hd, H),
      oProj: linear(H, nh * hd),
      qBias: bias(nh * hd),
      kBias: bias(nkv * hd),
      vBias: bias(nkv * hd),
      qNorm: config.qkNorm ? norm(hd) : undefined,
      kNorm: config.qkNorm ? norm(hd) : undefined,
      postAttentionNorm: norm(H),
      gateProj: linear(I, H),
      upProj: linear(I, H),
      downProj: linear(H, I),
    });
  }
  const finalNorm = norm(H);
  const lmHead = config.tieWordEmbeddings ? undefined : linear(V, H);
  return { embedTokens, layers, finalNorm, lmHead };
}

/** [rows, cols] row-major → [cols, rows]: HF's [out, in] into MatMul's [in, out]. */
export function transpose2d(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) out[c * rows + r] = data[base + c];
  }
  return out;
}

/** The smallest float32, as HF uses for masked scores (−inf would turn fully masked rows into NaN). */
const MASKED_SCORE = -3.4028234663852886e38;

export interface DecoderOnlyBuildOptions {
  /**
   * "fp32" (default): plain MatMul on float weights. "q4": every linear layer and the lm_head
   * as com.microsoft MatMulNBits with 4-bit block-quantized weights, as in onnx-community's
   * model_q4.onnx (embedding, norms and activations stay float32). Save with
   * `extraOpsets: { "com.microsoft": 1 }`.
   */
  weightFormat?: "fp32" | "q4";
  /** Quantization block size along the input dimension for "q4"; default 32. */
  blockSize?: number;
  /** "q4": symmetric blocks without zero points, as transformers.js's conversion script writes q4 (default: asymmetric). */
  q4Symmetric?: boolean;
}

/** Returns the graph, ready for `save()` / `toBytes()`. */
export function buildDecoderOnlyGraph(
  config: DecoderOnlyConfig,
  weights: DecoderOnlyWeights,
  options: DecoderOnlyBuildOptions = {},
): GraphBuilder {
  validateDecoderOnly(config, weights);
  const { vocabSize: V, hiddenSize: H, numHeads: nh, numKvHeads: nkv, headDim: hd, intermediateSize: I } = config;
  const groups = nh / nkv;
  const g = new GraphBuilder("decoder_only");
  const { batch, sequence, past, total } = DIMS;

  g.input("input_ids", DataType.INT64, [batch, sequence]);
  g.input("attention_mask", DataType.INT64, [batch, total]);
  g.input("position_ids", DataType.INT64, [batch, sequence]);
  for (let i = 0; i < config.numLayers; i++) {
    g.input(`past_key_values.${i}.key`, DataType.FLOAT, [batch, nkv, past, hd]);
    g.input(`past_key_values.${i}.value`, DataType.FLOAT, [batch, nkv, past, hd]);
  }

  const axes = (...values: number[]) => g.constInt64(values, [values.length], "axes");
  /** y = x · Wᵀ for an HF [out, in] weight: MatMul on the transposed float weight, or MatMulNBits. */
  const linear = (x: string, name: string, data: Float32Array, out: number, inp: number, bias?: Float32Array): string => {
    const product = matMul(x, name, data, out, inp);
    return bias ? g.op("Add", [product, g.initializer(name.replace(/weight$/, "bias"), bias, [out])]) : product;
  };
  const matMul = (x: string, name: string, data: Float32Array, out: number, inp: number): string => {
    if (options.weightFormat !== "q4") return g.op("MatMul", [x, g.initializer(name, transpose2d(data, out, inp), [inp, out])]);
    const q = quantize4bit(data, out, inp, options.blockSize ?? 32, options.q4Symmetric === true);
    const inputs = [
      x,
      g.initializer(`${name}_Q4`, q.packed, [out, q.blocks, q.blockSize / 2]),
      g.initializer(`${name}_scales`, q.scales, [out * q.blocks]),
    ];
    if (q.zeroPoints) inputs.push(g.initializer(`${name}_zero_points`, q.zeroPoints, [q.zeroPoints.length]));
    return g.op("MatMulNBits", inputs, { K: inp, N: out, bits: 4, block_size: q.blockSize }, { domain: "com.microsoft" });
  };

  const rmsNorm = (x: string, weight: string): string => {
    const meanSquare = g.op("ReduceMean", [g.op("Mul", [x, x])], { axes: [-1], keepdims: 1 });
    const eps = g.constFloat([config.rmsNormEps], [], "eps");
    const inv = g.op("Reciprocal", [g.op("Sqrt", [g.op("Add", [meanSquare, eps])])]);
    return g.op("Mul", [g.op("Mul", [x, inv]), weight]);
  };

  // --- mask shared by all layers: allowed[b, 1, 1, s, t] (5-D to match grouped scores) ---
  const seqLen = g.op("Shape", ["input_ids"], { start: 1, end: 2 });
  const pastLen = g.op("Shape", ["past_key_values.0.key"], { start: 2, end: 3 });
  const totalLen = g.op("Add", [pastLen, seqLen]);
  const scalar = (v: string) => g.op("Squeeze", [v, axes(0)]);
  const one = g.constInt64([1], [], "one");
  const zero = g.constInt64([0], [], "zero");
  const queryIndex = g.op("Range", [scalar(pastLen), scalar(totalLen), one]); // [S]
  const keyIndex = g.op("Range", [zero, scalar(totalLen), one]); // [T]
  const causal = g.op("LessOrEqual", [
    g.op("Unsqueeze", [keyIndex, axes(0)]), // [1, T]
    g.op("Unsqueeze", [queryIndex, axes(1)]), // [S, 1]
  ]); // [S, T]
  const notPadding = g.op("Unsqueeze", [g.op("Cast", ["attention_mask"], { to: DataType.BOOL }), axes(1, 2, 3)]);
  const allowed = g.op("And", [causal, notPadding]); // [B, 1, 1, S, T]
  const maskedScore = g.constFloat([MASKED_SCORE], [], "masked");

  // --- RoPE tables from position_ids: cos/sin [B, 1, S, hd] (rotate-half layout: freqs twice) ---
  const invFreq = new Float32Array(hd / 2);
  for (let i = 0; i < hd / 2; i++) invFreq[i] = 1 / Math.pow(config.ropeTheta, (2 * i) / hd);
  const positions = g.op("Unsqueeze", [g.op("Cast", ["position_ids"], { to: DataType.FLOAT }), axes(2)]); // [B,S,1]
  const freqs = g.op("Mul", [positions, g.constFloat(invFreq, [hd / 2], "inv_freq")]); // [B,S,hd/2]
  const angles = g.op("Unsqueeze", [g.op("Concat", [freqs, freqs], { axis: -1 }), axes(1)]); // [B,1,S,hd]
  const cos = g.op("Cos", [angles]);
  const sin = g.op("Sin", [angles]);
  const halves = g.constInt64([hd / 2, hd / 2], [2], "halves");
  const applyRope = (x: string): string => {
    const [x1, x2] = g.node("Split", [x, halves], { axis: -1 }, { outputs: 2 });
    const rotated = g.op("Concat", [g.op("Neg", [x2]), x1], { axis: -1 });
    return g.op("Add", [g.op("Mul", [x, cos]), g.op("Mul", [rotated, sin])]);
  };

  const headsShape = (n: number) => g.constInt64([0, 0, n, hd], [4], "heads_shape");
  const groupedShape = g.constInt64([0, nkv, groups, -1, hd], [5], "grouped_shape");
  const kvGroupedShape = g.constInt64([0, nkv, 1, -1, hd], [5], "kv_grouped_shape");
  const mergedHeadsShape = g.constInt64([0, nh, -1, hd], [4], "merged_shape");
  const flatShape = g.constInt64([0, 0, nh * hd], [3], "flat_shape");
  const scale = g.constFloat([1 / Math.sqrt(hd)], [], "scale");

  let x = g.op("Gather", [g.initializer("model.embed_tokens.weight", weights.embedTokens, [V, H]), "input_ids"], {
    axis: 0,
  }); // [B,S,H]

  weights.layers.forEach((lw, i) => {
    const p = `model.layers.${i}`;
    const h = rmsNorm(x, g.initializer(`${p}.input_layernorm.weight`, lw.inputNorm, [H]));

    // Projections to heads: [B,S,n·hd] → [B,S,n,hd] (norm per head here) → [B,n,S,hd].
    const toHeads = (proj: string, n: number, norm?: string): string => {
      let heads = g.op("Reshape", [proj, headsShape(n)]);
      if (norm) heads = rmsNorm(heads, norm);
      return g.op("Transpose", [heads], { perm: [0, 2, 1, 3] });
    };
    const qNorm = config.qkNorm ? g.initializer(`${p}.self_attn.q_norm.weight`, lw.qNorm!, [hd]) : undefined;
    const kNorm = config.qkNorm ? g.initializer(`${p}.self_attn.k_norm.weight`, lw.kNorm!, [hd]) : undefined;
    const q = applyRope(
      toHeads(linear(h, `${p}.self_attn.q_proj.weight`, lw.qProj, nh * hd, H, lw.qBias), nh, qNorm),
    );
    const k = applyRope(
      toHeads(linear(h, `${p}.self_attn.k_proj.weight`, lw.kProj, nkv * hd, H, lw.kBias), nkv, kNorm),
    );
    const v = toHeads(linear(h, `${p}.self_attn.v_proj.weight`, lw.vProj, nkv * hd, H, lw.vBias), nkv);

    const presentKey = g.op("Concat", [`past_key_values.${i}.key`, k], { axis: 2 }, { outputs: [`present.${i}.key`] });
    const presentValue = g.op("Concat", [`past_key_values.${i}.value`, v], { axis: 2 }, {
      outputs: [`present.${i}.value`],
    });

    // Grouped-query attention without copying K/V: queries [B,kv,groups,S,hd] against
    // keys/values [B,kv,1,T,hd]; MatMul broadcasts over the group axis.
    const qGrouped = g.op("Reshape", [q, groupedShape]);
    const kGrouped = g.op("Reshape", [presentKey, kvGroupedShape]);
    const vGrouped = g.op("Reshape", [presentValue, kvGroupedShape]);
    const scores = g.op("Mul", [
      g.op("MatMul", [qGrouped, g.op("Transpose", [kGrouped], { perm: [0, 1, 2, 4, 3] })]),
      scale,
    ]); // [B,kv,groups,S,T]
    const probs = g.op("Softmax", [g.op("Where", [allowed, scores, maskedScore])], { axis: -1 });
    const context = g.op("Reshape", [g.op("MatMul", [probs, vGrouped]), mergedHeadsShape]); // [B,nh,S,hd]
    const merged = g.op("Reshape", [g.op("Transpose", [context], { perm: [0, 2, 1, 3] }), flatShape]);
    const attnOut = linear(merged, `${p}.self_attn.o_proj.weight`, lw.oProj, H, nh * hd);
    x = g.op("Add", [x, attnOut]);

    const h2 = rmsNorm(x, g.initializer(`${p}.post_attention_layernorm.weight`, lw.postAttentionNorm, [H]));
    const gate = linear(h2, `${p}.mlp.gate_proj.weight`, lw.gateProj, I, H);
    const up = linear(h2, `${p}.mlp.up_proj.weight`, lw.upProj, I, H);
    const act = g.op("Mul", [g.op("Mul", [gate, g.op("Sigmoid", [gate])]), up]);
    x = g.op("Add", [x, linear(act, `${p}.mlp.down_proj.weight`, lw.downProj, H, I)]);
  });

  const final = rmsNorm(x, g.initializer("model.norm.weight", weights.finalNorm, [H]));
  // Tied fp32 head: transpose the embedding inside the graph (onnxruntime folds it once at
  // load), so the file stores the table only once. q4 quantizes its own copy.
  const logits =
    config.tieWordEmbeddings && options.weightFormat !== "q4"
      ? g.op("MatMul", [final, g.op("Transpose", ["model.embed_tokens.weight"], { perm: [1, 0] })])
      : linear(final, "lm_head.weight", weights.lmHead ?? weights.embedTokens, V, H);
  g.output("logits", DataType.FLOAT, [batch, sequence, V], logits);
  for (let i = 0; i < config.numLayers; i++) {
    g.output(`present.${i}.key`, DataType.FLOAT, [batch, nkv, total, hd]);
    g.output(`present.${i}.value`, DataType.FLOAT, [batch, nkv, total, hd]);
  }
  return g;
}

export interface WriteDecoderOnlyOptions extends DecoderOnlyBuildOptions {
  /** File name under `<dir>/onnx/`; default "model.onnx" ("model_q4.onnx" for q4). */
  fileName?: string;
  /**
   * Weights above this total size (bytes) go to `<file>_data` as ONNX external data, as the
   * hub's exports do; default 1 GiB (protobuf cannot hold more than 2 GB).
   */
  externalDataAbove?: number;
}

/** Bytes of float32 weights the model holds. */
export function decoderOnlyWeightBytes(weights: DecoderOnlyWeights): number {
  let n = weights.embedTokens.byteLength + weights.finalNorm.byteLength + (weights.lmHead?.byteLength ?? 0);
  for (const l of weights.layers) {
    for (const value of Object.values(l)) if (value instanceof Float32Array) n += value.byteLength;
  }
  return n;
}

/** Writes `<dir>/onnx/model.onnx` (and `model.onnx_data` for big models); returns the model path. */
export function writeDecoderOnlyModel(
  dir: string,
  config: DecoderOnlyConfig,
  weights: DecoderOnlyWeights,
  options: WriteDecoderOnlyOptions = {},
): string {
  const q4 = options.weightFormat === "q4";
  const file = path.join(dir, "onnx", options.fileName ?? (q4 ? "model_q4.onnx" : "model.onnx"));
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const graph = buildDecoderOnlyGraph(config, weights, options);
  const saveOptions: SaveOptions = { opset: 17, extraOpsets: q4 ? { "com.microsoft": 1 } : undefined };
  if (decoderOnlyWeightBytes(weights) / (q4 ? 7 : 1) > (options.externalDataAbove ?? 1024 ** 3)) {
    saveOptions.externalDataThreshold = 1024;
  }
  graph.save(file, saveOptions);
  return file;
}
