/**
 * One stream of the wake-word node: a detector subscribed to the stream's frames. A frame's
 * msg completes (its done()) once the detector has scored it, so flows and tests can pace
 * input; the pending done()s are the stream's `waiting`, released at close.
 */
import { Subject, type Subscription } from "rxjs";
import type { StreamingResampler } from "../../core/audio/resample";
import type { WakeDetectOptions, WakeDetection, WakeEngine } from "../../core/wake/engine";
import type { Done } from "./node-runtime";
import type { StreamEntry } from "./stream-map";

export interface WakeHandlers {
  detected(detection: WakeDetection): void;
  failed(err: Error): void;
  /** The detector finished the frames after finish(). */
  ended(): void;
}

export class WakeListener implements StreamEntry {
  readonly waiting: Done[] = [];
  /** The stream's resampler (to16k keeps it here so frame joins stay gap-free). */
  resampler: StreamingResampler | undefined;
  private readonly frames = new Subject<Float32Array>();
  private subscription: Subscription | undefined;
  /** The detector failed or ended: later frames complete at once. */
  private over = false;

  constructor(
    readonly id: string,
    /** The topic of the msg that opened the stream: its detections carry it. */
    readonly topic: unknown,
  ) {}

  /** Starts detecting (after the node has added the stream, so a failure at once finds it). */
  start(engine: WakeEngine, options: WakeDetectOptions, handlers: WakeHandlers): void {
    this.subscription = engine.detect(this.frames, { ...options, onFrame: () => this.waiting.shift()?.() }).subscribe({
      next: (d) => handlers.detected(d),
      error: (err: unknown) => {
        this.over = true;
        for (const done of this.waiting.splice(0)) done();
        handlers.failed(err instanceof Error ? err : new Error(String(err)));
      },
      complete: () => {
        this.over = true;
        handlers.ended();
      },
    });
  }

  /** Sends one 16 kHz frame; `done` runs once it is scored. */
  push(frame: Float32Array, done: Done): void {
    if (this.over) return done();
    this.waiting.push(done);
    this.frames.next(frame);
  }

  /** No more frames: the detector scores what it has, then ends. */
  finish(): void {
    this.frames.complete();
  }

  stop(): void {
    this.subscription?.unsubscribe();
  }

  cancel(): void {
    this.subscription?.unsubscribe();
  }
}
