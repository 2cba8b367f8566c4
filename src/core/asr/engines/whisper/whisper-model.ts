/**
 * A loaded Whisper: feature extractor, encoder session, decoder runner and tokenizer, with
 * one decode of up to 30 s of audio: forced prefix (optional <|startofprev|> prompt,
 * <|startoftranscript|>, language — detected when "auto" —, task, <|notimestamps|> or not),
 * Whisper's logit rules, timestamp segments and the hallucination guards: greedy first, then
 * seeded sampling at the fallback temperatures while a result is too repetitive or unlikely
 * (the encoder runs once for all of them); only the no-speech rule marks text rejected.
 */
import * as ort from "onnxruntime-node";
import { encoderFrames } from "./encoder-window";
import { LogMelExtractor } from "./mel";
import { applyLogitRules, argmax, logSoftmax } from "./logit-rules";
import { SeededPrng } from "../../../onnx/decoder/sampler";
import { compressionRatio, DEFAULT_GUARDS, DEFAULT_TEMPERATURES, fallbackReason, rejectionReason, type GuardThresholds } from "./guards";
import type { WhisperSettings } from "./whisper-config";
import type { WhisperDecoderRunner } from "./whisper-decoder";
import type { WhisperTokenizer } from "./whisper-tokenizer";

export interface DecodeOptions {
  /** Language code, or "auto" / undefined to detect it (multilingual models). */
  language?: string;
  task?: "transcribe" | "translate";
  /** Text the audio follows (fed after <|startofprev|>); the last ~200 chars are plenty. */
  prompt?: string;
  /** Decode timestamp tokens (segment boundaries); default true when the model has them. */
  timestamps?: boolean;
  /** Cap on generated tokens (default: half the decoder's context, as Whisper). */
  maxNewTokens?: number;
  guards?: GuardThresholds;
  /** The fallback ladder (default 0, 0.2, … 1.0); [0] decodes greedily once. */
  temperatures?: readonly number[];
  /** Seed of the sampling at temperatures above 0 (default 0): the same audio always gives the same text. */
  seed?: number;
  /** Aborts the decode between decoder steps (a cancelled stream stops within one token). */
  signal?: AbortSignal;
}

export interface Segment {
  /** Seconds from the start of the decoded audio. */
  start: number;
  /** undefined when the model left the segment open (audio ran out mid-segment). */
  end: number | undefined;
  text: string;
}

export interface DecodeResult {
  text: string;
  segments: Segment[];
  language: string;
  tokens: number[];
  avg_logprob: number;
  no_speech_prob: number;
  compression_ratio: number;
  /** The temperature of the kept result (0: greedy; higher: fallback); absent from decoders without fallback. */
  temperature?: number;
  /** Why each earlier temperature's result was decoded again, in order. */
  fallbacks?: string[];
  /** Set when the no-speech rule rejected the text (it must not be committed or used as a prompt). */
  rejected?: string;
}

const SECONDS_PER_TIMESTAMP = 0.02;

/** What the engine and the streamers use of a loaded Whisper, in this thread (WhisperModel) or in a worker (WorkerWhisperModel). */
export type LoadedWhisper = Pick<WhisperModel, "settings" | "sampleRate" | "windowSeconds" | "languageCodes" | "decode" | "release">;

export class WhisperModel {
  constructor(
    readonly settings: WhisperSettings,
    private readonly mel: LogMelExtractor,
    private readonly encoder: ort.InferenceSession,
    private readonly decoder: WhisperDecoderRunner,
    readonly tokenizer: WhisperTokenizer,
    /** The shortest encoder window in seconds (config encoder_window_s); undefined: Whisper's whole 30 s. */
    private readonly encoderWindowSeconds?: number,
  ) {}

  /** Frees the onnxruntime sessions. */
  async release(): Promise<void> {
    await this.encoder.release();
    await this.decoder.release();
  }

  get sampleRate(): number {
    return this.mel.config.samplingRate;
  }

  /** Seconds of audio the model reads at once (30). */
  get windowSeconds(): number {
    return this.mel.config.nSamples / this.mel.config.samplingRate;
  }

  async encode(audio: Float32Array): Promise<ort.Tensor> {
    const nFrames = encoderFrames(audio.length, this.encoderWindowSeconds, this.mel.config);
    const features = new ort.Tensor("float32", this.mel.extract(audio, nFrames), [1, this.mel.config.nMels, nFrames]);
    const out = await this.encoder.run({ [this.encoder.inputNames[0]]: features });
    return out[this.encoder.outputNames[0]];
  }

  /** The language token the model finds likeliest right after <|startoftranscript|>. */
  private pickLanguage(logits: Float32Array): string {
    let best = "";
    let bestLogit = -Infinity;
    for (const [code, id] of this.settings.tokens.languages) {
      if (logits[id] > bestLogit) {
        bestLogit = logits[id];
        best = code;
      }
    }
    return best;
  }

  languageCodes(): string[] {
    return [...this.settings.tokens.languages.keys()];
  }

  async decode(audio: Float32Array, options: DecodeOptions = {}): Promise<DecodeResult> {
    const { tokens } = this.settings;
    const multilingual = this.settings.isMultilingual && tokens.languages.size > 0;
    const wanted = options.language && options.language !== "auto" ? options.language.toLowerCase() : undefined;
    if (wanted && multilingual && !tokens.languages.has(wanted)) {
      throw new Error(`language '${options.language}' is not one this model knows; use one of ${this.languageCodes().join(", ")} or "auto"`);
    }
    const guards = options.guards ?? DEFAULT_GUARDS;
    const temperatures = options.temperatures && options.temperatures.length > 0 ? options.temperatures : DEFAULT_TEMPERATURES;
    const encoderStates = await this.encode(audio);
    throwIfAborted(options.signal);
    const fallbacks: string[] = [];
    let result: Omit<DecodeResult, "temperature"> | undefined;
    let temperature = temperatures[0];
    for (const [attempt, t] of temperatures.entries()) {
      temperature = t;
      const prng = t > 0 ? new SeededPrng(attemptSeed(options.seed ?? 0, attempt)) : undefined;
      result = await this.decodeAt(encoderStates, audio.length / this.sampleRate, options, wanted, multilingual, t, prng);
      const retry = attempt < temperatures.length - 1 ? fallbackReason(result, guards) : undefined;
      if (!retry) break;
      fallbacks.push(`${retry} at temperature ${t}`);
    }
    const rejected = rejectionReason(result!, guards);
    return { ...result!, temperature, ...(fallbacks.length > 0 ? { fallbacks } : {}), ...(rejected ? { rejected } : {}) };
  }

  /** One decode over encoded audio: greedy at temperature 0, else drawn from softmax(logits / t) with `prng`. */
  private async decodeAt(
    encoderStates: ort.Tensor,
    seconds: number,
    options: DecodeOptions,
    wanted: string | undefined,
    multilingual: boolean,
    temperature: number,
    prng: SeededPrng | undefined,
  ): Promise<Omit<DecodeResult, "temperature">> {
    const { tokens } = this.settings;
    const timestamps = (options.timestamps ?? true) && tokens.timestampBegin !== undefined;
    const state = this.decoder.start(encoderStates);

    // <|startofprev|> prompt tokens, then <|startoftranscript|>.
    const head: number[] = [];
    const promptText = options.prompt?.trim();
    if (promptText && tokens.prev !== undefined) {
      const maxPrompt = Math.floor(this.settings.maxTargetPositions / 2) - 1;
      head.push(tokens.prev, ...this.tokenizer.encode(" " + promptText).slice(-maxPrompt));
    }
    head.push(tokens.sot);
    const headLogits = await state.feed(head);
    const sotLogits = headLogits[headLogits.length - 1];
    const noSpeechProb = tokens.noSpeech !== undefined ? Math.exp(logSoftmax(sotLogits)[tokens.noSpeech]) : 0;

    let language = wanted ?? (multilingual ? this.pickLanguage(sotLogits) : "en");
    if (!multilingual && wanted) language = wanted;
    const rest: number[] = [];
    if (multilingual) rest.push(tokens.languages.get(language)!);
    const taskToken = options.task === "translate" ? tokens.translate : tokens.transcribe;
    if (multilingual && taskToken !== undefined) rest.push(taskToken);
    if (!timestamps && tokens.noTimestamps !== undefined) rest.push(tokens.noTimestamps);

    let logits = rest.length > 0 ? (await state.feed(rest)).pop()! : sotLogits;
    const generated: number[] = [];
    let sumLogprob = 0;
    const room = this.settings.maxTargetPositions - state.length;
    const maxNew = Math.min(options.maxNewTokens ?? Math.floor(this.settings.maxTargetPositions / 2), room);
    let ended = false;
    while (generated.length < maxNew) {
      const row = Float32Array.from(logits);
      applyLogitRules(row, { settings: this.settings, generated, timestamps });
      const next = prng ? sampleAt(row, temperature, prng) : argmax(row);
      // As openai/whisper: the log-probability of the chosen token under the unscaled logits.
      sumLogprob += logSoftmax(row)[next];
      if (next === tokens.eot) {
        ended = true;
        break;
      }
      generated.push(next);
      if (generated.length >= maxNew || state.length >= this.settings.maxTargetPositions) break;
      throwIfAborted(options.signal);
      logits = (await state.feed([next]))[0];
    }
    const segments = this.segmentsOf(generated, seconds);
    const text = this.tokenizer.decodeText(generated).trim();
    return {
      text,
      avg_logprob: sumLogprob / (generated.length + (ended ? 1 : 0) || 1),
      no_speech_prob: noSpeechProb,
      compression_ratio: compressionRatio(text),
      segments,
      language,
      tokens: generated,
    };
  }

  /** Splits generated tokens at timestamp tokens into timed segments (one untimed segment without them). */
  private segmentsOf(generated: number[], seconds: number): Segment[] {
    const tsBegin = this.settings.tokens.timestampBegin;
    const isTs = (id: number) => tsBegin !== undefined && id >= tsBegin;
    const time = (id: number) => (id - tsBegin!) * SECONDS_PER_TIMESTAMP;
    if (!generated.some(isTs)) {
      const text = this.tokenizer.decodeText(generated).trim();
      return text ? [{ start: 0, end: undefined, text }] : [];
    }
    const segments: Segment[] = [];
    let start: number | undefined;
    let textIds: number[] = [];
    for (const id of generated) {
      if (!isTs(id)) {
        textIds.push(id);
        continue;
      }
      if (textIds.length > 0) {
        const text = this.tokenizer.decodeText(textIds).trim();
        if (text) segments.push({ start: start ?? 0, end: Math.min(time(id), seconds), text });
        textIds = [];
        start = undefined;
      } else {
        start = time(id);
      }
    }
    if (textIds.length > 0) {
      const text = this.tokenizer.decodeText(textIds).trim();
      if (text) segments.push({ start: start ?? 0, end: undefined, text });
    }
    return segments;
  }
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new Error("the decode was aborted");
}

/** The seed of fallback attempt `attempt`: each temperature draws its own repeatable sequence. */
function attemptSeed(seed: number, attempt: number): number {
  return (Math.imul(Math.floor(Math.abs(seed)) >>> 0, 0x9e3779b1) ^ Math.imul(attempt + 1, 0x85ebca6b)) >>> 0;
}

/** A draw from softmax(row / temperature); suppressed (-Infinity) entries are never drawn. */
function sampleAt(row: Float32Array, temperature: number, prng: SeededPrng): number {
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) if (row[i] > max) max = row[i];
  const weights = new Float64Array(row.length);
  let sum = 0;
  for (let i = 0; i < row.length; i++) {
    const w = row[i] === -Infinity ? 0 : Math.exp((row[i] - max) / temperature);
    weights[i] = w;
    sum += w;
  }
  let u = prng.next() * sum;
  for (let i = 0; i < row.length; i++) {
    u -= weights[i];
    if (u < 0 && weights[i] > 0) return i;
  }
  return argmax(row);
}
