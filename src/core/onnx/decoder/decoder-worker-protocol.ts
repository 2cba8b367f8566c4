/**
 * The messages between the main thread and a decoder worker (decoder-worker.ts). The worker owns
 * the decoder's sessions, its sequences' KV caches, the prefix cache and the buffer pool, so
 * onnxruntime's synchronous runs block the worker's thread instead of Node-RED's event loop, and
 * a cache never crosses threads: calls carry token ids in and one logits row (transferred) out.
 * The main thread resolves the model's files (downloads, variants and their errors stay there)
 * and sends their local paths.
 */
import type { ExecutionProvider, ModelSpec } from "../../types";
import type { DecoderModelPlan } from "./sequence-decoder";

/** workerData: what the worker needs to open the same model as openLocalDecoderModel(ctx, plan). */
export interface DecoderWorkerInit {
  spec: ModelSpec;
  sourceId: string;
  session: { executionProviders?: ExecutionProvider[]; intraOpNumThreads?: number; interOpNumThreads?: number };
  plan: DecoderModelPlan;
}

/** Calls that get a reply (`call` numbers it). */
export type DecoderCall =
  | { op: "seed"; seq: number; ids: number[] }
  | { op: "prefill"; seq: number; ids: number[] }
  | { op: "step"; seq: number; id: number }
  | { op: "side"; name: string; input: { name: string; data: Int32Array; dims: number[]; output: string } };

export type ToDecoderWorker =
  | ({ type: "call"; call: number } & DecoderCall)
  | { type: "open"; seq: number }
  | { type: "keep"; seq: number; ids: number[] }
  | { type: "close"; seq: number }
  | { type: "dispose" };

export type FromDecoderWorker =
  | { type: "ready" }
  | { type: "load-error"; message: string }
  | { type: "warn"; message: string }
  /** `positions` answers a seed; `values` a prefill, step or side run. */
  | { type: "reply"; call: number; positions?: number; values?: Float32Array }
  | { type: "error"; call: number; message: string }
  | { type: "disposed" };
