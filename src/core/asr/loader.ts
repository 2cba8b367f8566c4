import type { FamilyLoader, AsrEngine } from "../types";

/** Placeholder until the asr family lands: the registry imports this name. */
export const loadAsr: FamilyLoader<AsrEngine> = async (ctx) => {
  throw new Error(`the asr engine is not implemented yet (model '${ctx.source.id}')`);
};
