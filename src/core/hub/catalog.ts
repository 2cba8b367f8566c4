/**
 * The models this package is tested with, per kind, for the editor's model picker: what to
 * type as the model, the variant (and piper voice) to pick, about how much it downloads and
 * its licence. `sizeMb` is only the offline fallback, shown as approximate ("≈"): when the hub
 * answers, the picker shows the exact sum of the files a download fetches (download-size.ts).
 *
 * Sources of the piper entries: the voices' folders in rhasspy/piper-voices, e.g.
 * https://huggingface.co/rhasspy/piper-voices/tree/main/en/en_US/lessac/medium (63.2 MB
 * graph + config + MODEL_CARD; each medium voice below is 63.2 MB there). The repo is MIT;
 * each voice's MODEL_CARD names its dataset's licence, which differs per voice.
 *
 * No codec TTS entry: the codec engine reads its own layout (tts_config.json, backbone/onnx/,
 * codec/decoder.onnx, voices/*.json; fixtures/tiny-codec-tts.ts), and no published repo has
 * it — NeuTTS Air ships its backbone as safetensors and GGUF (neuphonic/neutts-air, -q4-gguf,
 * -q8-gguf) and NeuCodec's ONNX decoder in a repo of its own (neuphonic/neucodec-onnx-decoder).
 * An entry appears here once a repo in that layout exists and loads.
 */
import type { ModelKind } from "../types";

export interface CatalogModel {
  kind: ModelKind;
  /** What goes in the voice-model's Model field: a hub repo id, or a built-in name. */
  model: string;
  label: string;
  /** The ONNX variant to pick (the voice-model's dtype); "" = automatic. */
  dtype: string;
  /** The voice to set on the voice-model; for piper also which voice's files to download. */
  voice?: string;
  /** The TTS engine, where it is not found from the files. */
  engine?: "codec" | "piper" | "kokoro" | "espeak";
  /** About how much is downloaded, in MB (0: nothing, it is in the package). */
  sizeMb: number;
  licence: string;
  note: string;
}

/** Piper voices offered (medium quality): file name, label, language. */
const PIPER_VOICES: [string, string, string][] = [
  ["en_US-lessac-medium", "en_US lessac", "English (US)"],
  ["en_GB-alan-medium", "en_GB alan", "English (UK)"],
  ["de_DE-thorsten-medium", "de_DE thorsten", "German"],
  ["fr_FR-siwis-medium", "fr_FR siwis", "French"],
];

export const TESTED_MODELS: CatalogModel[] = [
  { kind: "llm", model: "onnx-community/Qwen3-0.6B-ONNX", label: "Qwen3 0.6B (4-bit)", dtype: "q4", sizeMb: 500, licence: "Apache-2.0", note: "a small chat model; thinks before it answers unless told /no_think" },
  { kind: "llm", model: "stories260K", label: "stories260K (built in)", dtype: "", sizeMb: 0, licence: "MIT", note: "llama2.c's 260K-parameter TinyStories model: no download, works offline; writes little stories, not answers" },
  { kind: "asr", model: "onnx-community/whisper-base", label: "Whisper base", dtype: "fp32", sizeMb: 290, licence: "MIT", note: "99 languages; the examples' default" },
  { kind: "asr", model: "onnx-community/whisper-small", label: "Whisper small", dtype: "fp32", sizeMb: 970, licence: "MIT", note: "more accurate, about 3× slower than base" },
  { kind: "asr", model: "Xenova/whisper-tiny.en", label: "Whisper tiny (English)", dtype: "fp32", sizeMb: 150, licence: "MIT", note: "English only, the fastest" },
  { kind: "tts", model: "onnx-community/Kokoro-82M-v1.0-ONNX", label: "Kokoro-82M (8-bit)", dtype: "q8", sizeMb: 92, licence: "Apache-2.0", note: "24 kHz, 50+ voices and blends (af_heart, bm_george, af_heart:0.7,am_adam:0.3); phonemes from espeak-ng" },
  ...PIPER_VOICES.map(
    ([voice, label, language]): CatalogModel => ({
      kind: "tts", model: "rhasspy/piper-voices", label: `Piper ${label} (medium)`, dtype: "", voice, engine: "piper", sizeMb: 63,
      licence: "see the voice's MODEL_CARD", note: `${language}, 22.05 kHz; downloads only this voice (${voice}) of rhasspy/piper-voices; phonemes from espeak-ng`,
    }),
  ),
  { kind: "tts", model: "espeak", label: "eSpeak NG (built in)", dtype: "", engine: "espeak", sizeMb: 0, licence: "GPL-3.0 (WASM build)", note: "no download, works offline; voices: en-us, en-gb, de, fr, es, it, … (set Voice)" },
  { kind: "vad", model: "silero", label: "Silero VAD v5 (built in)", dtype: "", sizeMb: 0, licence: "MIT", note: "no download, works offline" },
];

export function testedModels(kind: ModelKind): CatalogModel[] {
  return TESTED_MODELS.filter((m) => m.kind === kind);
}
