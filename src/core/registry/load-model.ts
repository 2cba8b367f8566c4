/**
 * One-shot loading for the CLI and scripts: resolve the spec's files (hub download or local
 * folder), build the LoadContext, run the family loader. No sharing or reference counts:
 * the caller disposes the model.
 */
import { resolveModelSource, type SourceOptions } from "../hub";
import { createLoadContext } from "../onnx/load-context";
import { isOpenAiEnginesPath, loadOpenAiModel } from "../openai/remote-model";
import { sessionSettingsFor } from "../onnx/spec-settings";
import type { ExecutionProvider, LoadedModel, ModelKind, ModelSpec } from "../types";
import { FAMILY_LOADERS } from "./model-registry";

export interface LoadModelOptions extends SourceOptions {
  executionProviders?: ExecutionProvider[];
  intraOpNumThreads?: number;
  interOpNumThreads?: number;
}

export async function loadModel<M extends LoadedModel = LoadedModel>(kind: ModelKind, spec: ModelSpec, options: LoadModelOptions = {}): Promise<M> {
  const loader = FAMILY_LOADERS[kind];
  if (!loader) throw new Error(`unknown model kind '${String(kind)}'; expected llm, tts, asr or vad`);
  if (isOpenAiEnginesPath(spec.enginesPath)) return (await loadOpenAiModel(kind, spec, { apiKey: options.token, warn: options.warn })) as M;
  const source = resolveModelSource(kind, spec, options);
  const settings = sessionSettingsFor(spec, {
    executionProviders: options.executionProviders,
    intraOpNumThreads: options.intraOpNumThreads,
    interOpNumThreads: options.interOpNumThreads,
  });
  const ctx = createLoadContext(spec, source, { ...settings, warn: options.warn });
  return (await loader(ctx)) as M;
}
