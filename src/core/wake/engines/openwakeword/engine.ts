/**
 * openWakeWord on onnxruntime: the shared feature models plus one or more heads. `scorer()`
 * gives every wake word's score per 80 ms step (benchmarks, tests); `detect()` is the
 * WakeEngine stream with threshold, patience, refractory time, the optional Silero VAD gate
 * and the optional own-voice guard.
 */
import { Observable } from "rxjs";
import type { SileroVadEngine } from "../../../vad/engines/silero/silero-engine";
import { SileroState, SILERO_WINDOW } from "../../../vad/engines/silero/silero";
import { DetectionGate, gateSettings } from "../../detection-gate";
import type { WakeDetectOptions, WakeDetection, WakeEngine } from "../../engine";
import { WAKE_SAMPLE_RATE } from "../../engine";
import { FeatureStream, STEP_SAMPLES, type FeatureModels } from "./features";
import type { FeatureModelsIdentity } from "../../verifier";
import type { WakeHead } from "./heads";
import type { WakeVerifier } from "../../verifier";

/** The reference scores nothing for the first steps while its buffers fill. */
const WARMUP_STEPS = 5;
const STEP_SECONDS = STEP_SAMPLES / WAKE_SAMPLE_RATE;

export interface StepScores {
  /** End of the step, seconds into the audio. */
  audio_seconds: number;
  scores: Record<string, number>;
  /** The verifier's probability, for wake words that have one (computed every step: a dot product). */
  verified?: Record<string, number>;
  /** Each wake word's input window at this step ([window, 96] embeddings), when asked for (training). */
  windows?: Record<string, Float32Array>;
}

export interface ScorerOptions {
  /** Second stages by wake word name (verifier.ts). */
  verifiers?: ReadonlyMap<string, WakeVerifier>;
  /** Keep every step's head windows in StepScores.windows (to train a verifier). */
  keepWindows?: boolean;
}

/** One stream's scores: push frames, get each completed step's scores. */
export class WakeScorer {
  private readonly features: FeatureStream;
  private steps = 0;

  constructor(models: FeatureModels, warmup: Float32Array[], private readonly heads: WakeHead[], private readonly options: ScorerOptions = {}) {
    const keep = Math.max(...heads.map((h) => h.window));
    this.features = new FeatureStream(models, warmup, keep);
  }

  /** Seconds of audio scored so far (whole steps). */
  get audioSeconds(): number {
    return this.features.samples / WAKE_SAMPLE_RATE;
  }

  async push(frame: Float32Array): Promise<StepScores[]> {
    const out: StepScores[] = [];
    for (let ready = this.features.append(frame); ready > 0; ready--) {
      await this.features.step();
      this.steps++;
      const scores: Record<string, number> = {};
      const step: StepScores = { audio_seconds: this.steps * STEP_SECONDS, scores };
      for (const head of this.heads) {
        const window = this.features.window(head.window);
        const values = await head.scores(window);
        for (const o of head.outputs) {
          scores[o.name] = this.steps <= WARMUP_STEPS ? 0 : values[o.index];
          const verifier = this.options.verifiers?.get(o.name);
          if (verifier) (step.verified ??= {})[o.name] = verifier.probability(window);
          if (this.options.keepWindows) (step.windows ??= {})[o.name] = window;
        }
      }
      out.push(step);
    }
    return out;
  }
}

/** Speech probability over the recent past, for the VAD gate. */
class VadTrack {
  private readonly state: SileroState;
  private pending = new Float32Array(0);
  private readonly recent: { end: number; p: number }[] = [];
  private samples = 0;

  constructor(vad: SileroVadEngine) {
    this.state = vad.openState();
  }

  async push(frame: Float32Array): Promise<void> {
    const joined = new Float32Array(this.pending.length + frame.length);
    joined.set(this.pending);
    joined.set(frame, this.pending.length);
    let at = 0;
    for (; at + SILERO_WINDOW <= joined.length; at += SILERO_WINDOW) {
      const p = await this.state.probability(joined.slice(at, at + SILERO_WINDOW));
      this.samples += SILERO_WINDOW;
      this.recent.push({ end: this.samples / WAKE_SAMPLE_RATE, p });
      if (this.recent.length > 64) this.recent.shift();
    }
    this.pending = joined.slice(at);
  }

  /** Highest speech probability in the second before `seconds`. */
  maxBefore(seconds: number): number {
    let max = 0;
    for (const r of this.recent) if (r.end > seconds - 1 && r.end <= seconds + 0.05) max = Math.max(max, r.p);
    return max;
  }
}

export class OpenWakeWordEngine implements WakeEngine {
  readonly kind = "wake" as const;
  readonly names: string[];

  constructor(
    private readonly models: FeatureModels,
    private readonly warmup: Float32Array[],
    readonly heads: WakeHead[],
    /** Silero VAD for the gate, loaded on first use. */
    private readonly vad: () => Promise<SileroVadEngine>,
    /** The model's own verifiers (its config's `verifiers`), by wake word. */
    readonly verifiers: ReadonlyMap<string, WakeVerifier> = new Map(),
  ) {
    this.names = heads.flatMap((h) => h.outputs.map((o) => o.name));
    for (const v of verifiers.values()) this.checkVerifier(v);
  }

  /** The feature models' identity a verifier must have been trained with. */
  get featureIdentity(): FeatureModelsIdentity {
    return this.models.identity;
  }

  /** The head that scores wake word `name`. */
  headOf(name: string): WakeHead {
    const head = this.heads.find((h) => h.outputs.some((o) => o.name === name));
    if (!head) throw new Error(`no wake word named '${name}'; this model has ${this.names.join(", ")}`);
    return head;
  }

  /** Throws a clear error unless `verifier` fits one of this model's wake words and its feature models. */
  checkVerifier(verifier: WakeVerifier): void {
    if (!this.names.includes(verifier.head)) {
      throw new Error(`wake verifier ${verifier.file} was made for the wake word '${verifier.head}', which this model does not have (it has ${this.names.join(", ")})`);
    }
    verifier.checkFits(verifier.head, this.headOf(verifier.head).window, this.models.identity);
  }

  scorer(names?: string[], options: ScorerOptions = {}): WakeScorer {
    const wanted = names && names.length > 0 ? this.heads.filter((h) => h.outputs.some((o) => names.includes(o.name))) : this.heads;
    if (wanted.length === 0) throw new Error(`no wake word named ${names!.join(", ")}; this model has ${this.names.join(", ")}`);
    for (const v of options.verifiers?.values() ?? []) this.checkVerifier(v);
    return new WakeScorer(this.models, this.warmup, wanted, options);
  }

  detect(frames$: Observable<Float32Array>, options: WakeDetectOptions = {}): Observable<WakeDetection> {
    return new Observable<WakeDetection>((subscriber) => {
      let stopped = false;
      let scorer: WakeScorer;
      let gates: Map<string, DetectionGate>;
      // The model's verifiers, with those given to this detector in their place.
      const verifiers = new Map(this.verifiers);
      try {
        for (const v of options.verifiers ?? []) verifiers.set(v.head, v);
        scorer = this.scorer(options.names, { verifiers });
        const names = options.names && options.names.length > 0 ? this.names.filter((n) => options.names!.includes(n)) : this.names;
        gates = new Map(names.map((n) => [n, new DetectionGate(gateSettings(n, options))]));
        if (options.vad_threshold !== undefined && !(options.vad_threshold >= 0 && options.vad_threshold < 1)) {
          throw new RangeError(`wake VAD gate threshold must be between 0 (off) and 1, got ${options.vad_threshold}`);
        }
      } catch (err) {
        subscriber.error(err);
        return;
      }
      const vadGate = options.vad_threshold ?? 0;
      const vadTrack = vadGate > 0 ? this.vad().then((v) => new VadTrack(v)) : undefined;
      const guard = options.guard;
      let startMs = options.start_ms;
      let samples = 0;
      let chain: Promise<void> = Promise.resolve();

      const handle = async (frame: Float32Array) => {
        if (stopped) return;
        samples += frame.length;
        startMs ??= Date.now() - (frame.length * 1000) / WAKE_SAMPLE_RATE;
        guard?.observe(frame, WAKE_SAMPLE_RATE, startMs + (samples * 1000) / WAKE_SAMPLE_RATE);
        const track = vadTrack ? await vadTrack : undefined;
        if (track) await track.push(frame);
        for (const step of await scorer.push(frame)) {
          for (const [name, gate] of gates) {
            const score = step.scores[name];
            const verified = step.verified?.[name];
            const accepted = verified === undefined || verified >= verifiers.get(name)!.threshold;
            if (!gate.step(score, step.audio_seconds, accepted)) continue;
            if (track && track.maxBefore(step.audio_seconds) < vadGate) continue;
            const endMs = startMs + step.audio_seconds * 1000;
            if (guard?.ownVoice(endMs - 1000, endMs)) continue;
            if (!stopped) subscriber.next({ kind: "wake", name, score, audio_seconds: round(step.audio_seconds) });
          }
        }
        options.onFrame?.();
      };

      const source = frames$.subscribe({
        next: (frame) => {
          chain = chain.then(() => handle(frame)).catch((err) => {
            stopped = true;
            subscriber.error(err);
          });
        },
        error: (err) => {
          chain = chain.then(() => subscriber.error(err));
        },
        complete: () => {
          chain = chain.then(() => subscriber.complete());
        },
      });
      return () => {
        stopped = true;
        source.unsubscribe();
      };
    });
  }

  async dispose(): Promise<void> {
    await Promise.all([this.models.dispose(), ...this.heads.map((h) => h.session.release())]);
  }
}

const round = (s: number) => Math.round(s * 1000) / 1000;
