import type { FamilyLoader } from "../../../types";
import { isBuiltinEngine } from "../../../engines-path";
import { BUILTIN_VAD_FILE, builtinVadPath } from "./builtin";
import { SileroVadEngine } from "./silero-engine";

/**
 * The vad family: Silero VAD v5. enginesPath "silero" (or empty) is the copy shipped in the
 * package; otherwise a directory or repo holding silero_vad_v5.onnx (or silero_vad.onnx, or
 * onnx/model.onnx as onnx-community/silero-vad has it).
 */
export const loadVad: FamilyLoader<SileroVadEngine> = async (ctx) => {
  let file: string;
  if (isBuiltinEngine("vad", ctx.spec)) {
    file = builtinVadPath();
  } else {
    const name = (await ctx.source.has(BUILTIN_VAD_FILE)) ? BUILTIN_VAD_FILE : (await ctx.source.has("silero_vad.onnx")) ? "silero_vad.onnx" : undefined;
    if (name) file = await ctx.source.file(name);
    // onnx-community/silero-vad style repos keep it as onnx/model.onnx
    else if (await ctx.source.has("onnx/model.onnx")) file = await ctx.onnxFile("model");
    else throw new Error(`'${ctx.source.id}' has no ${BUILTIN_VAD_FILE}; point the vad model at a folder with it, or use "silero" for the built-in model`);
  }
  const session = await ctx.createSession(file);
  const missing = ["input", "state", "sr"].filter((n) => !session.inputNames.includes(n));
  if (missing.length > 0) {
    await session.release();
    throw new Error(`${file} is not a Silero VAD v5 model (no input ${missing.join(", ")})`);
  }
  return new SileroVadEngine(session, file);
};
