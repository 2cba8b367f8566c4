import type { FamilyLoader, TtsEngine } from "../types";

/** Placeholder until the tts family lands: the registry imports this name. */
export const loadTts: FamilyLoader<TtsEngine> = async (ctx) => {
  throw new Error(`the tts engine is not implemented yet (model '${ctx.source.id}')`);
};
