import type { FamilyLoader, AsrEngine } from "../types";
import { loadWhisperModel } from "./load-whisper";
import { WhisperEngine } from "./whisper-engine";
import { isWyomingUrl } from "../wyoming/client";
import { WyomingAsrEngine } from "./engines/wyoming/wyoming-asr-engine";

/** The asr family: Whisper in the onnx-community / Optimum layout (merged or split decoder). */
export const loadAsr: FamilyLoader<AsrEngine> = async (ctx) => {
  // A remote Wyoming service (wyoming://host:port): no files, a client engine.
  if (isWyomingUrl(ctx.spec.enginesPath)) return WyomingAsrEngine.open(ctx.spec);
  const model = await loadWhisperModel(ctx);
  return new WhisperEngine(model, () => model.release());
};
