/**
 * The `encoder_window_s` setting of a Whisper model: the shortest window its encoder reads, in
 * seconds. Whisper was trained on 30 s windows (short audio padded with silence), and that stays
 * the default; a shorter window (whisper.cpp's `audio_ctx`) is grown to fit each decode's audio
 * and a second of silence after it, in whole seconds, so no speech is cut — only silence the
 * encoder would have read is left out. (Whisper has seen speech end in silence; whisper.cpp's
 * users who size audio_ctx by the clip add a margin too, and one too short makes the decoder
 * repeat itself.)
 */
import type { MelConfig } from "./mel";

/** The setting from a model's extra config: undefined for the full window, else seconds in (0, full]. */
export function encoderWindowSetting(config: Record<string, unknown> | undefined, owner: string, mel: MelConfig): number | undefined {
  const value = config?.encoder_window_s;
  if (value === undefined || value === null || value === "") return undefined;
  const full = mel.nSamples / mel.samplingRate;
  const seconds = typeof value === "string" ? Number(value) : value;
  if (typeof seconds !== "number" || !Number.isFinite(seconds) || seconds < 1 || seconds > full) {
    throw new Error(`${owner}: encoder_window_s must be a number of seconds from 1 to ${full} (Whisper's whole window), got ${JSON.stringify(value)}`);
  }
  return seconds >= full ? undefined : seconds;
}

/** Silence kept after the audio in a shortened window, seconds. */
const MARGIN_S = 1;

/** Mel frames the encoder reads for `samples` of audio: the whole window, or the setting grown to fit the audio and the margin. */
export function encoderFrames(samples: number, minSeconds: number | undefined, mel: MelConfig): number {
  if (minSeconds === undefined) return mel.nFrames;
  const seconds = Math.max(minSeconds, Math.ceil(samples / mel.samplingRate + MARGIN_S));
  // Even: the encoder's second convolution halves the frames into positions.
  const frames = 2 * Math.ceil((seconds * mel.samplingRate) / mel.hopLength / 2);
  return Math.min(mel.nFrames, frames);
}
