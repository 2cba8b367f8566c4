/**
 * Timing and counts of one generation, reported on its final chunk (PROTOCOL §1):
 * time_to_first_token from subscribe to the first sampled token, tokens_per_second over
 * the decode steps after it (the prompt's prefill is not a decode step), seconds overall.
 */
import { performance } from "perf_hooks";

export interface LlmMetrics {
  time_to_first_token?: number;
  tokens_per_second: number;
  prompt_tokens: number;
  /** Leading prompt tokens whose cache came from the prefix cache (not prefilled again). */
  cached_prompt_tokens: number;
  generated_tokens: number;
  total_seconds: number;
}

const seconds = () => performance.now() / 1000;

export class GenerationMetrics {
  private readonly startedAt = seconds();
  private firstTokenAt?: number;
  private lastTokenAt?: number;
  private decodeSteps = 0;
  promptTokens = 0;
  cachedPromptTokens = 0;
  generatedTokens = 0;

  /** A token was sampled (the first one comes from the prefill, each later one from a decode step). */
  tokenSampled(): void {
    const now = seconds();
    if (this.firstTokenAt === undefined) this.firstTokenAt = now;
    else this.decodeSteps++;
    this.lastTokenAt = now;
  }

  snapshot(): LlmMetrics {
    const decodeSeconds = this.firstTokenAt !== undefined ? this.lastTokenAt! - this.firstTokenAt : 0;
    const metrics: LlmMetrics = {
      tokens_per_second: this.decodeSteps > 0 && decodeSeconds > 0 ? this.decodeSteps / decodeSeconds : 0,
      prompt_tokens: this.promptTokens,
      cached_prompt_tokens: this.cachedPromptTokens,
      generated_tokens: this.generatedTokens,
      total_seconds: seconds() - this.startedAt,
    };
    if (this.firstTokenAt !== undefined) metrics.time_to_first_token = this.firstTokenAt - this.startedAt;
    return metrics;
  }
}
