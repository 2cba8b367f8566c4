/**
 * How a codec TTS engine cuts its audio into chunks (TTSStreamConfig semantics, see
 * engines/codec/codec-chunker.ts): the one table of these settings — their names in the
 * core, the CLI and the editor, defaults and ranges — and the one check of a whole set.
 * Only the codec engine reads them; other engines ignore them, so they are optional there.
 * The tts-streamer editor gets its defaults from this table at build time
 * (scripts/copy-node-assets.js), the CLI its flags and ranges.
 */

export interface ChunkingConfig {
  frames_per_chunk: number;
  first_frames_per_chunk: number;
  lookforward: number;
  lookback: number;
  overlap_frames: number;
}

export interface ChunkingField {
  key: keyof ChunkingConfig;
  /** The CLI flag (without --) and the editor field of the tts-streamer node. */
  flag: string;
  editor: string;
  default: number;
  /** Least whole number allowed. */
  min: number;
}

export const CHUNKING_FIELDS: readonly ChunkingField[] = [
  { key: "frames_per_chunk", flag: "frames-per-chunk", editor: "framesPerChunk", default: 25, min: 1 },
  { key: "first_frames_per_chunk", flag: "first-frames-per-chunk", editor: "firstFramesPerChunk", default: 12, min: 1 },
  { key: "lookforward", flag: "lookforward", editor: "lookforward", default: 5, min: 0 },
  { key: "lookback", flag: "lookback", editor: "lookback", default: 50, min: 0 },
  { key: "overlap_frames", flag: "overlap-frames", editor: "overlapFrames", default: 1, min: 0 },
];

/** The guide's defaults. */
export const DEFAULT_CHUNKING: ChunkingConfig = Object.fromEntries(CHUNKING_FIELDS.map((f) => [f.key, f.default])) as unknown as ChunkingConfig;

/** Throws a clear error for settings that cannot work. */
export function validateChunking(config: ChunkingConfig): void {
  for (const { key, min } of CHUNKING_FIELDS) {
    const value = config[key];
    if (typeof value !== "number" || !Number.isInteger(value) || value < min) {
      throw new Error(`${key} must be a whole number ≥ ${min}, got ${String(value)}`);
    }
  }
  if (config.overlap_frames >= config.frames_per_chunk || config.overlap_frames >= config.first_frames_per_chunk) {
    throw new Error(
      `overlap_frames (${config.overlap_frames}) must be smaller than frames_per_chunk (${config.frames_per_chunk}) ` +
        `and first_frames_per_chunk (${config.first_frames_per_chunk})`,
    );
  }
}

/** The defaults with the given values over them (unset, null and "" keep the default), checked once. */
export function resolveChunking(partial: Partial<Record<keyof ChunkingConfig, unknown>> = {}): ChunkingConfig {
  const merged: Record<string, unknown> = { ...DEFAULT_CHUNKING };
  for (const { key } of CHUNKING_FIELDS) {
    const value = partial[key];
    if (value !== undefined && value !== null && value !== "") merged[key] = value;
  }
  validateChunking(merged as unknown as ChunkingConfig);
  return merged as unknown as ChunkingConfig;
}
