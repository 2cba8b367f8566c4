/** Shared bits of the remote-engine tests: collecting a stream's chunks and its error. */
import type { Observable } from "rxjs";
import { loadOpenAiModel } from "../../../src/core/openai/remote-model";
import type { AsrEngine, LlmEngine, ModelConfig, TtsEngine } from "../../../src/core/types";

export interface Collected<T> {
  chunks: T[];
  error?: Error;
}

export function collect<T>(stream: Observable<T>): Promise<Collected<T>> {
  return new Promise((resolve) => {
    const chunks: T[] = [];
    stream.subscribe({
      next: (c) => chunks.push(c),
      error: (error: Error) => resolve({ chunks, error }),
      complete: () => resolve({ chunks }),
    });
  });
}

export async function remoteLlm(url: string, config: ModelConfig = {}, apiKey?: string, warn?: (m: string) => void): Promise<LlmEngine> {
  return (await loadOpenAiModel("llm", { enginesPath: url, config }, { apiKey, warn })) as LlmEngine;
}

export async function remoteTts(url: string, config: ModelConfig = {}, apiKey?: string): Promise<TtsEngine> {
  return (await loadOpenAiModel("tts", { enginesPath: url, config }, { apiKey })) as TtsEngine;
}

export async function remoteAsr(url: string, config: ModelConfig = {}, apiKey?: string): Promise<AsrEngine> {
  return (await loadOpenAiModel("asr", { enginesPath: url, config }, { apiKey })) as AsrEngine;
}
