/**
 * A model opened for one command-line run: a registry of its own (so nothing outlives the
 * process), the load's states reported as they change, and one close() that frees it all.
 * The llm and tts `open-model` helpers turn a user's model name into the spec and call this.
 */
import type { Subscription } from "rxjs";
import type { LoadedModel, ModelConfig, ModelKind, ModelSpec } from "../types";
import { ModelRegistry, type ModelState } from "./model-registry";

export interface OpenedModel<E extends LoadedModel> {
  engine: E;
  /** Frees the model. */
  close(): Promise<void>;
}

export interface OpenModelOptions {
  /** Load and download states as they change. */
  onState?: (state: ModelState) => void;
  warn?: (message: string) => void;
}

/** What the llm and tts helpers take besides the model name: the spec's config and revision too. */
export interface OpenNamedModelOptions extends OpenModelOptions {
  config?: ModelConfig;
  revision?: string;
}

/** The Hugging Face tools' switch (HF_HUB_OFFLINE=1) or ours (VOICE_STREAM_OFFLINE=1): cache only, no network. */
export function offlineByEnvironment(): boolean {
  return process.env.HF_HUB_OFFLINE === "1" || process.env.VOICE_STREAM_OFFLINE === "1";
}

/** Loads `spec` of `kind` (downloading a hub repo into the cache first); rejects with the load error. */
export async function openModel<E extends LoadedModel>(kind: ModelKind, spec: ModelSpec, options: OpenModelOptions = {}): Promise<OpenedModel<E>> {
  // The hub reads HF_ENDPOINT (a mirror or a private hub) and HF_TOKEN itself.
  const registry = new ModelRegistry({ offline: offlineByEnvironment(), warn: options.warn });
  const lease = registry.startModel<E>(kind, spec);
  const subscription: Subscription | undefined = options.onState ? lease.state$.subscribe(options.onState) : undefined;
  const close = async () => {
    subscription?.unsubscribe();
    await lease.release();
  };
  try {
    return { engine: await lease.model, close };
  } catch (err) {
    await close();
    throw err;
  }
}
