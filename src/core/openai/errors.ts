/**
 * Every way a call to an OpenAI-compatible server can fail, as one Error type whose message
 * names the server (its URL, never the key) and says what to check. `status` is the HTTP
 * status when the server answered; `code` the network error code when it did not.
 */
import { connectFailureOf } from "../net/connect-failure";

export type RemoteFault =
  | "refused"
  | "unknown-host"
  | "tls"
  | "network"
  | "connect-timeout"
  | "idle-timeout"
  | "auth"
  | "not-found"
  | "rate-limited"
  | "server-error"
  | "bad-request"
  | "closed-mid-stream"
  | "malformed";

/** The status line of each fault (about 30 characters; the message keeps the whole reason). */
const STATUS_TEXTS: Record<RemoteFault, string> = {
  refused: "server: connection refused",
  "unknown-host": "server: unknown host",
  tls: "server: TLS not trusted",
  network: "server: network error",
  "connect-timeout": "server: connect timeout",
  "idle-timeout": "server: no answer",
  auth: "server: key refused",
  "not-found": "server: model not found",
  "rate-limited": "server: rate limited",
  "server-error": "server: error",
  "bad-request": "server: bad request",
  "closed-mid-stream": "server: closed mid-stream",
  malformed: "server: malformed answer",
};

export class RemoteServerError extends Error {
  /** Read by statusTextOf (core/status-text.ts): a short red status for the node. */
  readonly statusText: string;

  constructor(
    message: string,
    readonly fault: RemoteFault,
    readonly details: { status?: number; code?: string; url?: string } = {},
  ) {
    super(message);
    this.name = "RemoteServerError";
    this.statusText = STATUS_TEXTS[fault];
  }

  get status(): number | undefined {
    return this.details.status;
  }
}

/** A failure before any answer: refused, unknown host, TLS, reset. */
export function networkError(err: unknown, url: string): RemoteServerError {
  const e = err as NodeJS.ErrnoException & { hostname?: string };
  const code = e?.code ?? "";
  const at = { code, url };
  const failure = connectFailureOf(err);
  if (failure === "refused") {
    return new RemoteServerError(`${url} refused the connection: is the server running and listening on that host and port?`, "refused", at);
  }
  if (failure === "unknown-host") {
    const host = e.hostname ?? safeHost(url);
    return new RemoteServerError(`${url}: unknown host '${host}' (${code}); check the host name in the engines path, or use its IP address`, "unknown-host", at);
  }
  if (failure === "tls") {
    return new RemoteServerError(
      `${url}: TLS failure (${code || e.message}); the server's certificate is not trusted. Check the certificate, or set the CA file ` +
        `(config ca_file) to the PEM of the authority that signed it`,
      "tls",
      at,
    );
  }
  return new RemoteServerError(`${url}: network error ${code ? `${code} ` : ""}(${e?.message ?? String(err)}); check that the server is reachable`, "network", at);
}

function safeHost(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return url;
  }
}

/** The human part of an error body: OpenAI's {error: {message}}, FastAPI's {detail}, or the text. */
export function serverMessage(body: string): string {
  const text = body.trim();
  if (!text) return "";
  try {
    const json = JSON.parse(text) as Record<string, unknown>;
    const error = json.error as Record<string, unknown> | string | undefined;
    if (typeof error === "string") return error;
    if (error && typeof error.message === "string") return error.message;
    if (typeof json.message === "string") return json.message;
    if (typeof json.detail === "string") return json.detail;
    if (json.detail !== undefined) return JSON.stringify(json.detail);
  } catch {
    // not JSON: the text itself
  }
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

/** An HTTP error status. `serverModels`: what the server has, for a 404 on the model name. */
export function statusError(status: number, body: string, url: string, model: string, serverModels?: string[]): RemoteServerError {
  const said = serverMessage(body).replace(/[.\s]+$/, "");
  const tail = said ? `: ${said}` : "";
  const at = { status, url };
  if (status === 401 || status === 403) {
    return new RemoteServerError(
      `${url} answered ${status} (${status === 401 ? "unauthorized" : "forbidden"})${tail}. Check the API key: the voice-model's API key credential, or VOICE_STREAM_API_KEY for the CLI`,
      "auth",
      at,
    );
  }
  if (status === 404) {
    const models = serverModels && serverModels.length > 0 ? ` The server has: ${serverModels.join(", ")}.` : "";
    const what = model ? `the model '${model}' or this endpoint` : "this endpoint (is the URL the API base, ending in /v1?)";
    return new RemoteServerError(`${url} answered 404 (not found)${tail}: check ${what}.${models}`, "not-found", at);
  }
  if (status === 429) return new RemoteServerError(`${url} answered 429 (too many requests)${tail}; wait, or lower the load on the server`, "rate-limited", at);
  if (status >= 500) return new RemoteServerError(`${url} answered ${status} (server error)${tail}`, "server-error", at);
  return new RemoteServerError(`${url} answered ${status}${tail}`, "bad-request", at);
}

export function midStreamError(url: string, what: string): RemoteServerError {
  return new RemoteServerError(`${url} closed the connection mid-stream (${what}); what arrived before stays sent. Check the server's log`, "closed-mid-stream", { url });
}

export function malformedError(url: string, what: string, excerpt: string): RemoteServerError {
  const shown = excerpt.length > 120 ? `${excerpt.slice(0, 120)}…` : excerpt;
  return new RemoteServerError(`${url} sent ${what}: ${JSON.stringify(shown)}; is this an OpenAI-compatible server?`, "malformed", { url });
}

export function connectTimeoutError(url: string, ms: number): RemoteServerError {
  return new RemoteServerError(`${url} did not accept the connection within ${ms} ms: check the host, port and firewall (or raise connect_timeout_ms)`, "connect-timeout", { url });
}

export function idleTimeoutError(url: string, ms: number, what: string): RemoteServerError {
  return new RemoteServerError(`${url} sent nothing for ${ms} ms ${what}: the server may be stuck or overloaded (or raise idle_timeout_ms)`, "idle-timeout", { url });
}
