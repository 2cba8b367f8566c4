/**
 * Opening a TTS model from a CLI-style name: "espeak", a local model directory, or a Hugging
 * Face repo id, through the model registry (which downloads and caches repos and picks the
 * dtype variant).
 */
import * as fs from "fs";
import * as path from "path";
import { isHubRepoId } from "../hub";
import { openModel, type OpenedModel, type OpenNamedModelOptions } from "../registry";
import type { TtsEngine } from "../types";
import { isEspeakSpec } from "./loader";
import { isWyomingUrl } from "../wyoming/client";

export type OpenedTts = OpenedModel<TtsEngine>;

export type OpenTtsOptions = OpenNamedModelOptions;

export async function openTtsModel(model: string, options: OpenTtsOptions = {}): Promise<OpenedTts> {
  let enginesPath: string;
  if (isEspeakSpec(model, options.config?.engine)) enginesPath = "espeak";
  else if (isWyomingUrl(model)) enginesPath = model.trim();
  else if (fs.existsSync(model)) {
    if (!fs.statSync(model).isDirectory()) {
      throw new Error(`--model must be a model directory, a Hugging Face repo id or "espeak"; '${model}' is a file`);
    }
    enginesPath = path.resolve(model);
  } else if (isHubRepoId(model)) enginesPath = model;
  else throw new Error(`model '${model}' not found: give a model directory, a Hugging Face repo id (owner/name) or "espeak"`);
  return openModel<TtsEngine>("tts", { enginesPath, revision: options.revision, config: options.config ?? {} }, options);
}
