/**
 * Per-span rate conversion for sample_rate_out: the project's streaming resampler
 * (audio/resample.ts), one instance per span so chunk seams stay continuous.
 */
import { StreamingResampler } from "../audio/resample";
import type { SpanResampler } from "./span-streamer";

export function spanResampler(from: number, to: number): SpanResampler {
  const resampler = new StreamingResampler(from, to);
  return {
    push: (audio) => resampler.push(audio),
    end: () => resampler.flush(),
  };
}
