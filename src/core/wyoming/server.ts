/**
 * A Wyoming server (PROTOCOL §7): TCP, one decoder per connection, `describe` → `info`,
 * `ping` → `pong`, and each transcribe / synthesize / detect request a WyomingSession given
 * to the handler. Framing faults and bad requests get an `error` event with `text` and
 * `code`; the connection goes on when the stream still has a known event boundary, else it
 * closes. No fault reaches the process: other connections and sessions are untouched.
 */
import * as net from "net";
import { EventDecoder, WyomingProtocolError, encodeEvent, type DecoderLimits, type WyomingEvent } from "./codec";
import { readFormat, pcmToMono, type AudioFormat } from "./audio-format";
import { infoData, type ServicesSpec } from "./info";
import { isLoopbackHost, parseAllowList, plainAddress, type AllowList } from "./allow-list";
import { WyomingSession, type SessionRequest, type SynthesizeVoice } from "./session";

export interface WyomingServerOptions extends DecoderLimits {
  /** Bind address (default 127.0.0.1: this machine only). */
  host?: string;
  /** TCP port (0: any free port). */
  port: number;
  /** What `info` offers; called for every describe (the voices may come from a model loaded later). */
  services: () => ServicesSpec | Promise<ServicesSpec>;
  /** Which requests are served (decided up front, so a request is routed without waiting for the info). */
  offers: { asr?: boolean; tts?: boolean; wake?: boolean };
  /** Called once per request; subscribe to session.input$ synchronously. */
  onSession(session: WyomingSession): void;
  /** Client addresses or CIDR ranges allowed to connect (empty: all). */
  allow?: string | string[];
  /** Audio one session may send, in seconds (default 300). */
  maxAudioSeconds?: number;
  /** How long a session may wait for its answer once its input ended (default 120 s). */
  answerTimeoutMs?: number;
  /** Stream transcripts (transcript-start / -chunk / -stop); default true. */
  streamTranscripts?: boolean;
  log?: (level: "info" | "warn" | "debug", message: string) => void;
}

export interface ListeningAddress {
  host: string;
  port: number;
  /** True when clients beyond this machine can connect (no authentication in Wyoming). */
  beyondLoopback: boolean;
}

/** Request types that open a session. */
const REQUESTS = new Set(["transcribe", "synthesize", "synthesize-start", "detect"]);

function voiceOf(value: unknown): SynthesizeVoice | undefined {
  if (!value || typeof value !== "object") return undefined;
  const v = value as Record<string, unknown>;
  const voice: SynthesizeVoice = {};
  for (const key of ["name", "language", "speaker"] as const) if (typeof v[key] === "string" && v[key] !== "") voice[key] = v[key] as string;
  return Object.keys(voice).length > 0 ? voice : undefined;
}

class Connection {
  private readonly decoder: EventDecoder;
  private session: WyomingSession | undefined;
  private format: AudioFormat | undefined;
  private answerTimer: NodeJS.Timeout | undefined;
  private closed = false;
  readonly remote: string;

  constructor(
    private readonly socket: net.Socket,
    private readonly server: WyomingServer,
    private readonly options: WyomingServerOptions,
  ) {
    this.remote = `${plainAddress(socket.remoteAddress ?? "?")}:${socket.remotePort ?? "?"}`;
    this.decoder = new EventDecoder(options);
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("end", () => this.onEnd());
    socket.on("close", () => this.onClose());
    socket.on("error", (err) => this.options.log?.("debug", `wyoming client ${this.remote}: ${err.message}`));
  }

  write(event: WyomingEvent): void {
    if (this.closed || this.socket.destroyed || !this.socket.writable) return;
    this.socket.write(encodeEvent(event));
  }

  /** An error event, then (when `close`) the end of the connection. */
  error(text: string, code: string, close = false): void {
    this.options.log?.("debug", `wyoming client ${this.remote}: ${code}: ${text}`);
    this.write({ type: "error", data: { text, code } });
    if (close) this.end();
  }

  end(): void {
    if (this.closed) return;
    this.closed = true;
    this.session?.abort("the connection closed");
    this.socket.end();
    // A client that never reads its end gets cut off.
    setTimeout(() => this.socket.destroy(), 2000).unref();
  }

  /** Server shutdown: the active session gets an error event, then the connection ends. */
  shutdown(): void {
    if (this.session && !this.session.closed) this.session.fail("the Wyoming server is stopping", "server-stopping");
    this.end();
  }

  private onData(chunk: Buffer): void {
    let items;
    try {
      items = this.decoder.push(chunk);
    } catch (err) {
      // The decoder reports faults as items; anything thrown is a bug: close this connection only.
      this.error(`internal error reading the event: ${(err as Error).message}`, "internal", true);
      return;
    }
    for (const item of items) {
      if (this.closed) return;
      if (item instanceof WyomingProtocolError) {
        this.error(item.message, item.code, item.fatal);
        continue;
      }
      try {
        this.handle(item);
      } catch (err) {
        this.error(`could not handle '${item.type}': ${(err as Error).message}`, "internal");
      }
    }
  }

  private onEnd(): void {
    const fault = this.decoder.end();
    if (fault) this.error(fault.message, fault.code);
    this.end();
  }

  private onClose(): void {
    this.closed = true;
    if (this.answerTimer) clearTimeout(this.answerTimer);
    this.session?.abort("the client disconnected");
    this.server.forget(this);
  }

  private open(request: SessionRequest): WyomingSession {
    if (this.session && !this.session.closed) this.session.abort("a new request replaced it");
    if (this.answerTimer) clearTimeout(this.answerTimer);
    this.format = undefined;
    const session = new WyomingSession(
      request,
      {
        write: (event) => {
          if (this.session === session) this.write(event);
        },
        ended: (s) => {
          if (this.answerTimer) clearTimeout(this.answerTimer);
          this.server.sessionEnded(s);
        },
      },
      { streamTranscripts: this.options.streamTranscripts !== false, remote: this.remote },
    );
    this.session = session;
    this.server.sessionStarted(session);
    this.options.onSession(session);
    return session;
  }

  private active(): WyomingSession | undefined {
    return this.session && !this.session.closed ? this.session : undefined;
  }

  private endInput(session: WyomingSession): void {
    session.pushInput({ kind: "end" });
    const ms = this.options.answerTimeoutMs ?? 120000;
    if (session.closed) return;
    this.answerTimer = setTimeout(() => session.fail(`the service gave no answer within ${Math.round(ms / 1000)} s`, "timeout"), ms);
    this.answerTimer.unref();
  }

  private unsupported(service: string): boolean {
    this.error(`this Wyoming server offers no ${service} service`, "no-service");
    return true;
  }

  private handle(event: WyomingEvent): void {
    const offers = this.options.offers;
    const data = event.data;
    switch (event.type) {
      case "describe":
        void Promise.resolve()
          .then(() => this.options.services())
          .then(
            (services) => this.write({ type: "info", data: infoData(services) }),
            (err: Error) => this.error(`could not build the service description: ${err.message}`, "describe-failed"),
          );
        return;
      case "ping":
        this.write({ type: "pong", data: typeof data.text === "string" ? { text: data.text } : {} });
        return;
      case "transcribe":
        if (!offers.asr) return void this.unsupported("speech-to-text (asr)");
        this.open({ type: "transcribe", language: typeof data.language === "string" && data.language ? data.language : undefined, name: typeof data.name === "string" ? data.name : undefined });
        return;
      case "detect":
        if (!offers.wake) return void this.unsupported("wake word");
        this.open({ type: "detect", names: Array.isArray(data.names) ? data.names.filter((n): n is string => typeof n === "string") : undefined });
        return;
      case "synthesize": {
        const current = this.active();
        // Streaming clients also send the whole text as a plain synthesize: it is not spoken twice.
        if (current && current.request.type === "synthesize" && current.request.streaming) return;
        if (!offers.tts) return void this.unsupported("text-to-speech (tts)");
        const text = typeof data.text === "string" ? data.text : "";
        if (text.trim() === "") return this.error("synthesize needs non-empty 'text'", "empty-text");
        const session = this.open({ type: "synthesize", streaming: false, voice: voiceOf(data.voice) });
        session.pushInput({ kind: "text", text });
        this.endInput(session);
        return;
      }
      case "synthesize-start":
        if (!offers.tts) return void this.unsupported("text-to-speech (tts)");
        this.open({ type: "synthesize", streaming: true, voice: voiceOf(data.voice) });
        return;
      case "synthesize-chunk": {
        const session = this.active();
        if (!session || session.request.type !== "synthesize" || !session.request.streaming || session.ended) {
          return this.error("synthesize-chunk outside a synthesize-start … synthesize-stop stream", "no-session");
        }
        if (typeof data.text !== "string") return this.error("synthesize-chunk needs 'text'", "bad-request");
        if (data.text !== "") session.pushInput({ kind: "text", text: data.text });
        return;
      }
      case "synthesize-stop": {
        const session = this.active();
        if (!session || session.request.type !== "synthesize" || !session.request.streaming || session.ended) return;
        if (session.text.trim() === "") return session.fail("the streamed synthesis had no text", "empty-text");
        this.endInput(session);
        return;
      }
      case "audio-start":
        return this.audioStart(data);
      case "audio-chunk":
        return this.audioChunk(event);
      case "audio-stop": {
        const session = this.active();
        if (!session || session.request.type === "synthesize" || session.ended) return;
        if (session.request.type === "transcribe" && session.audioSeconds === 0) return session.fail("transcribe got no audio before audio-stop", "no-audio");
        this.endInput(session);
        return;
      }
      default:
        // Unknown event types are ignored, as the spec asks of every peer.
        this.options.log?.("debug", `wyoming client ${this.remote}: ignored '${event.type}'`);
    }
  }

  private audioStart(data: Record<string, unknown>): void {
    let session = this.active();
    if (!session || session.request.type === "synthesize") {
      // `transcribe` is optional before audio: the audio is for the service this server offers.
      if (this.options.offers.asr) session = this.open({ type: "transcribe" });
      else if (this.options.offers.wake) session = this.open({ type: "detect" });
      else return void this.unsupported("speech-to-text or wake word");
    }
    const format = readFormat(data);
    if (typeof format === "string") return session.fail(format, "unsupported-audio");
    this.format = format;
  }

  private audioChunk(event: WyomingEvent): void {
    const session = this.active();
    // Audio after a failed or finished session is dropped: the client has its error already.
    if (!session || session.request.type === "synthesize" || session.ended) return;
    const format = readFormat(event.data, this.format);
    if (typeof format === "string") return session.fail(format, "unsupported-audio");
    if (!event.payload || event.payload.length === 0) return;
    let samples: Float32Array;
    try {
      samples = pcmToMono(event.payload, format);
    } catch (err) {
      return session.fail((err as Error).message, "unsupported-audio");
    }
    const limit = this.options.maxAudioSeconds ?? 300;
    if (session.audioSeconds + samples.length / format.rate > limit) {
      return session.fail(`the session's audio passed the ${limit} s limit`, "audio-too-long");
    }
    session.pushInput({ kind: "audio", samples, rate: format.rate, timestamp: typeof event.data.timestamp === "number" ? event.data.timestamp : undefined });
  }
}

export class WyomingServer {
  private readonly server: net.Server;
  private readonly connections = new Set<Connection>();
  private readonly open = new Set<WyomingSession>();
  private readonly allow: AllowList;
  private address: ListeningAddress | undefined;

  constructor(private readonly options: WyomingServerOptions) {
    this.allow = parseAllowList(options.allow);
    this.server = net.createServer({ allowHalfOpen: true }, (socket) => this.accept(socket));
  }

  /** Starts listening; rejects with a clear error (port in use, address not available). */
  listen(): Promise<ListeningAddress> {
    const host = (this.options.host ?? "").trim() || "127.0.0.1";
    return new Promise((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException) => {
        const where = `${host}:${this.options.port}`;
        if (err.code === "EADDRINUSE") reject(new Error(`port ${this.options.port} is in use on ${host}; choose another port or stop what listens there`));
        else if (err.code === "EADDRNOTAVAIL" || err.code === "ENOTFOUND") reject(new Error(`cannot listen on ${where}: the address is not one of this machine's`));
        else if (err.code === "EACCES") reject(new Error(`no permission to listen on ${where}; use a port above 1023`));
        else reject(new Error(`cannot listen on ${where}: ${err.message}`));
      };
      this.server.once("error", onError);
      this.server.listen(this.options.port, host, () => {
        this.server.off("error", onError);
        this.server.on("error", (err) => this.options.log?.("warn", `wyoming server: ${err.message}`));
        const port = (this.server.address() as net.AddressInfo).port;
        this.address = { host, port, beyondLoopback: !isLoopbackHost(host) };
        resolve(this.address);
      });
    });
  }

  get listening(): ListeningAddress | undefined {
    return this.address;
  }

  /** Sessions waiting for their answer. */
  get sessionCount(): number {
    return this.open.size;
  }

  /** Stops listening and ends every session cleanly (an error event `server-stopping`, then the connection closes). */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const connection of [...this.connections]) connection.shutdown();
    await closed;
  }

  /** @internal */
  forget(connection: Connection): void {
    this.connections.delete(connection);
  }

  /** @internal */
  sessionStarted(session: WyomingSession): void {
    this.open.add(session);
  }

  /** @internal */
  sessionEnded(session: WyomingSession): void {
    this.open.delete(session);
  }

  private accept(socket: net.Socket): void {
    socket.setNoDelay(true);
    if (!this.allow.allows(socket.remoteAddress)) {
      this.options.log?.("warn", `wyoming: refused ${socket.remoteAddress}: not on the allow-list`);
      socket.on("error", () => undefined);
      socket.end(encodeEvent({ type: "error", data: { text: "this address is not on the server's allow-list", code: "forbidden" } }));
      setTimeout(() => socket.destroy(), 1000).unref();
      return;
    }
    this.connections.add(new Connection(socket, this, this.options));
  }
}
