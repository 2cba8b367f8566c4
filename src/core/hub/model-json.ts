/**
 * Reading the JSON files of a model folder (config.json, tokenizer.json, tts_config.json, a
 * piper .onnx.json, ...) with errors a user can act on: a damaged or cut-off file names the
 * file, the model and the fix, instead of the bare parser message ("Expected double-quoted
 * property name in JSON at position 24").
 */
import * as fs from "fs";
import type { ModelSource } from "../types";

export type JsonObject = Record<string, unknown>;

/** What to do about a damaged file of `source`: a hub download is fetched again once its cached copy is gone. */
function repairHint(source: ModelSource, localPath: string): string {
  const cacheDir = (source as { dir?: unknown }).dir;
  if (typeof cacheDir === "string" && localPath.startsWith(cacheDir)) {
    return `the download is damaged: delete the model's cached folder ${cacheDir} (or just that file) and deploy again to download it afresh`;
  }
  return `replace it with a good copy from the model's repo (or point the engines path at its Hugging Face repo id to download it)`;
}

/** Parses `text`, the content of `relPath` of `source`; throws an Error that names the file, the model and the fix. */
export function parseModelJson(text: string, relPath: string, source: ModelSource, localPath: string): JsonObject {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const what = text.trim() === "" ? "is empty" : `is not valid JSON (${(err as Error).message})`;
    throw new Error(`'${relPath}' of model '${source.id}' ${what}; ${repairHint(source, localPath)} — file: ${localPath}`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    const kind = value === null ? "null" : Array.isArray(value) ? "an array" : typeof value;
    throw new Error(`'${relPath}' of model '${source.id}' holds ${kind}, not a JSON object; ${repairHint(source, localPath)} — file: ${localPath}`);
  }
  return value as JsonObject;
}

/** The JSON object in `relPath` of the model (downloaded first when the source is a hub repo). */
export async function readModelJson(source: ModelSource, relPath: string): Promise<JsonObject> {
  const localPath = await source.file(relPath);
  let text: string;
  try {
    text = await fs.promises.readFile(localPath, "utf8");
  } catch (err) {
    throw new Error(`'${relPath}' of model '${source.id}' could not be read (${(err as Error).message}) — file: ${localPath}`);
  }
  return parseModelJson(text, relPath, source, localPath);
}

/** Like readModelJson, or undefined when the model has no such file. */
export async function readOptionalModelJson(source: ModelSource, relPath: string): Promise<JsonObject | undefined> {
  return (await source.has(relPath)) ? readModelJson(source, relPath) : undefined;
}
