/**
 * Shared vocabulary of the inference core: the chunks every stream emits (wire names,
 * see docs/PROTOCOL in the README), the model spec the registry loads, and the one
 * interface per engine family that the nodes talk to. No Node-RED imports here.
 */
import type { Observable } from "rxjs";
import type { InferenceSession } from "onnxruntime-node";

// ---------------------------------------------------------------- chunks

/** Sent as the one final chunk of any stream that was cancelled. */
export interface CancelledChunk {
  kind: "cancelled";
  is_final: true;
  finish_reason?: "cancelled";
  [metric: string]: unknown;
}

export interface LlmChunk {
  kind: "text";
  delta: string;
  index: number;
  token_ids: number[];
  is_final: boolean;
  text?: string;
  finish_reason?: "stop" | "length" | "cancelled";
  time_to_first_token?: number;
  total_seconds?: number;
  prompt_tokens?: number;
  /** Leading prompt tokens served from the prefix KV cache (not prefilled again). */
  cached_prompt_tokens?: number;
  generated_tokens?: number;
  tokens_per_second?: number;
}

/** A cancelled LLM stream ends with this (the LLM's metrics so far ride along). */
export type LlmCancelledChunk = CancelledChunk & Partial<Omit<LlmChunk, "kind" | "is_final">> & {
  finish_reason: "cancelled";
};

export type LlmStreamChunk = LlmChunk | LlmCancelledChunk;

export interface TtsChunk {
  kind: "audio";
  audio: Float32Array;
  sample_rate: number;
  chunk_index: number;
  text?: string;
  is_final: boolean;
  time_to_first_audio?: number;
  total_seconds?: number;
  generated_tokens?: number;
  tokens_per_second?: number;
  audio_seconds?: number;
  rtf?: number;
}

export type TtsStreamChunk = TtsChunk | CancelledChunk;

export interface AsrPartial {
  kind: "partial";
  text: string;
  delta: string;
  is_final: false;
  audio_seconds: number;
}

export interface AsrFinal {
  kind: "final";
  text: string;
  is_final: true;
  language: string;
  audio_seconds: number;
  passes: number;
  rtf: number;
  total_seconds: number;
}

export type AsrEvent = AsrPartial | AsrFinal | CancelledChunk;

// ---------------------------------------------------------------- model specs

export type ModelKind = "llm" | "tts" | "asr" | "vad" | "wake";

export type ExecutionProvider = "cpu" | "cuda";

export interface ModelConfig {
  /** ONNX file variant as hub repos name them: "fp32" (model.onnx), "fp16", "q4", "quantized", ... */
  dtype?: string;
  /** Engine within a family when a directory could serve several (tts: "codec" | "piper" | "espeak"). */
  engine?: string;
  /** Default voice (tts). */
  voice?: string;
  [key: string]: unknown;
}

export interface ModelSpec {
  /** Hugging Face repo id ("onnx-community/Qwen3-0.6B-ONNX") or a local directory in the same layout. */
  enginesPath: string;
  revision?: string;
  config?: ModelConfig;
}

export interface LoadProgress {
  phase: "downloading" | "loading" | "ready";
  /** 0..1 over all files, when known. */
  fraction?: number;
  file?: string;
  bytes_done?: number;
  bytes_total?: number;
}

/**
 * Where a loader gets its files. For a local directory `file()` is a path join plus an
 * existence check; for a hub repo it downloads into the cache first.
 */
export interface ModelSource {
  /** The repo id or directory, for error messages. */
  readonly id: string;
  /** Absolute local path of `relPath`, fetched if needed; rejects with a clear error naming the file when it is missing. */
  file(relPath: string): Promise<string>;
  /** Whether the model has `relPath` (no download). */
  has(relPath: string): Promise<boolean>;
  /** Every file path in the model, relative, with "/" separators. */
  list(): Promise<string[]>;
}

/** What a family loader receives from the registry. */
export interface LoadContext {
  spec: ModelSpec;
  source: ModelSource;
  /** Path of the ONNX file `baseName` ("model", "encoder_model", ...) in the variant `spec.config.dtype` selects. */
  onnxFile(baseName: string, folder?: string): Promise<string>;
  /**
   * An onnxruntime session with the configured execution providers and threads. With
   * `rewritten`, the session runs that in-memory rewrite of the model at `localPath` instead
   * (its external data resolved against `rewritten.externalDataFolder`); an implementation
   * that does not support it may load `localPath` as it is.
   */
  createSession(localPath: string, rewritten?: RewrittenModel): Promise<InferenceSession>;
  warn(message: string): void;
}

/** A model graph rewritten in memory whose weights stay in the original files (ONNX external data). */
export interface RewrittenModel {
  bytes: Uint8Array;
  externalDataFolder: string;
}

/** A loaded model: whatever a family loader returns. `dispose` frees its sessions. */
export interface LoadedModel {
  readonly kind: ModelKind;
  dispose(): Promise<void>;
}

export type FamilyLoader<M extends LoadedModel> = (ctx: LoadContext) => Promise<M>;

// ---------------------------------------------------------------- engine interfaces

export interface LlmRequest {
  /** A plain prompt, or chat messages. */
  prompt: string | ChatMessage[];
  system?: string;
  max_new_tokens?: number;
  temperature?: number;
  top_k?: number;
  top_p?: number;
  repetition_penalty?: number;
  seed?: number;
  stop_sequences?: string[];
  /** Qwen3's thinking switch; off by default (speech wants answers, not thoughts). */
  enable_thinking?: boolean;
  /** Skip the chat template (implied when the tokenizer has none). */
  raw?: boolean;
  /** Keep generating past end-of-sequence tokens until max_new_tokens (benchmarks: a fixed token count). */
  ignore_eos?: boolean;
}

export interface ChatMessage {
  role: "system" | "user" | "assistant" | string;
  content: string;
}

export interface LlmGenerateOptions {
  /** The first emission cancels: the stream ends with one `{kind: "cancelled", is_final: true, ...metrics}` chunk. */
  cancel$?: Observable<unknown>;
}

export interface LlmEngine extends LoadedModel {
  readonly kind: "llm";
  /** Cold: generation starts on subscribe; unsubscribing cancels within one decode step. */
  generate(request: LlmRequest, options?: LlmGenerateOptions): Observable<LlmStreamChunk>;
}

export interface TtsStreamConfig {
  frames_per_chunk: number;
  first_frames_per_chunk: number;
  lookforward: number;
  lookback: number;
  overlap_frames: number;
  voice?: string;
  sample_rate_out?: number;
  /** The first span ends at its first clause or after this many words, for an earlier first audio (0: off). */
  first_span_words?: number;
  seed?: number;
}

export interface TtsStreamer {
  /** Buffers until the first subscriber, so no chunk is lost. Ends with exactly one is_final chunk. */
  readonly output$: Observable<TtsStreamChunk>;
  send(text: string): void;
  flush(): void;
  finish(): void;
  cancel(): void;
}

export interface TtsEngine extends LoadedModel {
  readonly kind: "tts";
  readonly voices: string[];
  openStreamer(config: Partial<TtsStreamConfig>): TtsStreamer;
}

export interface AsrStreamConfig {
  language?: string;
  partial_interval_ms?: number;
  task?: "transcribe" | "translate";
}

export interface AsrStreamer {
  readonly partials$: Observable<AsrEvent>;
  /** Mono 16 kHz float samples. */
  send(frame: Float32Array): void;
  flush(): void;
  finish(): Promise<string>;
  cancel(): void;
}

export interface AsrEngine extends LoadedModel {
  readonly kind: "asr";
  openStreamer(config: AsrStreamConfig): AsrStreamer;
  /** One-shot transcription of up to 30 s of 16 kHz audio. */
  transcribe(audio: Float32Array, options?: { language?: string; prompt?: string }): Promise<{ text: string; language: string }>;
}

export interface VadSegment {
  start: number;
  end: number;
}

export interface VadEngine extends LoadedModel {
  readonly kind: "vad";
}
