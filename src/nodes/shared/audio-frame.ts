/**
 * Audio frames as the listening nodes take them (PROTOCOL §2): a Float32Array, Int16Array,
 * Buffer of s16le or number[] in msg.payload at msg.sample_rate (default 16000), checked
 * before anything changes so a bad frame is one clear error and the stream goes on.
 */
import { firstNonFiniteIndex, toFloat32 } from "../../core/audio/pcm";
import { StreamingResampler } from "../../core/audio/resample";
import type { NodeMessage } from "./stream-msg";

/** The rate speech models take. */
export const TARGET_RATE = 16000;

export interface AudioFrame {
  samples: Float32Array;
  rate: number;
}

/** The frame of `msg`, or undefined for a msg without payload (a control). Throws a clear Error for bad audio. */
export function readAudioFrame(msg: NodeMessage): AudioFrame | undefined {
  if (msg.payload === undefined || msg.payload === null) return undefined;
  const samples = toFloat32(msg.payload, "msg.payload");
  const bad = firstNonFiniteIndex(samples);
  if (bad >= 0) throw new Error(`audio frame sample ${bad} is ${samples[bad]}; samples must be finite numbers (the frame was dropped)`);
  let rate = TARGET_RATE;
  if (msg.sample_rate !== undefined) {
    rate = Number(msg.sample_rate);
    // The resampler converts between whole rates (its filter phases come from their ratio).
    if (!Number.isInteger(rate) || rate <= 0) {
      throw new Error(`msg.sample_rate must be a positive whole number of samples per second, e.g. 16000 or 48000 (got ${String(msg.sample_rate)})`);
    }
  }
  return { samples, rate };
}

/** The frame at 16 kHz, through the stream's own resampler (kept on `state` so chunk seams stay continuous). */
export function to16k(state: { resampler: StreamingResampler | undefined }, frame: AudioFrame): Float32Array {
  if (frame.rate === TARGET_RATE) return frame.samples.slice();
  if (!state.resampler || state.resampler.fromRate !== frame.rate) state.resampler = new StreamingResampler(frame.rate, TARGET_RATE);
  return state.resampler.push(frame.samples);
}

/** Whether a msg carries a payload to take as a frame (controls come without one, an is_final may come empty); a bad one is then a clear error. */
export function hasFrame(msg: NodeMessage): boolean {
  return msg.payload !== undefined && msg.payload !== null && !(msg.is_final === true && isEmpty(msg.payload));
}

function isEmpty(payload: unknown): boolean {
  return (ArrayBuffer.isView(payload) && payload.byteLength === 0) || (Array.isArray(payload) && payload.length === 0) || payload === "";
}
