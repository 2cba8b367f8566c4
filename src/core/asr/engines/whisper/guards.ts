/**
 * Hallucination guards as openai/whisper's transcribe applies them:
 *  - a decode whose text is too repetitive (gzip compression ratio) or too unlikely (average
 *    log-probability) is decoded again at the next temperature of the fallback ladder
 *    (0 → 0.2 → … → 1.0); the last result is kept whatever its quality — text is never
 *    dropped for being unlikely;
 *  - only the no-speech rule drops text: the model calls the audio silence
 *    (no-speech probability above its threshold) and its text is not confident either.
 * Every threshold may be null, which turns that test off (as faster-whisper allows).
 */
import * as zlib from "zlib";

export interface GuardThresholds {
  compression_ratio_threshold: number | null;
  logprob_threshold: number | null;
  no_speech_threshold: number | null;
}

export const DEFAULT_GUARDS: GuardThresholds = {
  compression_ratio_threshold: 2.4,
  logprob_threshold: -1.0,
  no_speech_threshold: 0.6,
};

/** openai/whisper's fallback ladder: greedy first, then sampling at rising temperatures. */
export const DEFAULT_TEMPERATURES: readonly number[] = [0, 0.2, 0.4, 0.6, 0.8, 1.0];

/** Guard settings of a stream or a model: thresholds (null disables one) and the temperature ladder. */
export interface GuardSettings extends Partial<GuardThresholds> {
  /** Temperatures tried in order while a result needs fallback; [0] turns fallback off. */
  temperatures?: number[];
}

/** UTF-8 length over zlib-compressed length, as openai/whisper computes it. */
export function compressionRatio(text: string): number {
  const bytes = Buffer.from(text, "utf8");
  if (bytes.length === 0) return 0;
  return bytes.length / zlib.deflateSync(bytes).length;
}

export interface DecodeQuality {
  text: string;
  avg_logprob: number;
  no_speech_prob: number;
  compression_ratio: number;
}

/** True when the audio is silence by the no-speech rule: likely no speech, and the text not confident. */
export function isNoSpeech(q: DecodeQuality, t: GuardThresholds = DEFAULT_GUARDS): boolean {
  if (t.no_speech_threshold === null || !(q.no_speech_prob > t.no_speech_threshold)) return false;
  return !(t.logprob_threshold !== null && q.avg_logprob > t.logprob_threshold);
}

/** Why the result should be decoded again at a higher temperature, or undefined when it is good enough (or silence). */
export function fallbackReason(q: DecodeQuality, t: GuardThresholds = DEFAULT_GUARDS): string | undefined {
  // Silence is not retried: the no-speech rule settles it.
  if (t.no_speech_threshold !== null && t.logprob_threshold !== null && q.no_speech_prob > t.no_speech_threshold && q.avg_logprob < t.logprob_threshold) {
    return undefined;
  }
  if (t.compression_ratio_threshold !== null && q.compression_ratio > t.compression_ratio_threshold) {
    return `repetitive text (compression ratio ${q.compression_ratio.toFixed(2)})`;
  }
  if (t.logprob_threshold !== null && q.avg_logprob < t.logprob_threshold) return `low confidence (average log-probability ${q.avg_logprob.toFixed(2)})`;
  return undefined;
}

/** Why the (final, after fallback) result's text is dropped — only the no-speech rule — or undefined when it is kept. */
export function rejectionReason(q: DecodeQuality, t: GuardThresholds = DEFAULT_GUARDS): string | undefined {
  if (!isNoSpeech(q, t)) return undefined;
  return `no speech (no-speech probability ${q.no_speech_prob.toFixed(2)}, average log-probability ${q.avg_logprob.toFixed(2)})`;
}

/** Thresholds and temperatures from settings (defaults for absent ones), checked with messages that say what to set. */
export function resolveGuards(settings: GuardSettings = {}): { guards: GuardThresholds; temperatures: number[] } {
  const guards = { ...DEFAULT_GUARDS };
  for (const key of Object.keys(DEFAULT_GUARDS) as (keyof GuardThresholds)[]) {
    const value = settings[key];
    if (value === undefined) continue;
    if (value !== null && (typeof value !== "number" || !Number.isFinite(value))) {
      throw new Error(`${key} must be a number, or null to turn that guard off (got ${JSON.stringify(value) ?? String(value)})`);
    }
    guards[key] = value;
  }
  let temperatures = [...DEFAULT_TEMPERATURES];
  if (settings.temperatures !== undefined) {
    const list = settings.temperatures as unknown;
    const ok = Array.isArray(list) && list.length > 0 && list.every((t, i) => typeof t === "number" && Number.isFinite(t) && t >= 0 && (i === 0 || t > list[i - 1]));
    if (!ok) throw new Error(`temperatures must be a rising list of numbers ≥ 0, like [0, 0.2, 0.4, 0.6, 0.8, 1] ([0] turns fallback off); got ${JSON.stringify(list)}`);
    temperatures = [...(list as number[])];
  }
  return { guards, temperatures };
}
