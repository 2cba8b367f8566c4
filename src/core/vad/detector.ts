/**
 * Speech start/end events from per-window speech probabilities, with Silero's own rules:
 * speech starts when a window reaches `threshold`; it ends after `min_silence_ms` of windows
 * below `threshold − 0.15` (hysteresis); segments shorter than `min_speech_ms` are dropped;
 * reported edges are widened by `speech_pad_ms`. Pure over probabilities (no model), so the
 * streaming detector and the offline `segments()` share it.
 */
import { SILERO_SAMPLE_RATE, SILERO_WINDOW } from "./engines/silero/silero";

export interface VadOptions {
  /** Speech probability that starts speech (default 0.5). */
  threshold: number;
  /** Silence needed to end speech, ms (default 100 offline; streaming pause detection wants more). */
  min_silence_ms: number;
  /** Speech shorter than this is ignored, ms (default 250). */
  min_speech_ms: number;
  /** Padding added before each start and after each end, ms (default 30). */
  speech_pad_ms: number;
}

export const DEFAULT_VAD_OPTIONS: VadOptions = { threshold: 0.5, min_silence_ms: 100, min_speech_ms: 250, speech_pad_ms: 30 };

export type VadEvent = { type: "speech_start"; time: number } | { type: "speech_end"; time: number; start: number };

export function vadOptions(partial: Partial<VadOptions> = {}): VadOptions {
  const o = { ...DEFAULT_VAD_OPTIONS, ...Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined)) } as VadOptions;
  if (!(o.threshold > 0 && o.threshold < 1)) throw new Error(`VAD threshold must be between 0 and 1, got ${o.threshold}`);
  for (const key of ["min_silence_ms", "min_speech_ms", "speech_pad_ms"] as const) {
    if (!Number.isFinite(o[key]) || o[key] < 0) throw new Error(`VAD ${key} must be a number ≥ 0, got ${o[key]}`);
  }
  return o;
}

/**
 * Turns the probability of each consecutive window into events. Times are seconds from the
 * first window. A start is reported once the speech has lasted `min_speech_ms` (so blips
 * never start a segment); its time is the real onset minus the padding.
 */
export class SpeechEventTracker {
  private readonly windowSeconds = SILERO_WINDOW / SILERO_SAMPLE_RATE;
  private windows = 0;
  private onset: number | undefined;
  private started = false;
  private silenceSince: number | undefined;
  private lastEnd = 0;

  constructor(readonly options: VadOptions = DEFAULT_VAD_OPTIONS) {}

  push(probability: number): VadEvent[] {
    const { threshold, min_silence_ms, min_speech_ms, speech_pad_ms } = this.options;
    const t = this.windows * this.windowSeconds; // start of this window
    this.windows++;
    const events: VadEvent[] = [];
    const pad = speech_pad_ms / 1000;
    if (probability >= threshold) {
      this.silenceSince = undefined;
      if (this.onset === undefined) this.onset = t;
      if (!this.started && t + this.windowSeconds - this.onset >= min_speech_ms / 1000) {
        this.started = true;
        events.push({ type: "speech_start", time: Math.max(this.lastEnd, this.onset - pad, 0) });
      }
    } else if (this.onset !== undefined && probability < threshold - 0.15) {
      this.silenceSince ??= t;
      if (t + this.windowSeconds - this.silenceSince >= min_silence_ms / 1000) {
        if (this.started) {
          const end = this.silenceSince + pad;
          events.push({ type: "speech_end", time: end, start: Math.max(this.lastEnd, this.onset - pad, 0) });
          this.lastEnd = end;
        }
        this.onset = undefined;
        this.started = false;
        this.silenceSince = undefined;
      }
    }
    return events;
  }

  /** At the end of the audio: closes open speech at `endTime`. */
  end(endTime: number): VadEvent[] {
    const { speech_pad_ms } = this.options;
    const events: VadEvent[] = [];
    if (this.onset !== undefined && this.started) {
      const end = Math.min(endTime, (this.silenceSince ?? endTime) + speech_pad_ms / 1000);
      events.push({ type: "speech_end", time: end, start: Math.max(this.lastEnd, this.onset - speech_pad_ms / 1000, 0) });
      this.lastEnd = end;
    }
    this.onset = undefined;
    this.started = false;
    this.silenceSince = undefined;
    return events;
  }

  /** Whether speech is in progress (started and not yet ended). */
  get speaking(): boolean {
    return this.started;
  }
}
