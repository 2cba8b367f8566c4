/**
 * Per-span rate conversion for sample_rate_out: the project's streaming windowed-sinc
 * resampler, one instance per span so chunk seams stay continuous. (It lives with the ASR
 * input code today; this adapter is the one place to point elsewhere if it moves.)
 */
import { StreamingResampler } from "../asr/audio-input";
import type { SpanResampler } from "./span-streamer";

export function spanResampler(from: number, to: number): SpanResampler {
  const resampler = new StreamingResampler(from, to);
  return {
    push: (audio) => resampler.push(audio),
    end: () => resampler.end(),
  };
}
