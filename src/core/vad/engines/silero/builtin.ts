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
  for (let i = 0; i < 8; i++) {
    const candidate = path.join(dir, "assets", BUILTIN_VAD_FILE);
    if (fs.existsSync(candidate)) return candidate;
    dir = path.dirname(dir);
  }
  throw new Error(`the built-in VAD model assets/${BUILTIN_VAD_FILE} is missing from the package; reinstall node-red-contrib-voice-stream`);
}
