/**
 * A Kokoro-82M-shaped model for the benchmark: the real v1.0 dimensions and layer kinds with
 * seeded random weights, in the onnx-community/Kokoro-82M-v1.0-ONNX layout (onnx/model.onnx and
 * the q8 onnx/model_quantized.onnx, voices/af_heart.bin, tokenizer.json) so both our engine and
 * kokoro-js load the same files.
 *
 * What it has (Kokoro v1.0 config: n_token 178, hidden 512, style 128+128, PL-BERT hidden 768 ×
 * 12 shared layers, 12 heads, FFN 2048; iSTFTNet upsample [10, 6] from 512 channels, kernels
 * [20, 12], resblocks k 3/7/11 × dilations 1/3/5, n_fft 20, hop 5 → 600 samples per frame):
 *   - ALBERT encoder (embedding 128 → 768, one shared layer run 12 times) → Linear 768 → 512
 *   - text encoder: embedding 512, 3 × (Conv1d k5 + LayerNorm + LeakyReLU), bidirectional LSTM
 *   - prosody predictor: 3 × (biLSTM 640 → 2×256 + AdaLayerNorm), biLSTM, duration Linear 512 → 50,
 *     shared biLSTM over frames, F0 and N branches of 3 AdaIN residual blocks (512, 512 → 256 ×2 up, 256)
 *   - decoder: F0/N stride-2 convs, encode AdaIN block 514 → 1024, 4 decode blocks (1090 → 1024,
 *     last → 512 with ×2 upsampling), asr_res conv 512 → 64
 *   - generator: 2 × (LeakyReLU, ConvTranspose 512→256 ×10 / 256→128 ×6, mean of 3 AdaIN+Snake
 *     resblocks), conv_post 128 → 22, magnitude/phase → an inverse-STFT ConvTranspose (n_fft 20, hop 5)
 *
 * What differs from the real network (said in bench/RESULTS.md too):
 *   - durations are fixed (FRAMES_PER_TOKEN frames per token, ÷ speed) instead of the argmax of the
 *     duration head (computed, but not used for the alignment), so the audio length is set by the
 *     token count; the real model's length depends on the predicted durations;
 *   - no harmonic-plus-noise source (SineGen, noise_convs / noise_res) in the generator;
 *   - the inverse STFT is a fixed ConvTranspose basis, not torch.istft (Kokoro's ONNX export also
 *     replaces it by convolutions);
 *   - q8: MatMul and Conv weights int8/uint8 (DynamicQuantizeLinear + MatMulInteger / ConvInteger, as
 *     onnxruntime's quantize_dynamic writes them); LSTM and ConvTranspose weights stay fp32.
 */
import * as fs from "fs";
import * as path from "path";
import { DataType, GraphBuilder } from "../../src/core/onnx-builder/graph";
import { matMulWeight, type WeightPrecision } from "../../src/core/onnx-builder/quantize-8bit";
import { SeededRandom } from "../../src/core/onnx-builder/random";
import { kokoroTokenizerJson, KOKORO_VOCAB_SIZE, voiceTableBytes } from "../../fixtures/tiny-kokoro";

export const FRAMES_PER_TOKEN = 3;
const SAMPLES_PER_FRAME = 600;
const HIDDEN = 512;
const STYLE = 128;
const BERT = 768;
const HEADS = 12;
const FFN = 2048;

class Builder {
  readonly g = new GraphBuilder("kokoro_shaped");
  params = 0;
  private readonly rng: SeededRandom;
  constructor(readonly precision: WeightPrecision, seed: number) {
    this.rng = new SeededRandom(seed);
  }

  weights(n: number, fanIn: number): Float32Array {
    this.params += n;
    return this.rng.normalArray(n, 1 / Math.sqrt(fanIn));
  }
  zeros(n: number): string {
    this.params += n;
    return this.g.constFloat(new Float32Array(n), [n], "b");
  }
  ones(n: number): string {
    this.params += n;
    return this.g.constFloat(new Float32Array(n).fill(1), [n], "g");
  }
  const1(v: number): string {
    return this.g.constFloat([v], [], "k");
  }

  /** x [..., k] → [..., n] */
  linear(x: string, k: number, n: number, hint = "fc"): string {
    return this.g.op("Add", [matMulWeight(this.g, x, this.weights(k * n, k), k, n, this.precision, hint), this.zeros(n)]);
  }

  /** x [1, cin, L] → [1, cout, L'] with "same" padding (k odd) or the given stride. */
  conv(x: string, cin: number, cout: number, k: number, dilation = 1, stride = 1): string {
    const pad = Math.floor(((k - 1) * dilation) / 2);
    const w = this.weights(cout * cin * k, cin * k);
    const attrs = { dilations: [dilation], strides: [stride], pads: [pad, pad], kernel_shape: [k] };
    if (this.precision === "fp32") return this.g.op("Conv", [x, this.g.constFloat(w, [cout, cin, k], "cw"), this.zeros(cout)], attrs);
    // uint8 weights with zero point 128 (onnxruntime's ConvInteger takes uint8 × uint8).
    let max = 0;
    for (const v of w) max = Math.max(max, Math.abs(v));
    const scale = max > 0 ? max / 127 : 1;
    const q = new Uint8Array(w.length);
    for (let i = 0; i < w.length; i++) q[i] = 128 + Math.max(-127, Math.min(127, Math.round(w[i] / scale)));
    const wq = this.g.initializer(this.g.fresh("cw_q8"), q, [cout, cin, k]);
    const wZero = this.g.initializer(this.g.fresh("cw_zp"), Uint8Array.of(128), []);
    const [xq, xScale, xZero] = this.g.node("DynamicQuantizeLinear", [x], {}, { outputs: 3 });
    const product = this.g.op("Cast", [this.g.op("ConvInteger", [xq, wq, xZero, wZero], attrs)], { to: DataType.FLOAT });
    const scaled = this.g.op("Mul", [product, this.g.op("Mul", [xScale, this.const1(scale)])]);
    const bias = this.g.op("Reshape", [this.zeros(cout), this.g.constInt64([1, cout, 1], [3])]);
    return this.g.op("Add", [scaled, bias]);
  }

  convTranspose(x: string, cin: number, cout: number, k: number, stride: number, groups = 1): string {
    const w = this.weights((cin * cout * k) / groups, cin * k);
    const pad = Math.floor((k - stride) / 2);
    return this.g.op("ConvTranspose", [x, this.g.constFloat(w, [cin, cout / groups, k], "tw"), this.zeros(cout)], {
      strides: [stride],
      pads: [pad, pad],
      kernel_shape: [k],
      group: groups,
    });
  }

  layerNorm(x: string, n: number): string {
    return this.g.op("LayerNormalization", [x, this.ones(n), this.zeros(n)], { axis: -1, epsilon: 1e-5 });
  }

  /** Bidirectional LSTM over x [T, 1, in] → [T, 1, 2·hidden]. */
  biLstm(x: string, input: number, hidden: number): string {
    const w = this.g.constFloat(this.weights(2 * 4 * hidden * input, input), [2, 4 * hidden, input], "lw");
    const r = this.g.constFloat(this.weights(2 * 4 * hidden * hidden, hidden), [2, 4 * hidden, hidden], "lr");
    const b = this.g.constFloat(new Float32Array(2 * 8 * hidden), [2, 8 * hidden], "lb");
    this.params += 2 * 8 * hidden;
    const [y] = this.g.node("LSTM", [x, w, r, b], { hidden_size: hidden, direction: "bidirectional" }, { outputs: 1 });
    // y [T, 2, 1, hidden] → [T, 1, 2·hidden]
    const t = this.g.op("Transpose", [y], { perm: [0, 2, 1, 3] });
    return this.g.op("Reshape", [t, this.g.constInt64([0, 1, 2 * hidden], [3])]);
  }

  leaky(x: string, slope = 0.2): string {
    return this.g.op("LeakyRelu", [x], { alpha: slope });
  }

  /** AdaIN over channels: InstanceNorm(x) · (1 + γ(s)) + β(s); x [1, C, L], s [1, 128]. */
  adain(x: string, c: number, s: string): string {
    const norm = this.g.op("InstanceNormalization", [x, this.g.constFloat(new Float32Array(c).fill(1), [c]), this.g.constFloat(new Float32Array(c), [c])], { epsilon: 1e-5 });
    const h = this.g.op("Reshape", [this.linear(s, STYLE, 2 * c, "adain"), this.g.constInt64([1, 2 * c, 1], [3])]);
    const [gamma, beta] = this.g.node("Split", [h, this.g.constInt64([c, c], [2])], { axis: 1 }, { outputs: 2 });
    return this.g.op("Add", [this.g.op("Mul", [norm, this.g.op("Add", [gamma, this.const1(1)])]), beta]);
  }

  upsample2(x: string): string {
    return this.g.op("Resize", [x, "", this.g.constFloat([1, 1, 2], [3])], { mode: "nearest" });
  }

  /** StyleTTS2's AdainResBlk1d (optionally ×2 upsampling). */
  adainResBlock(x: string, cin: number, cout: number, s: string, upsample = false): string {
    let shortcut = upsample ? this.upsample2(x) : x;
    if (cin !== cout) shortcut = this.conv(shortcut, cin, cout, 1);
    let h = this.leaky(this.adain(x, cin, s));
    if (upsample) h = this.convTranspose(h, cin, cin, 3, 2, cin); // depthwise ×2 ("pool")
    if (upsample) h = this.g.op("Slice", [h, this.g.constInt64([0], [1]), this.g.op("Shape", [shortcut], { start: 2, end: 3 }), this.g.constInt64([2], [1])]);
    h = this.conv(h, cin, cout, 3);
    h = this.conv(this.leaky(this.adain(h, cout, s)), cout, cout, 3);
    return this.g.op("Mul", [this.g.op("Add", [h, shortcut]), this.const1(Math.SQRT1_2)]);
  }

  /** Snake: x + sin²(αx)/α, α per channel. */
  snake(x: string, c: number): string {
    const alpha = this.g.constFloat(new Float32Array(c).fill(1), [1, c, 1], "alpha");
    this.params += c;
    const sin = this.g.op("Sin", [this.g.op("Mul", [x, alpha])]);
    return this.g.op("Add", [x, this.g.op("Div", [this.g.op("Mul", [sin, sin]), alpha])]);
  }

  /** iSTFTNet's AdaINResBlock1: three dilations, each AdaIN → Snake → conv(d) → AdaIN → Snake → conv(1). */
  generatorResBlock(x: string, c: number, k: number, s: string): string {
    let out = x;
    for (const d of [1, 3, 5]) {
      let h = this.conv(this.snake(this.adain(out, c, s), c), c, c, k, d);
      h = this.conv(this.snake(this.adain(h, c, s), c), c, c, k, 1);
      out = this.g.op("Add", [out, h]);
    }
    return out;
  }
}

/** x [1, T, C] → [1, C, T] and back. */
const toChannels = (b: Builder, x: string) => b.g.op("Transpose", [x], { perm: [0, 2, 1] });

function albert(b: Builder, ids: string, mask: string): string {
  const g = b.g;
  const emb = g.op("Gather", [g.constFloat(b.weights(KOKORO_VOCAB_SIZE * 128, 1), [KOKORO_VOCAB_SIZE, 128], "wemb"), ids]);
  const positions = g.op("Gather", [g.constFloat(b.weights(512 * 128, 1), [512, 128], "pemb"), mask]);
  let x = b.linear(b.layerNorm(g.op("Add", [emb, positions]), 128), 128, BERT, "emb_proj"); // [1,T,768]
  // One set of layer weights, run 12 times (ALBERT shares them).
  const shape4 = g.constInt64([1, -1, HEADS, BERT / HEADS], [4]);
  const wq = b.weights(BERT * BERT, BERT), wk = b.weights(BERT * BERT, BERT), wv = b.weights(BERT * BERT, BERT), wo = b.weights(BERT * BERT, BERT);
  const w1 = b.weights(BERT * FFN, BERT), w2 = b.weights(FFN * BERT, FFN);
  const heads = (v: string) => g.op("Transpose", [g.op("Reshape", [v, shape4])], { perm: [0, 2, 1, 3] });
  const qW = matMulWeightOnce(b, wq, BERT, BERT), kW = matMulWeightOnce(b, wk, BERT, BERT), vW = matMulWeightOnce(b, wv, BERT, BERT);
  const oW = matMulWeightOnce(b, wo, BERT, BERT), f1 = matMulWeightOnce(b, w1, BERT, FFN), f2 = matMulWeightOnce(b, w2, FFN, BERT);
  const ln1 = [b.ones(BERT), b.zeros(BERT)], ln2 = [b.ones(BERT), b.zeros(BERT)];
  for (let layer = 0; layer < 12; layer++) {
    const q = heads(qW(x)), k = heads(kW(x)), v = heads(vW(x));
    const scores = g.op("Softmax", [g.op("Mul", [g.op("MatMul", [q, g.op("Transpose", [k], { perm: [0, 1, 3, 2] })]), b.const1(1 / 8)])], { axis: -1 });
    const ctx = g.op("Reshape", [g.op("Transpose", [g.op("MatMul", [scores, v])], { perm: [0, 2, 1, 3] }), g.constInt64([1, -1, BERT], [3])]);
    x = g.op("LayerNormalization", [g.op("Add", [x, oW(ctx)]), ...ln1], { axis: -1, epsilon: 1e-12 });
    const ff = f2(g.op("Gelu", [f1(x)], {}, { domain: "com.microsoft" }));
    x = g.op("LayerNormalization", [g.op("Add", [x, ff]), ...ln2], { axis: -1, epsilon: 1e-12 });
  }
  return b.linear(x, BERT, HIDDEN, "bert_encoder"); // [1,T,512]
}

/** A shared weight used many times (ALBERT): quantized once, applied by a closure. */
function matMulWeightOnce(b: Builder, weight: Float32Array, k: number, n: number): (x: string) => string {
  const g = b.g;
  const bias = b.zeros(n);
  // Build the weight constant once by a throwaway MatMul on a dummy, then reuse its initializer names.
  if (b.precision === "fp32") {
    const w = g.constFloat(weight, [k, n], "shared");
    return (x) => g.op("Add", [g.op("MatMul", [x, w]), bias]);
  }
  let max = 0;
  for (const v of weight) max = Math.max(max, Math.abs(v));
  const scale = max > 0 ? max / 127 : 1;
  const q = new Int8Array(weight.length);
  for (let i = 0; i < weight.length; i++) q[i] = Math.max(-127, Math.min(127, Math.round(weight[i] / scale)));
  const wq = g.initializer(g.fresh("shared_q8"), q, [k, n]);
  const wZero = g.initializer(g.fresh("shared_zp"), new Int8Array(1), []);
  const s = b.const1(scale);
  return (x) => {
    const [xq, xScale, xZero] = g.node("DynamicQuantizeLinear", [x], {}, { outputs: 3 });
    const product = g.op("Cast", [g.op("MatMulInteger", [xq, wq, xZero, wZero])], { to: DataType.FLOAT });
    return g.op("Add", [g.op("Mul", [product, g.op("Mul", [xScale, s])]), bias]);
  };
}

export function buildKokoroShaped(precision: WeightPrecision, seed = 82): { graph: GraphBuilder; params: number } {
  const b = new Builder(precision, seed);
  const g = b.g;
  g.input("input_ids", DataType.INT64, [1, "sequence_length"]);
  g.input("style", DataType.FLOAT, [1, 256]);
  g.input("speed", DataType.FLOAT, [1]);
  const T = g.op("Shape", ["input_ids"], { start: 1, end: 2 }); // [1]
  const positions = g.op("Unsqueeze", [g.op("Range", [g.constInt64([0], []), g.op("Squeeze", [T, g.constInt64([0], [1])]), g.constInt64([1], [])]), g.constInt64([0], [1])]);
  const [sDecoder, sPredictor] = g.node("Split", ["style", g.constInt64([STYLE, STYLE], [2])], { axis: 1 }, { outputs: 2 });

  // PL-BERT → d_en [1, 512, T]
  const dEn = toChannels(b, albert(b, "input_ids", positions));

  // Prosody predictor: duration encoder (3 × biLSTM + AdaLayerNorm) over [d_en; style].
  const styleT = (x: string, c: number) => g.op("Expand", [g.op("Unsqueeze", [sPredictor, g.constInt64([2], [1])]), g.op("Concat", [g.constInt64([1, STYLE], [2]), g.op("Shape", [x], { start: 2, end: 3 })], { axis: 0 })]);
  let d = dEn;
  for (let i = 0; i < 3; i++) {
    const withStyle = g.op("Concat", [d, styleT(d, HIDDEN)], { axis: 1 }); // [1, 640, T]
    const seq = g.op("Transpose", [withStyle], { perm: [2, 0, 1] }); // [T, 1, 640]
    const y = b.biLstm(seq, HIDDEN + STYLE, HIDDEN / 2); // [T, 1, 512]
    d = g.op("Transpose", [y], { perm: [1, 2, 0] }); // [1, 512, T]
    d = b.adain(d, HIDDEN, sPredictor); // AdaLayerNorm stand-in (same parameter shape)
  }
  const dStyled = g.op("Concat", [d, styleT(d, HIDDEN)], { axis: 1 });
  const durationLstm = b.biLstm(g.op("Transpose", [dStyled], { perm: [2, 0, 1] }), HIDDEN + STYLE, HIDDEN / 2);
  const durationLogits = b.linear(durationLstm, HIDDEN, 50, "duration_proj"); // computed as in Kokoro
  const durationProbe = g.op("ReduceSum", [durationLogits], { keepdims: 0 }); // folded into the output as 0·x

  // Fixed alignment: every token → FRAMES_PER_TOKEN / speed frames (at least 1).
  const perToken = g.op("Max", [g.op("Cast", [g.op("Round", [g.op("Div", [g.constFloat([FRAMES_PER_TOKEN], [1]), "speed"])])], { to: DataType.INT64 }), g.constInt64([1], [1])]);
  const frames = g.op("Mul", [T, perToken]); // [1]
  const align = (x: string, c: number) =>
    g.op("Resize", [x, "", "", g.op("Concat", [g.constInt64([1, c], [2]), frames], { axis: 0 })], { mode: "nearest", nearest_mode: "floor", coordinate_transformation_mode: "asymmetric" });
  const en = align(dStyled, HIDDEN + STYLE); // [1, 640, F]

  // F0 / N: shared biLSTM over frames, then 3 AdaIN blocks each (the second upsamples ×2).
  const shared = g.op("Transpose", [b.biLstm(g.op("Transpose", [en], { perm: [2, 0, 1] }), HIDDEN + STYLE, HIDDEN / 2)], { perm: [1, 2, 0] }); // [1,512,F]
  const branch = () => {
    let x = b.adainResBlock(shared, HIDDEN, HIDDEN, sPredictor);
    x = b.adainResBlock(x, HIDDEN, HIDDEN / 2, sPredictor, true);
    x = b.adainResBlock(x, HIDDEN / 2, HIDDEN / 2, sPredictor);
    return b.conv(x, HIDDEN / 2, 1, 1); // [1, 1, 2F]
  };
  const f0 = branch();
  const noise = branch();

  // Text encoder: embedding → 3 × (conv k5 + LayerNorm + LeakyReLU) → biLSTM → aligned asr features.
  let t = toChannels(b, g.op("Gather", [g.constFloat(b.weights(KOKORO_VOCAB_SIZE * HIDDEN, 1), [KOKORO_VOCAB_SIZE, HIDDEN], "temb"), "input_ids"]));
  for (let i = 0; i < 3; i++) {
    t = b.conv(t, HIDDEN, HIDDEN, 5);
    t = b.leaky(toChannels(b, b.layerNorm(toChannels(b, t), HIDDEN)));
  }
  t = g.op("Transpose", [b.biLstm(g.op("Transpose", [t], { perm: [2, 0, 1] }), HIDDEN, HIDDEN / 2)], { perm: [1, 2, 0] });
  const asr = align(t, HIDDEN); // [1, 512, F]

  // Decoder.
  const f0Down = b.conv(f0, 1, 1, 3, 1, 2); // [1,1,F]
  const nDown = b.conv(noise, 1, 1, 3, 1, 2);
  let x = b.adainResBlock(g.op("Concat", [asr, f0Down, nDown], { axis: 1 }), HIDDEN + 2, 1024, sDecoder);
  const asrRes = b.conv(asr, HIDDEN, 64, 1);
  for (let i = 0; i < 4; i++) {
    const last = i === 3;
    x = b.adainResBlock(g.op("Concat", [x, asrRes, f0Down, nDown], { axis: 1 }), 1024 + 66, last ? HIDDEN : 1024, sDecoder, last);
  }
  // [1, 512, 2F] → generator
  let channels = HIDDEN;
  for (const [rate, kernel] of [[10, 20], [6, 12]]) {
    const next = channels / 2;
    x = b.convTranspose(b.leaky(x, 0.1), channels, next, kernel, rate);
    const blocks = [3, 7, 11].map((k) => b.generatorResBlock(x, next, k, sDecoder));
    x = g.op("Mul", [g.op("Sum", blocks), b.const1(1 / 3)]);
    channels = next;
  }
  const post = b.conv(b.leaky(x, 0.01), channels, 22, 7); // [1, 22, 120F]
  const [logMag, phaseIn] = g.node("Split", [post, g.constInt64([11, 11], [2])], { axis: 1 }, { outputs: 2 });
  const mag = g.op("Exp", [g.op("Clip", [logMag, g.constFloat([-10], []), g.constFloat([3], [])])]);
  const phase = g.op("Sin", [phaseIn]);
  const spectrum = g.op("Concat", [g.op("Mul", [mag, g.op("Cos", [phase])]), g.op("Mul", [mag, g.op("Sin", [phase])])], { axis: 1 });
  // Inverse STFT (n_fft 20, hop 5) as a fixed ConvTranspose basis (Hann-windowed inverse DFT).
  const basis = new Float32Array(22 * 20);
  for (let f = 0; f < 11; f++) {
    for (let n = 0; n < 20; n++) {
      const window = 0.5 - 0.5 * Math.cos((2 * Math.PI * n) / 20);
      basis[f * 20 + n] = (window * Math.cos((2 * Math.PI * f * n) / 20)) / 20;
      basis[(11 + f) * 20 + n] = (-window * Math.sin((2 * Math.PI * f * n) / 20)) / 20;
    }
  }
  const wave = g.op("ConvTranspose", [spectrum, g.constFloat(basis, [22, 1, 20], "istft")], { strides: [5], pads: [8, 7], kernel_shape: [20] });
  // Exactly frames × 600 samples; the duration head's output is folded in as 0·x so it is computed.
  const samples = g.op("Mul", [frames, g.constInt64([SAMPLES_PER_FRAME], [1])]);
  const flat = g.op("Slice", [g.op("Reshape", [wave, g.constInt64([-1], [1])]), g.constInt64([0], [1]), samples, g.constInt64([0], [1])]);
  const withProbe = g.op("Add", [g.op("Tanh", [flat]), g.op("Mul", [durationProbe, b.const1(0)])]);
  g.output("waveform", DataType.FLOAT, ["num_samples"], withProbe);
  return { graph: g, params: b.params };
}

/** Writes the model folder (both variants, one voice, tokenizer, config); returns the parameter count. */
export function writeKokoroShaped(dir: string, log: (line: string) => void = () => undefined): number {
  fs.mkdirSync(path.join(dir, "voices"), { recursive: true });
  let params = 0;
  for (const [precision, file] of [["fp32", "model.onnx"], ["q8", "model_quantized.onnx"]] as const) {
    const target = path.join(dir, "onnx", file);
    if (fs.existsSync(target)) continue;
    const started = Date.now();
    const built = buildKokoroShaped(precision);
    params = built.params;
    built.graph.save(target, { opset: 17, extraOpsets: { "com.microsoft": 1 } });
    log(`wrote ${target} (${(fs.statSync(target).size / 1e6).toFixed(1)} MB, ${(built.params / 1e6).toFixed(1)}M parameters, ${((Date.now() - started) / 1000).toFixed(1)} s)`);
  }
  fs.writeFileSync(path.join(dir, "voices", "af_heart.bin"), voiceTableBytes(4242));
  fs.writeFileSync(path.join(dir, "tokenizer.json"), JSON.stringify(kokoroTokenizerJson()) + "\n");
  fs.writeFileSync(path.join(dir, "tokenizer_config.json"), JSON.stringify({ model_max_length: 512, pad_token: "$", tokenizer_class: "PreTrainedTokenizer", unk_token: "$" }) + "\n");
  fs.writeFileSync(path.join(dir, "config.json"), JSON.stringify({ model_type: "style_text_to_speech_2" }) + "\n");
  return params;
}

if (require.main === module) {
  const dir = process.argv[2] ?? path.join(__dirname, "..", "..", "..", "bench", "out", "kokoro-82m-shaped");
  const params = writeKokoroShaped(dir, (l) => process.stderr.write(l + "\n"));
  process.stderr.write(`${dir}: ${params} parameters\n`);
}
