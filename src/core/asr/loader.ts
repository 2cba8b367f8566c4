import type { FamilyLoader, AsrEngine } from "../types";
import { workerThreadSetting } from "../onnx/worker/worker-thread-setting";
import { loadWhisperModel } from "./engines/whisper/load-whisper";
import { guardDefaults, WhisperEngine } from "./engines/whisper/whisper-engine";
import { WorkerWhisperModel } from "./engines/whisper/worker-whisper-model";

/** The asr family: Whisper in the onnx-community / Optimum layout (merged or split decoder), in a worker thread unless config worker_thread is false. */
export const loadAsr: FamilyLoader<AsrEngine> = async (ctx) => {
  const guards = guardDefaults(ctx.spec.config);
  const inWorker = workerThreadSetting(ctx.spec.config, `the config of model ${ctx.source.id}`);
  const model = inWorker ? await WorkerWhisperModel.start(ctx) : await loadWhisperModel(ctx);
  return new WhisperEngine(model, () => model.release(), guards);
};
