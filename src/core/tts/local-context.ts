/**
 * A LoadContext over a local model directory, for the CLI and tests when no registry is at
 * hand: files are looked up directly, ONNX variants by dtype, sessions on the CPU.
 */
import * as fs from "fs";
import * as path from "path";
import * as ort from "onnxruntime-node";
import type { LoadContext, ModelSource, ModelSpec } from "../types";

const DTYPE_SUFFIX: Record<string, string> = { fp32: "", fp16: "_fp16", q4: "_q4", q8: "_quantized", quantized: "_quantized", int8: "_int8", uint8: "_uint8", q4f16: "_q4f16" };

export function localSource(dir: string): ModelSource {
  const root = path.resolve(dir);
  const list = (): string[] => {
    const out: string[] = [];
    const walk = (rel: string) => {
      for (const entry of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
        const child = rel ? `${rel}/${entry.name}` : entry.name;
        if (entry.isDirectory()) walk(child);
        else out.push(child);
      }
    };
    if (fs.existsSync(root)) walk("");
    return out.sort();
  };
  return {
    id: root,
    async file(rel) {
      const full = path.join(root, rel);
      if (!fs.existsSync(full)) throw new Error(`model '${root}' has no file '${rel}'`);
      return full;
    },
    async has(rel) {
      return fs.existsSync(path.join(root, rel));
    },
    async list() {
      return list();
    },
  };
}

export function localLoadContext(dir: string, spec: Partial<ModelSpec> = {}): LoadContext {
  const source = localSource(dir);
  const fullSpec: ModelSpec = { enginesPath: dir, ...spec };
  return {
    spec: fullSpec,
    source,
    async onnxFile(baseName, folder = "onnx") {
      const dtype = fullSpec.config?.dtype ?? "fp32";
      const suffix = DTYPE_SUFFIX[dtype] ?? `_${dtype}`;
      return source.file(`${folder}/${baseName}${suffix}.onnx`);
    },
    async createSession(localPath) {
      return ort.InferenceSession.create(localPath, { intraOpNumThreads: 1, interOpNumThreads: 1 });
    },
    warn(message) {
      process.emitWarning(message);
    },
  };
}
