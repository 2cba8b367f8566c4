/**
 * Part "handsfree" of `npm run bench` (`npm run bench:hands-free`, an alias of
 * `npm run bench -- --only handsfree --merge`, re-measures just this section of RESULTS.md):
 * wake word, own-voice guard and barge-in figures (bench/hands-free/figures.ts). The full run
 * is the one recorded in RESULTS.md (1 h of speech, 0.5 h of barge-in audio, budgets for a
 * shared machine); --quick scores a few minutes to check the harness.
 */
import { DEFAULT_HEADS, handsFreeFigures, PACKAGED_MODELS, type HandsFreeSettings } from "../hands-free/figures";
import type { BenchOptions } from "../options";

export function handsFreeSettings(options: BenchOptions): HandsFreeSettings {
  const common = { model: PACKAGED_MODELS, heads: DEFAULT_HEADS };
  return options.quick
    ? { ...common, hours: 0.05, bargeHours: 0.02, trials: 4, pool: 12, budgetMin: 3, bargeBudgetMin: 2 }
    : { ...common, hours: 1, bargeHours: 0.5, trials: 16, pool: 60, budgetMin: 32, bargeBudgetMin: 12 };
}

export async function handsFreePart(options: BenchOptions, log: (line: string) => void): Promise<{ json: unknown; markdown: string }> {
  const settings = handsFreeSettings(options);
  return { json: { settings }, markdown: await handsFreeFigures(settings, log) };
}
