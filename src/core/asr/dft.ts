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
    const p = this.factors[depth];
    const m = n / p;
    // Sub-transforms of the p decimated sequences land side by side in outRe/outIm.
    for (let r = 0; r < p; r++) {
      this.transform(inRe, inIm, offset + r * stride, stride * p, m, outRe, outIm, outOffset + r * m, depth + 1);
    }
    const tmpRe = this.scratchRe[depth + 1];
    const tmpIm = this.scratchIm[depth + 1];
    const step = this.size / n; // twiddle W_n^x = W_N^{x·step}
    for (let k = 0; k < m; k++) {
      for (let q = 0; q < p; q++) {
        const bin = k + q * m;
        let sumRe = 0;
        let sumIm = 0;
        for (let r = 0; r < p; r++) {
          const t = ((r * bin) % n) * step;
          const c = this.cos[t];
          const s = this.sin[t];
          const yRe = outRe[outOffset + r * m + k];
          const yIm = outIm[outOffset + r * m + k];
          sumRe += yRe * c - yIm * s;
          sumIm += yRe * s + yIm * c;
        }
        tmpRe[bin] = sumRe;
        tmpIm[bin] = sumIm;
      }
    }
    for (let i = 0; i < n; i++) {
      outRe[outOffset + i] = tmpRe[i];
      outIm[outOffset + i] = tmpIm[i];
    }
  }
}
