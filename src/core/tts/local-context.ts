/**
 * A LoadContext for a model without the registry (tests, scripts): the project's own source
 * resolution and session factory, so a loader sees exactly what the registry would give it.
 */
import { resolveModelSource } from "../hub";
import { createLoadContext } from "../onnx/load-context";
import type { LoadContext, ModelKind, ModelSpec } from "../types";

export function localLoadContext(dir: string, spec: Partial<ModelSpec> = {}, kind: ModelKind = "tts"): LoadContext {
  const full: ModelSpec = { enginesPath: dir, ...spec };
  return createLoadContext(full, resolveModelSource(kind, full));
}
