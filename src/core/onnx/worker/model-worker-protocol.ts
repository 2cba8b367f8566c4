/**
 * The messages every model worker thread exchanges with the main thread (model-worker-client.ts
 * on the main side, serve-model.ts in the worker). A family adds only its own payloads: what a
 * call asks (`Request`), what it answers (`Reply`), notes that get no answer (`Note`), what the
 * worker reports once loaded (`Info`) and what it needs beyond the spec to load (`Extra`).
 */
import type { ExecutionProvider, ModelSpec } from "../../types";

/** workerData: what the worker needs to build the same LoadContext as the main thread, plus the family's own. */
export interface ModelWorkerInit<Extra = undefined> {
  spec: ModelSpec;
  sourceId: string;
  session: { executionProviders?: ExecutionProvider[]; intraOpNumThreads?: number; interOpNumThreads?: number };
  extra: Extra;
}

/** The worker reads files through the main thread's ModelSource (downloads, checks and their errors stay there). */
export type SourceOp = "file" | "has" | "list";

export type ToModelWorker<Request, Note> =
  /** Served one at a time, in the order they came; each gets a reply or an error. */
  | { type: "call"; call: number; request: Request }
  /** Aborts that call's signal in the worker (a call not yet started never starts). */
  | { type: "cancel"; call: number }
  /** Queued behind the calls before it; gets no answer. */
  | { type: "note"; note: Note }
  /** Aborts every call, then (behind them) releases the model and ends the thread. */
  | { type: "dispose" }
  | { type: "source-reply"; id: number; value?: unknown; error?: string };

export type FromModelWorker<Info, Reply> =
  | { type: "ready"; info: Info }
  | { type: "load-error"; message: string }
  | { type: "source"; id: number; op: SourceOp; relPath?: string }
  | { type: "warn"; message: string }
  /** A session is being built: its files are here and loading goes on (the status line shows it). */
  | { type: "loading" }
  | { type: "reply"; call: number; value: Reply }
  | { type: "error"; call: number; message: string }
  | { type: "disposed" };
