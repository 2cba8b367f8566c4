/**
 * Opening an LLM from a CLI-style name — a local model directory or a Hugging Face repo id —
 * through the model registry (which downloads and caches repos, and picks the dtype variant).
 */
import * as fs from "fs";
import * as path from "path";
import { isHubRepoId } from "../hub";
import { isOpenAiEnginesPath } from "../openai/endpoint";
import { openModel, type OpenedModel, type OpenNamedModelOptions } from "../registry";
import type { LlmEngine } from "../types";

/** The model name points at nothing usable: the user's input is wrong. */
export class ModelNotFoundError extends Error {}

export type OpenedLlm = OpenedModel<LlmEngine>;

export type OpenLlmOptions = OpenNamedModelOptions;

export async function openLlmModel(model: string, options: OpenLlmOptions = {}): Promise<OpenedLlm> {
  let enginesPath: string;
  if (isOpenAiEnginesPath(model)) enginesPath = model.trim();
  else if (fs.existsSync(model)) {
    if (!fs.statSync(model).isDirectory()) {
      throw new ModelNotFoundError(`'${model}' is a file; give a model directory (with onnx/model.onnx and tokenizer.json) or a Hugging Face repo id`);
    }
    enginesPath = path.resolve(model);
  } else if (isHubRepoId(model)) {
    enginesPath = model;
  } else {
    throw new ModelNotFoundError(`model '${model}' not found: give a model directory or a Hugging Face repo id (owner/name)`);
  }
  return openModel<LlmEngine>("llm", { enginesPath, revision: options.revision, config: options.config ?? {} }, options);
}
