/**
 * Turns a wake word's score per step into detections: the score must stay at or above the
 * threshold for `patience` consecutive steps, and after a detection the word stays quiet for
 * the refractory time (one utterance gives one detection, not one per step over threshold).
 */
import type { WakeDetectOptions } from "./types";

export const DEFAULT_WAKE_THRESHOLD = 0.5;
export const DEFAULT_REFRACTORY_MS = 2000;
/**
 * Two 80 ms steps: a spoken wake word holds its score for several steps (hey_jarvis_16k: 7
 * over 0.5), while the lone spikes other speech gives (hello_16k: 0.77 and 0.85, one step
 * each) do not. openWakeWord itself defaults to 1.
 */
export const DEFAULT_PATIENCE = 2;

export interface GateSettings {
  threshold: number;
  patience: number;
  refractory_ms: number;
}

/** The settings for wake word `name`, checked: a bad value is a clear error. */
export function gateSettings(name: string, options: WakeDetectOptions = {}): GateSettings {
  const threshold = options.thresholds?.[name] ?? options.threshold ?? DEFAULT_WAKE_THRESHOLD;
  const patience = options.patience ?? DEFAULT_PATIENCE;
  const refractory_ms = options.refractory_ms ?? DEFAULT_REFRACTORY_MS;
  if (!(threshold > 0 && threshold < 1)) throw new RangeError(`wake threshold for '${name}' must be between 0 and 1, got ${threshold}`);
  if (!Number.isInteger(patience) || patience < 1) throw new RangeError(`wake patience must be a whole number of steps ≥ 1, got ${patience}`);
  if (!(refractory_ms >= 0)) throw new RangeError(`wake refractory time must be ≥ 0 ms, got ${refractory_ms}`);
  return { threshold, patience, refractory_ms };
}

export class DetectionGate {
  private run = 0;
  private quietUntil = -Infinity;

  constructor(readonly settings: GateSettings) {}

  /** The score of the step ending at `seconds`; true when this step is a detection. */
  step(score: number, seconds: number): boolean {
    if (score >= this.settings.threshold) this.run++;
    else this.run = 0;
    if (this.run < this.settings.patience || seconds < this.quietUntil) return false;
    this.quietUntil = seconds + this.settings.refractory_ms / 1000;
    this.run = 0;
    return true;
  }
}
