/**
 * What an engines path names (PROTOCOL §5): a built-in engine, a Hugging Face repo, a local
 * folder, an OpenAI-compatible server or a Wyoming service. Pure parsing, no engine imports,
 * so the hub (which fetches files) and the registry (which picks the engine) share one answer.
 */
import { isHubRepoId } from "./hub/paths";
import type { ModelKind, ModelSpec } from "./types";

export type EngineLocation =
  | { form: "builtin"; name: string }
  | { form: "hub"; repo: string }
  | { form: "local"; dir: string }
  | { form: "openai"; url: string }
  | { form: "wyoming"; host: string; port: number };

export type EngineForm = EngineLocation["form"];

/** Engines that ship with the package, by kind: the names that mean them ("" = the default). */
export const BUILTIN_ENGINE_NAMES: Partial<Record<ModelKind, readonly string[]>> = {
  tts: ["espeak"],
  vad: ["", "silero", "silero-vad", "builtin"],
};

/** Whether `spec` of `kind` is a built-in engine (eSpeak TTS, the shipped Silero VAD): no files to fetch. */
export function isBuiltinEngine(kind: ModelKind, spec: Pick<ModelSpec, "enginesPath" | "config">): boolean {
  const p = (spec.enginesPath ?? "").trim().toLowerCase();
  if (kind === "tts" && spec.config?.engine === "espeak") return true;
  return BUILTIN_ENGINE_NAMES[kind]?.includes(p) ?? false;
}

function wyoming(p: string): EngineLocation {
  let url: URL;
  try {
    url = new URL(p);
  } catch {
    throw new Error(`engines path '${p}' is not a valid wyoming:// address; expected wyoming://host:port, e.g. wyoming://homeassistant.local:10300`);
  }
  const port = Number(url.port);
  if (!url.hostname || !Number.isInteger(port) || port <= 0) {
    throw new Error(`engines path '${p}' needs a host and a port: wyoming://host:port, e.g. wyoming://homeassistant.local:10300`);
  }
  return { form: "wyoming", host: url.hostname, port };
}

/** Where `spec` of `kind` runs. Throws a clear Error for a path that is none of the forms. */
export function locateEngines(kind: ModelKind, spec: Pick<ModelSpec, "enginesPath" | "config">): EngineLocation {
  const p = (spec.enginesPath ?? "").trim();
  if (isBuiltinEngine(kind, spec)) return { form: "builtin", name: p.toLowerCase() || String(BUILTIN_ENGINE_NAMES[kind]?.[1] ?? kind) };
  if (/^https?:\/\//i.test(p)) return { form: "openai", url: p.replace(/\/+$/, "") };
  if (/^wyoming:\/\//i.test(p)) return wyoming(p);
  if (!p) throw new Error(`no engines path set for the ${kind} model; give a Hugging Face repo id (owner/name) or a local folder`);
  if (isHubRepoId(p)) return { form: "hub", repo: p };
  return { form: "local", dir: p };
}
