/**
 * The vad family's engine: Silero VAD v5 with an offline `segments(audio)` API and streaming
 * detectors (speech start/end events as frames arrive). Audio is 16 kHz mono float.
 */
import type * as ort from "onnxruntime-node";
import type { VadEngine, VadSegment } from "../types";
import { SileroState, SILERO_SAMPLE_RATE, SILERO_WINDOW } from "./silero";
import { SpeechEventTracker, vadOptions, type VadEvent, type VadOptions } from "./detector";

/** Feeds frames of any length; emits speech events in order. One per audio stream. */
export class StreamingVad {
  private readonly model: SileroState;
  private readonly tracker: SpeechEventTracker;
  private pending = new Float32Array(0);
  private samples = 0;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(session: ort.InferenceSession, options: Partial<VadOptions> = {}) {
    this.model = new SileroState(session);
    this.tracker = new SpeechEventTracker(vadOptions(options));
  }

  /** Whether speech is in progress. */
  get speaking(): boolean {
    return this.tracker.speaking;
  }

  /** Appends 16 kHz samples; resolves with the events they completed (calls are processed in order). */
  push(frame: Float32Array): Promise<VadEvent[]> {
    const run = this.queue.then(() => this.process(frame));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Ends the audio: closes speech still open. */
  end(): Promise<VadEvent[]> {
    const run = this.queue.then(() => this.tracker.end(this.samples / SILERO_SAMPLE_RATE));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async process(frame: Float32Array): Promise<VadEvent[]> {
    const joined = new Float32Array(this.pending.length + frame.length);
    joined.set(this.pending);
    joined.set(frame, this.pending.length);
    this.samples += frame.length;
    const events: VadEvent[] = [];
    let at = 0;
    for (; at + SILERO_WINDOW <= joined.length; at += SILERO_WINDOW) {
      events.push(...this.tracker.push(await this.model.probability(joined.subarray(at, at + SILERO_WINDOW))));
    }
    this.pending = joined.slice(at);
    return events;
  }
}

export class SileroVadEngine implements VadEngine {
  readonly kind = "vad" as const;
  readonly sampleRate = SILERO_SAMPLE_RATE;

  constructor(private readonly session: ort.InferenceSession, readonly modelPath: string) {}

  openDetector(options: Partial<VadOptions> = {}): StreamingVad {
    return new StreamingVad(this.session, options);
  }

  /** A bare per-stream model state (probability per window), for callers with their own event rules. */
  openState(): SileroState {
    return new SileroState(this.session);
  }

  /** Speech probability of each 32 ms window of `audio` (the last partial window zero-padded). */
  async probabilities(audio: Float32Array): Promise<Float32Array> {
    const state = new SileroState(this.session);
    const count = Math.ceil(audio.length / SILERO_WINDOW);
    const out = new Float32Array(count);
    const window = new Float32Array(SILERO_WINDOW);
    for (let i = 0; i < count; i++) {
      window.fill(0);
      window.set(audio.subarray(i * SILERO_WINDOW, (i + 1) * SILERO_WINDOW));
      out[i] = await state.probability(window);
    }
    return out;
  }

  /** Speech segments of a whole recording, in seconds. */
  async segments(audio: Float32Array, options: Partial<VadOptions> = {}): Promise<VadSegment[]> {
    const tracker = new SpeechEventTracker(vadOptions(options));
    const segments: VadSegment[] = [];
    const collect = (events: VadEvent[]) => {
      for (const e of events) if (e.type === "speech_end") segments.push({ start: round(e.start), end: round(Math.min(e.time, audio.length / SILERO_SAMPLE_RATE)) });
    };
    for (const p of await this.probabilities(audio)) collect(tracker.push(p));
    collect(tracker.end(audio.length / SILERO_SAMPLE_RATE));
    return segments;
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}

const round = (s: number) => Math.round(s * 1000) / 1000;
