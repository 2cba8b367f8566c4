/**
 * The registry's way to remote engines: an engines path `http(s)://…/v1` of kind llm, tts or
 * asr becomes the OpenAI-compatible engine of that family (no files, no download). The key
 * is the voice-model's credential (the registry's start token), else $VOICE_STREAM_API_KEY.
 */
import { OpenAiAsrEngine } from "../asr/engines/openai/openai-asr-engine";
import { OpenAiLlmEngine } from "../llm/engines/openai/openai-llm-engine";
import { OpenAiTtsEngine } from "../tts/engines/openai/openai-tts-engine";
import type { LoadedModel, ModelKind, ModelSpec } from "../types";
import { isOpenAiEnginesPath, openAiEndpoint } from "./endpoint";

export { isOpenAiEnginesPath };

export interface RemoteLoadOptions {
  apiKey?: string;
  warn?: (message: string) => void;
}

function optionalNumber(value: unknown, name: string): number | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new Error(`${name} must be a number, got ${JSON.stringify(value)}`);
  return n;
}

export async function loadOpenAiModel(kind: ModelKind, spec: ModelSpec, options: RemoteLoadOptions = {}): Promise<LoadedModel> {
  const config = spec.config ?? {};
  const endpoint = openAiEndpoint(spec.enginesPath, config, { apiKey: options.apiKey });
  const warn = options.warn ?? (() => undefined);
  switch (kind) {
    case "llm":
      return new OpenAiLlmEngine(endpoint, warn);
    case "tts":
      return new OpenAiTtsEngine(endpoint, {
        voice: typeof config.voice === "string" && config.voice.trim() ? config.voice.trim() : undefined,
        speed: optionalNumber(config.speed, "speed"),
        pcmRate: optionalNumber(config.sample_rate, "sample_rate"),
      });
    case "asr":
      return new OpenAiAsrEngine(endpoint, config.stream !== false && config.stream !== "false");
    default:
      throw new Error(`${endpoint.label}: an OpenAI-compatible server serves llm, tts and asr models, not ${kind}; use a local ${kind} model`);
  }
}
