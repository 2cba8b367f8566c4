/**
 * Piper voices (VITS exports): `<name>.onnx` + `<name>.onnx.json`. Text → IPA with espeak-ng
 * (the voice's espeak.voice) → ids through phoneme_id_map with piper's convention
 * (BOS "^", then every phoneme followed by the pad "_", then EOS "$") → one synthesis per span.
 * Output at the voice's rate, or resampled to sample_rate_out.
 */
import * as ort from "onnxruntime-node";
import { readModelJson } from "../../../hub/model-json";
import type { LoadContext, TtsEngine, TtsStreamConfig, TtsStreamer } from "../../../types";
import { takeFloat32 } from "../../../onnx/outputs";
import { espeakPhonemes } from "../../espeak";
import { PRIORITY, PriorityRunner } from "../../priority-runner";
import { configuredSpanStreamer } from "../../configured-span-streamer";
import { resolveStreamConfig } from "../../stream-config";
import { WholeSpanPipeline } from "../../whole-span-pipeline";
import { configuredVoice } from "../../configured-voice";

export interface PiperVoiceConfig {
  sampleRate: number;
  espeakVoice: string;
  phonemeIdMap: Map<string, number[]>;
  noiseScale: number;
  lengthScale: number;
  noiseW: number;
  speakers: Map<string, number>;
}

export function readPiperConfig(raw: Record<string, unknown>, source: string): PiperVoiceConfig {
  const audio = (raw.audio ?? {}) as Record<string, unknown>;
  const espeak = (raw.espeak ?? {}) as Record<string, unknown>;
  const inference = (raw.inference ?? {}) as Record<string, unknown>;
  const map = raw.phoneme_id_map as Record<string, unknown> | undefined;
  if (!map || typeof map !== "object") throw new Error(`${source} has no phoneme_id_map: is this a piper voice config?`);
  if (typeof audio.sample_rate !== "number") throw new Error(`${source} has no audio.sample_rate`);
  const phonemeIdMap = new Map<string, number[]>();
  for (const [phoneme, ids] of Object.entries(map)) {
    if (Array.isArray(ids) && ids.every((id) => Number.isInteger(id))) phonemeIdMap.set(phoneme, ids as number[]);
  }
  for (const required of ["^", "$", "_"]) {
    if (!phonemeIdMap.has(required)) throw new Error(`${source}: phoneme_id_map lacks '${required}' (piper's BOS/EOS/pad)`);
  }
  const num = (v: unknown, d: number) => (typeof v === "number" && Number.isFinite(v) ? v : d);
  const speakers = new Map<string, number>(
    Object.entries((raw.speaker_id_map ?? {}) as Record<string, number>).filter(([, id]) => Number.isInteger(id)),
  );
  return {
    sampleRate: audio.sample_rate,
    espeakVoice: typeof espeak.voice === "string" ? espeak.voice : "en-us",
    phonemeIdMap,
    noiseScale: num(inference.noise_scale, 0.667),
    lengthScale: num(inference.length_scale, 1),
    noiseW: num(inference.noise_w, 0.8),
    speakers,
  };
}

/**
 * Piper's ids for an IPA string: ^ _ p1 _ p2 _ … pn _ $. Phonemes missing from the map are
 * skipped (as piper does); espeak's clause breaks (newlines) become word spaces.
 */
export function phonemesToIds(ipa: string, map: Map<string, number[]>): { ids: number[]; missing: string[] } {
  const pad = map.get("_")!;
  const ids = [...map.get("^")!, ...pad];
  const missing: string[] = [];
  const text = ipa.replace(/\s*\n\s*/g, " ").trim().normalize("NFD");
  for (const phoneme of text) {
    const mapped = map.get(phoneme);
    if (!mapped) {
      missing.push(phoneme);
      continue;
    }
    ids.push(...mapped, ...pad);
  }
  ids.push(...map.get("$")!);
  return { ids, missing };
}

export class PiperEngine implements TtsEngine {
  readonly kind = "tts" as const;
  readonly voices: string[];
  /** The voice of streams that name none: the voice-model's voice when it is a speaker, else the first. */
  readonly defaultVoice: string;
  private readonly runner = new PriorityRunner();

  constructor(
    readonly name: string,
    readonly config: PiperVoiceConfig,
    private readonly session: ort.InferenceSession,
    private readonly warn: (message: string) => void = () => undefined,
    defaultVoice?: string,
  ) {
    this.voices = config.speakers.size > 0 ? [...config.speakers.keys()] : [name];
    if (defaultVoice !== undefined && !this.voices.includes(defaultVoice)) {
      throw new Error(`voice '${defaultVoice}' is not a voice of piper voice ${name}; it has: ${this.voices.join(", ")}`);
    }
    this.defaultVoice = defaultVoice ?? this.voices[0];
  }

  static async load(ctx: LoadContext): Promise<PiperEngine> {
    const files = await ctx.source.list();
    const configs = files.filter((f) => f.endsWith(".onnx.json")).sort();
    if (configs.length === 0) throw new Error(`model '${ctx.source.id}' has no piper voice (<name>.onnx.json)`);
    const wanted = configuredVoice(ctx);
    const nameOf = (file: string) => file.replace(/^.*\//, "").slice(0, -".onnx.json".length);
    // The voice-model's voice is a voice file's name, or a speaker of one of the voices.
    let configFile = configs.find((f) => nameOf(f) === wanted);
    let config = configFile ? readPiperConfig(await readModelJson(ctx.source, configFile), configFile) : undefined;
    let speaker: string | undefined;
    if (!configFile) {
      const known: string[] = [];
      for (const file of configs) {
        const candidate = readPiperConfig(await readModelJson(ctx.source, file), file);
        const speakers = [...candidate.speakers.keys()];
        known.push(...(speakers.length > 0 ? speakers : [nameOf(file)]));
        if (!configFile && (wanted === undefined || speakers.includes(wanted))) {
          configFile = file;
          config = candidate;
          speaker = wanted;
        }
      }
      if (!configFile || !config) {
        throw new Error(`voice '${wanted}' set on the voice-model is not a voice of model '${ctx.source.id}'; it has: ${known.join(", ")}`);
      }
    }
    const onnxFile = configFile.slice(0, -".json".length);
    const session = await ctx.createSession(await ctx.source.file(onnxFile));
    return new PiperEngine(nameOf(configFile), config!, session, (m) => ctx.warn(m), speaker);
  }

  openStreamer(options: Partial<TtsStreamConfig> = {}): TtsStreamer {
    const config = resolveStreamConfig(options, this.voices, this.defaultVoice);
    const speaker = this.config.speakers.get(config.voice!);
    const pipeline = new WholeSpanPipeline(this.config.sampleRate, (text, signal) => this.synthesize(text, speaker, signal));
    return configuredSpanStreamer(pipeline, config);
  }

  async synthesize(text: string, speaker: number | undefined, signal?: AbortSignal): Promise<Float32Array> {
    const ipa = await espeakPhonemes(text, this.config.espeakVoice, signal);
    const { ids, missing } = phonemesToIds(ipa, this.config.phonemeIdMap);
    if (missing.length > 0) this.warn(`piper voice ${this.name}: skipped phonemes not in its map: ${[...new Set(missing)].join(" ")}`);
    const feeds: Record<string, ort.Tensor> = {
      input: new ort.Tensor("int64", BigInt64Array.from(ids.map(BigInt)), [1, ids.length]),
      input_lengths: new ort.Tensor("int64", BigInt64Array.of(BigInt(ids.length)), [1]),
      scales: new ort.Tensor("float32", Float32Array.of(this.config.noiseScale, this.config.lengthScale, this.config.noiseW), [3]),
    };
    if (this.session.inputNames.includes("sid")) feeds.sid = new ort.Tensor("int64", BigInt64Array.of(BigInt(speaker ?? 0)), [1]);
    return takeFloat32(await this.runner.run(PRIORITY.step, () => this.session.run(feeds)), "output", this.session);
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}
