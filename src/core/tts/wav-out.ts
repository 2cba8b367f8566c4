/** 16-bit PCM mono WAV bytes (kept for existing callers; the encoder lives in audio/wav.ts). */
export { encodeWav as encodeWav16 } from "../audio/wav";
