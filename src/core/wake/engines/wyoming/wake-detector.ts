/**
 * The minimal wake-word contract the Wyoming engine and server need, until the wake family's
 * own interface lands (src/core/wake): audio frames in (mono 16 kHz floats), one event per
 * detection out. Cold: work starts on subscribe, unsubscribing stops it.
 */
import type { Observable } from "rxjs";

export interface WakeDetection {
  /** The wake word heard. */
  name: string;
  /** Detection score in [0, 1] (1 when the service reports none). */
  score: number;
  /** Seconds into the audio where it was heard. */
  audio_seconds: number;
}

export interface WakeDetectOptions {
  /** Only these wake words (default: all the detector knows). */
  names?: string[];
}

export interface WakeDetector {
  /** Wake word names this detector offers. */
  readonly wakeWords: string[];
  detect(frames$: Observable<Float32Array>, options?: WakeDetectOptions): Observable<WakeDetection>;
  dispose(): Promise<void>;
}
