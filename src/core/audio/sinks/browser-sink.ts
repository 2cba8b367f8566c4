/**
 * Plays in web browsers: the player page at `basePath` (plus its scripts) and a WebSocket at
 * `basePath + "/ws"` (a VoiceChannel, src/core/browser) that carries the PCM to every
 * connected listener. A page opened while a stream plays gets that stream from its start.
 * The sink knows nothing of Node-RED: the node mounts `handleRequest` on its HTTP app and
 * `handleUpgrade` on the server's upgrade event, and supplies `authorize`.
 */
import type { IncomingMessage, ServerResponse } from "http";
import type { Duplex } from "stream";
import { Subject, type Observable } from "rxjs";
import { VoiceChannel } from "../../browser/voice-channel";
import type { AudioSink } from "../sink";

export interface BrowserSinkOptions {
  /** URL path of the page, e.g. /voice-stream/player/<node id> (httpNodeRoot included). */
  basePath: string;
  sampleRate?: number;
  /** Decides whether a WebSocket upgrade may connect (same rules as the page's HTTP auth). */
  authorize?: (req: IncomingMessage) => Promise<boolean>;
  /** The page's heading (the node's name). */
  title?: string;
}

export class BrowserSink implements AudioSink {
  readonly name = "browser";
  readonly sampleRate: number;
  readonly basePath: string;
  readonly channel: VoiceChannel;
  private readonly listenersSubject = new Subject<number>();
  /** Number of connected listeners, on every change. */
  readonly listeners$: Observable<number> = this.listenersSubject.asObservable();

  /** A channel of its own from `options`, or one the caller has mounted (audio-out: src/nodes/shared/browser-page.ts). */
  constructor(options: BrowserSinkOptions | VoiceChannel) {
    this.channel =
      options instanceof VoiceChannel
        ? options
        : new VoiceChannel({ basePath: options.basePath, sampleRate: options.sampleRate ?? 24000, authorize: options.authorize, title: options.title, page: "player" });
    this.basePath = this.channel.basePath;
    this.sampleRate = this.channel.sampleRate;
    this.channel.events$.subscribe((e) => {
      if (e.type === "connected" || e.type === "disconnected") this.listenersSubject.next(e.listeners);
    });
  }

  get listeners(): number {
    return this.channel.listeners;
  }

  get wsPath(): string {
    return this.channel.wsPath;
  }

  handleRequest(req: IncomingMessage, res: ServerResponse): boolean {
    return this.channel.handleRequest(req, res);
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    return this.channel.handleUpgrade(req, socket, head);
  }

  write(samples: Float32Array, sampleRate = this.sampleRate, streamId = "default"): void {
    if (samples.length === 0) return;
    if (sampleRate !== this.sampleRate) throw new Error(`browser sink plays at ${this.sampleRate} Hz, got ${sampleRate} Hz audio`);
    this.channel.play(samples, streamId);
  }

  /** The text the audio of `streamId` speaks from `atSeconds` into the stream (shown as it plays). */
  annotate(streamId: string, text: string, atSeconds: number): void {
    this.channel.annotate(streamId, text, atSeconds);
  }

  endStream(streamId: string): void {
    this.channel.endStream(streamId);
  }

  stop(): void {
    this.channel.stop();
  }

  pause(): void {
    this.channel.pause();
  }

  resume(): void {
    this.channel.resume();
  }

  async close(): Promise<void> {
    await this.channel.close();
    this.listenersSubject.complete();
  }
}
