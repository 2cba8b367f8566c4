import type { FamilyLoader, LlmEngine } from "../types";

/** Placeholder until the llm family lands: the registry imports this name. */
export const loadLlm: FamilyLoader<LlmEngine> = async (ctx) => {
  throw new Error(`the llm engine is not implemented yet (model '${ctx.source.id}')`);
};
