/**
 * The Silero VAD model shipped in the package (assets/silero_vad_v5.onnx, MIT): voice
 * activity detection must work offline with no download, and the model is only 2.3 MB.
 */
import * as fs from "fs";
import * as path from "path";

export const BUILTIN_VAD_FILE = "silero_vad_v5.onnx";

/** Absolute path of the shipped model, found from the compiled or source file's location. */
export function builtinVadPath(): string {
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    const candidate = path.join(dir, "assets", BUILTIN_VAD_FILE);
    if (fs.existsSync(candidate)) return candidate;
    dir = path.dirname(dir);
  }
  throw new Error(`the built-in VAD model assets/${BUILTIN_VAD_FILE} is missing from the package; reinstall node-red-contrib-voice-stream`);
}

/** Whether a model spec means the built-in Silero VAD rather than a directory or repo. */
export function isBuiltinVad(enginesPath: string | undefined): boolean {
  const p = (enginesPath ?? "").trim().toLowerCase();
  return p === "" || p === "silero" || p === "silero-vad" || p === "builtin";
}
