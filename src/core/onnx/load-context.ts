/** The LoadContext a family loader receives: the spec, its file source, variant selection and sessions. */
import type { LoadContext, ModelSource, ModelSpec } from "../types";
import { createSessionFactory, type SessionSettings } from "./session-factory";
import { selectVariant } from "./variants";

export interface LoadContextOptions extends SessionSettings {
  warn?: (message: string) => void;
}

export function createLoadContext(spec: ModelSpec, source: ModelSource, options: LoadContextOptions = {}): LoadContext {
  const warn = options.warn ?? (() => {});
  const createSession = createSessionFactory({ ...options, warn });
  return {
    spec,
    source,
    async onnxFile(baseName: string, folder = "onnx") {
      const dtype = typeof spec.config?.dtype === "string" && spec.config.dtype.trim() ? spec.config.dtype.trim() : undefined;
      const rel = selectVariant(await source.list(), baseName, dtype, folder, source.id);
      return source.file(rel);
    },
    createSession,
    warn,
    sessionSettings: { executionProviders: options.executionProviders, intraOpNumThreads: options.intraOpNumThreads, interOpNumThreads: options.interOpNumThreads },
  };
}
