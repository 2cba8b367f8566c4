/**
 * What a voice-model config node's fields mean as a model spec (PROTOCOL §5): the kind, the
 * engines path, the extra config, and for remote engines (http(s)://…/v1, wyoming://) the
 * server's model name, a CA file and the timeouts. Kept apart from the node so the node stays glue.
 */
import { createHash } from "crypto";
import type { NodeDef } from "node-red";
import { isBuiltinEngine } from "../../core/engines-path";
import { withStatusText } from "../../core/status-text";
import type { ModelConfig, ModelKind, ModelSpec } from "../../core/types";

const KINDS: readonly ModelKind[] = ["llm", "tts", "asr", "vad", "wake"];

export interface VoiceModelDef extends NodeDef {
  kind?: string;
  enginesPath?: string;
  revision?: string;
  dtype?: string;
  provider?: string;
  voice?: string;
  engine?: string;
  /** Extra model config as JSON (advanced). */
  config?: string;
  /** Remote engines (http(s)://…/v1): the server's model name, a CA file to trust, timeouts in ms. */
  serverModel?: string;
  caFile?: string;
  connectTimeoutMs?: string | number;
  idleTimeoutMs?: string | number;
}

/** Whether an engines path names a service (any scheme://) rather than files. */
export function isRemotePath(enginesPath: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(enginesPath.trim());
}

/** The registry spec of a config node's fields; throws a clear Error for bad input. */
export function specOf(def: VoiceModelDef): { kind: ModelKind; spec: ModelSpec } {
  const kind = String(def.kind ?? "").trim() as ModelKind;
  if (!KINDS.includes(kind)) throw new Error(`model kind '${def.kind ?? ""}' is not one of llm, tts, asr, vad, wake; choose one in the voice-model node`);
  let extra: ModelConfig = {};
  const rawConfig = (def.config ?? "").trim();
  if (rawConfig) {
    try {
      extra = JSON.parse(rawConfig) as ModelConfig;
    } catch (err) {
      throw withStatusText(new Error(`the voice-model's extra config is not valid JSON (${(err as Error).message}); fix it or clear it`), "extra config is not valid JSON");
    }
    if (!extra || typeof extra !== "object" || Array.isArray(extra)) throw new Error("the voice-model's extra config must be a JSON object, like {\"q4_accuracy_level\": 4}");
  }
  const config: ModelConfig = { ...extra };
  const set = (key: string, value: string | number | undefined) => {
    if (value !== undefined && String(value).trim() !== "") config[key] = String(value).trim();
  };
  set("dtype", def.dtype);
  if (def.provider && def.provider !== "cpu") set("execution_provider", def.provider);
  if (kind === "tts") {
    set("voice", def.voice);
    set("engine", def.engine);
  }
  const enginesPath = String(def.enginesPath ?? "").trim();
  if (isRemotePath(enginesPath)) {
    // Remote engines: the server-side model and how to reach the server.
    set("model", def.serverModel);
    set("ca_file", def.caFile);
    set("connect_timeout_ms", def.connectTimeoutMs);
    set("idle_timeout_ms", def.idleTimeoutMs);
  }
  const noFilesNeeded = isBuiltinEngine(kind, { enginesPath, config });
  if (!enginesPath && !noFilesNeeded) throw new Error(`no engines path set: give a Hugging Face repo id (owner/name) or a local model folder`);
  return { kind, spec: { enginesPath: enginesPath || (kind === "tts" ? "espeak" : "silero"), revision: String(def.revision ?? "").trim() || "main", config } };
}

/**
 * A remote engine speaks with its key, so configs of one server with different keys must not
 * share one engine: the model key gets a one-way digest of the key (never the key itself).
 */
export function withCredentialDigest(spec: ModelSpec, token: string | undefined): ModelSpec {
  if (!token || !isRemotePath(spec.enginesPath)) return spec;
  return { ...spec, config: { ...spec.config, credential_digest: createHash("sha256").update(token).digest("hex").slice(0, 16) } };
}
