/**
 * A small seeded random source for fixture weights: the same seed gives the same model
 * on every machine and Node version (Math.random cannot be seeded).
 */

/** mulberry32: a 32-bit generator, plenty for test weights; returns floats in [0, 1). */
export class SeededRandom {
  private state: number;
  private spare: number | undefined;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Standard normal sample (Box-Muller, the second value kept for the next call). */
  normal(): number {
    if (this.spare !== undefined) {
      const value = this.spare;
      this.spare = undefined;
      return value;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** `length` normal samples scaled by `std`, shifted by `mean`. */
  normalArray(length: number, std = 1, mean = 0): Float32Array {
    const out = new Float32Array(length);
    for (let i = 0; i < length; i++) out[i] = mean + std * this.normal();
    return out;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
}
