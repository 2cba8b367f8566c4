/**
 * One-shot loading for scripts and benches: the same resolution as the registry (see
 * resolve-engine.ts), without sharing or reference counts: the caller disposes the model.
 */
import type { SourceOptions } from "../hub";
import type { ExecutionProvider, LoadedModel, ModelKind, ModelSpec } from "../types";
import { openEngine } from "./resolve-engine";

export interface LoadModelOptions extends SourceOptions {
  executionProviders?: ExecutionProvider[];
  intraOpNumThreads?: number;
  interOpNumThreads?: number;
}

export async function loadModel<M extends LoadedModel = LoadedModel>(kind: ModelKind, spec: ModelSpec, options: LoadModelOptions = {}): Promise<M> {
  const { executionProviders, intraOpNumThreads, interOpNumThreads, ...sourceOptions } = options;
  const warn = options.warn ?? (() => {});
  return (await openEngine(kind, spec, { sourceOptions, credential: options.token, session: { executionProviders, intraOpNumThreads, interOpNumThreads }, warn })) as M;
}
