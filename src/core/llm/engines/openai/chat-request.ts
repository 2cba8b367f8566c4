/**
 * An LlmRequest as an OpenAI chat-completions body: prompt/chat → messages (the system
 * prompt first unless the chat has one), max_new_tokens → max_tokens, stop_sequences → stop,
 * temperature, top_p, seed as they are; top_k and stream_options only while the server
 * takes them (the engine drops them after a server rejects them). Only what the request
 * sets is sent: the server's own defaults apply to the rest.
 */
import { ChatPrompt } from "../onnx/chat-prompt";
import { resolveLlmRequest } from "../../llm-request";
import type { LlmRequest } from "../../../types";

export interface ChatBodyOptions {
  model: string;
  /** Ask for the usage chunk (stream_options.include_usage). */
  includeUsage: boolean;
  /** Send top_k (vLLM, llama.cpp and Ollama take it; OpenAI itself does not). */
  topK: boolean;
}

/** The body; throws LlmRequestError for bad input (same checks and messages as the local engine). */
export function chatBody(request: LlmRequest, options: ChatBodyOptions): Record<string, unknown> {
  // The local engine's checks, so bad input reads the same whichever engine serves it.
  resolveLlmRequest(request, { eosIds: [], doSample: true });
  const body: Record<string, unknown> = {
    messages: ChatPrompt.messagesOf({ prompt: request.prompt, system: request.system || undefined }),
    stream: true,
  };
  if (options.model) body.model = options.model;
  if (options.includeUsage) body.stream_options = { include_usage: true };
  if (request.max_new_tokens !== undefined && request.max_new_tokens !== null) body.max_tokens = request.max_new_tokens;
  if (request.temperature !== undefined && request.temperature !== null) body.temperature = request.temperature;
  if (request.top_p !== undefined && request.top_p !== null) body.top_p = request.top_p;
  if (request.seed !== undefined && request.seed !== null) body.seed = request.seed;
  if (options.topK && request.top_k !== undefined && request.top_k !== null && request.top_k > 0) body.top_k = request.top_k;
  const stops = (request.stop_sequences ?? []).filter((s) => s !== "");
  if (stops.length > 0) body.stop = stops;
  return body;
}
