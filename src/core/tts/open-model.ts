/**
 * Opening a TTS model from a CLI-style name: "espeak" or a local directory (a Hugging Face
 * repo id is reported with what to do instead, until the registry is wired in).
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

/**
 * Hub repos: the model registry (downloads, cache) is the place for them. Until it is wired
 * in here, say what works instead.
 */
async function loadFromHub(repo: string, _spec: Partial<ModelSpec>): Promise<TtsEngine> {
  throw new Error(`model '${repo}' is not a local directory; download it first (voice-stream download ${repo}) and pass its directory`);
}
