/** The identity of a loaded model: same kind, engines path, revision and config → one shared instance. */
import type { ModelKind, ModelSpec } from "../types";

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === "object" && !(value instanceof Uint8Array)) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value as Record<string, unknown>).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined && v !== "") out[key] = canonical(v);
    }
    return out;
  }
  return value;
}

export function modelKey(kind: ModelKind, spec: ModelSpec): string {
  return JSON.stringify([kind, spec.enginesPath.trim(), spec.revision || "main", canonical(spec.config ?? {})]);
}
