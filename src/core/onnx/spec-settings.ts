/** Session settings a model spec may carry in its config (execution_provider, thread counts), over the caller's defaults. */
import type { ExecutionProvider, ModelSpec } from "../types";
import type { SessionSettings } from "./session-factory";

const PROVIDERS: readonly ExecutionProvider[] = ["cpu", "cuda"];

function threads(spec: ModelSpec, key: string): number | undefined {
  const value = spec.config?.[key];
  if (value === undefined || value === null || value === "") return undefined;
  const n = typeof value === "string" ? Number(value) : value;
  if (typeof n !== "number" || !Number.isInteger(n) || n < 1) {
    throw new Error(`config.${key} must be a whole number of threads (1 or more), got ${JSON.stringify(value)}`);
  }
  return n;
}

export function sessionSettingsFor(spec: ModelSpec, defaults: SessionSettings = {}): SessionSettings {
  const provider = spec.config?.execution_provider;
  if (provider !== undefined && provider !== "" && !PROVIDERS.includes(provider as ExecutionProvider)) {
    throw new Error(`config.execution_provider '${String(provider)}' is not supported; expected cpu or cuda`);
  }
  return {
    ...defaults,
    executionProviders: provider ? [provider as ExecutionProvider] : defaults.executionProviders,
    intraOpNumThreads: threads(spec, "intra_op_num_threads") ?? defaults.intraOpNumThreads,
    interOpNumThreads: threads(spec, "inter_op_num_threads") ?? defaults.interOpNumThreads,
  };
}
