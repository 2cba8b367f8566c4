/**
 * The HTTP client of an OpenAI-compatible server, on node's http/https (not fetch) so that
 * every stage has its own clear failure: the connect timeout covers TCP + TLS, the idle
 * timeout every wait for the next bytes, and an abort destroys the socket at once (the
 * server sees the connection close; nothing it sends later is read). One keep-alive agent
 * per endpoint holds the sockets; `destroy()` closes them.
 */
import * as http from "http";
import * as https from "https";
import type { OpenAiEndpoint } from "./endpoint";
import { connectTimeoutError, idleTimeoutError, midStreamError, networkError, RemoteServerError } from "./errors";

export interface RemoteRequest {
  method: "GET" | "POST";
  /** Path under the base URL, e.g. "/chat/completions". */
  path: string;
  /** A JSON body (sent as application/json). */
  json?: unknown;
  /** A raw body with its content type (multipart uploads). */
  body?: Buffer;
  contentType?: string;
  accept?: string;
  signal?: AbortSignal;
}

/** An answer whose headers have arrived; read its body once, with chunks() or text(). */
export interface RemoteResponse {
  readonly status: number;
  readonly contentType: string;
  /** The request URL, for messages. */
  readonly url: string;
  /** The body's chunks as they arrive; rejects with a RemoteServerError (idle timeout, closed mid-stream) or the abort. */
  chunks(): AsyncIterable<Buffer>;
  /** The whole body as text. */
  text(): Promise<string>;
  /** Stops reading and closes the connection. */
  close(): void;
}

export function abortError(): Error {
  const err = new Error("the request was cancelled");
  err.name = "AbortError";
  return err;
}

export function isAbortError(err: unknown): boolean {
  return err instanceof Error && err.name === "AbortError";
}

export class OpenAiHttpClient {
  private readonly agent: http.Agent;
  private readonly secure: boolean;

  constructor(readonly endpoint: OpenAiEndpoint) {
    this.secure = endpoint.baseUrl.startsWith("https:");
    this.agent = this.secure ? new https.Agent({ keepAlive: true, ca: endpoint.ca }) : new http.Agent({ keepAlive: true });
  }

  /** Full URL of a path, for messages (never carries the key). */
  urlOf(path: string): string {
    return `${this.endpoint.label}${path}`;
  }

  request(req: RemoteRequest): Promise<RemoteResponse> {
    const { endpoint } = this;
    const url = this.urlOf(req.path);
    return new Promise<RemoteResponse>((resolve, reject) => {
      if (req.signal?.aborted) return reject(abortError());
      const headers: Record<string, string> = { accept: req.accept ?? "application/json" };
      let body: Buffer | undefined;
      if (req.json !== undefined) {
        body = Buffer.from(JSON.stringify(req.json));
        headers["content-type"] = "application/json";
      } else if (req.body) {
        body = req.body;
        headers["content-type"] = req.contentType ?? "application/octet-stream";
      }
      if (body) headers["content-length"] = String(body.length);
      if (endpoint.apiKey) headers.authorization = `Bearer ${endpoint.apiKey}`;

      const send = this.secure ? https.request : http.request;
      const clientRequest = send(url, { method: req.method, headers, agent: this.agent, ca: endpoint.ca });
      let settled = false;
      let connectTimer: NodeJS.Timeout | undefined;
      let idleTimer: NodeJS.Timeout | undefined;
      const clearTimers = () => {
        if (connectTimer) clearTimeout(connectTimer);
        if (idleTimer) clearTimeout(idleTimer);
        connectTimer = idleTimer = undefined;
      };
      const armIdle = (what: string, target: { destroy(err: Error): void }) => {
        if (idleTimer) clearTimeout(idleTimer);
        idleTimer = setTimeout(() => target.destroy(idleTimeoutError(url, endpoint.idleTimeoutMs, what)), endpoint.idleTimeoutMs);
      };
      const onAbort = () => clientRequest.destroy(abortError());
      req.signal?.addEventListener("abort", onAbort, { once: true });
      const cleanup = () => {
        clearTimers();
        req.signal?.removeEventListener("abort", onAbort);
      };

      clientRequest.on("socket", (socket) => {
        const ready = () => {
          if (connectTimer) clearTimeout(connectTimer);
          connectTimer = undefined;
          if (!settled) armIdle("before answering", clientRequest);
        };
        // A reused keep-alive socket is connected already.
        if (!socket.connecting) return ready();
        connectTimer = setTimeout(() => clientRequest.destroy(connectTimeoutError(url, endpoint.connectTimeoutMs)), endpoint.connectTimeoutMs);
        socket.once(this.secure ? "secureConnect" : "connect", ready);
      });

      clientRequest.on("error", (err) => {
        if (settled) return;
        settled = true;
        cleanup();
        if (isAbortError(err) || err instanceof RemoteServerError) reject(err);
        else reject(networkError(err, url));
      });

      clientRequest.on("response", (res) => {
        settled = true;
        if (idleTimer) clearTimeout(idleTimer);
        let consumed = false;
        const take = () => {
          if (consumed) throw new Error("the response body was read twice");
          consumed = true;
        };
        /**
         * The body flows into a queue from the moment the answer arrives (not from the first
         * read): a body cut short destroys the stream, and a reader that attached later, or that
         * used for-await, would lose what was received but not yet read. Here every received
         * byte is handed on before the error.
         */
        const queue: Buffer[] = [];
        let ended = false;
        let failure: Error | undefined;
        let wake: (() => void) | undefined;
        const notify = () => {
          wake?.();
          wake = undefined;
        };
        const fail = (err: Error) => {
          if (ended) return;
          ended = true;
          failure = req.signal?.aborted
            ? abortError()
            : err instanceof RemoteServerError || isAbortError(err)
              ? err
              : midStreamError(url, (err as NodeJS.ErrnoException).code ?? err.message);
          notify();
        };
        res.on("data", (chunk: Buffer) => {
          if (consumed) armIdle("mid-stream", res);
          queue.push(chunk);
          // Backpressure: a slow consumer pauses the socket instead of buffering without bound.
          if (queue.length >= 64) res.pause();
          notify();
        });
        res.on("end", () => {
          if (!res.complete) return fail(midStreamError(url, "the body ended before its declared end"));
          ended = true;
          notify();
        });
        res.on("error", fail);
        res.on("close", () => {
          if (!res.complete) fail(midStreamError(url, "the connection closed"));
        });
        async function* chunks(): AsyncGenerator<Buffer> {
          take();
          armIdle("mid-stream", res);
          try {
            for (;;) {
              if (queue.length > 0) {
                const chunk = queue.shift()!;
                if (queue.length < 16 && res.isPaused()) res.resume();
                yield chunk;
                continue;
              }
              if (failure) throw failure;
              if (ended) return;
              await new Promise<void>((resolve) => (wake = resolve));
            }
          } finally {
            cleanup();
            if (!ended) clientRequest.destroy();
          }
        }
        resolve({
          status: res.statusCode ?? 0,
          contentType: String(res.headers["content-type"] ?? "").toLowerCase(),
          url,
          chunks,
          text: async () => {
            const parts: Buffer[] = [];
            for await (const chunk of chunks()) parts.push(chunk);
            return Buffer.concat(parts).toString("utf8");
          },
          close: () => {
            cleanup();
            clientRequest.destroy();
          },
        });
      });

      clientRequest.end(body);
    });
  }

  /** Closes the idle keep-alive sockets (the engine's dispose). */
  destroy(): void {
    this.agent.destroy();
  }
}
