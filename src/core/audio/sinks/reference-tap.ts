/**
 * A sink decorator that publishes what is played on a reference channel (reference-bus),
 * stamped with the wall-clock time it sounds: the player writes a little ahead of
 * playback, gap-free, and starts at once after being idle, so each write sounds where the
 * previous one ended, or now. stop() tells the channel that the rest never sounds.
 */
import type { Observable } from "rxjs";
import type { AudioSink } from "../sink";
import type { ReferenceChannel } from "../reference-bus";

export class ReferenceTapSink implements AudioSink {
  private endMs = 0;
  readonly failures$?: Observable<Error>;

  constructor(private readonly inner: AudioSink, private readonly channel: ReferenceChannel, private readonly now: () => number = Date.now) {
    this.failures$ = inner.failures$;
  }

  get name(): string {
    return this.inner.name;
  }

  get sampleRate(): number | undefined {
    return this.inner.sampleRate;
  }

  write(samples: Float32Array, sampleRate: number, streamId: string): void {
    const start = Math.max(this.now(), this.endMs);
    this.endMs = start + (samples.length * 1000) / sampleRate;
    this.channel.publish(samples, sampleRate, start);
    this.inner.write(samples, sampleRate, streamId);
  }

  endStream(streamId: string): void {
    this.inner.endStream?.(streamId);
  }

  stop(): void {
    const now = this.now();
    this.channel.silence(now);
    this.endMs = now;
    this.inner.stop?.();
  }

  pause(): void {
    this.inner.pause?.();
  }

  resume(): void {
    this.inner.resume?.();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
