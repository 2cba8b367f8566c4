/**
 * A LoadContext over a model directory on disk, for the CLI and tests when the model
 * registry is not in the way: files are path joins with an existence check, sessions run
 * on the CPU provider.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as ort from "onnxruntime-node";
import type { LoadContext, ModelConfig, RewrittenModel } from "../types";

/**
 * CPU session options, explicit rather than left to defaults: all graph optimizations, one
 * intra-op thread per core (a decode step is one big chain of MatMuls: parallel inside ops,
 * nothing to gain between them), and the arena/memory-pattern planner so the per-step
 * activations reuse memory instead of allocating.
 */
export function cpuSessionOptions(): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: ["cpu"],
    graphOptimizationLevel: "all",
    executionMode: "sequential",
    intraOpNumThreads: os.availableParallelism?.() ?? os.cpus().length,
    enableCpuMemArena: true,
    enableMemPattern: true,
  };
}

/** onnx-community file suffix of a dtype: model.onnx, model_q4.onnx, model_quantized.onnx, ... */
export function onnxVariantName(baseName: string, dtype: string | undefined): string {
  if (!dtype || dtype === "fp32" || dtype === "auto") return `${baseName}.onnx`;
  if (dtype === "q8") return `${baseName}_quantized.onnx`;
  return `${baseName}_${dtype}.onnx`;
}

export function localLoadContext(dir: string, config: ModelConfig = {}, warn: (message: string) => void = () => {}): LoadContext {
  const root = path.resolve(dir);
  if (!fs.existsSync(root) || !fs.statSync(root).isDirectory()) {
    throw new Error(`model directory not found: ${root}`);
  }
  const has = async (relPath: string) => fs.existsSync(path.join(root, relPath));
  const file = async (relPath: string) => {
    const full = path.join(root, relPath);
    if (!fs.existsSync(full)) throw new Error(`model ${root} has no ${relPath}`);
    return full;
  };
  return {
    spec: { enginesPath: root, config },
    source: {
      id: root,
      file,
      has,
      async list() {
        return (fs.readdirSync(root, { recursive: true }) as string[])
          .map((p) => p.split(path.sep).join("/"))
          .filter((p) => fs.statSync(path.join(root, p)).isFile());
      },
    },
    async onnxFile(baseName: string, folder = "onnx") {
      const rel = `${folder}/${onnxVariantName(baseName, config.dtype)}`;
      if (!(await has(rel))) {
        const present = fs.existsSync(path.join(root, folder)) ? fs.readdirSync(path.join(root, folder)).filter((f) => f.endsWith(".onnx")) : [];
        throw new Error(
          `model ${root} has no ${rel} (dtype ${config.dtype ?? "fp32"}); it has: ${present.join(", ") || "no .onnx files"}`,
        );
      }
      return file(rel);
    },
    createSession(localPath: string, rewritten?: RewrittenModel) {
      if (!rewritten) return ort.InferenceSession.create(localPath, cpuSessionOptions());
      return ort.InferenceSession.create(rewritten.bytes, {
        ...cpuSessionOptions(),
        extra: { session: { model_external_initializers_file_folder_path: rewritten.externalDataFolder } },
      });
    },
    warn,
  };
}
