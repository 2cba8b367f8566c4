/**
 * onnxruntime sessions as the registry hands them to family loaders: the configured
 * execution providers (cuda falls back to cpu with a warning), thread settings, and errors
 * that name the file and say what was expected when it is missing, truncated or not ONNX.
 */
import * as fs from "fs";
import * as os from "os";
import * as ort from "onnxruntime-node";
import type { ExecutionProvider, RewrittenModel } from "../types";

export interface SessionSettings {
  /** In preference order; "cpu" is always appended as the last resort. Default ["cpu"]. */
  executionProviders?: ExecutionProvider[];
  /** Threads inside one op (default: one per core). */
  intraOpNumThreads?: number;
  /** Threads across independent ops (default 1: decoder graphs are one long chain). */
  interOpNumThreads?: number;
  warn?: (message: string) => void;
}

export type SessionFactory = (localPath: string, rewritten?: RewrittenModel) => Promise<ort.InferenceSession>;

export function sessionOptions(providers: ExecutionProvider[], settings: SessionSettings): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: providers,
    graphOptimizationLevel: "all",
    executionMode: "sequential",
    intraOpNumThreads: settings.intraOpNumThreads ?? os.availableParallelism?.() ?? os.cpus().length,
    interOpNumThreads: settings.interOpNumThreads ?? 1,
    enableCpuMemArena: true,
    enableMemPattern: true,
  };
}

/**
 * Cheap checks before onnxruntime sees the file, so the common failures get a message that
 * says what to do: a missing file, an empty one, or one that is not an ONNX protobuf at all
 * (an HTML error page or a Git LFS pointer saved in its place).
 */
export function checkOnnxFile(localPath: string): void {
  let size: number;
  try {
    const stat = fs.statSync(localPath);
    if (!stat.isFile()) throw new Error("not a file");
    size = stat.size;
  } catch {
    throw new Error(`ONNX model file '${localPath}' does not exist; expected an .onnx file (check the model's files or download it again)`);
  }
  if (size === 0) throw new Error(`ONNX model file '${localPath}' is empty (0 bytes); expected an ONNX model — delete it and download it again`);
  const head = Buffer.alloc(Math.min(64, size));
  const fd = fs.openSync(localPath, "r");
  try {
    fs.readSync(fd, head, 0, head.length, 0);
  } finally {
    fs.closeSync(fd);
  }
  const text = head.toString("latin1");
  if (text.startsWith("version https://git-lfs")) {
    throw new Error(`ONNX model file '${localPath}' is a Git LFS pointer, not the model; fetch the real file (git lfs pull) or download it from the hub`);
  }
  // A ModelProto starts with field 1 (ir_version, varint): tag byte 0x08.
  if (head[0] !== 0x08) {
    throw new Error(`ONNX model file '${localPath}' is not an ONNX model (it does not start with an ONNX ModelProto header); the file is corrupt or of another format — delete it and download it again`);
  }
}

function describeLoadError(localPath: string, err: unknown): Error {
  const reason = (err instanceof Error ? err.message : String(err)).split("\n")[0];
  return new Error(
    `ONNX model file '${localPath}' could not be loaded (${reason}); expected a complete ONNX model — ` +
      `it may be truncated or corrupt (an interrupted copy or download, or missing .onnx_data beside it): delete it and download it again`,
  );
}

function isCudaProblem(err: unknown): boolean {
  const text = err instanceof Error ? err.message : String(err);
  return /cuda|provider|backend|libcu|GPU/i.test(text);
}

/** A session factory with `settings`; providers the runtime cannot use fall back to cpu with one warning. */
export function createSessionFactory(settings: SessionSettings = {}): SessionFactory {
  const warn = settings.warn ?? (() => {});
  const asked = settings.executionProviders?.length ? settings.executionProviders : (["cpu"] as ExecutionProvider[]);
  const providers: ExecutionProvider[] = [...asked.filter((p) => p !== "cpu"), "cpu"];
  let fellBack = false;

  const create = (localPath: string, providerList: ExecutionProvider[], rewritten?: RewrittenModel) => {
    const options = sessionOptions(providerList, settings);
    if (!rewritten) return ort.InferenceSession.create(localPath, options);
    return ort.InferenceSession.create(rewritten.bytes, {
      ...options,
      extra: { session: { model_external_initializers_file_folder_path: rewritten.externalDataFolder } },
    });
  };

  return async (localPath, rewritten) => {
    checkOnnxFile(localPath);
    const list = fellBack ? (["cpu"] as ExecutionProvider[]) : providers;
    try {
      return await create(localPath, list, rewritten);
    } catch (err) {
      if (list.length > 1 && isCudaProblem(err)) {
        fellBack = true;
        warn(`execution provider ${list.slice(0, -1).join(", ")} is not available here (${(err as Error).message.split("\n")[0]}); running on cpu`);
        try {
          return await create(localPath, ["cpu"], rewritten);
        } catch (cpuErr) {
          throw describeLoadError(localPath, cpuErr);
        }
      }
      throw describeLoadError(localPath, err);
    }
  };
}
