/**
 * Codec TTS engine (NeuTTS-style): a speech-token LM writes codec frames as
 * <|speech_N|> tokens after a prompt holding the voice's reference transcript and codes;
 * a codec decoder turns windows of codes into 24 kHz audio, 480 samples per frame.
 *
 * Model directory (see fixtures/tiny-codec-tts.ts):
 *   tts_config.json              engine "codec", sample_rate, hop_length, codebook_size, prompt_template, generation
 *   backbone/onnx/model.onnx     decoder-only LM with KV cache (+ config.json, tokenizer.json)
 *   codec/decoder.onnx           codes int32 [1, 1, F] → audio f32 [1, 1, F·hop]
 *   voices/<id>.json             { ref_text, ref_codes }
 *
 * The LM and the codec decoder sessions run in a worker thread by default (config `worker_thread`,
 * the same decoder worker as the LLM's: onnx/decoder/worker-decoder-model.ts), so their runs do
 * not hold Node-RED's event loop; false keeps them in this thread.
 */
import { readModelJson, readOptionalModelJson } from "../../../hub/model-json";
import type { LoadContext, TtsEngine, TtsStreamConfig, TtsStreamer } from "../../../types";
import { openLocalDecoderModel } from "../../../onnx/decoder/local-decoder-model";
import { prefixCacheBytes } from "../../../onnx/decoder/prefix-cache";
import { readModelShape } from "../../../onnx/decoder/model-config";
import { Sampler, type LogitsRow } from "../../../onnx/decoder/sampler";
import type { DecoderModel, DecoderModelPlan, SequenceDecoder } from "../../../onnx/decoder/sequence-decoder";
import { WorkerDecoderModel } from "../../../onnx/decoder/worker-decoder-model";
import { workerThreadSetting } from "../../../onnx/worker/worker-thread-setting";
import { configFlag } from "../../../onnx/config-flag";
import { AsyncQueue } from "../../async-queue";
import { configuredVoice } from "../../configured-voice";
import { CodecChunker, type DecodeRequest } from "./codec-chunker";
import { SpeechVocabulary } from "./speech-vocabulary";
import { PRIORITY, PriorityRunner } from "../../priority-runner";
import { configuredSpanStreamer } from "../../configured-span-streamer";
import { BusyClock, type Span, type SpanEmit, type SpanPipeline, type TtsMetrics } from "../../span-streamer";
import { resolveStreamConfig } from "../../stream-config";
import { resolveChunking, type ChunkingConfig } from "../../chunking";

export interface CodecVoice {
  id: string;
  refText: string;
  refCodes: number[];
}

export interface CodecTtsConfig {
  sampleRate: number;
  hop: number;
  codebookSize: number;
  speechToken: string;
  speechEndToken: string;
  promptTemplate: string;
  defaultVoice?: string;
  temperature: number;
  topK: number;
  minFramesPerChar: number;
  maxFramesPerChar: number;
}

/** Hooks for tests and profiling: they see every LM step and every codec decode. */
export interface CodecObserver {
  /** The producer took up a span (its prompt is being prepared). */
  spanStart?(span: Span): void;
  /** One LM step produced speech code `code`, the span's `tokensSoFar`-th. */
  lmStep?(span: Span, tokensSoFar: number, code: number): void;
  decode?(span: Span, request: DecodeRequest): void;
}

interface Tokenizer {
  encode(text: string, options?: { add_special_tokens?: boolean }): { ids: number[] };
  token_to_id(token: string): number | undefined;
}

const FADE_SECONDS = 0.01;

/** config.prefix_cache_mb's default for a codec voice's LM: a voice's prefix is a few dozen positions (NeuTTS-sized: 24 KB each). */
const CODEC_PREFIX_CACHE_MB = 32;

export class CodecTtsEngine implements TtsEngine {
  readonly kind = "tts" as const;
  readonly voices: string[];
  /** Set by tests and profilers. */
  observer: CodecObserver | undefined;
  /** One queue of model calls for all streams, codec decodes first (see priority-runner.ts). */
  private readonly runner = new PriorityRunner();
  /** Per voice: how many leading prompt tokens every span's prompt shares (see voicePrefix). */
  private readonly prefixLengths = new Map<string, number>();

  constructor(
    readonly config: CodecTtsConfig,
    private readonly tokenizer: Tokenizer,
    /** The speech-token LM and, as its side session "codec", the codec decoder: in this thread or a worker. */
    private readonly sessions: DecoderModel,
    /** Speech codes ↔ token ids, and the scores the sampler draws from. */
    readonly vocabulary: SpeechVocabulary,
    private readonly voiceTable: Map<string, CodecVoice>,
  ) {
    this.voices = [...voiceTable.keys()];
  }

  static async load(ctx: LoadContext): Promise<CodecTtsEngine> {
    const inWorker = workerThreadSetting(ctx.spec.config, `the config of model ${ctx.source.id}`);
    const readJson = (rel: string) => readModelJson(ctx.source, rel);
    const raw = await readJson("tts_config.json");
    const generation = (raw.generation ?? {}) as Record<string, unknown>;
    const num = (value: unknown, fallback: number) => (typeof value === "number" && Number.isFinite(value) ? value : fallback);
    const config: CodecTtsConfig = {
      sampleRate: num(raw.sample_rate, 24000),
      hop: num(raw.hop_length, 480),
      codebookSize: num(raw.codebook_size, 65536),
      speechToken: typeof raw.speech_token === "string" ? raw.speech_token : "<|speech_{i}|>",
      speechEndToken: typeof raw.speech_end_token === "string" ? raw.speech_end_token : "<|SPEECH_GENERATION_END|>",
      promptTemplate: typeof raw.prompt_template === "string" ? raw.prompt_template : "{ref_text} {text}{ref_codes}",
      defaultVoice: typeof raw.default_voice === "string" ? raw.default_voice : undefined,
      temperature: num(generation.temperature, 1),
      topK: num(generation.top_k, 50),
      // Safety bounds on speech length (50 frames/s; speech runs at roughly 3 frames per character).
      minFramesPerChar: num(generation.min_frames_per_char, 0),
      maxFramesPerChar: num(generation.max_frames_per_char, 10),
    };
    const { Tokenizer } = await import("@huggingface/tokenizers");
    const tokenizer = new Tokenizer(await readJson("backbone/tokenizer.json"), (await readOptionalModelJson(ctx.source, "backbone/tokenizer_config.json")) ?? {});
    const shape = readModelShape(await readJson("backbone/config.json"), "backbone/config.json");
    const vocabulary = SpeechVocabulary.of(tokenizer, config.speechToken, config.speechEndToken, config.codebookSize, {
      vocabSize: shape.vocabSize,
      askRows: speechLogitsOnly(ctx),
    });
    const voices = new Map<string, CodecVoice>();
    for (const rel of (await ctx.source.list()).filter((f) => /^voices\/[^/]+\.json$/.test(f)).sort()) {
      const id = rel.slice("voices/".length, -".json".length);
      const voice = await readJson(rel);
      if (!Array.isArray(voice.ref_codes) || !voice.ref_codes.every((c) => Number.isInteger(c) && c >= 0 && c < config.codebookSize)) {
        throw new Error(`${rel}: ref_codes must be a list of codes in [0, ${config.codebookSize})`);
      }
      voices.set(id, { id, refText: String(voice.ref_text ?? ""), refCodes: voice.ref_codes as number[] });
    }
    if (voices.size === 0) throw new Error(`model '${ctx.source.id}' has no voices/<id>.json reference voice`);
    const names = [...voices.keys()].join(", ");
    if (config.defaultVoice !== undefined && !voices.has(config.defaultVoice)) {
      throw new Error(
        `tts_config.json of model '${ctx.source.id}' names default_voice '${config.defaultVoice}', but the model has no voices/${config.defaultVoice}.json; it has: ${names}`,
      );
    }
    // The voice set on the voice-model is the default of every stream that names none.
    const configured = configuredVoice(ctx);
    if (configured !== undefined) {
      if (!voices.has(configured)) throw new Error(`voice '${configured}' set on the voice-model is not a voice of model '${ctx.source.id}'; it has: ${names}`);
      config.defaultVoice = configured;
    }
    // The llm loader's preparation (last-position logits, append-only cache where it pays): a
    // NeuTTS prompt of ~320 tokens otherwise returns logits for every position (279 MB). Its
    // prompts put the text before the voice's codes, so the prefix cache holds only what comes
    // before the text (the template's head and the voice's reference text; see voicePrefix).
    // The LM samples speech tokens and the end token only, so its head computes only those rows
    // (NeuTTS: 65537 of 217472, a third of the weights a step reads).
    const plan: DecoderModelPlan = {
      decoder: await ctx.onnxFile("model", "backbone/onnx"),
      side: { codec: await ctx.source.file("codec/decoder.onnx") },
      shape,
      prefixCacheBytes: prefixCacheBytes(ctx, CODEC_PREFIX_CACHE_MB),
      logitRows: vocabulary.asksRows ? vocabulary.rows : undefined,
      engineName: "codec tts engine",
    };
    const sessions = inWorker ? await WorkerDecoderModel.start(ctx, plan, "codec TTS") : await openLocalDecoderModel(ctx, plan);
    try {
      return new CodecTtsEngine(config, tokenizer as unknown as Tokenizer, sessions, vocabulary, voices);
    } catch (err) {
      await sessions.release();
      throw err;
    }
  }

  openStreamer(options: Partial<TtsStreamConfig> = {}): TtsStreamer {
    const chunking = resolveChunking(options);
    const config = { ...resolveStreamConfig(options, this.voices, this.config.defaultVoice), ...chunking };
    const voice = this.voiceTable.get(config.voice!)!;
    const pipeline = new CodecPipeline(this, voice, config);
    return configuredSpanStreamer(pipeline, config);
  }

  /** Prompt token ids for `text` in `voice`. */
  promptIds(voice: CodecVoice, text: string): number[] {
    const refCodes = voice.refCodes.map((c) => this.config.speechToken.replace("{i}", String(c))).join("");
    const prompt = this.config.promptTemplate
      .replace("{ref_text}", voice.refText)
      .replace("{text}", text)
      .replace("{ref_codes}", refCodes);
    return this.tokenizer.encode(prompt, { add_special_tokens: false }).ids;
  }

  /**
   * The leading ids of `promptIds` (a prompt of `voice`) that every span's prompt in this voice
   * shares: the template's head and the reference text, up to where the span's text starts. Found
   * once per voice as the common start of two prompts with different texts, so a tokenizer that
   * merges across the boundary only shortens it.
   */
  voicePrefix(voice: CodecVoice, promptIds: readonly number[]): number[] {
    let length = this.prefixLengths.get(voice.id);
    if (length === undefined) {
      const a = this.promptIds(voice, "a");
      const b = this.promptIds(voice, "b");
      length = 0;
      while (length < a.length && length < b.length && a[length] === b[length]) length++;
      this.prefixLengths.set(voice.id, length);
    }
    return promptIds.slice(0, Math.min(length, promptIds.length - 1));
  }

  /** Whether the sessions run in a worker thread (config worker_thread). */
  get inWorker(): boolean {
    return this.sessions.inWorker;
  }

  newLmCursor(): SequenceDecoder {
    return this.sessions.open();
  }

  schedule<T>(priority: number, fn: () => Promise<T>): Promise<T> {
    return this.runner.run(priority, fn);
  }

  decode(codes: number[]): Promise<Float32Array> {
    return this.sessions.runSide("codec", { name: "codes", data: Int32Array.from(codes), dims: [1, 1, codes.length], output: "audio" });
  }

  async dispose(): Promise<void> {
    await this.sessions.release();
  }
}

/**
 * config.speech_logits_only (default true): the LM's head computes the speech tokens and the end
 * token only (the others are never sampled). false computes the whole vocabulary and masks it, as
 * the file describes; the codes are the same (a bench A/B, or a head this rewrite cannot read).
 */
function speechLogitsOnly(ctx: LoadContext): boolean {
  return configFlag(ctx.spec.config, "speech_logits_only", `the config of model ${ctx.source.id}`) ?? true;
}

/** Seed of span `index` in a stream seeded `seed`: spans sample independently of each other. */
function spanSeed(seed: number, index: number): number {
  return (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca6b)) >>> 0;
}

class CodecPipeline implements SpanPipeline<number> {
  readonly sampleRate: number;
  private generated = 0;
  private readonly lmClock = new BusyClock();
  private readonly seed: number;

  constructor(
    private readonly engine: CodecTtsEngine,
    private readonly voice: CodecVoice,
    private readonly config: TtsStreamConfig & ChunkingConfig,
  ) {
    this.sampleRate = engine.config.sampleRate;
    this.seed = config.seed ?? Math.floor(Math.random() * 0x1_0000_0000);
  }

  async produce(span: Span, sink: (code: number) => void, signal: AbortSignal, clock: BusyClock): Promise<void> {
    const { engine } = this;
    const chars = [...span.text].length;
    const minFrames = Math.ceil(chars * engine.config.minFramesPerChar);
    const maxFrames = Math.max(minFrames, Math.ceil(chars * engine.config.maxFramesPerChar));
    const sampler = new Sampler({ temperature: engine.config.temperature, topK: engine.config.topK, seed: spanSeed(this.seed, span.index) });
    engine.observer?.spanStart?.(span);
    const promptIds = engine.promptIds(this.voice, span.text);
    const cursor = engine.newLmCursor();
    const lmCall = <T>(fn: () => Promise<T>) =>
      engine.schedule(PRIORITY.step, () => clock.time(() => this.lmClock.time(fn)));
    try {
      if (signal.aborted) return;
      // The voice's prefix (template head and reference text) comes from the model's prefix cache
      // after its first span; only the text and the reference codes are prefilled.
      const cached = await cursor.seedFromPrefix(promptIds);
      const first = await lmCall(() => cursor.prefill(promptIds.slice(cached)));
      if (cached === 0) cursor.keepPrefix(engine.voicePrefix(this.voice, promptIds));
      const vocabulary = engine.vocabulary;
      const width = first.length;
      // Where the LM computes the speech rows only, a step returns the best top-k + 1 of them (one
      // more: the end token may still be masked) instead of the row (top-logits-graph.ts).
      const top = sampler.topCandidatesNeeded;
      const stepTop = top !== undefined && vocabulary.compactRow(width) ? top + 1 : undefined;
      let logits: LogitsRow = first;
      let scores: LogitsRow | undefined;
      for (let frames = 0; frames < maxFrames; ) {
        if (signal.aborted) return;
        scores = vocabulary.scores(logits, frames >= minFrames, scores);
        const code = vocabulary.codeAt(sampler.next(scores), width);
        if (code < 0) break; // the end token
        frames++;
        this.generated++;
        engine.observer?.lmStep?.(span, frames, code);
        sink(code);
        if (frames >= maxFrames || signal.aborted) break;
        const id = vocabulary.idOf(code);
        logits = await lmCall(() => (stepTop === undefined ? cursor.step(id) : cursor.stepTop(id, stepTop)));
      }
    } finally {
      cursor.dispose();
    }
  }

  async consume(
    span: Span,
    codes: AsyncQueue<number>,
    emit: SpanEmit,
    signal: AbortSignal,
    clock: BusyClock,
  ): Promise<void> {
    const { engine } = this;
    const chunker = new CodecChunker(this.config, this.voice.refCodes, engine.config.hop, Math.round(FADE_SECONDS * this.sampleRate));
    const drain = async (spanDone: boolean) => {
      for (let request = chunker.next(spanDone); request; request = chunker.next(spanDone)) {
        if (signal.aborted) return;
        engine.observer?.decode?.(span, request);
        const req = request;
        const audio = await engine.schedule(PRIORITY.decode, () => clock.time(() => engine.decode(req.codes)));
        if (signal.aborted) return;
        emit(chunker.apply(req, audio), req.isLast);
      }
    };
    for await (const code of codes) {
      if (signal.aborted) return;
      chunker.push(code);
      await drain(false);
    }
    await drain(true);
  }

  metrics(): TtsMetrics {
    const seconds = this.lmClock.seconds;
    return { generated_tokens: this.generated, tokens_per_second: seconds > 0 ? this.generated / seconds : 0 };
  }
}
