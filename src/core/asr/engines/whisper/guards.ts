/**
 * Hallucination guards after a greedy decode, with openai/whisper's thresholds: text that is
 * too repetitive (gzip compression ratio), too unlikely (average log-probability), or sits on
 * audio the model itself calls silence (no-speech probability with a low log-probability) is
 * rejected: it is not committed and never fed back as a prompt.
 */
import * as zlib from "zlib";

export interface GuardThresholds {
  compression_ratio_threshold: number;
  logprob_threshold: number;
  no_speech_threshold: number;
}

export const DEFAULT_GUARDS: GuardThresholds = {
  compression_ratio_threshold: 2.4,
  logprob_threshold: -1.0,
  no_speech_threshold: 0.6,
};

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

/** Why the hypothesis is rejected, or undefined when it passes. */
export function rejectionReason(q: DecodeQuality, t: GuardThresholds = DEFAULT_GUARDS): string | undefined {
  if (q.no_speech_prob > t.no_speech_threshold && q.avg_logprob < t.logprob_threshold) return "no speech";
  if (q.text.trim() === "") return undefined;
  if (q.compression_ratio > t.compression_ratio_threshold) return `repetitive text (compression ratio ${q.compression_ratio.toFixed(2)})`;
  if (q.avg_logprob < t.logprob_threshold) return `low confidence (average log-probability ${q.avg_logprob.toFixed(2)})`;
  return undefined;
}
