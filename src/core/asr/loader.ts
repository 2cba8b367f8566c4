import type { FamilyLoader, AsrEngine } from "../types";
import { loadWhisperModel } from "./engines/whisper/load-whisper";
import { guardDefaults, WhisperEngine } from "./engines/whisper/whisper-engine";
import { WorkerWhisperModel } from "./engines/whisper/worker-whisper-model";

/**
 * Whether the model runs in a worker thread (config `worker_thread`, default true): onnxruntime-node
 * runs sessions synchronously on the calling thread, so an in-process Whisper stalls the event
 * loop for a whole encoder pass and the VAD and flows fall behind (issue #20).
 */
export function workerThreadSetting(config: Record<string, unknown> | undefined): boolean {
  const value = config?.worker_thread;
  if (value === undefined || value === null || value === "") return true;
  if (value === true || value === "true") return true;
  if (value === false || value === "false") return false;
  throw new Error(`the asr model's config: worker_thread must be true or false, got ${JSON.stringify(value)}`);
}

/** The asr family: Whisper in the onnx-community / Optimum layout (merged or split decoder). */
export const loadAsr: FamilyLoader<AsrEngine> = async (ctx) => {
  const guards = guardDefaults(ctx.spec.config);
  const model = workerThreadSetting(ctx.spec.config) ? await WorkerWhisperModel.start(ctx) : await loadWhisperModel(ctx);
  return new WhisperEngine(model, () => model.release(), guards);
};
