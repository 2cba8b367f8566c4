/**
 * The messages between the main thread and the Whisper worker (whisper-worker.ts). The worker
 * owns the onnxruntime sessions, so their synchronous runs block the worker's thread instead of
 * Node-RED's event loop; it reads the model's files through the main thread's ModelSource (which
 * may download from the hub), so paths, variants and errors are the same as an in-process load.
 */
import type { ExecutionProvider, ModelSpec } from "../../../types";
import type { DecodeOptions, DecodeResult } from "./whisper-model";
import type { WhisperSettings } from "./whisper-config";

/** workerData: what the worker needs to build the same WhisperModel as loadWhisperModel(ctx). */
export interface WorkerInit {
  spec: ModelSpec;
  sourceId: string;
  session: { executionProviders?: ExecutionProvider[]; intraOpNumThreads?: number; interOpNumThreads?: number };
}

/** A decode request: DecodeOptions without the signal (a cancel message stands for it). */
export type WorkerDecodeOptions = Omit<DecodeOptions, "signal">;

export type ToWorker =
  | { type: "decode"; id: number; audio: Float32Array; options: WorkerDecodeOptions }
  | { type: "cancel"; id: number }
  | { type: "dispose" }
  | { type: "source-reply"; id: number; value?: unknown; error?: string };

export type FromWorker =
  | { type: "ready"; settings: WhisperSettings; sampleRate: number; windowSeconds: number }
  | { type: "load-error"; message: string }
  | { type: "source"; id: number; op: "file" | "has" | "list"; relPath?: string }
  | { type: "warn"; message: string }
  | { type: "loading" }
  | { type: "result"; id: number; result: DecodeResult }
  | { type: "error"; id: number; message: string }
  | { type: "disposed" };
