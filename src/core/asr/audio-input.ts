/**
 * Audio going into the ASR/VAD side: node payloads to float samples, a streaming resampler
 * to 16 kHz, and WAV files for the CLI. (The audio family's src/core/audio modules were not
 * available while the asr family was written; this stays small and self-contained.)
 */
import * as fs from "fs";

/** Float samples from a frame payload: Float32Array, Int16Array, Buffer of s16le, or number[]. */
export function frameToFloat32(payload: unknown): Float32Array {
  if (payload instanceof Float32Array) return payload;
  if (payload instanceof Int16Array) return Float32Array.from(payload, (s) => s / 32768);
  if (Buffer.isBuffer(payload)) {
    if (payload.length % 2 !== 0) throw new Error(`a Buffer payload must hold 16-bit little-endian samples (an even number of bytes, got ${payload.length})`);
    const out = new Float32Array(payload.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = payload.readInt16LE(2 * i) / 32768;
    return out;
  }
  if (Array.isArray(payload)) {
    const out = new Float32Array(payload.length);
    for (let i = 0; i < payload.length; i++) {
      const v = payload[i];
      if (typeof v !== "number") throw new Error(`an array payload must hold numbers; item ${i} is ${v === null ? "null" : typeof v}`);
      out[i] = v;
    }
    return out;
  }
  const kind = payload === null ? "null" : ArrayBuffer.isView(payload) ? payload.constructor.name : typeof payload;
  throw new Error(`payload must be an audio frame: Float32Array, Int16Array, Buffer of 16-bit PCM or an array of numbers (got ${kind})`);
}

/** Index and value of the first NaN/±Infinity sample, if any. */
export function firstNonFinite(samples: Float32Array): { index: number; value: number } | undefined {
  for (let i = 0; i < samples.length; i++) if (!Number.isFinite(samples[i])) return { index: i, value: samples[i] };
  return undefined;
}

/**
 * Band-limited (windowed-sinc, Blackman) resampling of a stream, frame by frame: output is
 * the same as resampling the concatenated input, except the last `taps` input samples wait
 * for the next frame (or `end()`).
 */
export class StreamingResampler {
  private readonly step: number;
  private readonly cutoff: number;
  private readonly half: number;
  private history = new Float32Array(0);
  /** Absolute input index of history[0]. */
  private historyStart = 0;
  private received = 0;
  private produced = 0;

  constructor(readonly inRate: number, readonly outRate: number, halfTaps = 16) {
    if (!(inRate > 0) || !(outRate > 0)) throw new Error(`sample rates must be positive (got ${inRate} → ${outRate})`);
    this.step = inRate / outRate;
    this.cutoff = Math.min(1, outRate / inRate) * 0.97;
    this.half = Math.ceil(halfTaps / Math.min(1, outRate / inRate));
  }

  push(frame: Float32Array): Float32Array {
    if (this.inRate === this.outRate) return frame;
    const joined = new Float32Array(this.history.length + frame.length);
    joined.set(this.history);
    joined.set(frame, this.history.length);
    this.history = joined;
    this.received += frame.length;
    return this.drain(false);
  }

  end(): Float32Array {
    if (this.inRate === this.outRate) return new Float32Array(0);
    return this.drain(true);
  }

  private drain(final: boolean): Float32Array {
    const out: number[] = [];
    const limit = final ? this.received : this.received - this.half;
    for (;;) {
      const p = this.produced * this.step;
      const centre = Math.floor(p);
      if (centre >= limit || (final && p >= this.received)) break;
      let sum = 0;
      for (let k = centre - this.half + 1; k <= centre + this.half; k++) {
        const idx = k - this.historyStart;
        if (idx < 0 || idx >= this.history.length) continue;
        const x = p - k;
        const w = 0.42 + 0.5 * Math.cos((Math.PI * x) / this.half) + 0.08 * Math.cos((2 * Math.PI * x) / this.half);
        const arg = Math.PI * this.cutoff * x;
        sum += this.history[idx] * (x === 0 ? this.cutoff : (this.cutoff * Math.sin(arg)) / arg) * w;
      }
      out.push(sum);
      this.produced++;
    }
    // Keep only what later outputs can still read.
    const keepFrom = Math.max(0, Math.floor(this.produced * this.step) - this.half - this.historyStart);
    if (keepFrom > 0) {
      this.history = this.history.slice(keepFrom);
      this.historyStart += keepFrom;
    }
    return Float32Array.from(out);
  }
}

/** Resamples a whole recording. */
export function resample(samples: Float32Array, inRate: number, outRate: number): Float32Array {
  if (inRate === outRate) return samples;
  const r = new StreamingResampler(inRate, outRate);
  const a = r.push(samples);
  const b = r.end();
  const out = new Float32Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** A PCM WAV file (8/16/24/32-bit integer or 32-bit float), channels averaged to mono. */
export function readWavFile(file: string): { samples: Float32Array; sampleRate: number } {
  if (!fs.existsSync(file)) throw new Error(`input file '${file}' does not exist`);
  const b = fs.readFileSync(file);
  if (b.length < 12 || b.toString("ascii", 0, 4) !== "RIFF" || b.toString("ascii", 8, 12) !== "WAVE") throw new Error(`'${file}' is not a WAV file`);
  let format = 0;
  let channels = 0;
  let sampleRate = 0;
  let bits = 0;
  for (let o = 12; o + 8 <= b.length; ) {
    const id = b.toString("ascii", o, o + 4);
    const size = b.readUInt32LE(o + 4);
    const body = o + 8;
    if (id === "fmt ") {
      format = b.readUInt16LE(body);
      channels = b.readUInt16LE(body + 2);
      sampleRate = b.readUInt32LE(body + 4);
      bits = b.readUInt16LE(body + 14);
      if (format === 0xfffe && size >= 26) format = b.readUInt16LE(body + 24);
    } else if (id === "data") {
      if (!channels || !sampleRate) throw new Error(`'${file}': data before the fmt chunk`);
      const bytes = bits / 8;
      const end = Math.min(b.length, body + size);
      const frames = Math.floor((end - body) / (bytes * channels));
      const read = (at: number): number => {
        if (format === 3 && bits === 32) return b.readFloatLE(at);
        if (format !== 1) throw new Error(`'${file}': unsupported WAV format ${format} (use PCM or 32-bit float)`);
        if (bits === 16) return b.readInt16LE(at) / 32768;
        if (bits === 8) return (b.readUInt8(at) - 128) / 128;
        if (bits === 24) return b.readIntLE(at, 3) / 8388608;
        if (bits === 32) return b.readInt32LE(at) / 2147483648;
        throw new Error(`'${file}': unsupported ${bits}-bit samples`);
      };
      const samples = new Float32Array(frames);
      for (let i = 0; i < frames; i++) {
        let sum = 0;
        for (let c = 0; c < channels; c++) sum += read(body + (i * channels + c) * bytes);
        samples[i] = sum / channels;
      }
      return { samples, sampleRate };
    }
    o = body + size + (size % 2);
  }
  throw new Error(`'${file}' has no audio data`);
}
