/**
 * A LoadContext over a plain local model directory, for the ASR/VAD CLI, tests and benches
 * when no model registry is involved: files are path joins, sessions use onnxruntime's CPU
 * provider, and the dtype variant picks `<base>_<suffix>.onnx` as hub repos name them.
 */
import * as fs from "fs";
import * as path from "path";
import * as ort from "onnxruntime-node";
import type { LoadContext, ModelConfig, ModelSource } from "../types";

const DTYPE_SUFFIX: Record<string, string> = { fp32: "", fp16: "_fp16", q8: "_quantized", int8: "_int8", uint8: "_uint8", q4: "_q4", q4f16: "_q4f16", bnb4: "_bnb4", quantized: "_quantized" };

export function directoryLoadContext(dir: string, config: ModelConfig = {}, warn: (m: string) => void = () => {}): LoadContext {
  const root = path.resolve(dir);
  if (!fs.existsSync(root) || !fs.statSync(root).isDirectory()) throw new Error(`model directory '${dir}' does not exist`);
  const source: ModelSource = {
    id: dir,
    async file(relPath) {
      const full = path.join(root, relPath);
      if (!fs.existsSync(full)) throw new Error(`model '${dir}' has no file '${relPath}'`);
      return full;
    },
    async has(relPath) {
      return fs.existsSync(path.join(root, relPath));
    },
    async list() {
      return fs.readdirSync(root, { recursive: true }).map(String).filter((f) => fs.statSync(path.join(root, f)).isFile()).map((f) => f.split(path.sep).join("/"));
    },
  };
  return {
    spec: { enginesPath: dir, config },
    source,
    async onnxFile(baseName, folder = "onnx") {
      const dtype = config.dtype ?? "fp32";
      const suffix = DTYPE_SUFFIX[dtype] ?? `_${dtype}`;
      return source.file(`${folder}/${baseName}${suffix}.onnx`);
    },
    createSession(localPath) {
      return ort.InferenceSession.create(localPath, { executionProviders: ["cpu"], intraOpNumThreads: 1, graphOptimizationLevel: "all" });
    },
    warn,
  };
}
