/**
 * The piper-medium-shaped benchmark voice: a VITS network in piper's export signature and file
 * layout (`<name>.onnx` + `<name>.onnx.json`) with the dimensions of piper's "medium" voices
 * (en_US-lessac-medium and its kin, ~63 MB), seeded random weights, so the bench measures what
 * such a voice costs per span instead of the tiny-piper toy:
 *
 *   text encoder  symbol embedding 192, 6 transformer layers (2 heads, FFN 768 as two k=3 convs,
 *                 post-LayerNorm), projection to the prior's mean and log-scale (192 each)
 *   durations     piper's deterministic-predictor shape (two k=3 convs of 256 + LayerNorm),
 *                 ceil(exp(logw) · length_scale) frames a phoneme
 *   prior         each frame takes its phoneme's mean/log-scale; z = m + ε · exp(logs) · noise_scale
 *   flow          4 residual coupling layers (mean only) run in reverse with flips, each a WaveNet
 *                 of 4 gated layers (192 channels, k=5)
 *   generator     HiFi-GAN as piper's medium config has it: conv_pre 192→256 (k=7), upsampling
 *                 ×8 ×8 ×4 (kernels 16, 16, 8; 256→128→64→32 channels), after each three
 *                 type-2 residual blocks (kernels 3, 5, 7; dilations [1,2], [2,6], [3,12])
 *                 averaged, conv_post 32→1 (k=7), tanh: 256 samples a frame at 22050 Hz.
 *
 * What differs from a trained piper voice, and why the cost is still the same: the encoder's
 * attention is plain multi-head attention (VITS adds relative-position terms over a window of 4,
 * a few percent of the encoder, itself a small part of the work at phoneme rate); the stochastic
 * duration predictor is replaced by the deterministic one of the same conv widths (also phoneme
 * rate); and with random weights the durations are held near ~3 frames an id (phonemes and the pad
 * piper puts after each), so the frame count — what the flow and the generator scale with — is that
 * of real speech (~6 s for a 17-word sentence). 15.4 M parameters (62 MB).
 *
 *   node dist/bench/piper-medium-shaped-model.js <dir>
 */
import * as fs from "fs";
import * as path from "path";
import { DataType, GraphBuilder, float } from "../src/core/onnx-builder/graph";
import { SeededRandom } from "../src/core/onnx-builder/random";
import { PIPER_HOP, PIPER_SAMPLE_RATE, piperVoiceConfig } from "../fixtures/tiny-piper";

export const PIPER_MEDIUM_VOICE = "en_US-bench-medium";

const SYMBOLS = 256;
const HIDDEN = 192;
const FILTER = 768;
const HEADS = 2;
const LAYERS = 6;
const DP_FILTER = 256;
const FLOWS = 4;
const WN_LAYERS = 4;
const WN_KERNEL = 5;
const UPSAMPLE_INITIAL = 256;
const UPSAMPLE_RATES = [8, 8, 4];
const UPSAMPLE_KERNELS = [16, 16, 8];
const RESBLOCK_KERNELS = [3, 5, 7];
const RESBLOCK_DILATIONS = [
  [1, 2],
  [2, 6],
  [3, 12],
];
/**
 * exp of the random-weight duration predictor's bias: with the ±0.4 spread and the ceil, ids average
 * ~3 frames, as a trained voice's do (piper puts a pad id after every phoneme; ~14 phonemes a second).
 */
const MEAN_FRAMES = 2.4;

class VitsBuilder {
  readonly g = new GraphBuilder("piper_medium_shaped");
  private readonly rng = new SeededRandom(20261207);
  parameters = 0;

  weight(hint: string, dims: number[], std: number): string {
    const count = dims.reduce((a, b) => a * b, 1);
    this.parameters += count;
    return this.g.initializer(this.g.fresh(hint), this.rng.normalArray(count, std), dims);
  }

  /** Conv1d on [1, C, T] with "same" padding for odd kernels, a bias, optional dilation. */
  conv(x: string, cin: number, cout: number, kernel: number, dilation = 1): string {
    const pad = (dilation * (kernel - 1)) / 2;
    const w = this.weight("conv_w", [cout, cin, kernel], 1 / Math.sqrt(cin * kernel));
    const b = this.weight("conv_b", [cout], 0.02);
    return this.g.op("Conv", [x, w, b], { pads: [pad, pad], dilations: [dilation], kernel_shape: [kernel] });
  }

  leakyRelu(x: string, slope = 0.1): string {
    return this.g.op("LeakyRelu", [x], { alpha: float(slope) });
  }

  /** LayerNorm over the channels of [1, C, T] (VITS's modules.LayerNorm). */
  channelNorm(x: string, channels: number): string {
    const t = this.g.op("Transpose", [x], { perm: [0, 2, 1] });
    const gamma = this.g.constFloat(new Float32Array(channels).fill(1), [channels], "ln_g");
    const beta = this.g.constFloat(new Float32Array(channels), [channels], "ln_b");
    const n = this.g.op("LayerNormalization", [t, gamma, beta], { axis: -1, epsilon: float(1e-5) });
    return this.g.op("Transpose", [n], { perm: [0, 2, 1] });
  }

  /** Multi-head self-attention on [1, C, T] (1×1 convs for q, k, v, o as in VITS). */
  attention(x: string): string {
    const { g } = this;
    const headDim = HIDDEN / HEADS;
    const heads = (y: string) =>
      g.op("Transpose", [g.op("Reshape", [y, g.constInt64([1, HEADS, headDim, -1], [4])])], { perm: [0, 1, 3, 2] }); // [1, H, T, d]
    const q = heads(this.conv(x, HIDDEN, HIDDEN, 1));
    const k = heads(this.conv(x, HIDDEN, HIDDEN, 1));
    const v = heads(this.conv(x, HIDDEN, HIDDEN, 1));
    const scores = g.op("Mul", [g.op("MatMul", [q, g.op("Transpose", [k], { perm: [0, 1, 3, 2] })]), g.constFloat([1 / Math.sqrt(headDim)], [])]);
    const out = g.op("MatMul", [g.op("Softmax", [scores], { axis: -1 }), v]); // [1, H, T, d]
    const merged = g.op("Reshape", [g.op("Transpose", [out], { perm: [0, 1, 3, 2] }), g.constInt64([1, HIDDEN, -1], [3])]);
    return this.conv(merged, HIDDEN, HIDDEN, 1);
  }

  /** One gated WaveNet (VITS's modules.WN) on [1, HIDDEN, T]: the sum of its skip outputs. */
  waveNet(x: string): string {
    const { g } = this;
    let h = x;
    let skip: string | undefined;
    for (let i = 0; i < WN_LAYERS; i++) {
      const pre = this.conv(h, HIDDEN, 2 * HIDDEN, WN_KERNEL);
      const [a, b] = g.node("Split", [pre, g.constInt64([HIDDEN, HIDDEN], [2])], { axis: 1 }, { outputs: 2 });
      const acts = g.op("Mul", [g.op("Tanh", [a]), g.op("Sigmoid", [b])]);
      const last = i === WN_LAYERS - 1;
      const resSkip = this.conv(acts, HIDDEN, last ? HIDDEN : 2 * HIDDEN, 1);
      let skipPart = resSkip;
      if (!last) {
        const [res, s] = g.node("Split", [resSkip, g.constInt64([HIDDEN, HIDDEN], [2])], { axis: 1 }, { outputs: 2 });
        h = g.op("Add", [h, res]);
        skipPart = s;
      }
      skip = skip ? g.op("Add", [skip, skipPart]) : skipPart;
    }
    return skip!;
  }
}

export function buildPiperMediumShaped(): { graph: GraphBuilder; parameters: number } {
  const v = new VitsBuilder();
  const { g } = v;
  g.input("input", DataType.INT64, [1, "phonemes"]);
  g.input("input_lengths", DataType.INT64, [1]);
  g.input("scales", DataType.FLOAT, [3]);
  const scale = (i: number) => g.op("Gather", ["scales", g.constInt64([i], [])], { axis: 0 });

  // Text encoder: [1, N] ids → [1, 192, N].
  const table = v.weight("emb", [SYMBOLS, HIDDEN], 1 / Math.sqrt(HIDDEN));
  let x = g.op("Mul", [g.op("Gather", [table, "input"]), g.constFloat([Math.sqrt(HIDDEN)], [])]);
  x = g.op("Transpose", [x], { perm: [0, 2, 1] });
  for (let layer = 0; layer < LAYERS; layer++) {
    x = v.channelNorm(g.op("Add", [x, v.attention(x)]), HIDDEN);
    const ffn = v.conv(g.op("Relu", [v.conv(x, HIDDEN, FILTER, 3)]), FILTER, HIDDEN, 3);
    x = v.channelNorm(g.op("Add", [x, ffn]), HIDDEN);
  }
  const [mean, logScale] = g.node("Split", [v.conv(x, HIDDEN, 2 * HIDDEN, 1), g.constInt64([HIDDEN, HIDDEN], [2])], { axis: 1 }, { outputs: 2 });

  // Durations: logw held near log(MEAN_FRAMES) (see above), frames = ceil(exp(logw) · length_scale) ≥ 1.
  let dp = v.channelNorm(g.op("Relu", [v.conv(x, HIDDEN, DP_FILTER, 3)]), DP_FILTER);
  dp = v.channelNorm(g.op("Relu", [v.conv(dp, DP_FILTER, DP_FILTER, 3)]), DP_FILTER);
  const logw = g.op("Add", [g.op("Mul", [g.op("Tanh", [v.conv(dp, DP_FILTER, 1, 1)]), g.constFloat([0.4], [])]), g.constFloat([Math.log(MEAN_FRAMES)], [])]);
  const frames = g.op("Max", [g.op("Ceil", [g.op("Mul", [g.op("Exp", [logw]), scale(1)])]), g.constFloat([1], [])]);
  const ends = g.op("CumSum", [g.op("Cast", [g.op("Reshape", [frames, g.constInt64([-1], [1])])], { to: DataType.INT64 }), g.constInt64([0], [])]); // [N]
  const total = g.op("Gather", [ends, g.constInt64([-1], [])], { axis: 0 });
  const frameIndex = g.op("Range", [g.constInt64([0], []), total, g.constInt64([1], [])]); // [T]
  // Phoneme of each frame: how many phonemes end at or before it.
  const ended = g.op("LessOrEqual", [g.op("Unsqueeze", [ends, g.constInt64([0], [1])]), g.op("Unsqueeze", [frameIndex, g.constInt64([1], [1])])]); // [T, N]
  const phonemeOfFrame = g.op("ReduceSum", [g.op("Cast", [ended], { to: DataType.INT64 }), g.constInt64([1], [1])], { keepdims: 0 });
  const expand = (y: string) => g.op("Gather", [y, phonemeOfFrame], { axis: 2 }); // [1, 192, T]

  // Prior sample, then the flow in reverse.
  const m = expand(mean);
  const noise = g.op("RandomNormalLike", [m], { seed: float(1) });
  let z = g.op("Add", [m, g.op("Mul", [g.op("Mul", [noise, g.op("Exp", [expand(logScale)])]), scale(0)])]);
  const half = HIDDEN / 2;
  const flip = (y: string) =>
    g.op("Slice", [y, g.constInt64([-1], [1]), g.constInt64([-HIDDEN - 1], [1]), g.constInt64([1], [1]), g.constInt64([-1], [1])]);
  for (let f = 0; f < FLOWS; f++) {
    z = flip(z);
    const [x0, x1] = g.node("Split", [z, g.constInt64([half, half], [2])], { axis: 1 }, { outputs: 2 });
    const h = v.waveNet(v.conv(x0, half, HIDDEN, 1));
    const shift = v.conv(h, HIDDEN, half, 1);
    z = g.op("Concat", [x0, g.op("Sub", [x1, shift])], { axis: 1 });
  }

  // Generator (HiFi-GAN, piper medium).
  let y = v.conv(z, HIDDEN, UPSAMPLE_INITIAL, 7);
  let channels = UPSAMPLE_INITIAL;
  UPSAMPLE_RATES.forEach((rate, i) => {
    const kernel = UPSAMPLE_KERNELS[i];
    const out = channels / 2;
    const w = v.weight("up_w", [channels, out, kernel], 1 / Math.sqrt(channels * (kernel / rate)));
    const b = v.weight("up_b", [out], 0.02);
    const pad = (kernel - rate) / 2;
    y = g.op("ConvTranspose", [v.leakyRelu(y), w, b], { strides: [rate], pads: [pad, pad], kernel_shape: [kernel] });
    channels = out;
    let sum: string | undefined;
    RESBLOCK_KERNELS.forEach((k, j) => {
      let r = y;
      for (const d of RESBLOCK_DILATIONS[j]) r = g.op("Add", [r, v.conv(v.leakyRelu(r), channels, channels, k, d)]);
      sum = sum ? g.op("Add", [sum, r]) : r;
    });
    y = g.op("Mul", [sum!, g.constFloat([1 / RESBLOCK_KERNELS.length], [])]);
  });
  const post = g.op("Conv", [v.leakyRelu(y, 0.01), v.weight("post_w", [1, channels, 7], 0.3 / Math.sqrt(channels * 7))], { pads: [3, 3], kernel_shape: [7] });
  g.output("output", DataType.FLOAT, [1, 1, "time"], g.op("Tanh", [post]));
  return { graph: g, parameters: v.parameters };
}

export function hasPiperMedium(dir: string): boolean {
  return fs.existsSync(path.join(dir, `${PIPER_MEDIUM_VOICE}.onnx.json`));
}

export function writePiperMediumShaped(dir: string): number {
  fs.mkdirSync(dir, { recursive: true });
  const { graph, parameters } = buildPiperMediumShaped();
  graph.save(path.join(dir, `${PIPER_MEDIUM_VOICE}.onnx`), { opset: 17 });
  // The config last: its presence marks a complete voice.
  fs.writeFileSync(path.join(dir, `${PIPER_MEDIUM_VOICE}.onnx.json`), JSON.stringify(piperVoiceConfig("bench-medium-shaped"), null, 2) + "\n");
  return parameters;
}

if (require.main === module) {
  const dir = process.argv[2];
  if (!dir) throw new Error("usage: node dist/bench/piper-medium-shaped-model.js <dir>");
  const parameters = writePiperMediumShaped(dir);
  console.log(`wrote ${PIPER_MEDIUM_VOICE} (${(parameters / 1e6).toFixed(1)} M parameters, ${PIPER_SAMPLE_RATE} Hz, ${PIPER_HOP} samples a frame) into ${dir}`);
}


/** The voice's folder under the bench's output folder, written on first use (a second, 62 MB). */
export function preparePiperMedium(outDir: string, log: (line: string) => void): string {
  const dir = path.join(outDir, "piper-medium-shaped");
  if (!hasPiperMedium(dir)) {
    log(`  writing the piper-medium-shaped voice into ${dir}`);
    writePiperMediumShaped(dir);
  }
  return dir;
}
