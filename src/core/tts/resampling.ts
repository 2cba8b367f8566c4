/**
 * Per-span rate conversion for sample_rate_out. Placeholder until audio/resample.ts lands:
 * stateful linear interpolation so chunk seams stay continuous.
 */
import type { SpanResampler } from "./span-streamer";

export function spanResampler(from: number, to: number): SpanResampler {
  const step = from / to;
  let position = 0; // next output sample's position, in input samples relative to `history` start
  let history = new Float32Array(0);
  return {
    push(audio: Float32Array): Float32Array {
      const input = new Float32Array(history.length + audio.length);
      input.set(history);
      input.set(audio, history.length);
      const out: number[] = [];
      while (position + 1 < input.length) {
        const i = Math.floor(position);
        const frac = position - i;
        out.push(input[i] * (1 - frac) + input[i + 1] * frac);
        position += step;
      }
      const keep = Math.floor(position);
      history = input.slice(keep);
      position -= keep;
      return Float32Array.from(out);
    },
  };
}
