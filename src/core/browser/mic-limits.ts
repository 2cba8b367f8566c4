/**
 * Checks on microphone frames from a page before they reach the flow: a page is a remote
 * client, so a frame's size and the rate of audio it sends are bounded. Real time is 16000
 * samples per second; a page may run ahead of it a little (network bursts), never by much.
 */
export const MIC_RATE = 16000;

export interface MicLimits {
  /** Largest frame in samples (default 0.5 s). */
  maxFrameSamples: number;
  /** Audio a page may send beyond real time before frames are refused (seconds, default 2). */
  burstSeconds: number;
  /** Sustained ceiling as a multiple of real time (default 1.5). */
  maxRealtimeFactor: number;
}

export const DEFAULT_MIC_LIMITS: MicLimits = { maxFrameSamples: 8000, burstSeconds: 2, maxRealtimeFactor: 1.5 };

export class MicFrameError extends Error {}

/** A token bucket of samples: it fills at `maxRealtimeFactor` × 16 kHz, up to the burst. */
export class MicRateGate {
  private tokens: number;
  private last: number;

  constructor(
    private readonly limits: MicLimits = DEFAULT_MIC_LIMITS,
    private readonly now: () => number = () => Date.now(),
  ) {
    this.tokens = limits.burstSeconds * MIC_RATE;
    this.last = now();
  }

  /**
   * The frame's samples as float32, or a MicFrameError that says what is wrong. `bytes` is
   * the binary WebSocket message: little-endian float32 mono at 16 kHz.
   */
  check(bytes: Buffer): Float32Array {
    if (bytes.length === 0 || bytes.length % 4 !== 0) {
      throw new MicFrameError(`microphone frame of ${bytes.length} bytes is not float32 samples (a multiple of 4 bytes)`);
    }
    const n = bytes.length / 4;
    if (n > this.limits.maxFrameSamples) {
      throw new MicFrameError(`microphone frame of ${n} samples is over the limit of ${this.limits.maxFrameSamples} (${(this.limits.maxFrameSamples / MIC_RATE).toFixed(2)} s at 16 kHz)`);
    }
    const t = this.now();
    const capacity = this.limits.burstSeconds * MIC_RATE;
    this.tokens = Math.min(capacity, this.tokens + ((t - this.last) / 1000) * MIC_RATE * this.limits.maxRealtimeFactor);
    this.last = t;
    if (n > this.tokens) {
      throw new MicFrameError(`microphone audio arrives faster than real time (over ${this.limits.maxRealtimeFactor}× 16 kHz); frame refused`);
    }
    this.tokens -= n;
    const samples = new Float32Array(n);
    for (let i = 0; i < n; i++) samples[i] = bytes.readFloatLE(i * 4);
    for (let i = 0; i < n; i++) {
      if (!Number.isFinite(samples[i])) throw new MicFrameError("microphone frame holds NaN or infinite samples");
    }
    return samples;
  }
}
