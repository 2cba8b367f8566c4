/**
 * Audio frames as the hands-free nodes (vad, wake-word) take them, the same way
 * whisper-streamer does: Float32Array, Int16Array, Buffer of s16le or number[] in
 * msg.payload, any whole `msg.sample_rate` (default 16000), converted to 16 kHz floats
 * with one streaming resampler per stream so frame joins stay gap-free.
 */
import { firstNonFiniteIndex, toFloat32 } from "../../core/audio/pcm";
import { StreamingResampler } from "../../core/audio/resample";
import type { NodeMessage } from "./stream-msg";

export const FRAME_RATE = 16000;

export class FrameInput {
  private resampler: StreamingResampler | undefined;

  /** The msg's frame at 16 kHz; throws a clear Error for a bad frame or rate. */
  convert(msg: NodeMessage): Float32Array {
    const samples = toFloat32(msg.payload, "msg.payload");
    const bad = firstNonFiniteIndex(samples);
    if (bad >= 0) throw new Error(`audio frame sample ${bad} is ${samples[bad]}; samples must be finite numbers (the frame was dropped)`);
    const rate = msg.sample_rate === undefined ? FRAME_RATE : Number(msg.sample_rate);
    if (!Number.isInteger(rate) || rate <= 0) {
      throw new Error(`msg.sample_rate must be a positive whole number of samples per second, e.g. 16000 or 48000 (got ${String(msg.sample_rate)})`);
    }
    if (rate === FRAME_RATE) return samples.slice();
    if (!this.resampler || this.resampler.fromRate !== rate) this.resampler = new StreamingResampler(rate, FRAME_RATE);
    return this.resampler.push(samples);
  }
}

/** Whether a msg carries an audio frame (not only controls). */
export function hasFrame(msg: NodeMessage): boolean {
  return msg.payload !== undefined && msg.payload !== null && !(typeof msg.payload === "string");
}
