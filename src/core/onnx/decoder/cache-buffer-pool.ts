/**
 * Append-only KV cache buffers kept between sequences on one model. The first write into freshly
 * allocated memory costs a page fault per 4 KB (on a VM about 0.8 ms per decode step for a
 * Qwen3-0.6B-sized cache, most of the loop's own time); a warm model that writes into buffers it
 * has used before skips that. Bounded, so a long answer's cache is not kept for ever.
 *
 * The bound, 256 MB, holds one Qwen3-0.6B cache of ~1100 positions (229 KB a position): a
 * 512-token prompt's buffers (576 positions, 129 MB) are then reused by the next prompt instead of
 * faulting in fresh pages during the prefill (fp32, two engines alternating in one process: time to
 * first token 2.42–2.66 s against 2.52–2.90 s with a 64 MB bound, which could not hold them). The pool only
 * ever holds what a finished sequence used, so small models keep correspondingly little.
 */
export class CacheBufferPool {
  /** Free sets of buffers (one per cache input), each owned by nobody until taken. */
  private readonly free: Float32Array[][] = [];
  private bytes = 0;

  constructor(readonly maxBytes = 256 * 1024 * 1024) {}

  /** A free set of `count` buffers holding at least `floats` values each (now the caller's), if any. */
  take(count: number, floats: number): Float32Array[] | undefined {
    const at = this.free.findIndex((set) => set.length === count && set[0].length >= floats);
    if (at < 0) return undefined;
    const [set] = this.free.splice(at, 1);
    this.bytes -= bytesOf(set);
    return set;
  }

  /** Hands a set back; the oldest sets make room, and a set larger than the whole pool is dropped. */
  give(set: Float32Array[]): void {
    const size = bytesOf(set);
    if (set.length === 0 || size > this.maxBytes) return;
    while (this.bytes + size > this.maxBytes) this.bytes -= bytesOf(this.free.shift()!);
    this.free.push(set);
    this.bytes += size;
  }

  /** Bytes held in free sets. */
  get heldBytes(): number {
    return this.bytes;
  }

  clear(): void {
    this.free.length = 0;
    this.bytes = 0;
  }
}

function bytesOf(set: Float32Array[]): number {
  return set.reduce((n, b) => n + b.byteLength, 0);
}
