import type { FamilyLoader, VadEngine } from "../types";

/** Placeholder until the vad family lands: the registry imports this name. */
export const loadVad: FamilyLoader<VadEngine> = async (ctx) => {
  throw new Error(`the vad engine is not implemented yet (model '${ctx.source.id}')`);
};
