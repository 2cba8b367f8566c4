/** Model sources: a Hugging Face repo (downloaded into the cache) or a local folder in the same layout. */
import type { ModelKind, ModelSource, ModelSpec } from "../types";
import { isEspeakSpec } from "../tts/loader";
import { isBuiltinVad } from "../vad/builtin";
import { isWyomingUrl } from "../wyoming/client";
import { HubModelSource, type DownloadProgress } from "./hub-source";
import { EmptyModelSource, LocalModelSource } from "./local-source";
import { isHubRepoId, resolveCacheDir } from "./paths";

export { HubModelSource, DEFAULT_HUB_URL, isTransferArtifact, type DownloadProgress, type HubSourceOptions } from "./hub-source";
export { LocalModelSource, EmptyModelSource, expandDirectory } from "./local-source";
export { isHubRepoId, resolveCacheDir, repoCacheDir } from "./paths";
export { describeHubError } from "./errors";

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

/** Whether `spec` of `kind` needs no files at all (eSpeak TTS, the built-in Silero VAD, a wyoming:// service). */
export function needsNoFiles(kind: ModelKind, spec: ModelSpec): boolean {
  if (isWyomingUrl(spec.enginesPath)) return true;
  if (kind === "tts") return isEspeakSpec(spec.enginesPath.trim(), spec.config?.engine);
  if (kind === "vad") return isBuiltinVad(spec.enginesPath);
  return false;
}

export function resolveModelSource(kind: ModelKind, spec: ModelSpec, options: SourceOptions = {}): ModelSource {
  const enginesPath = (spec.enginesPath ?? "").trim();
  if (needsNoFiles(kind, spec)) return new EmptyModelSource(enginesPath || kind);
  if (!enginesPath) throw new Error(`no engines path set for the ${kind} model; give a Hugging Face repo id (owner/name) or a local folder`);
  if (isHubRepoId(enginesPath)) {
    return new HubModelSource({
      repo: enginesPath,
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
