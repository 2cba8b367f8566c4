/**
 * A voice page without a browser: a WebSocket client of a VoiceChannel (src/core/browser)
 * that records the control frames it is sent, counts the samples it plays and can send
 * microphone frames. For node tests of audio-in's browser source and ui-voice.
 */
import { WebSocket } from "ws";

export class PageSocket {
  /** Every JSON frame received, in order. */
  readonly messages: Record<string, unknown>[] = [];
  /** Float32 samples received as audio. */
  samples = 0;
  /** The session the channel gave this page (its hello). */
  session = "";

  constructor(readonly ws: WebSocket) {
    ws.on("message", (data, binary) => {
      if (binary) {
        this.samples += (data as Buffer).length / 4;
        return;
      }
      const m = JSON.parse(String(data));
      this.messages.push(m);
      if (m.type === "hello") this.session = m.session;
    });
  }

  /** Connects to the channel's socket at `url` and waits for its hello (up to 5 s). */
  static async open(url: string): Promise<PageSocket> {
    const page = new PageSocket(new WebSocket(url));
    await new Promise((r) => page.ws.once("open", r));
    const end = Date.now() + 5000;
    while (!page.session && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    return page;
  }

  /** The frames received of `type`. */
  of(type: string): Record<string, unknown>[] {
    return this.messages.filter((m) => m.type === type);
  }

  has(type: string): boolean {
    return this.of(type).length > 0;
  }

  /** Sends `n` microphone frames of 320 samples (20 ms at 16 kHz), each sample `value`. */
  sendFrames(n: number, value: number): void {
    for (let i = 0; i < n; i++) this.ws.send(new Float32Array(320).fill(value).buffer);
  }
}

/** Waits until `check()` holds, polling every 10 ms; throws after `ms`. */
export async function waitFor(check: () => boolean, ms = 10000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 10));
  }
}
