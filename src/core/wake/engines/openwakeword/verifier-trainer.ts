/**
 * Makes a wake verifier (../../verifier.ts) for one wake word of an openWakeWord model from
 * clips: recordings of the wake word (positives) and of other speech (negatives), 16 kHz mono.
 * Each clip runs through the model as a stream would (then 1 s of silence, so the head sees the
 * whole word). From a positive clip it takes the windows the verifier would be asked about:
 * the step where the head scores highest and the steps near it where the head is over
 * `POSITIVE_MIN`; from a negative clip, every step where the head stirs and every fourth of the
 * rest, weighted by how much the head stirs (NEGATIVE_FLOOR).
 */
import type { OpenWakeWordEngine } from "./engine";
import { trainLogistic, type LogisticOptions } from "../../verifier-training";
import { VERIFIER_FORMAT, VERIFIER_VERSION, WakeVerifier } from "../../verifier";
import { WAKE_SAMPLE_RATE } from "../../engine";

/** A head score from which a step of a positive clip counts as the wake word. */
const POSITIVE_MIN = 0.2;
/** Steps of positives taken on each side of the best one (when over POSITIVE_MIN). */
const POSITIVE_SPREAD = 2;
/** Negative steps where the head scores this much are all kept; of the rest, one in NEGATIVE_STRIDE. */
const NEGATIVE_STIRS = 0.01;
const NEGATIVE_STRIDE = 4;
const STEP = 1280;

export interface VerifierClip {
  /** For the report (a file name). */
  label: string;
  samples: Float32Array;
}

export interface TrainVerifierOptions extends LogisticOptions {
  /** Probability from which the verifier accepts; default 0.5. */
  threshold?: number;
}

export interface VerifierReport {
  positive_clips: number;
  negative_clips: number;
  positive_windows: number;
  negative_windows: number;
  /** Positive clips on which the head never reached 0.5 (the verifier is not asked there). */
  head_missed: string[];
  /** Negative clips on which the head reached 0.5 (the false wakes the verifier must stop). */
  head_false_wakes: string[];
  /** On the training windows: positives accepted, negatives rejected. */
  train_positive_accepted: number;
  train_negative_rejected: number;
  loss: number;
}

interface Step {
  score: number;
  window: Float32Array;
}

/** Every step's head score and window over `samples` followed by 1 s of silence. */
export async function clipSteps(engine: OpenWakeWordEngine, name: string, samples: Float32Array): Promise<Step[]> {
  const scorer = engine.scorer([name], { keepWindows: true });
  const padded = new Float32Array(Math.ceil((samples.length + WAKE_SAMPLE_RATE) / STEP) * STEP);
  padded.set(samples);
  const out: Step[] = [];
  for (let at = 0; at < padded.length; at += STEP) {
    for (const s of await scorer.push(padded.subarray(at, at + STEP))) out.push({ score: s.scores[name], window: s.windows![name] });
  }
  return out;
}

export function positiveWindows(steps: Step[]): Float32Array[] {
  let best = 0;
  for (let i = 1; i < steps.length; i++) if (steps[i].score > steps[best].score) best = i;
  const out = [steps[best].window];
  for (let i = Math.max(0, best - POSITIVE_SPREAD); i <= Math.min(steps.length - 1, best + POSITIVE_SPREAD); i++) {
    if (i !== best && steps[i].score >= POSITIVE_MIN) out.push(steps[i].window);
  }
  return out;
}

export function negativeWindows(steps: Step[]): Step[] {
  return steps.filter((s, i) => s.score >= NEGATIVE_STIRS || i % NEGATIVE_STRIDE === 0);
}

/**
 * The verifier is asked only where the head scores high, so the negatives that count are the
 * head's near misses and false wakes: a negative window weighs NEGATIVE_FLOOR plus the head's score.
 */
const NEGATIVE_FLOOR = 0.05;

export async function trainWakeVerifier(
  engine: OpenWakeWordEngine,
  name: string,
  positives: VerifierClip[],
  negatives: VerifierClip[],
  options: TrainVerifierOptions = {},
): Promise<{ verifier: WakeVerifier; report: VerifierReport }> {
  const head = engine.headOf(name);
  const threshold = options.threshold ?? 0.5;
  if (!(threshold > 0 && threshold < 1)) throw new RangeError(`verifier threshold must be between 0 and 1, got ${threshold}`);
  if (positives.length === 0) throw new Error(`no positive clips: record the wake word '${name}' a few dozen times (16 kHz WAV files)`);
  if (negatives.length === 0) throw new Error("no negative clips: record other speech (names, phrases that sound like the wake word)");
  const pos: Float32Array[] = [];
  const neg: Float32Array[] = [];
  const negWeights: number[] = [];
  const headMissed: string[] = [];
  const headFalse: string[] = [];
  for (const clip of positives) {
    const steps = await clipSteps(engine, name, clip.samples);
    if (Math.max(...steps.map((s) => s.score)) < 0.5) headMissed.push(clip.label);
    pos.push(...positiveWindows(steps));
  }
  for (const clip of negatives) {
    const steps = await clipSteps(engine, name, clip.samples);
    if (steps.some((s) => s.score >= 0.5)) headFalse.push(clip.label);
    for (const s of negativeWindows(steps)) {
      neg.push(s.window);
      negWeights.push(NEGATIVE_FLOOR + s.score);
    }
  }
  const model = trainLogistic(pos, neg, options, { negatives: negWeights });
  const verifier = new WakeVerifier({
    format: VERIFIER_FORMAT,
    version: VERIFIER_VERSION,
    head: name,
    window: head.window,
    feature_models: engine.featureIdentity,
    mean: model.mean,
    scale: model.scale,
    weights: model.weights,
    bias: model.bias,
    threshold,
    training: {
      positive_clips: positives.length,
      negative_clips: negatives.length,
      positive_windows: pos.length,
      negative_windows: neg.length,
      epochs: model.epochs,
      l2: model.l2,
      seed: model.seed,
      loss: Number(model.loss.toPrecision(6)),
    },
  });
  const report: VerifierReport = {
    positive_clips: positives.length,
    negative_clips: negatives.length,
    positive_windows: pos.length,
    negative_windows: neg.length,
    head_missed: headMissed,
    head_false_wakes: headFalse,
    train_positive_accepted: pos.filter((x) => verifier.accepts(x)).length,
    train_negative_rejected: neg.filter((x) => !verifier.accepts(x)).length,
    loss: model.loss,
  };
  return { verifier, report };
}
