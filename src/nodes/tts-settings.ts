/**
 * The tts-streamer's settings table: editor fields and msg overrides → the core's
 * TtsStreamConfig keys. Chunking values are range-checked once, by the core's stream config.
 */
import type { TtsStreamConfig } from "../core/types";
import type { Setting } from "./shared/settings";

export type TtsNodeSettings = Partial<TtsStreamConfig> & { format: "float32" | "s16le" };

export const TTS_SETTINGS: readonly Setting[] = [
  { key: "frames_per_chunk", editor: "framesPerChunk", type: "number" },
  { key: "first_frames_per_chunk", editor: "firstFramesPerChunk", type: "number" },
  { key: "lookforward", editor: "lookforward", type: "number" },
  { key: "lookback", editor: "lookback", type: "number" },
  { key: "overlap_frames", editor: "overlapFrames", type: "number" },
  { key: "sample_rate_out", editor: "sampleRateOut", type: "number" },
  { key: "voice", editor: "voice", msg: "voice", type: "string" },
  { key: "seed", msg: "seed", type: "number" },
  { key: "format", editor: "outputFormat", type: "string", choices: ["float32", "s16le"], default: "float32" },
];
