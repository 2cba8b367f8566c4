/** Model sources: a Hugging Face repo (downloaded into the cache) or a local folder in the same layout. */
import type { ModelKind, ModelSource, ModelSpec } from "../types";
import { isBuiltinEngine, locateEngines } from "../engines-path";
import { builtinStoriesDir, isBuiltinStories } from "./builtin-stories";
import { HubModelSource, type DownloadProgress } from "./hub-source";
import { EmptyModelSource, LocalModelSource } from "./local-source";
import { resolveCacheDir } from "./paths";

export { HubModelSource, DEFAULT_HUB_URL, isTransferArtifact, type DownloadProgress, type HubSourceOptions } from "./hub-source";
export { LocalModelSource, EmptyModelSource, expandDirectory } from "./local-source";
export { isHubRepoId, resolveCacheDir, repoCacheDir } from "./paths";
export { describeHubError } from "./errors";
export { readModelJson, readOptionalModelJson, parseModelJson, type JsonObject } from "./model-json";

export interface SourceOptions {
  /** Download cache; default $VOICE_STREAM_CACHE or ~/.cache/voice-stream. */
  cacheDir?: string;
  offline?: boolean;
  hubUrl?: string;
  /** Default: $HF_TOKEN. */
  token?: string;
  onProgress?: (progress: DownloadProgress) => void;
  signal?: AbortSignal;
  warn?: (message: string) => void;
}

/** Whether `spec` of `kind` needs no files at all (eSpeak TTS, the built-in Silero VAD, a remote service). */
export function needsNoFiles(kind: ModelKind, spec: ModelSpec): boolean {
  return isBuiltinEngine(kind, spec) || /^(https?|wyoming):\/\//i.test((spec.enginesPath ?? "").trim());
}

/** The files of a built-in, hub or local engines path (remote engines have none: see registry/resolve-engine.ts). */
export function resolveModelSource(kind: ModelKind, spec: ModelSpec, options: SourceOptions = {}): ModelSource {
  const enginesPath = (spec.enginesPath ?? "").trim();
  // The offline demo LLM: converted once into the cache from the copy the package ships.
  if (kind === "llm" && isBuiltinStories(enginesPath)) return new LocalModelSource(builtinStoriesDir(resolveCacheDir(options.cacheDir)));
  const location = locateEngines(kind, spec);
  if (location.form === "builtin") return new EmptyModelSource(enginesPath || kind);
  if (location.form === "openai" || location.form === "wyoming") {
    throw new Error(`the ${kind} model '${enginesPath}' is a remote service and has no model files`);
  }
  if (location.form === "hub") {
    return new HubModelSource({
      repo: location.repo,
      revision: spec.revision || "main",
      cacheDir: resolveCacheDir(options.cacheDir),
      // HF_ENDPOINT: the hub's own variable for mirrors and private hubs.
      hubUrl: options.hubUrl || process.env.HF_ENDPOINT || undefined,
      token: options.token || process.env.HF_TOKEN || undefined,
      offline: options.offline,
      onProgress: options.onProgress,
      signal: options.signal,
      warn: options.warn,
    });
  }
  return new LocalModelSource(enginesPath);
}
