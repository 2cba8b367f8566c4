/**
 * Opening a wake model from a CLI-style name: a local folder or a Hugging Face repo id,
 * through the model registry (downloads and caches repos).
 */
import * as fs from "fs";
import * as path from "path";
import { isHubRepoId } from "../hub";
import { openModel, type OpenedModel, type OpenNamedModelOptions } from "../registry";
import type { OpenWakeWordEngine } from "./engines/openwakeword/engine";

export async function openWakeModel(model: string, options: OpenNamedModelOptions = {}): Promise<OpenedModel<OpenWakeWordEngine>> {
  let enginesPath: string;
  if (fs.existsSync(model)) {
    if (!fs.statSync(model).isDirectory()) throw new Error(`--model must be a folder with openWakeWord models or a Hugging Face repo id; '${model}' is a file`);
    enginesPath = path.resolve(model);
  } else if (isHubRepoId(model)) enginesPath = model;
  else throw new Error(`wake model '${model}' not found: give a folder with melspectrogram.onnx, embedding_model.onnx and wake word heads, or a Hugging Face repo id (owner/name)`);
  return openModel<OpenWakeWordEngine>("wake", { enginesPath, revision: options.revision, config: options.config ?? {} }, options);
}
