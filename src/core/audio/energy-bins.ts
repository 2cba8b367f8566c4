/**
 * Signal energy in 10 ms bins on a wall-clock time line (ms), kept for the last few seconds
 * in a ring. The reference bus and the echo guard both use it: comparing how loud the
 * microphone is with how loud the played audio was needs both on one time line.
 */
export const BIN_MS = 10;

export class EnergyBins {
  private readonly ids: Float64Array;
  private readonly energy: Float64Array;
  private readonly samples: Float64Array;

  /** `seconds`: how far back bins are kept. */
  constructor(seconds = 10) {
    const n = Math.ceil((seconds * 1000) / BIN_MS);
    this.ids = new Float64Array(n).fill(-1);
    this.energy = new Float64Array(n);
    this.samples = new Float64Array(n);
  }

  /** Adds `samples` (at `sampleRate`) whose first sample sounds at `startMs`. */
  add(samples: Float32Array, sampleRate: number, startMs: number): void {
    const msPerSample = 1000 / sampleRate;
    let bin = Math.floor(startMs / BIN_MS);
    let slot = this.slot(bin);
    let sum = 0;
    let count = 0;
    for (let i = 0; i < samples.length; i++) {
      const b = Math.floor((startMs + i * msPerSample) / BIN_MS);
      if (b !== bin) {
        this.accumulate(slot, bin, sum, count);
        bin = b;
        slot = this.slot(bin);
        sum = 0;
        count = 0;
      }
      sum += samples[i] * samples[i];
      count++;
    }
    if (count > 0) this.accumulate(slot, bin, sum, count);
  }

  /** Forgets every bin from `fromMs` on (played audio that was dropped before it sounded). */
  clearFrom(fromMs: number): void {
    const first = Math.floor(fromMs / BIN_MS);
    for (let i = 0; i < this.ids.length; i++) if (this.ids[i] >= first) this.ids[i] = -1;
  }

  /** Mean power (mean square) of bin `bin`; 0 when nothing was added there. */
  binPower(bin: number): number {
    const slot = this.slot(bin);
    return this.ids[slot] === bin && this.samples[slot] > 0 ? this.energy[slot] / this.samples[slot] : 0;
  }

  /** Mean power over [fromMs, toMs): the mean of the bins' powers (bins with nothing count as silence). */
  power(fromMs: number, toMs: number): number {
    const first = Math.floor(fromMs / BIN_MS);
    const last = Math.max(first, Math.ceil(toMs / BIN_MS) - 1);
    let sum = 0;
    for (let b = first; b <= last; b++) sum += this.binPower(b);
    return sum / (last - first + 1);
  }

  /** Bin powers over [fromMs, toMs), one per 10 ms. */
  envelope(fromMs: number, toMs: number): Float64Array {
    const first = Math.floor(fromMs / BIN_MS);
    const count = Math.max(0, Math.ceil(toMs / BIN_MS) - first);
    const out = new Float64Array(count);
    for (let i = 0; i < count; i++) out[i] = this.binPower(first + i);
    return out;
  }

  private slot(bin: number): number {
    const n = this.ids.length;
    return ((bin % n) + n) % n;
  }

  private accumulate(slot: number, bin: number, sum: number, count: number): void {
    if (this.ids[slot] !== bin) {
      this.ids[slot] = bin;
      this.energy[slot] = 0;
      this.samples[slot] = 0;
    }
    this.energy[slot] += sum;
    this.samples[slot] += count;
  }
}
