/**
 * The options every model command takes for a remote engine (PROTOCOL §8): --server-model
 * (the server's model name), --ca-file, --connect-timeout-ms, --idle-timeout-ms. The API key
 * comes from VOICE_STREAM_API_KEY only (never a flag: flags show in process lists and history).
 */
import { numberOption } from "./args";
import type { ModelConfig } from "../core/types";

export const REMOTE_OPTIONS = {
  "server-model": { type: "string" },
  "ca-file": { type: "string" },
  "connect-timeout-ms": { type: "string" },
  "idle-timeout-ms": { type: "string" },
} as const;

export const REMOTE_HELP = `  --server-model    (http(s)://…/v1 engines) the model name on the server
  --ca-file         (https) PEM file of a certificate authority to trust
  --connect-timeout-ms, --idle-timeout-ms   give up on a silent server (default 10000, 60000)
environment: VOICE_STREAM_API_KEY (sent as the bearer token to remote servers)
`;

export function remoteConfig(values: Record<string, unknown>): ModelConfig {
  const config: ModelConfig = {};
  if (typeof values["server-model"] === "string") config.model = values["server-model"];
  if (typeof values["ca-file"] === "string") config.ca_file = values["ca-file"];
  const connect = numberOption(values, "connect-timeout-ms", { min: 1 });
  const idle = numberOption(values, "idle-timeout-ms", { min: 1 });
  if (connect !== undefined) config.connect_timeout_ms = connect;
  if (idle !== undefined) config.idle_timeout_ms = idle;
  return config;
}
