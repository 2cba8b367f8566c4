/** The asr family's interface: what every speech recognition engine offers the nodes and the CLI. */
import type { Observable } from "rxjs";
import type { AsrEvent, LoadedModel } from "../types";

/** A streaming VAD as the streamer uses it (a VadEngine's detector fits): events for the frames pushed, in order. */
export interface PauseDetector {
  push(frame: Float32Array): Promise<{ type: string }[]>;
}

export interface AsrStreamConfig {
  language?: string;
  partial_interval_ms?: number;
  task?: "transcribe" | "translate";
  /** Auto flush at pauses: every end of speech this detector reports calls flush(). */
  pauseDetector?: PauseDetector;
  /** Hallucination guards (openai/whisper's defaults 2.4, -1, 0.6); null turns one off. */
  compression_ratio_threshold?: number | null;
  logprob_threshold?: number | null;
  no_speech_threshold?: number | null;
  /** Temperature fallback ladder (default [0, 0.2, 0.4, 0.6, 0.8, 1]); [0] turns fallback off. */
  temperatures?: number[];
  /** Seed of the fallback sampling (default 0): the same audio gives the same text. */
  seed?: number;
  /**
   * Speculative final (default on): the final decodes the turn's audio only up to a short tail
   * after its last loud frame, and that decode starts as soon as the tail is in — while the
   * silence that ends the turn is still being waited out — so finish() finds it done. Speech
   * after it discards it; the final is then decoded as usual.
   */
  speculative_final?: boolean;
  /**
   * Send the speculative final as an event (`kind: "speculative"`) as soon as it is decoded, so a
   * flow can start answering before the turn has ended (default off). Its text is exactly the
   * final's text if the final keeps it; the final then names it (`AsrFinal.speculation`). A later
   * speculative event of the same turn replaces an earlier one.
   */
  emit_speculative?: boolean;
}

/** A stretch of a turn's audio that left no text in the transcript (AsrFinal.dropped). */
export interface DroppedAudio {
  reason: string;
  audio_seconds: number;
  /** The text the decode gave for it, when there was any. */
  text?: string;
}

export interface AsrStreamer {
  readonly partials$: Observable<AsrEvent>;
  /** Mono 16 kHz float samples. */
  send(frame: Float32Array): void;
  flush(): void;
  finish(): Promise<string>;
  cancel(): void;
  /** Seconds of audio received so far (status lines). */
  readonly audioSeconds: number;
}

export interface AsrEngine extends LoadedModel {
  readonly kind: "asr";
  /** The rate `send` and `transcribe` take (16000 for Whisper). */
  readonly sampleRate: number;
  openStreamer(config: AsrStreamConfig): AsrStreamer;
  /** One-shot transcription of up to 30 s of 16 kHz audio. */
  transcribe(audio: Float32Array, options?: { language?: string; prompt?: string }): Promise<{ text: string; language: string }>;
}
