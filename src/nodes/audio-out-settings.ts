/**
 * audio-out's settings tables: the node's editor fields (checked once at deploy), and the rate a
 * chunk may bring with it (msg.sample_rate, read per msg).
 */
import { DEFAULT_LEAD_MS } from "../core/audio/player";
import type { SinkSettings } from "./audio-out-sinks";
import type { Setting } from "./shared/settings";

/** Rate assumed for a chunk without msg.sample_rate (the rate audio-in and Whisper use). */
const DEFAULT_INPUT_RATE = 16000;

export const AUDIO_OUT_SETTINGS: readonly Setting[] = [
  { key: "sink", editor: "sink", label: "sink", type: "string", choices: ["speaker", "file", "browser", "null"], default: "speaker" },
  { key: "player", editor: "player", type: "string", default: "auto" },
  { key: "device", editor: "device", type: "string" },
  { key: "path", editor: "path", type: "text" },
  { key: "sampleRate", editor: "sampleRate", label: "sample rate", type: "integer", min: 8000, max: 192000, default: 24000 },
  { key: "bufferMs", editor: "bufferMs", label: "buffer", type: "number", min: 20, max: 10000, default: DEFAULT_LEAD_MS },
  { key: "volume", editor: "volume", label: "volume", type: "number", min: 0, max: 4, default: 1 },
  { key: "title", editor: "name", type: "string", default: "voice-stream player" },
  { key: "reference", editor: "reference", type: "string", default: "default" },
];
export type AudioOutSettings = SinkSettings & { bufferMs: number; volume: number };
/** A chunk's own rate (msg.sample_rate), read per msg. */
export const CHUNK_RATE: readonly Setting[] = [
  { key: "rate", msg: "sample_rate", type: "integer", min: 1000, max: 384000, default: DEFAULT_INPUT_RATE, expects: "a whole number of Hz (e.g. 16000 or 24000)" },
];
