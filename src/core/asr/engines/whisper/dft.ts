/**
 * An exact mixed-radix FFT for any length whose factors are small (Whisper's n_fft is 400 =
 * 2⁴·5², which a radix-2 FFT cannot do without changing the frequency grid). Recursive
 * decimation in time over the smallest prime factor; twiddles are precomputed once per size.
 */
export class MixedRadixFft {
  private readonly cos: Float64Array;
  private readonly sin: Float64Array;
  private readonly factors: number[];
  private readonly scratchRe: Float64Array[];
  private readonly scratchIm: Float64Array[];

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1) throw new Error(`FFT size must be a positive integer, got ${size}`);
    this.cos = new Float64Array(size);
    this.sin = new Float64Array(size);
    for (let j = 0; j < size; j++) {
      this.cos[j] = Math.cos((2 * Math.PI * j) / size);
      this.sin[j] = -Math.sin((2 * Math.PI * j) / size);
    }
    this.factors = [];
    let n = size;
    for (let p = 2; n > 1; ) {
      if (n % p === 0) {
        this.factors.push(p);
        n /= p;
      } else p++;
    }
    // One pair of scratch buffers per recursion depth, so transforms allocate nothing.
    this.scratchRe = Array.from({ length: this.factors.length + 1 }, () => new Float64Array(size));
    this.scratchIm = Array.from({ length: this.factors.length + 1 }, () => new Float64Array(size));
  }

  private readonly stages = new Map<number, { cos: Float64Array; sin: Float64Array }>();

  /** W_n^{r·bin} for every output bin and input r of one recursion depth, looked up once. */
  private stageTwiddles(depth: number, n: number, p: number, m: number, step: number): { cos: Float64Array; sin: Float64Array } {
    let table = this.stages.get(depth);
    if (!table) {
      table = { cos: new Float64Array(n * p), sin: new Float64Array(n * p) };
      for (let bin = 0; bin < n; bin++) {
        for (let r = 0; r < p; r++) {
          const t = ((r * bin) % n) * step;
          table.cos[bin * p + r] = this.cos[t];
          table.sin[bin * p + r] = this.sin[t];
        }
      }
      this.stages.set(depth, table);
    }
    void m;
    return table;
  }

  /** Complex DFT of the real signal `input` (length `size`): X[k] = Σ x[n]·e^{-2πikn/N}, all N bins. */
  realForward(input: ArrayLike<number>, outRe: Float64Array, outIm: Float64Array): void {
    const re = this.scratchRe[0];
    const im = this.scratchIm[0];
    for (let i = 0; i < this.size; i++) {
      re[i] = input[i];
      im[i] = 0;
    }
    this.transform(re, im, 0, 1, this.size, outRe, outIm, 0, 0);
  }

  private transform(
    inRe: Float64Array, inIm: Float64Array, offset: number, stride: number, n: number,
    outRe: Float64Array, outIm: Float64Array, outOffset: number, depth: number,
  ): void {
    if (n === 1) {
      outRe[outOffset] = inRe[offset];
      outIm[outOffset] = inIm[offset];
      return;
    }
    if (depth === this.factors.length - 1) {
      // The last (prime-sized) stage: a direct n-point DFT straight from the strided input.
      const step = this.size / n;
      for (let bin = 0; bin < n; bin++) {
        let sumRe = 0;
        let sumIm = 0;
        for (let r = 0; r < n; r++) {
          const t = ((r * bin) % n) * step;
          const xRe = inRe[offset + r * stride];
          const xIm = inIm[offset + r * stride];
          sumRe += xRe * this.cos[t] - xIm * this.sin[t];
          sumIm += xRe * this.sin[t] + xIm * this.cos[t];
        }
        outRe[outOffset + bin] = sumRe;
        outIm[outOffset + bin] = sumIm;
      }
      return;
    }
    const p = this.factors[depth];
    const m = n / p;
    // Sub-transforms of the p decimated sequences land side by side in outRe/outIm.
    for (let r = 0; r < p; r++) {
      this.transform(inRe, inIm, offset + r * stride, stride * p, m, outRe, outIm, outOffset + r * m, depth + 1);
    }
    const tmpRe = this.scratchRe[depth + 1];
    const tmpIm = this.scratchIm[depth + 1];
    const step = this.size / n; // twiddle W_n^x = W_N^{x·step}
    if (p === 2) {
      // Radix-2 butterfly: X[k] = Y0[k] + W^k·Y1[k], X[k + m] = Y0[k] − W^k·Y1[k].
      for (let k = 0; k < m; k++) {
        const c = this.cos[k * step];
        const s = this.sin[k * step];
        const aRe = outRe[outOffset + k];
        const aIm = outIm[outOffset + k];
        const bRe = outRe[outOffset + m + k];
        const bIm = outIm[outOffset + m + k];
        const tRe = bRe * c - bIm * s;
        const tIm = bRe * s + bIm * c;
        tmpRe[k] = aRe + tRe;
        tmpIm[k] = aIm + tIm;
        tmpRe[k + m] = aRe - tRe;
        tmpIm[k + m] = aIm - tIm;
      }
    } else {
      const table = this.stageTwiddles(depth, n, p, m, step);
      for (let k = 0; k < m; k++) {
        for (let q = 0; q < p; q++) {
          const bin = k + q * m;
          let sumRe = 0;
          let sumIm = 0;
          const row = bin * p;
          for (let r = 0; r < p; r++) {
            const c = table.cos[row + r];
            const s = table.sin[row + r];
            const yRe = outRe[outOffset + r * m + k];
            const yIm = outIm[outOffset + r * m + k];
            sumRe += yRe * c - yIm * s;
            sumIm += yRe * s + yIm * c;
          }
          tmpRe[bin] = sumRe;
          tmpIm[bin] = sumIm;
        }
      }
    }
    for (let i = 0; i < n; i++) {
      outRe[outOffset + i] = tmpRe[i];
      outIm[outOffset + i] = tmpIm[i];
    }
  }
}
