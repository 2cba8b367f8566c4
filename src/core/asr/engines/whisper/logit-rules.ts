/**
 * Whisper's rules on the next token's logits during greedy decoding (as openai/whisper's
 * SuppressBlank, SuppressTokens and ApplyTimestampRules): pure functions over one logits row,
 * so they are unit-testable without a model.
 */
import type { WhisperSettings } from "./whisper-config";

export interface RuleContext {
  settings: WhisperSettings;
  /** Tokens generated so far (after the forced prefix). */
  generated: number[];
  timestamps: boolean;
}

/** Applies every rule in place: suppressed entries become -Infinity. */
export function applyLogitRules(logits: Float32Array, ctx: RuleContext): void {
  const { settings, generated, timestamps } = ctx;
  const { tokens } = settings;
  for (const id of settings.suppressTokens) if (id < logits.length) logits[id] = -Infinity;
  // The forced-prefix vocabulary never appears in text: sot, languages, tasks, <|nospeech|>, ...
  const firstTimestamp = tokens.timestampBegin ?? logits.length;
  for (let id = tokens.eot + 1; id < Math.min(firstTimestamp, logits.length); id++) logits[id] = -Infinity;
  if (generated.length === 0) for (const id of settings.beginSuppressTokens) if (id < logits.length) logits[id] = -Infinity;

  if (tokens.timestampBegin === undefined) return;
  const tsBegin = tokens.timestampBegin;
  if (!timestamps) {
    logits.fill(-Infinity, tsBegin);
    return;
  }
  const n = generated.length;
  const lastWasTimestamp = n >= 1 && generated[n - 1] >= tsBegin;
  const penultimateWasTimestamp = n < 2 || generated[n - 2] >= tsBegin;
  if (lastWasTimestamp) {
    // Timestamps come in pairs: after a closing one only a new timestamp or the end may follow.
    if (penultimateWasTimestamp) logits.fill(-Infinity, tsBegin);
    else logits.fill(-Infinity, 0, tokens.eot);
  }
  const seen = generated.filter((id) => id >= tsBegin);
  if (seen.length > 0) {
    // Timestamps never go backwards.
    const last = seen[seen.length - 1];
    const lowestAllowed = lastWasTimestamp && !penultimateWasTimestamp ? last : last + 1;
    logits.fill(-Infinity, tsBegin, lowestAllowed);
  }
  if (n === 0) {
    // The first token is a timestamp, no later than max_initial_timestamp.
    logits.fill(-Infinity, 0, tsBegin);
    logits.fill(-Infinity, tsBegin + settings.maxInitialTimestampIndex + 1);
  }
  // When the timestamps together are likelier than any single text token, take a timestamp.
  const logProbs = logSoftmax(logits);
  let textMax = -Infinity;
  for (let i = 0; i < tsBegin; i++) if (logProbs[i] > textMax) textMax = logProbs[i];
  if (logSumExp(logProbs, tsBegin, logProbs.length) > textMax) logits.fill(-Infinity, 0, tsBegin);
}

export function logSumExp(values: ArrayLike<number>, from = 0, to = values.length): number {
  let max = -Infinity;
  for (let i = from; i < to; i++) if (values[i] > max) max = values[i];
  if (max === -Infinity) return -Infinity;
  let sum = 0;
  for (let i = from; i < to; i++) sum += Math.exp(values[i] - max);
  return max + Math.log(sum);
}

export function logSoftmax(logits: ArrayLike<number>): Float64Array {
  const lse = logSumExp(logits);
  const out = new Float64Array(logits.length);
  for (let i = 0; i < logits.length; i++) out[i] = logits[i] - lse;
  return out;
}

export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}
