/**
 * Wake word detection by a Wyoming service (`wyoming://host:port`, e.g. wyoming-openwakeword):
 * one connection per detect(): `detect` + `audio-start`, each frame an `audio-chunk`
 * (16 kHz s16le mono), `audio-stop` when the frames end → `detection` events (then
 * `not-detected` or the close ends the stream). Unsubscribing closes the connection.
 */
import { Observable } from "rxjs";
import { floatToS16LE } from "../../../audio/pcm";
import { clientOptionsFrom, describeService, parseWyomingUrl, serviceError, WyomingConnection, type WyomingClientOptions, type WyomingTarget } from "../../../wyoming/client";
import type { DescribedService } from "../../../wyoming/info";
import type { ModelSpec } from "../../../types";
import type { WakeDetectOptions, WakeDetection, WakeEngine } from "../../engine";

const RATE = 16000;
/** Quiet time after audio-stop (with a detection already heard) that ends the stream. */
const SETTLE_MS = 300;

/** The wake family's engine for a voice-model of kind wake at `wyoming://`. */
export class WyomingWakeEngine implements WakeEngine {
  readonly kind = "wake" as const;
  readonly wakeWords: string[];

  constructor(
    readonly target: WyomingTarget,
    readonly info: DescribedService,
    private readonly options: WyomingClientOptions,
  ) {
    this.wakeWords = info.wake.flatMap((p) => p.models.map((m) => m.name)).filter((n) => n !== "");
  }

  get names(): string[] {
    return this.wakeWords;
  }

  static async open(spec: ModelSpec): Promise<WyomingWakeEngine> {
    const target = parseWyomingUrl(spec.enginesPath);
    const options = clientOptionsFrom(spec.config);
    const info = await describeService(target, options);
    if (info.wake.length === 0) throw new Error(`Wyoming service ${target.url} offers no wake word detection (its info lists no wake); is this the right port?`);
    return new WyomingWakeEngine(target, info, options);
  }

  detect(frames$: Observable<Float32Array>, options: WakeDetectOptions = {}): Observable<WakeDetection> {
    return new Observable<WakeDetection>((subscriber) => {
      if (options.verifiers && options.verifiers.length > 0) {
        // A verifier reads the feature models' embeddings, which a remote service never sends.
        subscriber.error(new Error(`wake verifiers work only with a local openWakeWord model, not the Wyoming service ${this.target.url}; remove them or use a model folder`));
        return;
      }
      let connection: WyomingConnection | undefined;
      let closed = false;
      let samples = 0;
      const pending: Float32Array[] = [];
      let framesEnded = false;
      let detections = 0;
      let settle: NodeJS.Timeout | undefined;
      /** After audio-stop a service sends not-detected only when it heard nothing; after a detection, quiet means done. */
      const settleAfterStop = () => {
        if (settle) clearTimeout(settle);
        if (framesEnded && detections > 0) settle = setTimeout(() => subscriber.complete(), SETTLE_MS);
      };
      const sendFrame = (c: WyomingConnection, frame: Float32Array) => {
        samples += frame.length;
        c.send("audio-chunk", { rate: RATE, width: 2, channels: 1, timestamp: Math.round((samples / RATE) * 1000) }, floatToS16LE(frame));
        // Taken: the wake-word node completes a frame's input on this (it paces the microphone).
        options.onFrame?.();
      };
      const stopAudio = (c: WyomingConnection) => {
        c.send("audio-stop", { timestamp: Math.round((samples / RATE) * 1000) });
        if (detections === 0) c.expectAnswer(true);
        settleAfterStop();
      };
      WyomingConnection.connect(this.target, this.options).then(
        (c) => {
          if (closed) return c.close();
          connection = c;
          c.onEvent = (event) => {
            if (event.type === "detection") {
              const ms = typeof event.data.timestamp === "number" ? event.data.timestamp : (samples / RATE) * 1000;
              detections += 1;
              // Wyoming sends no score: a detection is a detection.
              subscriber.next({ kind: "wake", name: typeof event.data.name === "string" ? event.data.name : "", score: 1, audio_seconds: ms / 1000 });
              c.expectAnswer(false);
              settleAfterStop();
            } else if (event.type === "not-detected") {
              if (framesEnded) subscriber.complete();
            } else if (event.type === "error") subscriber.error(serviceError(this.target, event));
          };
          c.onEnd = (err) => (err ? subscriber.error(err) : subscriber.complete());
          c.send("detect", options.names && options.names.length > 0 ? { names: options.names } : {});
          c.send("audio-start", { rate: RATE, width: 2, channels: 1 });
          for (const frame of pending.splice(0)) sendFrame(c, frame);
          if (framesEnded) stopAudio(c);
        },
        (err: Error) => subscriber.error(err),
      );
      const input = frames$.subscribe({
        next: (frame) => {
          if (frame.length === 0) return;
          if (connection) sendFrame(connection, frame);
          else pending.push(frame);
        },
        complete: () => {
          framesEnded = true;
          if (connection) stopAudio(connection);
        },
        error: (err) => subscriber.error(err),
      });
      return () => {
        closed = true;
        if (settle) clearTimeout(settle);
        input.unsubscribe();
        connection?.close();
      };
    });
  }

  async dispose(): Promise<void> {
    // Connections belong to detect() subscriptions; nothing shared to free.
  }
}
