/**
 * The built-in offline LLM: Model "stories260K" means llama2.c's stories260K (MIT), shipped
 * in assets/stories260K/ and converted to an ONNX model folder in the cache on first use, so
 * an LLM flow runs with no download at all (tiny: it writes children's stories, not answers).
 */
import * as fs from "fs";
import * as path from "path";
import { convertLlama2c } from "../llm/llama2c/convert";

export const BUILTIN_STORIES = "stories260K";

export function isBuiltinStories(enginesPath: string | undefined): boolean {
  return (enginesPath ?? "").trim().toLowerCase() === BUILTIN_STORIES.toLowerCase();
}

/** assets/stories260K of the package, found from this file's location (source or dist). */
function assetsDir(): string {
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    const candidate = path.join(dir, "assets", BUILTIN_STORIES);
    if (fs.existsSync(path.join(candidate, "stories260K.bin"))) return candidate;
    dir = path.dirname(dir);
  }
  throw new Error(`the built-in model assets/${BUILTIN_STORIES} is missing from the package; reinstall node-red-contrib-voice-stream`);
}

/** The converted model folder under `cacheDir`, converted now when it is not there yet. */
export function builtinStoriesDir(cacheDir: string): string {
  const dir = path.join(cacheDir, "builtin", BUILTIN_STORIES);
  if (fs.existsSync(path.join(dir, "onnx", "model.onnx")) && fs.existsSync(path.join(dir, "tokenizer.json"))) return dir;
  const assets = assetsDir();
  // Converted beside the target and renamed: a half-written folder is never used.
  const temp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  convertLlama2c(path.join(assets, "stories260K.bin"), path.join(assets, "tok512.bin"), temp);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.renameSync(temp, dir);
  return dir;
}
