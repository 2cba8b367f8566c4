/**
 * The client side of Wyoming (remote engines, PROTOCOL §5): a `wyoming://host:port` target,
 * one TCP connection per stream with connect and idle timeouts, the events it receives, and
 * `describe` answered once per target and cached. Every failure is an Error naming the
 * service and what to check.
 */
import * as net from "net";
import { connectFailureOf } from "../net/connect-failure";
import { withStatusText } from "../status-text";
import { EventDecoder, WyomingProtocolError, encodeEvent, type WyomingEvent } from "./codec";
import { readInfo, type DescribedService } from "./info";

export interface WyomingTarget {
  host: string;
  port: number;
  /** "wyoming://host:port", for messages. */
  url: string;
}

export interface WyomingClientOptions {
  /** How long connecting may take (default 5 s). */
  connectTimeoutMs?: number;
  /** How long the service may stay silent while an answer is due (default 30 s). */
  idleTimeoutMs?: number;
}

export function isWyomingUrl(value: unknown): boolean {
  return typeof value === "string" && /^wyoming:\/\//i.test(value.trim());
}

/** The host and port of `wyoming://host:port`; throws a clear Error for anything else. */
export function parseWyomingUrl(value: string): WyomingTarget {
  const text = value.trim();
  let url: URL;
  try {
    url = new URL(text.replace(/^wyoming:/i, "http:"));
  } catch {
    throw new Error(`'${text}' is not a Wyoming address; write it as wyoming://host:port (e.g. wyoming://homeassistant.local:10300)`);
  }
  const host = url.hostname.replace(/^\[|\]$/g, "");
  if (!host || !url.port || (url.pathname !== "/" && url.pathname !== "") || url.search || url.username) {
    throw new Error(`'${text}' is not a Wyoming address; write it as wyoming://host:port with the service's port (e.g. wyoming://homeassistant.local:10300)`);
  }
  return { host, port: Number(url.port), url: `wyoming://${url.host}` };
}

/** Timeouts from a model's config (`connect_timeout_ms`, `idle_timeout_ms`), where set. */
export function clientOptionsFrom(config: Record<string, unknown> | undefined): WyomingClientOptions {
  const num = (v: unknown) => (typeof v === "number" && v > 0 ? v : typeof v === "string" && Number(v) > 0 ? Number(v) : undefined);
  return { connectTimeoutMs: num(config?.connect_timeout_ms), idleTimeoutMs: num(config?.idle_timeout_ms) };
}

function connectError(target: WyomingTarget, err: NodeJS.ErrnoException): Error {
  switch (connectFailureOf(err)) {
    case "refused":
      return withStatusText(new Error(`Wyoming service ${target.url} refused the connection: check that the service runs and listens on port ${target.port}`), "wyoming: connection refused");
    case "unknown-host":
      return withStatusText(new Error(`Wyoming service ${target.url}: unknown host '${target.host}'; check the host name (or use its IP address)`), "wyoming: unknown host");
    case "unreachable":
      return withStatusText(new Error(`Wyoming service ${target.url} is unreachable from here; check the address and the network`), "wyoming: unreachable");
    default:
      return withStatusText(new Error(`Wyoming service ${target.url}: ${err.message}`), "wyoming: connection failed");
  }
}

/** One open connection: events come to `onEvent`; a failure or close comes once to `onEnd`. */
export class WyomingConnection {
  private readonly decoder = new EventDecoder();
  private ended = false;
  private waitingForAnswer = false;
  private idleTimer: NodeJS.Timeout | undefined;
  onEvent: (event: WyomingEvent) => void = () => undefined;
  /** `error` undefined: the service closed the connection cleanly (which mid-session is itself a fault for the caller to judge). */
  onEnd: (error: Error | undefined) => void = () => undefined;

  private constructor(
    readonly target: WyomingTarget,
    private readonly socket: net.Socket,
    private readonly idleMs: number,
  ) {
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("end", () => {
      const fault = this.decoder.end();
      this.finish(fault ? this.protocolError(fault) : undefined);
    });
    socket.on("error", (err: NodeJS.ErrnoException) => this.finish(new Error(`Wyoming service ${target.url}: the connection failed (${err.message})`)));
    socket.on("close", () => this.finish(undefined));
  }

  /** Opens a connection; rejects with an error naming the service (refused, unknown host, timeout). */
  static connect(target: WyomingTarget, options: WyomingClientOptions = {}): Promise<WyomingConnection> {
    const connectMs = options.connectTimeoutMs ?? 5000;
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: target.host, port: target.port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`Wyoming service ${target.url} did not accept a connection within ${connectMs / 1000} s; check the host, the port and any firewall`));
      }, connectMs);
      socket.once("error", (err) => {
        clearTimeout(timer);
        reject(connectError(target, err));
      });
      socket.once("connect", () => {
        clearTimeout(timer);
        socket.removeAllListeners("error");
        socket.setNoDelay(true);
        resolve(new WyomingConnection(target, socket, options.idleTimeoutMs ?? 30000));
      });
    });
  }

  get closed(): boolean {
    return this.ended;
  }

  send(type: string, data: Record<string, unknown> = {}, payload?: Uint8Array): void {
    if (this.ended) return;
    this.socket.write(encodeEvent({ type, data, payload }));
  }

  /**
   * Whether an answer is due: while it is, a service silent for longer than the idle timeout
   * fails the connection. (While we are still sending, the service may well stay silent.)
   */
  expectAnswer(due: boolean): void {
    this.waitingForAnswer = due;
    this.armIdle();
  }

  /** Closes at once (cancel): nothing more is read, onEnd is not called. */
  close(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.socket.destroy();
  }

  private armIdle(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    if (!this.waitingForAnswer || this.ended) return;
    this.idleTimer = setTimeout(() => {
      this.finish(new Error(`Wyoming service ${this.target.url} sent nothing for ${this.idleMs / 1000} s while an answer was due; check that the service is healthy (or raise idle_timeout_ms)`));
      this.socket.destroy();
    }, this.idleMs);
  }

  private protocolError(fault: WyomingProtocolError): Error {
    if (fault.code === "payload-truncated") return new Error(`Wyoming service ${this.target.url} closed the connection mid-event: ${fault.message}`);
    return new Error(`Wyoming service ${this.target.url} sent a malformed event (${fault.code}): ${fault.message}`);
  }

  private onData(chunk: Buffer): void {
    if (this.ended) return;
    this.armIdle();
    for (const item of this.decoder.push(chunk)) {
      if (this.ended) return;
      if (item instanceof WyomingProtocolError) {
        // The service's framing can no longer be trusted: the stream fails.
        this.finish(this.protocolError(item));
        this.socket.destroy();
        return;
      }
      this.onEvent(item);
    }
  }

  private finish(error: Error | undefined): void {
    if (this.ended) return;
    this.ended = true;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.onEnd(error);
  }
}

/** An `error` event from a service, as an Error naming it. */
export function serviceError(target: WyomingTarget, event: WyomingEvent): Error {
  const text = typeof event.data.text === "string" ? event.data.text : "no text";
  const code = typeof event.data.code === "string" ? ` (${event.data.code})` : "";
  return new Error(`Wyoming service ${target.url} answered with an error${code}: ${text}`);
}

const describeCache = new Map<string, Promise<DescribedService>>();

/** Asks the service what it offers (`describe` → `info`), over a connection of its own. */
export async function describeOnce(target: WyomingTarget, options: WyomingClientOptions = {}): Promise<DescribedService> {
  const connection = await WyomingConnection.connect(target, options);
  return new Promise<DescribedService>((resolve, reject) => {
    connection.onEvent = (event) => {
      if (event.type === "info") {
        connection.close();
        resolve(readInfo(target.url, event.data));
      } else if (event.type === "error") {
        connection.close();
        reject(serviceError(target, event));
      }
    };
    connection.onEnd = (err) => reject(err ?? new Error(`Wyoming service ${target.url} closed the connection without answering describe; is it a Wyoming service?`));
    connection.send("describe");
    connection.expectAnswer(true);
  });
}

/** describeOnce, cached per target for the process (a failed describe is not cached). */
export function describeService(target: WyomingTarget, options: WyomingClientOptions = {}): Promise<DescribedService> {
  let cached = describeCache.get(target.url);
  if (!cached) {
    cached = describeOnce(target, options);
    describeCache.set(target.url, cached);
    cached.catch(() => {
      if (describeCache.get(target.url) === cached) describeCache.delete(target.url);
    });
  }
  return cached;
}

/** Forgets cached descriptions (the editor's "ask the server" button wants a fresh one). */
export function forgetDescriptions(target?: WyomingTarget): void {
  if (target) describeCache.delete(target.url);
  else describeCache.clear();
}
