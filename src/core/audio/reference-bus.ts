/**
 * The assistant's own voice as a reference signal: audio-out publishes what it plays, with
 * the wall-clock time each sample sounds, on a channel named by the user (default
 * "default"); the vad and wake-word nodes read it through an EchoGuard to tell the
 * assistant's echo from a person speaking. In-process, so it needs no wiring in the flow.
 */
import { EnergyBins } from "./energy-bins";

export class ReferenceChannel {
  readonly bins = new EnergyBins(10);
  /** Wall-clock ms until which published audio is still to sound. */
  private busyUntil = 0;

  constructor(readonly name: string) {}

  /** `samples` at `sampleRate` whose first sample sounds at `startMs` (wall clock). */
  publish(samples: Float32Array, sampleRate: number, startMs: number): void {
    if (samples.length === 0) return;
    this.bins.add(samples, sampleRate, startMs);
    this.busyUntil = Math.max(this.busyUntil, startMs + (samples.length * 1000) / sampleRate);
  }

  /** Playback was silenced at `atMs`: audio published for later never sounds. */
  silence(atMs: number): void {
    this.bins.clearFrom(atMs);
    this.busyUntil = Math.min(this.busyUntil, atMs);
  }

  /** Whether published audio sounds at `atMs`. */
  playing(atMs: number): boolean {
    return atMs < this.busyUntil;
  }
}

const channels = new Map<string, ReferenceChannel>();

/** The process-wide channel `name` (created on first use). */
export function referenceChannel(name = "default"): ReferenceChannel {
  const key = name.trim() || "default";
  let channel = channels.get(key);
  if (!channel) {
    channel = new ReferenceChannel(key);
    channels.set(key, channel);
  }
  return channel;
}
