/**
 * The `kokoro` engine: Kokoro-82M (StyleTTS2 + iSTFTNet, Apache-2.0) in the
 * onnx-community/Kokoro-82M-v1.0-ONNX layout:
 *
 *   onnx/model.onnx (+ model_fp16, model_quantized (q8), model_q4, … variants)
 *   voices/<name>.bin   float32 [N, 1, 256] style tables
 *   tokenizer.json      phoneme symbols → ids, "$" pads at both ends
 *   config.json
 *
 * A span: text → phonemes (phonemize.ts) → pieces of ≤ 510 tokens (token-limit.ts) → for each,
 * ids and the voice's style row for that length → the model (input_ids int64 [1, T],
 * style float32 [1, 256], speed float32 [1] → waveform float32) → 24 kHz audio, piece by piece.
 */
import * as fs from "fs";
import * as ort from "onnxruntime-node";
type Tokenizer = import("@huggingface/tokenizers", { with: { "resolution-mode": "import" } }).Tokenizer;
import type { LoadContext, TtsEngine, TtsStreamConfig, TtsStreamer } from "../../../types";
import { readModelJson, readOptionalModelJson } from "../../../hub/model-json";
import { configuredVoice } from "../../configured-voice";
import { TTS_SPEED_RANGE } from "../../engine";
import { PRIORITY, PriorityRunner } from "../../priority-runner";
import { configuredSpanStreamer } from "../../configured-span-streamer";
import { resolveStreamConfig } from "../../stream-config";
import { PiecewiseSpanPipeline, type SpanPiece } from "../../whole-span-pipeline";
import { languageOfVoice, phonemizeForKokoro } from "./phonemize";
import { splitAtTokenLimit } from "./token-limit";
import { blendVoices, parseVoiceSpec, readVoiceTable, styleFor, STYLE_DIM, type VoiceTable } from "./voices";

export const KOKORO_SAMPLE_RATE = 24000;
export const KOKORO_DEFAULT_VOICE = "af_heart";

/** True for the Kokoro layout: a phoneme tokenizer, voices/<name>.bin and onnx/model*.onnx. */
export function looksLikeKokoro(files: readonly string[]): boolean {
  return (
    files.includes("tokenizer.json") &&
    files.some((f) => /^voices\/[^/]+\.bin$/.test(f)) &&
    files.some((f) => /^onnx\/model(_[a-z0-9]+)?\.onnx$/.test(f))
  );
}

export function checkSpeed(speed: unknown): number {
  if (speed === undefined) return 1;
  const [min, max] = TTS_SPEED_RANGE;
  if (typeof speed !== "number" || !Number.isFinite(speed) || speed < min || speed > max) {
    throw new Error(`speed must be a number from ${min} to ${max} (1 is normal), got ${String(speed)}`);
  }
  return speed;
}

export class KokoroEngine implements TtsEngine {
  readonly kind = "tts" as const;
  readonly voices: string[];
  private readonly runner = new PriorityRunner();
  private readonly tables = new Map<string, VoiceTable>();
  private readonly vocab: Set<string>;

  private constructor(
    readonly id: string,
    private readonly session: ort.InferenceSession,
    private readonly tokenizer: Tokenizer,
    private readonly voiceFiles: Map<string, string>,
    private readonly defaultVoice: string,
    private readonly defaultSpeed: number,
  ) {
    this.voices = [...voiceFiles.keys()];
    this.vocab = new Set(tokenizer.get_vocab().keys());
  }

  static async load(ctx: LoadContext): Promise<KokoroEngine> {
    const id = ctx.source.id;
    const files = await ctx.source.list();
    const voiceFiles = new Map<string, string>();
    // All fetched now (≈0.5 MB each), so a voice picked per message never waits on a download.
    for (const rel of files.filter((f) => /^voices\/[^/]+\.bin$/.test(f)).sort()) voiceFiles.set(rel.slice(7, -4), await ctx.source.file(rel));
    if (voiceFiles.size === 0) throw new Error(`Kokoro model '${id}' has no voices/<name>.bin style tables`);
    if (!files.includes("tokenizer.json")) throw new Error(`Kokoro model '${id}' has no tokenizer.json (its phoneme symbols)`);
    const tokenizerJson = await readModelJson(ctx.source, "tokenizer.json");
    const tokenizerConfig = (await readOptionalModelJson(ctx.source, "tokenizer_config.json")) ?? {};
    const { Tokenizer } = await import("@huggingface/tokenizers");
    const tokenizer = new Tokenizer(tokenizerJson, tokenizerConfig);
    const defaultVoice =
      configuredVoice(ctx) ?? (voiceFiles.has(KOKORO_DEFAULT_VOICE) ? KOKORO_DEFAULT_VOICE : [...voiceFiles.keys()][0]);
    const defaultSpeed = checkSpeed(ctx.spec.config?.speed);
    const session = await ctx.createSession(await ctx.onnxFile("model"));
    for (const name of ["input_ids", "style", "speed"]) {
      if (!session.inputNames.includes(name)) {
        await session.release();
        throw new Error(`Kokoro model '${id}': onnx/model has inputs ${session.inputNames.join(", ")}; expected input_ids, style and speed`);
      }
    }
    const engine = new KokoroEngine(id, session, tokenizer, voiceFiles, defaultVoice, defaultSpeed);
    try {
      engine.voiceTable(defaultVoice); // a wrong default voice fails the load, not the first message
    } catch (err) {
      await session.release();
      throw err;
    }
    return engine;
  }

  /** The voice (or blend) `spec` as one table; each voice file is read on first use and kept. */
  private voiceTable(spec: string): VoiceTable {
    const parts = parseVoiceSpec(spec);
    for (const part of parts) {
      if (this.tables.has(part.name)) continue;
      const local = this.voiceFiles.get(part.name);
      if (!local) throw new Error(`unknown Kokoro voice '${part.name}'; this model has: ${this.voices.join(", ")}`);
      languageOfVoice(part.name);
      this.tables.set(part.name, readVoiceTable(local, part.name));
    }
    return blendVoices(parts, (name) => this.tables.get(name)!);
  }

  openStreamer(options: Partial<TtsStreamConfig> = {}): TtsStreamer {
    const config = resolveStreamConfig({ ...options, voice: undefined }, []);
    const voice = typeof options.voice === "string" && options.voice.trim() !== "" ? options.voice.trim() : this.defaultVoice;
    const speed = options.speed === undefined ? this.defaultSpeed : checkSpeed(options.speed);
    // A bad voice is the caller's error, reported before any text is sent.
    const parts = parseVoiceSpec(voice);
    const table = this.voiceTable(voice); // unknown names first, then the language check
    const language = languageOfVoice(parts[0].name);
    const pipeline = new PiecewiseSpanPipeline(KOKORO_SAMPLE_RATE, async (text, signal, sink) => {
      const phonemes = await phonemizeForKokoro(text, {
        espeakVoice: language.espeak,
        english: language.english,
        american: parts[0].name.startsWith("a"),
        signal,
      });
      const pieces = splitAtTokenLimit(phonemes, (symbol) => this.vocab.has(symbol));
      for (let i = 0; i < pieces.length; i++) {
        if (signal.aborted) return;
        const audio = await this.synthesizeIds(this.tokenize(pieces[i]), table, speed);
        sink({ audio, last: i === pieces.length - 1 } satisfies SpanPiece);
      }
    });
    return configuredSpanStreamer(pipeline, config);
  }

  /** Token ids of a phoneme string, "$" pads included (unknown symbols are dropped by the tokenizer). */
  tokenize(phonemes: string): number[] {
    return this.tokenizer.encode(phonemes).ids;
  }

  /** Phonemes for `text` as this engine makes them for `voice` (for tests and diagnostics). */
  async phonemize(text: string, voice = this.defaultVoice): Promise<string> {
    const first = parseVoiceSpec(voice)[0].name;
    const language = languageOfVoice(first);
    return phonemizeForKokoro(text, { espeakVoice: language.espeak, english: language.english, american: first.startsWith("a") });
  }

  /** One model run: ids (with pads) → waveform, with the style row for ids.length − 2 tokens. */
  async synthesizeIds(ids: number[], table: VoiceTable | string, speed = 1): Promise<Float32Array> {
    const voice = typeof table === "string" ? this.voiceTable(table) : table;
    const style = styleFor(voice, ids.length - 2);
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor("int64", BigInt64Array.from(ids, (id) => BigInt(id)), [1, ids.length]),
      style: new ort.Tensor("float32", style, [1, STYLE_DIM]),
      speed: new ort.Tensor("float32", Float32Array.of(speed), [1]),
    };
    const outputs = await this.runner.run(PRIORITY.step, () => this.session.run(feeds));
    const waveform = outputs.waveform ?? outputs[this.session.outputNames[0]];
    const audio = (waveform.data as Float32Array).slice();
    for (const tensor of Object.values(outputs)) tensor.dispose();
    return audio;
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}
