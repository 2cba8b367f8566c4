/**
 * openWakeWord's shared feature front end, streaming: audio (int16 range) → melspectrogram
 * model (output scaled x/10 + 2, as the embedding model was trained on) → speech embedding
 * model over the last 76 mel frames every 8 frames (80 ms) → a buffer of 96-value embeddings
 * that every wake word head reads its window from.
 *
 * Follows the reference streaming behaviour (openWakeWord utils.AudioFeatures): each 1280-sample
 * step is transformed together with the previous 480 samples (so the step yields exactly 8 mel
 * frames; the very first step alone), the mel buffer starts as 76 rows of ones, and the embedding buffer starts with the
 * embeddings of 4 s of low noise so heads have a full window from the first step.
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as ort from "onnxruntime-node";
import type { FeatureModelsIdentity } from "../../verifier";

export const STEP_SAMPLES = 1280;
const MEL_CONTEXT = 480;
export const MEL_BINS = 32;
export const MEL_WINDOW = 76;
const MEL_STEP = 8;
export const EMBEDDING_SIZE = 96;
/** Audio in int16 range, as the melspectrogram model was exported. */
const INT16_SCALE = 32767;

/** The two feature sessions with their tensor names. */
export class FeatureModels {
  private readonly melIn: string;
  private readonly melOut: string;
  private readonly embIn: string;
  private readonly embOut: string;

  /** SHA-256 of both files: a verifier trained on other feature models does not fit. */
  readonly identity: FeatureModelsIdentity;

  constructor(readonly mel: ort.InferenceSession, readonly embedding: ort.InferenceSession, readonly melFile: string, readonly embeddingFile: string) {
    this.identity = { melspectrogram: sha256(melFile), embedding_model: sha256(embeddingFile) };
    this.melIn = mel.inputNames[0];
    this.melOut = mel.outputNames[0];
    this.embIn = embedding.inputNames[0];
    this.embOut = embedding.outputNames[0];
  }

  /** Mel frames (rows of 32, already scaled x/10 + 2) of `audio` given in int16 range. */
  async melFrames(audio: Float32Array): Promise<Float32Array> {
    const out = await this.mel.run({ [this.melIn]: new ort.Tensor("float32", audio, [1, audio.length]) });
    const data = out[this.melOut].data as Float32Array;
    const scaled = new Float32Array(data.length);
    for (let i = 0; i < data.length; i++) scaled[i] = data[i] / 10 + 2;
    return scaled;
  }

  /** Embeddings of `count` windows of 76 mel frames (packed one after another). */
  async embeddings(windows: Float32Array, count: number): Promise<Float32Array> {
    const out = await this.embedding.run({ [this.embIn]: new ort.Tensor("float32", windows, [count, MEL_WINDOW, MEL_BINS, 1]) });
    return Float32Array.from(out[this.embOut].data as Float32Array);
  }

  /**
   * Embeddings of 4 s of low noise (uniform in ±1000 of int16, a fixed seed): the reference
   * fills the buffer with such before the first audio, and the heads were tuned with it.
   */
  async warmupEmbeddings(): Promise<Float32Array[]> {
    const noise = new Float32Array(4 * 16000);
    let seed = 0x2f6b3a1d;
    for (let i = 0; i < noise.length; i++) {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      noise[i] = Math.floor((seed / 2 ** 32) * 2000) - 1000;
    }
    const mel = await this.melFrames(noise);
    const frames = mel.length / MEL_BINS;
    const count = Math.floor((frames - MEL_WINDOW) / MEL_STEP) + 1;
    const windows = new Float32Array(count * MEL_WINDOW * MEL_BINS);
    for (let w = 0; w < count; w++) windows.set(mel.subarray(w * MEL_STEP * MEL_BINS, (w * MEL_STEP + MEL_WINDOW) * MEL_BINS), w * MEL_WINDOW * MEL_BINS);
    const flat = await this.embeddings(windows, count);
    return Array.from({ length: count }, (_, i) => flat.slice(i * EMBEDDING_SIZE, (i + 1) * EMBEDDING_SIZE));
  }

  async dispose(): Promise<void> {
    await Promise.all([this.mel.release(), this.embedding.release()]);
  }
}

function sha256(file: string): string {
  return createHash("sha256").update(fs.readFileSync(file)).digest("hex");
}

/** One audio stream's feature state. Push 16 kHz float frames; each full 80 ms step adds one embedding. */
export class FeatureStream {
  private readonly context = new Float32Array(MEL_CONTEXT);
  private pending = new Float32Array(0);
  private readonly mel = new Float32Array(MEL_WINDOW * MEL_BINS).fill(1);
  private readonly buffer: Float32Array[];
  /** Samples consumed in whole steps. */
  samples = 0;

  constructor(private readonly models: FeatureModels, warmup: Float32Array[], private readonly keep: number) {
    this.buffer = warmup.slice(-keep);
  }

  /** Queues audio; returns how many whole steps are ready to be taken with `step()`. */
  append(frame: Float32Array): number {
    const joined = new Float32Array(this.pending.length + frame.length);
    joined.set(this.pending);
    for (let i = 0; i < frame.length; i++) joined[this.pending.length + i] = frame[i] * INT16_SCALE;
    this.pending = joined;
    return Math.floor(this.pending.length / STEP_SAMPLES);
  }

  /** Runs one 80 ms step (there must be one ready): new mel frames, one new embedding. */
  async step(): Promise<void> {
    const chunk = this.pending.subarray(0, STEP_SAMPLES);
    // The first step has no earlier audio: the reference transforms the 1280 samples alone
    // (fewer mel rows), not behind 480 zeros, and the heads' first windows depend on that.
    const first = this.samples === 0;
    const input = new Float32Array((first ? 0 : MEL_CONTEXT) + STEP_SAMPLES);
    if (!first) input.set(this.context);
    input.set(chunk, first ? 0 : MEL_CONTEXT);
    this.context.set(chunk.subarray(STEP_SAMPLES - MEL_CONTEXT));
    this.pending = this.pending.slice(STEP_SAMPLES);
    this.samples += STEP_SAMPLES;
    const fresh = await this.models.melFrames(input);
    const rows = fresh.length / MEL_BINS;
    // Slide the 76-frame window by the new rows.
    this.mel.copyWithin(0, rows * MEL_BINS);
    this.mel.set(fresh, (MEL_WINDOW - rows) * MEL_BINS);
    const embedding = await this.models.embeddings(this.mel.slice(), 1);
    this.buffer.push(embedding);
    if (this.buffer.length > this.keep) this.buffer.shift();
  }

  /** The last `window` embeddings, packed [window, 96]. */
  window(window: number): Float32Array {
    const out = new Float32Array(window * EMBEDDING_SIZE);
    const from = this.buffer.length - window;
    for (let i = 0; i < window; i++) out.set(this.buffer[from + i], i * EMBEDDING_SIZE);
    return out;
  }
}
