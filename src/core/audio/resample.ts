/**
 * Band-limited sample-rate conversion: a Kaiser-windowed sinc interpolator whose cutoff
 * follows the lower of the two rates, so downsampling filters out what the new rate cannot
 * hold (no aliasing) and upsampling adds no images. The one-shot `resample` is the streaming
 * resampler fed once, so chunked and whole-buffer conversions give the same samples.
 */

/** Zero crossings of the sinc on each side of the centre (at the lower rate). */
const ZERO_CROSSINGS = 16;
/** Cutoff as a fraction of the lower Nyquist frequency: leaves room for the transition band. */
const CUTOFF = 0.94;
const KAISER_BETA = 8.6;
/** Above this many phases the kernel is computed per sample instead of tabled. */
const MAX_TABLE_PHASES = 4096;

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** Modified Bessel function of the first kind, order 0 (power series). */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const q = (x * x) / 4;
  for (let k = 1; k < 50; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-12) break;
  }
  return sum;
}

function checkRate(rate: number, name: string): void {
  if (!Number.isInteger(rate) || rate <= 0) throw new RangeError(`${name} sample rate must be a positive whole number of Hz, got ${rate}`);
}

/**
 * Streaming converter: `push` returns the output that the input so far fully determines;
 * `flush` returns the rest (the input ends in silence). Concatenated outputs equal
 * `resample()` of the concatenated input.
 */
export class StreamingResampler {
  private readonly up: number;
  private readonly down: number;
  private readonly half: number;
  private readonly cutoff: number;
  private readonly i0Beta = besselI0(KAISER_BETA);
  private readonly table: Float32Array | undefined;
  private readonly taps: number;
  /** Input not yet consumed; history[0] is absolute input sample `historyStart`. */
  private history = new Float32Array(0);
  private historyStart = 0;
  private received = 0;
  /** Index of the next output sample. */
  private produced = 0;
  private flushed = false;

  constructor(readonly fromRate: number, readonly toRate: number) {
    checkRate(fromRate, "input");
    checkRate(toRate, "output");
    const g = gcd(fromRate, toRate);
    this.up = toRate / g;
    this.down = fromRate / g;
    const scale = Math.min(1, toRate / fromRate);
    this.cutoff = CUTOFF * scale;
    this.half = Math.ceil(ZERO_CROSSINGS / scale);
    this.taps = 2 * this.half;
    if (fromRate !== toRate && this.up <= MAX_TABLE_PHASES) {
      // One row of taps per output phase (frac = phase / up).
      this.table = new Float32Array(this.up * this.taps);
      for (let phase = 0; phase < this.up; phase++) {
        const frac = phase / this.up;
        for (let k = 0; k < this.taps; k++) this.table[phase * this.taps + k] = this.kernel(k - this.half + 1 - frac);
      }
    }
  }

  /** Filter weight at distance t input samples from the output instant. */
  private kernel(t: number): number {
    const r = t / this.half;
    if (r <= -1 || r >= 1) return 0;
    const x = Math.PI * this.cutoff * t;
    const sinc = t === 0 ? 1 : Math.sin(x) / x;
    return this.cutoff * sinc * (besselI0(KAISER_BETA * Math.sqrt(1 - r * r)) / this.i0Beta);
  }

  push(chunk: Float32Array): Float32Array {
    if (this.flushed) throw new Error("StreamingResampler: push after flush");
    if (this.fromRate === this.toRate) return chunk.slice();
    const joined = new Float32Array(this.history.length + chunk.length);
    joined.set(this.history);
    joined.set(chunk, this.history.length);
    this.history = joined;
    this.received += chunk.length;
    return this.run(false);
  }

  flush(): Float32Array {
    if (this.flushed) return new Float32Array(0);
    this.flushed = true;
    if (this.fromRate === this.toRate) return new Float32Array(0);
    return this.run(true);
  }

  private run(final: boolean): Float32Array {
    const { up, down, half, taps, table } = this;
    // Output n sits at input position n·down/up; it needs inputs up to floor(pos) + half.
    const total = final ? Math.ceil((this.received * up) / down) : Infinity;
    const out: number[] = [];
    const hist = this.history;
    const base = this.historyStart;
    for (;;) {
      const n = this.produced;
      if (n >= total) break;
      const num = n * down;
      const centre = Math.floor(num / up);
      const phase = num - centre * up;
      if (!final && centre + half >= this.received) break;
      const first = centre - half + 1; // absolute index of tap 0
      let acc = 0;
      if (table) {
        const row = phase * taps;
        for (let k = 0; k < taps; k++) {
          const idx = first + k - base;
          if (idx >= 0 && idx < hist.length) acc += hist[idx] * table[row + k];
        }
      } else {
        const frac = phase / up;
        for (let k = 0; k < taps; k++) {
          const idx = first + k - base;
          if (idx >= 0 && idx < hist.length) acc += hist[idx] * this.kernel(k - half + 1 - frac);
        }
      }
      out.push(acc);
      this.produced++;
    }
    // Keep only the input that later outputs can still reach.
    const nextCentre = Math.floor((this.produced * down) / up);
    const keepFrom = Math.max(base, nextCentre - half + 1);
    if (keepFrom > base) {
      this.history = hist.slice(Math.min(keepFrom - base, hist.length));
      this.historyStart = keepFrom;
    }
    return Float32Array.from(out);
  }
}

/** `input` at `fromRate` converted to `toRate` (a copy; the same samples when the rates match). */
export function resample(input: Float32Array, fromRate: number, toRate: number): Float32Array {
  checkRate(fromRate, "input");
  checkRate(toRate, "output");
  if (fromRate === toRate) return input.slice();
  const resampler = new StreamingResampler(fromRate, toRate);
  const head = resampler.push(input);
  const tail = resampler.flush();
  const out = new Float32Array(head.length + tail.length);
  out.set(head);
  out.set(tail, head.length);
  return out;
}
