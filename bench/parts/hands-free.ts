/**
 * Part "handsfree" of `npm run bench` (`npm run bench:hands-free`, an alias of
 * `npm run bench -- --only handsfree --merge`, re-measures just this section of RESULTS.md):
 * wake word, own-voice guard and barge-in figures (bench/hands-free/figures.ts). The full run
 * is the one recorded in RESULTS.md (1 h of speech, 0.5 h of barge-in audio, budgets for a
 * shared machine); --quick scores a few minutes to check the harness. --hands-free-parts picks
 * pieces (e.g. `false-wakes,trials`), and with --merge only their subsections are replaced.
 */
import { DEFAULT_HEADS, handsFreeFigures, PACKAGED_MODELS, type HandsFreeSettings } from "../hands-free/figures";
import { HANDS_FREE_PIECES, type BenchOptions } from "../options";

export function handsFreeSettings(options: BenchOptions): HandsFreeSettings {
  const pieces = options.handsFreePieces;
  const common = { model: PACKAGED_MODELS, heads: DEFAULT_HEADS, pieces };
  if (options.quick) {
    return { ...common, hours: 0.05, bargeHours: 0.02, trials: 4, pool: 12, budgetMin: 3, bargeBudgetMin: 2, heldOut: 8, verifierClips: { positives: 24, negatives: 60, near: 30 } };
  }
  // Some pieces re-measured on their own: the false-wake hour runs to its end (no wall-clock
  // budget) from the larger pool the recorded table used.
  const some = pieces.length < HANDS_FREE_PIECES.length;
  return { ...common, hours: 1, bargeHours: 0.5, trials: 16, pool: some ? 120 : 60, budgetMin: some ? 0 : 32, bargeBudgetMin: 12 };
}

export async function handsFreePart(options: BenchOptions, log: (line: string) => void): Promise<{ json: unknown; markdown: string; partial: boolean }> {
  const settings = handsFreeSettings(options);
  return { json: { settings }, markdown: await handsFreeFigures(settings, log), partial: options.handsFreePieces.length < HANDS_FREE_PIECES.length };
}
