/**
 * A model opened for one command-line run: the user's model name turned into a spec, an
 * InferenceCore of its own (so nothing outlives the process, and repos download exactly as
 * the nodes' do), the load's progress reported as it changes, and one close() that frees it all.
 */
import * as fs from "fs";
import * as path from "path";
import { isBuiltinEngine, locateEngines } from "./engines-path";
import { InferenceCore } from "./inference-core";
import type { LoadedModel, LoadProgress, ModelConfig, ModelKind, ModelSpec } from "./types";

/** The model name points at nothing usable: the user's input is wrong. */
export class ModelNotFoundError extends Error {}

export interface OpenedModel<E extends LoadedModel> {
  engine: E;
  /** Frees the model. */
  close(): Promise<void>;
}

export interface OpenModelOptions {
  /** Download and load progress as it changes. */
  onProgress?: (progress: LoadProgress) => void;
  warn?: (message: string) => void;
}

/** What a model name comes with: the spec's config and revision. */
export interface OpenNamedModelOptions extends OpenModelOptions {
  config?: ModelConfig;
  revision?: string;
}

/** The Hugging Face tools' switch (HF_HUB_OFFLINE=1) or ours (VOICE_STREAM_OFFLINE=1): cache only, no network. */
export function offlineByEnvironment(): boolean {
  return process.env.HF_HUB_OFFLINE === "1" || process.env.VOICE_STREAM_OFFLINE === "1";
}

const FORMS: Record<ModelKind, string> = {
  llm: "a model directory or a Hugging Face repo id (owner/name)",
  tts: `a model directory, a Hugging Face repo id (owner/name) or "espeak"`,
  asr: "a model directory or a Hugging Face repo id (owner/name)",
  vad: `a folder with silero_vad_v5.onnx, a Hugging Face repo id or "silero"`,
  wake: "a folder with melspectrogram.onnx, embedding_model.onnx and wake word heads, or a Hugging Face repo id (owner/name)",
};

/**
 * The engines path of a name typed on the command line: a built-in name, a URL, an existing
 * directory (made absolute), or a repo id. Throws ModelNotFoundError for anything else.
 */
export function enginesPathOfName(kind: ModelKind, model: string, config: ModelConfig = {}): string {
  if (isBuiltinEngine(kind, { enginesPath: model, config })) return model.trim().toLowerCase() || "silero";
  if (fs.existsSync(model)) {
    if (!fs.statSync(model).isDirectory()) throw new ModelNotFoundError(`'${model}' is a file; give ${FORMS[kind]}`);
    return path.resolve(model);
  }
  const form = locateEngines(kind, { enginesPath: model, config }).form;
  if (form === "local") throw new ModelNotFoundError(`model '${model}' not found: give ${FORMS[kind]}`);
  return model.trim();
}

/** Loads `spec` of `kind` (downloading a hub repo into the cache first); rejects with the load error. */
export async function openModel<E extends LoadedModel>(kind: ModelKind, spec: ModelSpec, options: OpenModelOptions = {}): Promise<OpenedModel<E>> {
  // The hub reads HF_ENDPOINT (a mirror or a private hub) and HF_TOKEN itself.
  const core = new InferenceCore({ offline: offlineByEnvironment(), warn: options.warn });
  // startModel releases the model itself when its load fails.
  const engine = (await core.startModel(kind, kind, spec, options.onProgress)) as E;
  return { engine, close: () => core.close() };
}

/** Opens the model a command-line name gives (see enginesPathOfName), of any kind, as the nodes would. */
export function openNamedModel<E extends LoadedModel>(kind: ModelKind, model: string, options: OpenNamedModelOptions = {}): Promise<OpenedModel<E>> {
  const config = options.config ?? {};
  return openModel<E>(kind, { enginesPath: enginesPathOfName(kind, model, config), revision: options.revision, config }, options);
}
