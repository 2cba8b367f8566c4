/**
 * The wake family's vocabulary (PROTOCOL §6): an engine takes a stream of 16 kHz mono
 * frames and emits one detection per spoken wake word. Engines: openWakeWord on
 * onnxruntime (engines/openwakeword) and a Wyoming `detect` client (engines/wyoming).
 */
import type { Observable } from "rxjs";
import type { LoadedModel } from "../types";
import type { OwnVoiceGuard } from "../audio/echo-guard";
import type { WakeVerifier } from "./verifier";

/** One wake word heard. `audio_seconds`: where in the frames it was detected (end of the step that crossed). */
export interface WakeDetection {
  kind: "wake";
  name: string;
  score: number;
  audio_seconds: number;
}

export interface WakeDetectOptions {
  /** Score that counts as a hit (0..1), every wake word; default 0.5. */
  threshold?: number;
  /** Per wake word thresholds, by name; override `threshold`. */
  thresholds?: Record<string, number>;
  /** Consecutive 80 ms steps over the threshold before a detection; default 2. */
  patience?: number;
  /** Quiet time after a detection of the same word, ms; default 2000. */
  refractory_ms?: number;
  /** Silero VAD gate: a detection needs speech probability ≥ this in the last second; 0 = off (default). */
  vad_threshold?: number;
  /** Only these wake words (names); default all the model has. */
  names?: string[];
  /**
   * Second stages (verifier.ts), each for the wake word it names, in place of the model's own
   * (its config's `verifiers`): a step over the threshold counts only if the verifier accepts it.
   * openWakeWord models only.
   */
  verifiers?: WakeVerifier[];
  /** Ignores the assistant's own voice: a detection while the microphone is mostly its echo is dropped. */
  guard?: OwnVoiceGuard;
  /** Called after each frame has been scored, in order (callers pace input or acknowledge it). */
  onFrame?: () => void;
  /** Wall-clock ms at which the first frame's first sample was captured (the guard needs it); default: now at subscribe. */
  start_ms?: number;
}

export interface WakeEngine extends LoadedModel {
  readonly kind: "wake";
  /** The wake words it can hear. */
  readonly names: string[];
  /**
   * Cold: nothing runs until subscribed; each subscription is an independent detector over
   * `frames$` (16 kHz mono float in [-1, 1], any length). Completes when `frames$` completes;
   * unsubscribing stops the work.
   */
  detect(frames$: Observable<Float32Array>, options?: WakeDetectOptions): Observable<WakeDetection>;
}

export const WAKE_SAMPLE_RATE = 16000;
