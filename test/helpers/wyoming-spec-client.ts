/**
 * A Wyoming peer written from the public spec for the tests, on purpose independent of
 * src/core/wyoming (so the tests check the project's codec against the spec, not against
 * itself): a JSON header line, then `data_length` bytes of JSON merged over the header's
 * `data`, then `payload_length` bytes of payload.
 */
import * as net from "net";

export interface SpecEvent {
  type: string;
  data: Record<string, unknown>;
  payload?: Buffer;
  /** The header as sent (to check version, data_length, payload_length). */
  header: Record<string, unknown>;
}

/** Frames one event. `dataInHeader`: data inline in the header (allowed) instead of a data section. */
export function frameEvent(type: string, data: Record<string, unknown> = {}, payload?: Buffer, dataInHeader = false): Buffer {
  const header: Record<string, unknown> = { type, version: "1.7.2" };
  let dataBytes: Buffer | undefined;
  if (Object.keys(data).length > 0) {
    if (dataInHeader) header.data = data;
    else {
      dataBytes = Buffer.from(JSON.stringify(data));
      header.data_length = dataBytes.length;
    }
  }
  if (payload && payload.length > 0) header.payload_length = payload.length;
  return Buffer.concat([Buffer.from(JSON.stringify(header) + "\n"), dataBytes ?? Buffer.alloc(0), payload ?? Buffer.alloc(0)]);
}

/** Reads spec events off a byte stream. */
export class SpecReader {
  private buf = Buffer.alloc(0);
  private current: { header: Record<string, unknown>; need: number } | undefined;

  push(chunk: Buffer): SpecEvent[] {
    this.buf = Buffer.concat([this.buf, chunk]);
    const out: SpecEvent[] = [];
    for (;;) {
      if (!this.current) {
        const nl = this.buf.indexOf(10);
        if (nl < 0) return out;
        const header = JSON.parse(this.buf.subarray(0, nl).toString("utf8")) as Record<string, unknown>;
        this.buf = this.buf.subarray(nl + 1);
        this.current = { header, need: Number(header.data_length ?? 0) + Number(header.payload_length ?? 0) };
      }
      if (this.buf.length < this.current.need) return out;
      const { header } = this.current;
      const dataLength = Number(header.data_length ?? 0);
      const payloadLength = Number(header.payload_length ?? 0);
      const data = { ...((header.data as Record<string, unknown>) ?? {}) };
      if (dataLength > 0) Object.assign(data, JSON.parse(this.buf.subarray(0, dataLength).toString("utf8")));
      const payload = payloadLength > 0 ? Buffer.from(this.buf.subarray(dataLength, dataLength + payloadLength)) : undefined;
      this.buf = this.buf.subarray(dataLength + payloadLength);
      this.current = undefined;
      out.push({ type: String(header.type), data, payload, header });
    }
  }
}

export class SpecClient {
  private readonly reader = new SpecReader();
  private readonly queue: SpecEvent[] = [];
  private waiters: (() => void)[] = [];
  /** Every event received, in order. */
  readonly received: SpecEvent[] = [];
  ended = false;
  readonly closed: Promise<void>;

  private constructor(readonly socket: net.Socket) {
    socket.on("data", (chunk: Buffer) => {
      for (const e of this.reader.push(chunk)) {
        this.received.push(e);
        this.queue.push(e);
      }
      this.wake();
    });
    this.closed = new Promise((resolve) => socket.on("close", () => resolve()));
    socket.on("end", () => {
      this.ended = true;
      this.wake();
    });
    socket.on("close", () => {
      this.ended = true;
      this.wake();
    });
    socket.on("error", () => undefined);
  }

  static connect(port: number, host = "127.0.0.1"): Promise<SpecClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host, allowHalfOpen: true });
      socket.once("connect", () => resolve(new SpecClient(socket)));
      socket.once("error", reject);
    });
  }

  send(type: string, data: Record<string, unknown> = {}, payload?: Buffer, dataInHeader = false): void {
    this.socket.write(frameEvent(type, data, payload, dataInHeader));
  }

  raw(bytes: Buffer | string): void {
    this.socket.write(bytes);
  }

  /** The next event; rejects when the connection ends first or after `ms`. */
  async next(ms = 30000): Promise<SpecEvent> {
    const until = Date.now() + ms;
    while (this.queue.length === 0) {
      if (this.ended) throw new Error("the connection ended with no more events");
      const left = until - Date.now();
      if (left <= 0) throw new Error(`no event within ${ms} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.queue.shift()!;
  }

  /** Events up to and including the first of `type`. */
  async until(type: string, ms = 60000): Promise<SpecEvent[]> {
    const events: SpecEvent[] = [];
    const until = Date.now() + ms;
    for (;;) {
      const e = await this.next(Math.max(1, until - Date.now()));
      events.push(e);
      if (e.type === type) return events;
    }
  }

  /** Waits until the server ends the connection; returns the events that came before. */
  async drainToEnd(ms = 10000): Promise<SpecEvent[]> {
    const events: SpecEvent[] = [];
    const until = Date.now() + ms;
    for (;;) {
      try {
        events.push(await this.next(Math.max(1, until - Date.now())));
      } catch (err) {
        if (this.ended) return events;
        throw err;
      }
    }
  }

  end(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}

/** s16le mono bytes of float samples. */
export function pcm16(samples: Float32Array): Buffer {
  const out = Buffer.alloc(samples.length * 2);
  for (let i = 0; i < samples.length; i++) out.writeInt16LE(Math.max(-32768, Math.min(32767, Math.round(samples[i] * 32768))), 2 * i);
  return out;
}

/** Sends `samples` (16 kHz mono) as audio-start, 20 ms audio-chunks, audio-stop. */
export function sendAudio(client: SpecClient, samples: Float32Array, rate = 16000, chunk = 320): void {
  client.send("audio-start", { rate, width: 2, channels: 1 });
  for (let at = 0; at < samples.length; at += chunk) client.send("audio-chunk", { rate, width: 2, channels: 1 }, pcm16(samples.subarray(at, at + chunk)));
  client.send("audio-stop");
}

/** Total samples of the audio-chunk events (16-bit). */
export function audioSamples(events: SpecEvent[]): number {
  return events.filter((e) => e.type === "audio-chunk").reduce((n, e) => n + (e.payload?.length ?? 0) / 2, 0);
}
