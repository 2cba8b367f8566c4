/**
 * Picks the next token from a row of logits: greedy at temperature 0, otherwise
 * repetition penalty → temperature → top-k → top-p → a draw from a seeded PRNG, so the
 * same seed on the same logits always gives the same tokens.
 *
 * It also draws from the row's k best entries alone (TopLogits, from a decoder graph with
 * top-logits-graph.ts's outputs) when it needs no more than those: greedy (k ≥ 1) or top-k ≤ k
 * without a repetition penalty (`topCandidatesNeeded`). Same candidates in the same order, same
 * arithmetic: the same token as from the whole row.
 */

/** A logits row's k best entries, best first (equal values: lower index first). */
export interface TopLogits {
  values: Float32Array;
  /** Their indices in the row. */
  ids: Int32Array;
}

/** What a decoder step returns: the whole row, or its k best entries when asked for those. */
export type LogitsRow = Float32Array | TopLogits;

export interface SamplingOptions {
  /** 0 (or less) is greedy. */
  temperature: number;
  /** 0 or absent: no top-k cut. */
  topK?: number;
  /** 1 or absent: no nucleus cut. */
  topP?: number;
  /** 1 or absent: no penalty. >1 discourages tokens already in the context. */
  repetitionPenalty?: number;
  seed: number;
}

/** mulberry32: small, fast, and fully determined by its 32-bit seed. */
export class SeededPrng {
  private state: number;

  constructor(seed: number) {
    // Fold any finite number (negative, fractional, > 2^32) into 32 bits deterministically.
    this.state = Number.isFinite(seed) ? (Math.floor(Math.abs(seed)) % 0x1_0000_0000) ^ (seed < 0 ? 0x9e3779b9 : 0) : 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
}

/** Index of the largest value; the lowest index wins ties (as argmax in run.c and torch). */
export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

export class Sampler {
  private readonly prng: SeededPrng;

  constructor(private readonly options: SamplingOptions) {
    if (!(options.temperature >= 0)) throw new Error(`temperature must be 0 or more, got ${options.temperature}`);
    if (options.topK !== undefined && !(Number.isInteger(options.topK) && options.topK >= 0)) {
      throw new Error(`top_k must be a whole number ≥ 0, got ${options.topK}`);
    }
    if (options.topP !== undefined && !(options.topP > 0 && options.topP <= 1)) {
      throw new Error(`top_p must be in (0, 1], got ${options.topP}`);
    }
    if (options.repetitionPenalty !== undefined && !(options.repetitionPenalty > 0)) {
      throw new Error(`repetition_penalty must be above 0, got ${options.repetitionPenalty}`);
    }
    this.prng = new SeededPrng(options.seed);
  }

  /**
   * How many best entries of a row this sampler needs to draw exactly what it would from the whole
   * row (undefined: the whole row): 1 when greedy, top-k when it cuts to top-k; never with a
   * repetition penalty (it moves entries of the context into or out of the best).
   */
  get topCandidatesNeeded(): number | undefined {
    const { temperature, topK, repetitionPenalty } = this.options;
    if (repetitionPenalty !== undefined && repetitionPenalty !== 1) return undefined;
    if (temperature <= 0) return 1;
    return topK && topK > 0 ? topK : undefined;
  }

  /**
   * The next token id. `logits` is not modified. `context` are the ids the repetition
   * penalty looks at (prompt and generated so far).
   */
  next(logits: LogitsRow, context: Iterable<number> = []): number {
    if (!(logits instanceof Float32Array)) return this.nextOfTop(logits);
    const scores = this.penalised(logits, context);
    if (this.options.temperature <= 0) return argmax(scores);
    return this.draw(scores);
  }

  /** The next token id from a row's best entries (at least topCandidatesNeeded of them). */
  private nextOfTop(top: TopLogits): number {
    const needed = this.topCandidatesNeeded;
    if (needed === undefined || top.ids.length < needed) {
      throw new Error(`this sampler needs ${needed === undefined ? "the whole logits row" : `the ${needed} best logits`}, not ${top.ids.length}`);
    }
    if (this.options.temperature <= 0) return top.ids[0];
    return this.drawAmong(top.ids.subarray(0, needed), top.values.subarray(0, needed), top.values[0]);
  }

  private penalised(logits: Float32Array, context: Iterable<number>): Float32Array {
    const penalty = this.options.repetitionPenalty ?? 1;
    if (penalty === 1) return logits;
    const scores = logits.slice();
    // As in transformers: each distinct context id once; positive logits shrink, negative grow.
    for (const id of new Set(context)) {
      if (id < 0 || id >= scores.length) continue;
      scores[id] = scores[id] > 0 ? scores[id] / penalty : scores[id] * penalty;
    }
    return scores;
  }

  private draw(scores: Float32Array): number {
    const { temperature } = this.options;
    const vocab = scores.length;
    const topK = this.options.topK && this.options.topK > 0 ? Math.min(this.options.topK, vocab) : vocab;
    const topP = this.options.topP ?? 1;
    const max = scores[argmax(scores)];

    // Candidates best first (ties: lower id), so the draw is deterministic. A top-k cut's mass is
    // its candidates' own (drawAmong sums it); a nucleus without one is cut from the whole row's.
    const scoresOf = (candidates: number[]) => Float32Array.from(candidates, (id) => scores[id]);
    if (topK < vocab) {
      const candidates = topCandidates(scores, topK);
      return this.drawAmong(candidates, scoresOf(candidates), max);
    }
    const weights = new Float64Array(vocab);
    let mass = 0;
    for (let id = 0; id < vocab; id++) mass += weights[id] = Math.exp((scores[id] - max) / temperature);
    if (topP >= 1) return this.pick(weights, mass);
    const candidates = nucleusCandidates(scores, weights, mass, topP, max, temperature);
    return this.drawAmong(candidates, scoresOf(candidates), max, mass);
  }

  /**
   * A draw among `candidates` (best first) with scores `candidateScores`: temperature, top-p, then
   * the PRNG. `max` is the best score; `mass` the candidates' total weight (computed when absent).
   */
  private drawAmong(candidates: ArrayLike<number>, candidateScores: Float32Array, max: number, mass?: number): number {
    const { temperature } = this.options;
    const topP = this.options.topP ?? 1;
    const weights = Float64Array.from(candidateScores, (score) => Math.exp((score - max) / temperature));
    if (mass === undefined) {
      mass = 0;
      for (let i = 0; i < weights.length; i++) mass += weights[i];
    }
    let keep = weights.length;
    if (topP < 1) {
      // Smallest prefix whose probability mass reaches top_p (always at least one token).
      let reached = 0;
      for (keep = 0; keep < weights.length; ) {
        reached += weights[keep++] / mass;
        if (reached >= topP) break;
      }
    }
    const kept = weights.subarray(0, keep);
    const index = this.pick(kept, kept.reduce((a, b) => a + b, 0));
    return candidates[index];
  }

  /** An index drawn in proportion to `weights` (which sum to `total`). */
  private pick(weights: Float64Array, total: number): number {
    let r = this.prng.next() * total;
    for (let i = 0; i < weights.length; i++) {
      r -= weights[i];
      if (r < 0) return i;
    }
    return weights.length - 1;
  }
}

const NUCLEUS_BUCKETS = 2048;
/** Weights below e^-NUCLEUS_RANGE of the best share the last bucket. */
const NUCLEUS_RANGE = 40;

/**
 * The tokens that can be in the top-p nucleus, best first, without sorting the whole
 * vocabulary (150k entries for Qwen3, slower than a small model's forward pass): tokens are
 * bucketed by log-weight, buckets are summed best first until they hold top_p of the mass,
 * and only the tokens of those buckets are sorted. Every token outside them is worse than all
 * tokens inside, and the inside already reaches top_p, so the exact cut lies among them.
 */
function nucleusCandidates(
  scores: Float32Array,
  weights: Float64Array,
  mass: number,
  topP: number,
  max: number,
  temperature: number,
): number[] {
  const bucketOf = (id: number) =>
    Math.min(NUCLEUS_BUCKETS - 1, Math.floor((((max - scores[id]) / temperature) * NUCLEUS_BUCKETS) / NUCLEUS_RANGE));
  const bucketMass = new Float64Array(NUCLEUS_BUCKETS);
  for (let id = 0; id < scores.length; id++) bucketMass[bucketOf(id)] += weights[id];
  let last = 0;
  for (let reached = 0; last < NUCLEUS_BUCKETS; last++) {
    reached += bucketMass[last] / mass;
    if (reached >= topP) break;
  }
  const candidates: number[] = [];
  for (let id = 0; id < scores.length; id++) if (bucketOf(id) <= last) candidates.push(id);
  return candidates.sort((a, b) => scores[b] - scores[a] || a - b);
}

/** Ids of the k highest scores, best first (ties: lower id first). */
function topCandidates(scores: Float32Array, k: number): number[] {
  const order = (a: number, b: number) => scores[b] - scores[a] || a - b;
  if (k >= scores.length) {
    return Array.from({ length: scores.length }, (_, i) => i).sort(order);
  }
  // Partial selection: keep a sorted list of the best k seen so far (k is small in practice).
  const best: number[] = [];
  // The k-th best score so far: a plain comparison turns most ids away (a codec LM's 65537 scores
  // each step) before the ordering closure, which decides ties and NaNs exactly as before.
  let worst = -Infinity;
  for (let id = 0; id < scores.length; id++) {
    if (best.length === k && (scores[id] < worst || order(id, best[k - 1]) >= 0)) continue;
    let at = best.length;
    while (at > 0 && order(id, best[at - 1]) < 0) at--;
    best.splice(at, 0, id);
    if (best.length > k) best.pop();
    if (best.length === k) worst = scores[best[k - 1]];
  }
  return best;
}
