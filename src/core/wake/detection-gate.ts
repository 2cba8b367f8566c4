/**
 * Turns a wake word's score per step into detections: the score must stay at or above the
 * threshold for `patience` consecutive steps, and after a detection the word stays quiet for
 * the refractory time (one utterance gives one detection, not one per step over threshold).
 */
import type { WakeDetectOptions } from "./engine";

export const DEFAULT_WAKE_THRESHOLD = 0.5;
export const DEFAULT_REFRACTORY_MS = 2000;
/**
 * One 80 ms step, as openWakeWord. A head's score over a spoken wake word is not steady: it
 * can dip under the threshold between two high steps, depending on where the word falls on the
 * 80 ms grid and what was said before it (hey_jarvis_16k after count_16k: 0.82, three steps
 * near 0, 0.93). Two steps in a row missed such a wake word in 2 of 16 grid offsets, and in a
 * live stream, where the offset is chance, a barge-in now and then. Two steps did not stop the
 * one clip they were meant for either: hey_jarvis wakes on hello_16k at 14 of 16 offsets
 * (openWakeWord's own pipeline scores it 0.85–0.96 too).
 */
export const DEFAULT_PATIENCE = 1;

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

  /**
   * The score of the step ending at `seconds`; true when this step is a detection. `verified`
   * false (a verifier rejected this step's window) keeps the step from being one, and starts
   * no refractory time: a later step of the same run may still be accepted.
   */
  step(score: number, seconds: number, verified = true): boolean {
    if (score >= this.settings.threshold) this.run++;
    else this.run = 0;
    if (this.run < this.settings.patience || seconds < this.quietUntil || !verified) return false;
    this.quietUntil = seconds + this.settings.refractory_ms / 1000;
    this.run = 0;
    return true;
  }
}
