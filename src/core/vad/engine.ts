/** The vad family's interface: speech segments of a recording, and streaming detectors for live audio. */
import type { LoadedModel } from "../types";
import type { VadEvent, VadOptions } from "./detector";

export type { VadEvent, VadOptions } from "./detector";

export interface VadSegment {
  start: number;
  end: number;
}

/** One audio stream's detector: frames of any length in, speech start/end events out, in order. */
export interface VadDetector {
  /** Whether speech is in progress. */
  readonly speaking: boolean;
  /** Appends samples at the engine's rate; resolves with the events they completed. */
  push(frame: Float32Array): Promise<VadEvent[]>;
  /** Ends the audio: closes speech still open. */
  end(): Promise<VadEvent[]>;
}

export interface VadEngine extends LoadedModel {
  readonly kind: "vad";
  /** The rate the engine takes (16000 for Silero). */
  readonly sampleRate: number;
  openDetector(options?: Partial<VadOptions>): VadDetector;
  /** Speech segments of a whole recording, in seconds. */
  segments(audio: Float32Array, options?: Partial<VadOptions>): Promise<VadSegment[]>;
}
