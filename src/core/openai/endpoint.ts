/**
 * Where an OpenAI-compatible server is and how to talk to it (PROTOCOL §5): an engines path
 * `http(s)://host:port/v1`, the server-side model name (`config.model`), the API key (the
 * voice-model's credential, else $VOICE_STREAM_API_KEY), a CA file to trust for https, and
 * the connect and idle timeouts. The key is held here and only ever goes into the
 * Authorization header: `label` (what messages show) never contains it.
 */
import * as fs from "fs";
import type { ModelConfig } from "../types";

export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
export const DEFAULT_IDLE_TIMEOUT_MS = 60_000;

/** An engines path safe to show: any user:password@ part of a URL replaced by ***@. */
export function withoutUserInfo(enginesPath: string): string {
  return String(enginesPath).replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/i, "$1***@");
}

/** True for engines paths served by an OpenAI-compatible HTTP API. */
export function isOpenAiEnginesPath(enginesPath: unknown): boolean {
  return typeof enginesPath === "string" && /^https?:\/\//i.test(enginesPath.trim());
}

export interface OpenAiEndpoint {
  /** Base URL without a trailing slash, e.g. http://gpu-box:8000/v1. */
  readonly baseUrl: string;
  /** The URL as messages show it: no user info, no query. */
  readonly label: string;
  /** Server-side model name (may be empty: some servers serve one model and ignore it). */
  readonly model: string;
  readonly apiKey?: string;
  /** PEM of extra certificate authorities to trust (https). */
  readonly ca?: Buffer;
  readonly connectTimeoutMs: number;
  readonly idleTimeoutMs: number;
}

export interface EndpointOptions {
  /** The voice-model's credential; else $VOICE_STREAM_API_KEY. */
  apiKey?: string;
}

function positiveMs(config: ModelConfig, key: string, fallback: number): number {
  const raw = config[key];
  if (raw === undefined || raw === null || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${key} must be a number of milliseconds above 0, got ${JSON.stringify(raw)}`);
  return value;
}

/** The endpoint of a spec; throws a clear Error for a malformed URL or settings. */
export function openAiEndpoint(enginesPath: string, config: ModelConfig = {}, options: EndpointOptions = {}): OpenAiEndpoint {
  let url: URL;
  try {
    url = new URL(enginesPath.trim());
  } catch {
    throw new Error(`'${enginesPath}' is not a valid URL; give the server's API base, like http://gpu-box:8000/v1`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error(`'${url.protocol}' URLs are not OpenAI-compatible servers; use http:// or https://`);
  // A key in the URL would end up in labels and logs: it belongs in the credential (or the environment).
  if (url.username || url.password) {
    throw new Error(`${withoutUserInfo(enginesPath)}: put the API key in the voice-model's Token / API key credential (CLI: VOICE_STREAM_API_KEY), not in the URL`);
  }
  url.search = "";
  url.hash = "";
  const baseUrl = url.toString().replace(/\/+$/, "");
  let ca: Buffer | undefined;
  const caFile = config.ca_file;
  if (caFile !== undefined && caFile !== "") {
    if (typeof caFile !== "string") throw new Error("ca_file must be the path of a PEM file");
    try {
      ca = fs.readFileSync(caFile);
    } catch (err) {
      throw new Error(`cannot read the CA file '${caFile}' (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); give the path of a PEM certificate`);
    }
  }
  const model = config.model === undefined || config.model === null ? "" : String(config.model).trim();
  return {
    baseUrl,
    label: baseUrl,
    model,
    apiKey: options.apiKey?.trim() || process.env.VOICE_STREAM_API_KEY?.trim() || undefined,
    ca,
    connectTimeoutMs: positiveMs(config, "connect_timeout_ms", DEFAULT_CONNECT_TIMEOUT_MS),
    idleTimeoutMs: positiveMs(config, "idle_timeout_ms", DEFAULT_IDLE_TIMEOUT_MS),
  };
}
