/**
 * A wake word verifier: a second stage for one head, after openWakeWord's "custom verifier"
 * idea. The head decides that a wake word may have been said; the verifier, a logistic
 * regression over the same speech embeddings the head read (its whole input window, flattened
 * and standardised), decides whether to believe it. It is consulted only at a step where the
 * head's score passed its threshold, so it only has to tell the wake word from the few things
 * the head confuses with it (the names, voices and rooms its user has) — a small model trained
 * in seconds from a few dozen clips (`voice-stream wake-verifier`).
 *
 * The file is JSON (format below). It is bound to one head (name and window) and to one pair of
 * feature models (their SHA-256): embeddings of other feature models mean something else.
 */
import * as fs from "fs";

export const VERIFIER_FORMAT = "voice-stream-wake-verifier";
export const VERIFIER_VERSION = 1;

/** The two feature models' identity: SHA-256 (hex) of each file's bytes. */
export interface FeatureModelsIdentity {
  melspectrogram: string;
  embedding_model: string;
}

export interface VerifierFile {
  format: typeof VERIFIER_FORMAT;
  version: number;
  /** The wake word (head output) it verifies. */
  head: string;
  /** Embeddings in the head's input window; the verifier reads window × 96 values. */
  window: number;
  feature_models: FeatureModelsIdentity;
  /** Per-feature standardisation: (x - mean) / scale. */
  mean: number[];
  scale: number[];
  weights: number[];
  bias: number;
  /** Probability at or above which a detection is kept. */
  threshold: number;
  /** How it was made (counts, seed, settings): for people, not read back. */
  training?: Record<string, unknown>;
}

export class WakeVerifier {
  private readonly mean: Float32Array;
  private readonly inverseScale: Float32Array;
  private readonly weights: Float32Array;

  constructor(readonly spec: VerifierFile, readonly file = "(in memory)") {
    this.mean = Float32Array.from(spec.mean);
    this.inverseScale = Float32Array.from(spec.scale, (s) => 1 / s);
    this.weights = Float32Array.from(spec.weights);
  }

  get head(): string {
    return this.spec.head;
  }

  get window(): number {
    return this.spec.window;
  }

  get threshold(): number {
    return this.spec.threshold;
  }

  /** Probability that `features` (the head's window, [window, 96] packed) is the wake word. */
  probability(features: Float32Array): number {
    if (features.length !== this.weights.length) {
      throw new Error(`wake verifier ${this.file} reads ${this.weights.length} features, got ${features.length}`);
    }
    let z = this.spec.bias;
    for (let i = 0; i < features.length; i++) z += this.weights[i] * (features[i] - this.mean[i]) * this.inverseScale[i];
    return sigmoid(z);
  }

  accepts(features: Float32Array): boolean {
    return this.probability(features) >= this.spec.threshold;
  }

  /**
   * Throws a clear error unless this verifier was made for wake word `name` with a window of
   * `window` embeddings from feature models `features`.
   */
  checkFits(name: string, window: number, features: FeatureModelsIdentity): void {
    const what = `wake verifier ${this.file}`;
    if (this.spec.head !== name) throw new Error(`${what} was made for the wake word '${this.spec.head}', not '${name}'; train one for '${name}' with voice-stream wake-verifier --head ${name}`);
    if (this.spec.window !== window) throw new Error(`${what} reads a window of ${this.spec.window} embeddings, but head '${name}' reads ${window}: it was made for another head of that name; train it again`);
    for (const key of ["melspectrogram", "embedding_model"] as const) {
      if (this.spec.feature_models[key] !== features[key]) {
        throw new Error(`${what} was made with other feature models (${key}.onnx ${short(this.spec.feature_models[key])}, this model has ${short(features[key])}); train it again with this model's feature models`);
      }
    }
  }

  toJSON(): VerifierFile {
    return this.spec;
  }
}

export const sigmoid = (z: number) => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)));

const short = (hash: string) => `sha256 ${String(hash).slice(0, 12)}…`;

/** Checks parsed JSON as a verifier file; throws a clear error naming `file` and what is wrong. */
export function parseVerifier(data: unknown, file: string): WakeVerifier {
  const bad = (what: string) => new Error(`${file} is not a wake verifier file: ${what}; make one with voice-stream wake-verifier`);
  if (!data || typeof data !== "object" || Array.isArray(data)) throw bad("it is not a JSON object");
  const v = data as Partial<VerifierFile>;
  if (v.format !== VERIFIER_FORMAT) throw bad(`its "format" is ${JSON.stringify(v.format)}, not "${VERIFIER_FORMAT}"`);
  if (v.version !== VERIFIER_VERSION) throw new Error(`${file} is a wake verifier of version ${v.version}; this version of voice-stream reads version ${VERIFIER_VERSION}: train it again`);
  if (typeof v.head !== "string" || v.head === "") throw bad(`"head" is missing`);
  if (!Number.isInteger(v.window) || (v.window as number) < 1) throw bad(`"window" must be a whole number ≥ 1`);
  const fm = v.feature_models as Partial<FeatureModelsIdentity> | undefined;
  if (!fm || typeof fm.melspectrogram !== "string" || typeof fm.embedding_model !== "string") throw bad(`"feature_models" must name the melspectrogram and embedding_model hashes`);
  const size = (v.window as number) * 96;
  for (const key of ["mean", "scale", "weights"] as const) {
    const list = v[key];
    if (!Array.isArray(list) || list.length !== size || !list.every((x) => typeof x === "number" && Number.isFinite(x))) {
      throw bad(`"${key}" must be ${size} finite numbers (window ${v.window} × 96)`);
    }
  }
  if (!(v.scale as number[]).every((s) => s > 0)) throw bad(`"scale" must be positive`);
  if (typeof v.bias !== "number" || !Number.isFinite(v.bias)) throw bad(`"bias" must be a number`);
  if (typeof v.threshold !== "number" || !(v.threshold > 0 && v.threshold < 1)) throw bad(`"threshold" must be between 0 and 1`);
  return new WakeVerifier(v as VerifierFile, file);
}

/** Reads a verifier file; a missing, unreadable or malformed file is a clear error naming it. */
export function readVerifierFile(file: string): WakeVerifier {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new Error(`wake verifier file ${file} does not exist; make one with voice-stream wake-verifier or fix the path`);
    if (code === "EISDIR") throw new Error(`wake verifier ${file} is a folder; give the .json file voice-stream wake-verifier wrote`);
    throw new Error(`cannot read wake verifier ${file}: ${(err as Error).message}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file} is not a wake verifier file: not valid JSON (${(err as Error).message}); make one with voice-stream wake-verifier`);
  }
  return parseVerifier(data, file);
}

export function writeVerifierFile(file: string, verifier: WakeVerifier): void {
  fs.writeFileSync(file, JSON.stringify(verifier.spec) + "\n");
}
