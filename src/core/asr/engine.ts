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
