/**
 * Checks an LlmRequest and fills in the model's defaults, so bad input fails before any
 * work with a message that says what to change.
 */
import type { ChatMessage, LlmRequest } from "../types";
import type { LlmGenerationDefaults } from "../onnx/decoder/model-config";

/** An LlmRequest with every sampling setting decided. */
export interface ResolvedLlmRequest {
  prompt: string | ChatMessage[];
  system?: string;
  enable_thinking: boolean;
  raw: boolean;
  ignore_eos: boolean;
  max_new_tokens: number;
  temperature: number;
  top_k: number;
  top_p: number;
  repetition_penalty: number;
  seed: number;
  stop_sequences: string[];
}

export class LlmRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "LlmRequestError";
  }
}

export const DEFAULT_MAX_NEW_TOKENS = 256;

/** The range of each numeric request field (checked here; nodes quote them in their own errors). */
export interface NumberCheck {
  integer?: boolean;
  min?: number;
  max?: number;
  above?: number;
}

export const LLM_NUMBER_CHECKS = {
  temperature: { min: 0 },
  seed: { integer: true },
  max_new_tokens: { integer: true, min: 1 },
  top_k: { integer: true, min: 0 },
  top_p: { above: 0, max: 1 },
  repetition_penalty: { above: 0 },
} as const satisfies Record<string, NumberCheck>;

/** What a field with `check` takes, as errors say it: "a whole number ≥ 1". */
export function numberHint(check: NumberCheck): string {
  return [
    check.integer ? "a whole number" : "a number",
    check.min !== undefined ? `≥ ${check.min}` : "",
    check.above !== undefined ? `> ${check.above}` : "",
    check.max !== undefined ? `≤ ${check.max}` : "",
  ]
    .filter(Boolean)
    .join(" ");
}

function optionalNumber(request: LlmRequest, name: keyof typeof LLM_NUMBER_CHECKS): number | undefined {
  const check: NumberCheck = LLM_NUMBER_CHECKS[name];
  const value = request[name];
  if (value === undefined || value === null) return undefined;
  const hint = numberHint(check);
  const ok =
    typeof value === "number" &&
    Number.isFinite(value) &&
    (!check.integer || Number.isInteger(value)) &&
    (check.min === undefined || value >= check.min) &&
    (check.above === undefined || value > check.above) &&
    (check.max === undefined || value <= check.max);
  // JSON.stringify writes NaN and Infinity as "null": name them as they are.
  if (!ok) throw new LlmRequestError(`${name} must be ${hint}, got ${typeof value === "number" ? String(value) : JSON.stringify(value)}`);
  return value as number;
}

function checkPrompt(prompt: unknown): string | ChatMessage[] {
  if (typeof prompt === "string") {
    if (prompt.trim() === "") throw new LlmRequestError("the prompt is empty: send some text (or an array of {role, content} messages)");
    return prompt;
  }
  if (Array.isArray(prompt)) {
    if (prompt.length === 0) throw new LlmRequestError("the message list is empty: send at least one {role, content} message");
    prompt.forEach((m, i) => {
      if (!m || typeof m !== "object" || typeof m.role !== "string" || m.role === "" || typeof m.content !== "string") {
        throw new LlmRequestError(`message ${i} must be an object {role: string, content: string}, got ${JSON.stringify(m)}`);
      }
    });
    if (!prompt.some((m: ChatMessage) => m.content.trim() !== "")) throw new LlmRequestError("every message is empty: there is nothing to answer");
    return prompt.map((m: ChatMessage) => ({ role: m.role, content: m.content }));
  }
  throw new LlmRequestError(
    `the prompt must be a string or an array of {role, content} messages, got ${prompt === null ? "null" : typeof prompt}`,
  );
}

export function resolveLlmRequest(request: LlmRequest, defaults: LlmGenerationDefaults): ResolvedLlmRequest {
  if (!request || typeof request !== "object") throw new LlmRequestError("the request must be an object with a prompt");
  const prompt = checkPrompt(request.prompt);
  if (request.system !== undefined && request.system !== null && typeof request.system !== "string") {
    throw new LlmRequestError(`system must be a string, got ${typeof request.system}`);
  }
  const stops = request.stop_sequences ?? [];
  if (!Array.isArray(stops) || stops.some((s) => typeof s !== "string")) {
    throw new LlmRequestError(`stop_sequences must be an array of strings, got ${JSON.stringify(stops)}`);
  }
  const temperature = optionalNumber(request, "temperature");
  const sampling = temperature === undefined ? (defaults.doSample ? (defaults.temperature ?? 1) : 0) : temperature;
  const seed = optionalNumber(request, "seed");
  return {
    prompt,
    system: request.system || undefined,
    enable_thinking: request.enable_thinking === true,
    raw: request.raw === true,
    ignore_eos: request.ignore_eos === true,
    max_new_tokens:
      optionalNumber(request, "max_new_tokens") ?? defaults.maxNewTokens ?? DEFAULT_MAX_NEW_TOKENS,
    temperature: sampling,
    top_k: optionalNumber(request, "top_k") ?? defaults.topK ?? 0,
    top_p: optionalNumber(request, "top_p") ?? defaults.topP ?? 1,
    repetition_penalty: optionalNumber(request, "repetition_penalty") ?? defaults.repetitionPenalty ?? 1,
    // Without a seed every run differs, as users expect from sampling.
    seed: seed ?? Math.floor(Math.random() * 0x1_0000_0000),
    stop_sequences: stops.filter((s) => s !== ""),
  };
}
