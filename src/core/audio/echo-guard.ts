/**
 * Self-interruption guard: tells the assistant's own voice, heard back through the
 * microphone, from a person speaking. It compares the microphone's power with the played
 * reference's power over the same stretch, shifted by the playback delay (speaker → air →
 * microphone → frames). How loud the echo is relative to the reference (the coupling) is
 * measured while playing: a low percentile of the recent microphone/reference ratios, since
 * most of the time nobody talks over the assistant. While the microphone is not louder than
 * that echo level by `margin_db`, what it hears is taken to be the echo. The delay is
 * measured by cross-correlating the two energy envelopes (or fixed with `delay_ms`); a fixed
 * `ratio_db` replaces the measured coupling.
 *
 * Not an echo canceller: it gates decisions (wake, speech start), it does not clean audio.
 * (No well-kept echo canceller exists on npm for Node; see the README's hands-free notes.)
 */
import { BIN_MS, EnergyBins } from "./energy-bins";
import type { ReferenceChannel } from "./reference-bus";

export interface EchoGuardOptions {
  /** How far (dB) the microphone must be over the measured echo level to count as a person; default 4. */
  margin_db?: number;
  /** A fixed microphone-to-reference power ratio (dB) below which the microphone counts as echo, instead of the measured coupling. */
  ratio_db?: number;
  /** Fixed playback delay, ms; default: measured. */
  delay_ms?: number;
  /** Largest delay the measurement considers, ms; default 500. */
  max_delay_ms?: number;
}

/** What detectors need from a guard. */
export interface OwnVoiceGuard {
  /** Records microphone samples whose last sample was captured at `endMs` (wall clock). */
  observe(frame: Float32Array, sampleRate: number, endMs: number): void;
  /** Whether the microphone over [fromMs, toMs) is the assistant's own voice. */
  ownVoice(fromMs: number, toMs: number): boolean;
}

/** Reference power below this (about −60 dBFS) means nothing was playing. */
const REFERENCE_FLOOR = 1e-6;
const MEASURE_EVERY_MS = 500;
const MEASURE_SPAN_MS = 3000;
/** A measured delay is kept only when the envelopes correlate at least this well. */
const MIN_CORRELATION = 0.5;
/** Coupling: this percentile of the last COUPLING_KEEP microphone/reference ratios of 200 ms. */
const COUPLING_PERCENTILE = 0.2;
const COUPLING_KEEP = 50;
const COUPLING_SPAN_MS = 200;
/** Before any coupling is measured: the microphone must be louder than the reference itself. */
const UNMEASURED_RATIO = 1;

export class EchoGuard implements OwnVoiceGuard {
  private readonly mic = new EnergyBins(10);
  private readonly fixedRatio: number | undefined;
  private readonly margin: number;
  private readonly maxDelayMs: number;
  private readonly couplings: number[] = [];
  private lastCoupling = -Infinity;
  private measured: number | undefined;
  private lastMeasure = -Infinity;
  private latestMs = -Infinity;

  constructor(readonly reference: ReferenceChannel, private readonly options: EchoGuardOptions = {}) {
    this.fixedRatio = options.ratio_db === undefined ? undefined : Math.pow(10, options.ratio_db / 10);
    this.margin = Math.pow(10, (options.margin_db ?? 4) / 10);
    this.maxDelayMs = options.max_delay_ms ?? 500;
    if (options.delay_ms !== undefined && !(options.delay_ms >= 0)) throw new RangeError(`echo guard delay must be ≥ 0 ms, got ${options.delay_ms}`);
  }

  /** The playback delay in use (ms): fixed, measured, or undefined while not yet measured. */
  get delayMs(): number | undefined {
    return this.options.delay_ms ?? this.measured;
  }

  observe(frame: Float32Array, sampleRate: number, endMs: number): void {
    this.mic.add(frame, sampleRate, endMs - (frame.length * 1000) / sampleRate);
    this.latestMs = Math.max(this.latestMs, endMs);
    if (this.options.delay_ms === undefined && endMs - this.lastMeasure >= MEASURE_EVERY_MS) {
      this.lastMeasure = endMs;
      this.measure(endMs);
    }
    if (endMs - this.lastCoupling >= COUPLING_SPAN_MS) {
      this.lastCoupling = endMs;
      this.measureCoupling(endMs);
    }
  }

  /** Echo power relative to the reference power, measured (undefined until playback was heard). */
  get coupling(): number | undefined {
    if (this.couplings.length < 5) return undefined;
    const sorted = [...this.couplings].sort((a, b) => a - b);
    return sorted[Math.floor(COUPLING_PERCENTILE * (sorted.length - 1))];
  }

  /** The microphone/reference ratio under which the microphone counts as echo. */
  get echoRatio(): number {
    if (this.fixedRatio !== undefined) return this.fixedRatio;
    const c = this.coupling;
    return c === undefined ? UNMEASURED_RATIO : c * this.margin;
  }

  private measureCoupling(nowMs: number): void {
    const delays = this.delayMs !== undefined ? [this.delayMs] : this.candidateDelays();
    // Unknown delay (e.g. the microphone does not hear the speaker at all): the loudest alignment.
    let reference = 0;
    for (const d of delays) reference = Math.max(reference, this.reference.bins.power(nowMs - COUPLING_SPAN_MS - d, nowMs - d));
    if (reference < REFERENCE_FLOOR * 10) return;
    this.couplings.push(this.mic.power(nowMs - COUPLING_SPAN_MS, nowMs) / reference);
    if (this.couplings.length > COUPLING_KEEP) this.couplings.shift();
  }

  ownVoice(fromMs: number, toMs: number): boolean {
    const delays = this.delayMs !== undefined ? [this.delayMs] : this.candidateDelays();
    // Unknown delay: the loudest alignment, so echo is never mistaken for a person.
    let reference = 0;
    for (const d of delays) reference = Math.max(reference, this.reference.bins.power(fromMs - d, toMs - d));
    if (reference < REFERENCE_FLOOR) return false;
    return this.mic.power(fromMs, toMs) < reference * this.echoRatio;
  }

  private candidateDelays(): number[] {
    const out: number[] = [];
    for (let d = 0; d <= this.maxDelayMs; d += 2 * BIN_MS) out.push(d);
    return out;
  }

  /** Cross-correlates the last few seconds of microphone and reference envelopes over the candidate delays. */
  private measure(nowMs: number): void {
    const mic = this.mic.envelope(nowMs - MEASURE_SPAN_MS, nowMs);
    let best = -1;
    let bestDelay = 0;
    for (let d = 0; d <= this.maxDelayMs; d += BIN_MS) {
      const ref = this.reference.bins.envelope(nowMs - MEASURE_SPAN_MS - d, nowMs - d);
      const c = correlation(mic, ref);
      if (c > best) {
        best = c;
        bestDelay = d;
      }
    }
    if (best >= MIN_CORRELATION) this.measured = bestDelay;
  }
}

/** Pearson correlation of two equally long series; 0 when either is flat. */
function correlation(a: Float64Array, b: Float64Array): number {
  const n = Math.min(a.length, b.length);
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i];
    mb += b[i];
  }
  ma /= n;
  mb /= n;
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < n; i++) {
    const x = a[i] - ma;
    const y = b[i] - mb;
    ab += x * y;
    aa += x * x;
    bb += y * y;
  }
  return aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : 0;
}
