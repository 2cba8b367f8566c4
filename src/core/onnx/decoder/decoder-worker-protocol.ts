/**
 * What a decoder worker (decoder-worker.ts) and its main-thread stand-in
 * (worker-decoder-model.ts) exchange on top of the shared model-worker messages
 * (onnx/worker/model-worker-protocol.ts). The worker owns the decoder's sessions, its sequences'
 * KV caches, the prefix cache and the buffer pool, so onnxruntime's synchronous runs block the
 * worker's thread instead of Node-RED's event loop, and a cache never crosses threads: calls
 * carry token ids in and one logits row (transferred) out. The main thread resolves the model's
 * files (downloads, variants and their errors stay there) and sends their local paths in the plan.
 */
import type { DecoderModelPlan } from "./sequence-decoder";

/** What the worker needs beyond the spec to open the same model as openLocalDecoderModel(ctx, plan). */
export interface DecoderWorkerExtra {
  plan: DecoderModelPlan;
}

/** Calls that get a reply. */
export type DecoderCall =
  | { op: "seed"; seq: number; ids: number[] }
  | { op: "prefill"; seq: number; ids: number[] }
  | { op: "step"; seq: number; id: number }
  | { op: "stepTop"; seq: number; id: number; top: number }
  | { op: "side"; name: string; input: { name: string; data: Int32Array; dims: number[]; output: string } };

/** `positions` answers a seed; `values` a prefill, step or side run; `values` and `ids` a stepTop that got the best logits only. */
export interface DecoderReply {
  positions?: number;
  values?: Float32Array;
  ids?: Int32Array;
}

/** Sequence bookkeeping that gets no reply (queued behind the calls before it). */
export type DecoderNote = { op: "open"; seq: number } | { op: "keep"; seq: number; ids: number[] } | { op: "close"; seq: number };
