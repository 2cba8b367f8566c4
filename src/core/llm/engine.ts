/** The llm family's interface: what every LLM engine (local ONNX, remote server) offers the nodes and the CLI. */
import type { Observable } from "rxjs";
import type { LlmStreamChunk, LoadedModel } from "../types";

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
