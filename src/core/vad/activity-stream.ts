/**
 * Voice activity of one audio stream as `speech-start` / `speech-end` events (PROTOCOL §6),
 * on Silero VAD with the shared event rules (detector.ts), plus the own-voice guard: while
 * the microphone hears mostly the assistant's echo, its windows count as silence.
 */
import type { OwnVoiceGuard } from "../audio/echo-guard";
import { SILERO_SAMPLE_RATE, SILERO_WINDOW, type SileroState } from "./silero";
import { SpeechEventTracker, vadOptions, type VadEvent, type VadOptions } from "./detector";

export interface ActivityEvent {
  kind: "speech-start" | "speech-end";
  /** Where the edge is, seconds into the stream (padding included). */
  audio_seconds: number;
  /** Length of the speech: on speech-end the segment's, on speech-start the part already heard. */
  speech_seconds: number;
  /** Seconds into the stream when the event was decided (≥ audio_seconds on a start). */
  decided_seconds: number;
}

/** How much of the past the guard looks at for each window, ms. */
const GUARD_SPAN_MS = 200;

export class VoiceActivity {
  private readonly tracker: SpeechEventTracker;
  private pending = new Float32Array(0);
  private samples = 0;
  private windows = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private startMs: number | undefined;

  constructor(private readonly state: SileroState, options: Partial<VadOptions> = {}, private readonly guard?: OwnVoiceGuard) {
    this.tracker = new SpeechEventTracker(vadOptions(options));
  }

  get speaking(): boolean {
    return this.tracker.speaking;
  }

  /** Seconds of audio pushed. */
  get audioSeconds(): number {
    return this.samples / SILERO_SAMPLE_RATE;
  }

  /**
   * Appends 16 kHz samples whose last one was captured at `endMs` (wall clock; the guard
   * needs it, default now); resolves with the events they completed, in order.
   */
  push(frame: Float32Array, endMs = Date.now()): Promise<ActivityEvent[]> {
    const run = this.queue.then(() => this.process(frame, endMs));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Ends the stream: speech still open ends here. */
  end(): Promise<ActivityEvent[]> {
    const run = this.queue.then(() => this.convert(this.tracker.end(this.samples / SILERO_SAMPLE_RATE), this.samples / SILERO_SAMPLE_RATE));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async process(frame: Float32Array, endMs: number): Promise<ActivityEvent[]> {
    this.samples += frame.length;
    this.startMs ??= endMs - (this.samples * 1000) / SILERO_SAMPLE_RATE;
    this.guard?.observe(frame, SILERO_SAMPLE_RATE, this.startMs + (this.samples * 1000) / SILERO_SAMPLE_RATE);
    const joined = new Float32Array(this.pending.length + frame.length);
    joined.set(this.pending);
    joined.set(frame, this.pending.length);
    const events: ActivityEvent[] = [];
    let at = 0;
    for (; at + SILERO_WINDOW <= joined.length; at += SILERO_WINDOW) {
      let p = await this.state.probability(joined.slice(at, at + SILERO_WINDOW));
      this.windows++;
      const windowEnd = (this.windows * SILERO_WINDOW) / SILERO_SAMPLE_RATE;
      const windowEndMs = this.startMs + windowEnd * 1000;
      if (p > 0 && this.guard?.ownVoice(windowEndMs - GUARD_SPAN_MS, windowEndMs)) p = 0;
      events.push(...this.convert(this.tracker.push(p), windowEnd));
    }
    this.pending = joined.slice(at);
    return events;
  }

  private convert(events: VadEvent[], decided: number): ActivityEvent[] {
    return events.map((e) =>
      e.type === "speech_start"
        ? { kind: "speech-start", audio_seconds: round(e.time), speech_seconds: round(Math.max(0, decided - e.time)), decided_seconds: round(decided) }
        : { kind: "speech-end", audio_seconds: round(e.time), speech_seconds: round(Math.max(0, e.time - e.start)), decided_seconds: round(decided) },
    );
  }
}

const round = (s: number) => Math.round(s * 1000) / 1000;
