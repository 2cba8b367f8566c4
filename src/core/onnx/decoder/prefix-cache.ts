/**
 * Prefix KV cache: the cache rows of recent sequences, kept per model, so that a prompt that
 * starts like an earlier one (the same system prompt, the same conversation so far) pays the
 * prefill only for its new tokens. A position's keys and values depend only on the tokens up to
 * it (causal attention), so the rows of a shared prefix are the same whoever computed them.
 *
 * Bounded in bytes (least recently used entries leave first) and in entries; an entry that one
 * longer sequence extends is replaced by it rather than kept twice.
 */
import type { LoadContext } from "../../types";
import type { CacheSnapshot } from "./kv-cache-decoder";

/**
 * config.prefix_cache_mb: megabytes of KV cache a model keeps between prompts (0 turns the prefix
 * cache off); `defaultMb` when unset (the LLM: 256, a codec voice's LM: 32).
 */
export function prefixCacheBytes(ctx: LoadContext, defaultMb: number): number {
  const value = ctx.spec.config?.prefix_cache_mb;
  if (value === undefined || value === null) return defaultMb * 1024 * 1024;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new Error(`config.prefix_cache_mb of model ${ctx.source.id} must be a number of megabytes ≥ 0 (0 turns the prefix cache off), got ${JSON.stringify(value)}`);
  }
  return Math.round(value * 1024 * 1024);
}

export interface PrefixHit {
  /** How many leading prompt tokens the snapshot covers. */
  positions: number;
  snapshot: CacheSnapshot;
}

interface Entry {
  ids: number[];
  snapshot: CacheSnapshot;
  bytes: number;
  usedAt: number;
}

/** Shorter shared prefixes are cheaper to prefill than to copy and look up. */
export const MIN_PREFIX_TOKENS = 8;

export class PrefixCache {
  private entries: Entry[] = [];
  private bytes = 0;
  private clock = 0;

  constructor(
    readonly maxBytes = 256 * 1024 * 1024,
    readonly maxEntries = 8,
  ) {}

  /**
   * The longest cached prefix of `ids` that still leaves at least one token to feed (the
   * next logits come from feeding it), or undefined when none reaches MIN_PREFIX_TOKENS.
   */
  lookup(ids: readonly number[]): PrefixHit | undefined {
    let best: Entry | undefined;
    let bestLength = 0;
    for (const entry of this.entries) {
      const length = Math.min(commonPrefix(entry.ids, ids), ids.length - 1, entry.snapshot.positions);
      if (length > bestLength) {
        best = entry;
        bestLength = length;
      }
    }
    if (!best || bestLength < MIN_PREFIX_TOKENS) return undefined;
    best.usedAt = ++this.clock;
    const snapshot = bestLength === best.snapshot.positions ? best.snapshot : truncate(best.snapshot, bestLength);
    return { positions: bestLength, snapshot };
  }

  /**
   * Whether a sequence of these ids adds anything: false when a cached entry already starts
   * with all of them (then taking a snapshot would only cost a copy).
   */
  wants(ids: readonly number[]): boolean {
    if (ids.length < MIN_PREFIX_TOKENS) return false;
    return !this.entries.some((entry) => entry.ids.length >= ids.length && commonPrefix(entry.ids, ids) === ids.length);
  }

  /** Keeps the snapshot of the sequence `ids` (ids.length === snapshot.positions). */
  store(ids: readonly number[], snapshot: CacheSnapshot): void {
    if (ids.length !== snapshot.positions) throw new Error(`a cache snapshot of ${snapshot.positions} positions stored for ${ids.length} ids`);
    const bytes = snapshot.arrays.reduce((n, a) => n + a.byteLength, 0);
    if (bytes > this.maxBytes) return;
    // Entries this sequence extends are now redundant.
    for (const entry of this.entries.filter((e) => commonPrefix(e.ids, ids) === e.ids.length)) this.remove(entry);
    while (this.entries.length >= this.maxEntries || this.bytes + bytes > this.maxBytes) {
      this.remove(this.entries.reduce((a, b) => (a.usedAt <= b.usedAt ? a : b)));
    }
    this.entries.push({ ids: [...ids], snapshot, bytes, usedAt: ++this.clock });
    this.bytes += bytes;
  }

  get heldBytes(): number {
    return this.bytes;
  }

  get size(): number {
    return this.entries.length;
  }

  clear(): void {
    this.entries = [];
    this.bytes = 0;
  }

  private remove(entry: Entry): void {
    this.entries = this.entries.filter((e) => e !== entry);
    this.bytes -= entry.bytes;
  }
}

function commonPrefix(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

/**
 * The first `positions` of a snapshot, without copying (seed() copies anyway): a view for
 * position-major arrays; heads-major arrays stay whole with their heads `stride` positions apart
 * (copying them here cost a Qwen3-0.6B-sized turn ~15 ms of its time to first token).
 */
function truncate(snapshot: CacheSnapshot, positions: number): CacheSnapshot {
  if (snapshot.appendOnly) {
    const perPosition = snapshot.arrays[0].length / snapshot.positions;
    return { ...snapshot, positions, arrays: snapshot.arrays.map((a) => a.subarray(0, positions * perPosition)) };
  }
  return { ...snapshot, positions, stride: snapshot.stride ?? snapshot.positions };
}
