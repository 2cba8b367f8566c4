import type { FamilyLoader, AsrEngine } from "../types";
import { loadWhisperModel } from "./engines/whisper/load-whisper";
import { guardDefaults, WhisperEngine } from "./engines/whisper/whisper-engine";

/** The asr family: Whisper in the onnx-community / Optimum layout (merged or split decoder). */
export const loadAsr: FamilyLoader<AsrEngine> = async (ctx) => {
  const guards = guardDefaults(ctx.spec.config);
  const model = await loadWhisperModel(ctx);
  return new WhisperEngine(model, () => model.release(), guards);
};
