/**
 * Resolving the settings every engine reads (voice, output rate, seed), with messages that
 * say what to change. The codec engine's chunking settings are resolved by chunking.ts.
 */
import type { TtsStreamConfig } from "../types";

export function resolveStreamConfig(config: Partial<TtsStreamConfig> | undefined, voices: readonly string[], defaultVoice?: string): TtsStreamConfig {
  const merged: TtsStreamConfig = {};
  for (const [key, value] of Object.entries(config ?? {})) {
    if (value !== undefined && value !== null && value !== "") (merged as unknown as Record<string, unknown>)[key] = value;
  }
  if (merged.voice === undefined) merged.voice = defaultVoice ?? voices[0];
  if (voices.length > 0 && merged.voice !== undefined && !voices.includes(merged.voice)) {
    throw new Error(`unknown voice '${merged.voice}'; this model has: ${voices.join(", ")}`);
  }
  if (merged.sample_rate_out !== undefined) {
    const rate = merged.sample_rate_out;
    if (typeof rate !== "number" || !Number.isInteger(rate) || rate < 8000 || rate > 192000) {
      throw new Error(`sample_rate_out must be a whole number of Hz between 8000 and 192000, got ${String(rate)}`);
    }
  }
  const words = merged.first_span_words;
  if (words !== undefined && (typeof words !== "number" || !Number.isInteger(words) || words < 0 || words > 100)) {
    throw new Error(`first_span_words must be a whole number of words from 0 (off) to 100, got ${String(words)}`);
  }
  if (merged.seed !== undefined && (typeof merged.seed !== "number" || !Number.isFinite(merged.seed))) {
    throw new Error(`seed must be a number, got ${String(merged.seed)}`);
  }
  return merged;
}
