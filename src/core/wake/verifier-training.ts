/**
 * Trains a wake verifier's logistic regression (verifier.ts): standardise every feature, then
 * full-batch gradient descent (Nesterov momentum, step 1/L from a bound on the loss's
 * curvature, so it cannot diverge) on the class-balanced log loss with an L2 penalty. No
 * randomness but the seeded starting weights: the same clips give the same file.
 */
import { SeededPrng } from "../onnx/decoder/sampler";

export interface LogisticOptions {
  /** Seed of the small random starting weights; default 1. */
  seed?: number;
  /** Passes over the data; default 300. */
  epochs?: number;
  /** L2 penalty on the weights, per example (mean loss + l2/2·|w|²); default 0.01. */
  l2?: number;
}

/** Relative weights of the examples within their class (default all 1); each class weighs half in total. */
export interface ExampleWeights {
  positives?: number[];
  negatives?: number[];
}

export interface LogisticModel {
  mean: number[];
  scale: number[];
  weights: number[];
  bias: number;
  /** Final mean (balanced) log loss on the training data, penalty excluded. */
  loss: number;
  epochs: number;
  l2: number;
  seed: number;
}

/** Seeded uniform [0, 1): the sampler's mulberry32, as a function. */
export function seededRandom(seed: number): () => number {
  const prng = new SeededPrng(seed);
  return () => prng.next();
}

/** Smallest standard deviation a feature is divided by (a constant feature stays 0, not NaN). */
const MIN_SCALE = 1e-3;

export function trainLogistic(positives: Float32Array[], negatives: Float32Array[], options: LogisticOptions = {}, weights: ExampleWeights = {}): LogisticModel {
  if (positives.length === 0) throw new Error("a wake verifier needs at least one positive example (the wake word)");
  if (negatives.length === 0) throw new Error("a wake verifier needs at least one negative example (other speech)");
  const d = positives[0].length;
  for (const x of [...positives, ...negatives]) if (x.length !== d) throw new Error(`verifier examples differ in size (${x.length} and ${d} features)`);
  const seed = options.seed ?? 1;
  const epochs = options.epochs ?? 300;
  const l2 = options.l2 ?? 0.01;
  if (!Number.isInteger(epochs) || epochs < 1) throw new RangeError(`epochs must be a whole number ≥ 1, got ${epochs}`);
  if (!(l2 >= 0)) throw new RangeError(`l2 must be ≥ 0, got ${l2}`);

  const all = [...positives, ...negatives];
  const n = all.length;
  // Each class weighs half (positives are few); within a class, as `weights` says.
  const normalised = (list: number[] | undefined, count: number) => {
    const w = list ?? new Array(count).fill(1);
    if (w.length !== count || !w.every((v) => v >= 0 && Number.isFinite(v))) throw new Error(`example weights must be ${count} numbers ≥ 0`);
    const sum = w.reduce((a, b) => a + b, 0);
    if (!(sum > 0)) throw new Error("example weights must not all be 0");
    return w.map((v) => (0.5 * v) / sum);
  };
  const exampleWeight = [...normalised(weights.positives, positives.length), ...normalised(weights.negatives, negatives.length)];
  const weightOf = (i: number) => exampleWeight[i];
  const mean = new Float64Array(d);
  const sq = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const x = all[i];
    const w = weightOf(i);
    for (let j = 0; j < d; j++) mean[j] += w * x[j];
  }
  for (let i = 0; i < n; i++) {
    const x = all[i];
    const w = weightOf(i);
    for (let j = 0; j < d; j++) sq[j] += w * (x[j] - mean[j]) ** 2;
  }
  const scale = Float64Array.from(sq, (v) => Math.max(Math.sqrt(v), MIN_SCALE));
  const xs = all.map((x) => Float32Array.from(x, (v, j) => (v - mean[j]) / scale[j]));
  const ys = all.map((_, i) => (i < positives.length ? 1 : 0));

  // Curvature bound of the weighted log loss: max |x|²/4 (+1 for the bias), plus the penalty.
  let maxNorm = 0;
  for (const x of xs) {
    let s = 1;
    for (let j = 0; j < d; j++) s += x[j] * x[j];
    maxNorm = Math.max(maxNorm, s);
  }
  const step = 1 / (maxNorm / 4 + l2);

  const random = seededRandom(seed);
  let w = Float64Array.from({ length: d }, () => (random() - 0.5) * 0.01);
  let b = 0;
  let prevW = Float64Array.from(w);
  let prevB = b;
  const z = new Float64Array(n);
  const grad = new Float64Array(d);
  let loss = 0;
  for (let epoch = 1; epoch <= epochs; epoch++) {
    // Nesterov: evaluate the gradient at the look-ahead point.
    const momentum = (epoch - 1) / (epoch + 2);
    const lookW = Float64Array.from(w, (v, j) => v + momentum * (v - prevW[j]));
    const lookB = b + momentum * (b - prevB);
    grad.fill(0);
    let gradB = 0;
    loss = 0;
    for (let i = 0; i < n; i++) {
      const x = xs[i];
      let s = lookB;
      for (let j = 0; j < d; j++) s += lookW[j] * x[j];
      z[i] = s;
      const p = 1 / (1 + Math.exp(-s));
      const weight = weightOf(i);
      const err = weight * (p - ys[i]);
      gradB += err;
      for (let j = 0; j < d; j++) grad[j] += err * x[j];
      loss += weight * (ys[i] === 1 ? softplus(-s) : softplus(s));
    }
    prevW = w;
    prevB = b;
    w = Float64Array.from(lookW, (v, j) => v - step * (grad[j] + l2 * v));
    b = lookB - step * gradB;
  }
  return { mean: Array.from(mean, round), scale: Array.from(scale, round), weights: Array.from(w, round), bias: round(b), loss, epochs, l2, seed };
}

const softplus = (s: number) => (s > 30 ? s : Math.log1p(Math.exp(s)));
/** Eight significant digits keep the file small and the output the same on every machine. */
const round = (v: number) => Number(v.toPrecision(8));
