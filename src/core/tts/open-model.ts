/**
 * Opening a TTS model from a CLI-style name: "espeak", a local directory, or (through the
 * registry, when present) a Hugging Face repo id.
 */
import * as fs from "fs";
import type { ModelSpec, TtsEngine } from "../types";
import { localLoadContext } from "./local-context";
import { isEspeakSpec, loadTts } from "./loader";

export async function openTtsModel(model: string, spec: Partial<ModelSpec> = {}): Promise<TtsEngine> {
  if (isEspeakSpec(model, spec.config?.engine)) return loadTts(localLoadContext(model, { ...spec, enginesPath: "espeak" }));
  if (fs.existsSync(model)) {
    if (!fs.statSync(model).isDirectory()) throw new Error(`--model must be a model directory, a Hugging Face repo id or "espeak"; '${model}' is a file`);
    return loadTts(localLoadContext(model, spec));
  }
  if (/^[\w.-]+\/[\w.-]+$/.test(model)) return loadFromHub(model, spec);
  throw new Error(`model '${model}' not found: give a model directory, a Hugging Face repo id (owner/name) or "espeak"`);
}

/** Hub repos go through the registry (downloads, cache); loaded lazily so the CLI works without it. */
async function loadFromHub(repo: string, spec: Partial<ModelSpec>): Promise<TtsEngine> {
  let registry: { loadModelOnce?: (kind: "tts", spec: ModelSpec) => Promise<TtsEngine> };
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    registry = require("../registry/tts-open") as typeof registry;
  } catch {
    throw new Error(`model '${repo}' is not a local directory; download it first with 'voice-stream download ${repo}' and pass its directory`);
  }
  if (!registry.loadModelOnce) throw new Error(`the model registry cannot load '${repo}'`);
  return registry.loadModelOnce("tts", { enginesPath: repo, ...spec });
}
