/**
 * Shared vocabulary of the inference core: the chunks every stream emits (wire names,
 * see docs/PROTOCOL in the README), the model spec the registry loads, and the one
 * interface per engine family that the nodes talk to. No Node-RED imports here.
 */
import type { Observable } from "rxjs";
import type { InferenceSession } from "onnxruntime-node";
import type { DroppedAudio } from "./asr/engine";

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
  /**
   * Audio whose text was left out of `text`, and why (Whisper's no-speech rule); empty when nothing
   * was. Optional so engines without such rules (remote ones) may leave it out: absent means [].
   */
  dropped?: DroppedAudio[];
  /**
   * Set when the final is a speculative event's result kept unchanged (its text is that event's
   * text): the number of that event (AsrSpeculative.speculation). Absent otherwise.
   */
  speculation?: number;
}

/**
 * The final as it stands once the turn's speech seems over (emit_speculative): what the final
 * will say unless more speech comes. Sent before the turn ends so a flow can start answering;
 * `speculation` counts these events within the turn (1, 2, …): a later one replaces an earlier.
 */
export interface AsrSpeculative {
  kind: "speculative";
  text: string;
  is_final: false;
  language: string;
  audio_seconds: number;
  speculation: number;
}

export type AsrEvent = AsrPartial | AsrFinal | AsrSpeculative | CancelledChunk;

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
  /** The settings createSession uses, for a loader that builds its sessions elsewhere (a worker thread). */
  readonly sessionSettings?: { executionProviders?: ExecutionProvider[]; intraOpNumThreads?: number; interOpNumThreads?: number };
  /** Such a loader calls this when it starts building sessions (the registry then reports "loading"). */
  reportLoading?(): void;
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

// Each family keeps its interface beside its engines (src/core/<family>/engine.ts); they are
// re-exported here so `core/types` stays the one import for the whole vocabulary.
export type { LlmRequest, ChatMessage, LlmGenerateOptions, LlmEngine } from "./llm/engine";
export type { TtsStreamConfig, TtsStreamer, TtsEngine } from "./tts/engine";
export type { AsrStreamConfig, AsrStreamer, AsrEngine, PauseDetector, DroppedAudio } from "./asr/engine";
export type { VadSegment, VadEngine, VadDetector, VadEvent, VadOptions } from "./vad/engine";
