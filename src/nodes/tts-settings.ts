/**
 * The tts-streamer's settings table: editor fields and msg overrides → the core's
 * TtsStreamConfig keys. Chunking values are range-checked once, by the core (tts/chunking.ts).
 */
import type { TtsStreamConfig } from "../core/types";
import { CHUNKING_FIELDS } from "../core/tts/chunking";
import { TTS_SPEED_RANGE } from "../core/tts/engine";
import type { Setting } from "./shared/settings";

export type TtsNodeSettings = Partial<TtsStreamConfig> & { format: "float32" | "s16le" };

export const TTS_SETTINGS: readonly Setting[] = [
  // Chunking: defaults and ranges live in the core's table, checked there once per stream. A msg may
  // set them for its stream, as the vendor SDK's stream_config does per call.
  ...CHUNKING_FIELDS.map((f): Setting => ({ key: f.key, editor: f.editor, msg: f.key, type: "number" })),
  { key: "sample_rate_out", editor: "sampleRateOut", type: "number" },
  // Range-checked by the core (tts/stream-config.ts); empty: the first span is a whole sentence.
  { key: "first_span_words", editor: "firstSpanWords", msg: "first_span_words", type: "integer" },
  // A msg.voice or msg.seed of the wrong type is an error, not silently the default voice / a random seed.
  { key: "voice", editor: "voice", msg: "voice", type: "string", expects: "a voice name (a string)", nameType: true },
  { key: "seed", msg: "seed", type: "number", expects: "a finite number", nameType: true },
  // Engines without a speaking rate ignore it; empty: the model's own default (1).
  { key: "speed", editor: "speed", msg: "speed", type: "number", min: TTS_SPEED_RANGE[0], max: TTS_SPEED_RANGE[1] },
  { key: "format", editor: "outputFormat", type: "string", choices: ["float32", "s16le"], default: "float32" },
];
