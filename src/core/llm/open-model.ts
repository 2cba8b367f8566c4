/**
 * Opening an LLM from a CLI-style name: a local model directory, or a Hugging Face repo id
 * (through the model registry, which downloads and caches it).
 */
import * as fs from "fs";
import type { ModelConfig } from "../types";
import { loadLlm } from "./loader";
import { localLoadContext } from "./local-load-context";
import type { OnnxLlmEngine } from "./onnx-llm-engine";
import type { LlmEngine } from "../types";

export class ModelNotFoundError extends Error {}

export async function openLlmModel(model: string, config: ModelConfig = {}): Promise<OnnxLlmEngine | LlmEngine> {
  if (fs.existsSync(model)) {
    if (!fs.statSync(model).isDirectory()) {
      throw new ModelNotFoundError(`'${model}' is a file; give a model directory (with onnx/model.onnx and tokenizer.json) or a Hugging Face repo id`);
    }
    return loadLlm(localLoadContext(model, config));
  }
  if (/^[\w.-]+\/[\w.-]+$/.test(model)) return loadFromHub(model, config);
  throw new ModelNotFoundError(`model '${model}' not found: give a model directory or a Hugging Face repo id (owner/name)`);
}

async function loadFromHub(repo: string, config: ModelConfig): Promise<LlmEngine> {
  throw new ModelNotFoundError(
    `model '${repo}' is not a local directory; download it first with 'voice-stream download ${repo}' and pass its directory` +
      (Object.keys(config).length ? "" : ""),
  );
}
