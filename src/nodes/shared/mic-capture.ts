/**
 * One capture of a microphone-like source (a recorder, a WAV file, a browser page) as
 * PROTOCOL chunk messages: each frame one chunk at 16 kHz with the capture's stream_id and
 * a running index, then exactly one is_final msg (empty payload, audio_seconds) however the
 * capture ends. Shared by audio-in and ui-voice.
 */
import type { Observable, Subscription } from "rxjs";
import { CAPTURE_RATE } from "../../core/audio/capture";
import { chunkMessage, type NodeMessage } from "./stream-msg";

export interface CaptureHandlers {
  frame?(capture: MicCapture): void;
  /** The source ended (the file's end, the page's release); the final has been sent. */
  complete?(capture: MicCapture): void;
  /** The source failed after it had opened; the final has been sent. */
  error?(capture: MicCapture, err: Error): void;
}

export class MicCapture {
  index = 0;
  samples = 0;
  ended = false;
  private subscription?: Subscription;

  constructor(
    readonly id: string,
    /** The starting msg's own properties, carried on every frame. */
    readonly base: NodeMessage,
    private readonly send: (msg: NodeMessage) => void,
  ) {}

  /** Seconds captured so far. */
  get seconds(): number {
    return this.samples / CAPTURE_RATE;
  }

  /**
   * Starts taking frames. Returns the error when the source could not open at all: nothing
   * sent yet; the caller ends (final sent) or drops the capture and fails its start msg.
   */
  run(frames$: Observable<Float32Array>, handlers: CaptureHandlers = {}): Error | undefined {
    let opening = true;
    let failed: Error | undefined;
    this.subscription = frames$.subscribe({
      next: (frame) => {
        this.samples += frame.length;
        this.send(chunkMessage(this.base, { is_final: false, sample_rate: CAPTURE_RATE }, this.id, this.index++, frame));
        handlers.frame?.(this);
      },
      complete: () => {
        this.end();
        handlers.complete?.(this);
      },
      error: (err: Error) => {
        if (opening) {
          failed = err;
          return;
        }
        this.end();
        handlers.error?.(this, err);
      },
    });
    opening = false;
    if (failed) this.subscription.unsubscribe();
    return failed;
  }

  /** Stops the source and sends the one final msg (once). */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.subscription?.unsubscribe();
    this.send(chunkMessage(this.base, { is_final: true, sample_rate: CAPTURE_RATE, audio_seconds: this.seconds }, this.id, this.index++, new Float32Array(0)));
  }

  /** Stops the source without sending (the node is closing). */
  drop(): void {
    this.ended = true;
    this.subscription?.unsubscribe();
  }
}
