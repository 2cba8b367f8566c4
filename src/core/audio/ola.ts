/**
 * Overlap-add across chunk seams. Each chunk's audio runs `overlap` samples past the part
 * it emits; that tail is held back and blended into the head of the next chunk with
 * complementary linear weights (fade-out + fade-in = 1 on every sample), so nothing is
 * emitted twice and a seam between two slightly different decodes becomes a short crossfade.
 */

/** Fade-in weight of sample `j` of an `n`-sample overlap; the fade-out weight is 1 minus it. */
export function crossfadeWeight(j: number, n: number): number {
  return (j + 0.5) / n;
}

/**
 * Writes into `head` (in place) the blend of the held `tail` with the first `tail.length`
 * samples of `head`: tail fades out, head fades in. Returns `head`.
 */
export function blendInto(head: Float32Array, tail: Float32Array): Float32Array {
  const n = Math.min(tail.length, head.length);
  for (let j = 0; j < n; j++) {
    const w = crossfadeWeight(j, tail.length);
    head[j] = tail[j] * (1 - w) + head[j] * w;
  }
  return head;
}

/** Keeps the pending tail between chunks; only that tail is ever retained. */
export class OverlapAdd {
  private tail: Float32Array | undefined;

  /**
   * `audio` = the chunk's samples to emit followed by `holdBack` samples that overlap the next
   * chunk. Returns the samples to emit now (blended with the previous tail), keeps the new tail.
   */
  push(audio: Float32Array, holdBack: number): Float32Array {
    const emitLength = audio.length - holdBack;
    if (emitLength < 0) throw new Error(`overlap-add: chunk of ${audio.length} samples cannot hold back ${holdBack}`);
    const out = audio.slice(0, emitLength);
    if (this.tail) blendInto(out, this.tail);
    this.tail = holdBack > 0 ? audio.slice(emitLength) : undefined;
    return out;
  }

  /** Samples currently held back. */
  get pending(): number {
    return this.tail?.length ?? 0;
  }

  reset(): void {
    this.tail = undefined;
  }
}

/** Linear fade-in over the first `n` samples and fade-out over the last `n` samples (in place). */
export function fadeIn(audio: Float32Array, n: number): void {
  const m = Math.min(n, audio.length);
  for (let j = 0; j < m; j++) audio[j] *= j / m;
}

export function fadeOut(audio: Float32Array, n: number): void {
  const m = Math.min(n, audio.length);
  for (let j = 0; j < m; j++) audio[audio.length - 1 - j] *= j / m;
}
