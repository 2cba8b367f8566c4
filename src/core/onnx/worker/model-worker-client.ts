/**
 * The main-thread side of a model that runs its onnxruntime sessions in a worker thread
 * (serve-model.ts is the other side): starting the worker, answering its file requests from the
 * main thread's ModelSource, passing on its warnings and "loading" report, the load handshake,
 * the calls waiting for an answer, and the worker's end. A family (Whisper, the decoder models)
 * wraps it and adds only its own calls. A dead worker fails every pending and later call with
 * an error naming the model; it never takes Node-RED down.
 */
import { Worker } from "worker_threads";
import type { LoadContext } from "../../types";
import type { FromModelWorker, ModelWorkerInit, ToModelWorker } from "./model-worker-protocol";

/** How long a released worker gets to free its sessions before it is terminated (when that is safe). */
export const RELEASE_GRACE_MS = 5000;

export interface ModelWorkerStart<Extra> {
  /** Absolute path of the compiled worker entry (it calls serveModel). */
  script: string;
  /** How errors name the worker: "the LLM worker of model 'x'". */
  name: string;
  /** The error of a call made to (or still waiting on) a released model. */
  released: () => Error;
  extra: Extra;
}

export interface CallOptions {
  /** Aborting it cancels the call in the worker (the reply is then the worker's error). */
  signal?: AbortSignal;
  /** Buffers handed to the worker instead of copied (the caller must not use them again). */
  transfer?: ArrayBuffer[];
}

interface Pending<Reply> {
  resolve: (value: Reply) => void;
  reject: (err: Error) => void;
  cleanup: () => void;
}

export class ModelWorkerClient<Request, Reply, Note = never> {
  private readonly pending = new Map<number, Pending<Reply>>();
  private nextCall = 0;
  /**
   * Calls sent whose answer has not come back, rejected here or not: while > 0 the worker may be
   * inside an onnxruntime run. terminate() then would abort the WHOLE process (onnxruntime-node
   * throws a Napi::Error out of the finished run; seen with onnxruntime-node 1.30), so this class
   * never terminates a worker while it is > 0: that rule lives here and nowhere else.
   */
  private callsInWorker = 0;
  private failure: Error | undefined;
  private releasing: Promise<void> | undefined;
  /** Tests shorten it to reach the "still in a run after the grace" path quickly. */
  private graceMs = RELEASE_GRACE_MS;

  private constructor(
    /** The thread itself (tests end it to check how a dead worker is reported). */
    readonly worker: Worker,
    private readonly name: string,
    private readonly released: () => Error,
    private readonly ctx: LoadContext,
  ) {
    worker.on("message", (message: FromModelWorker<unknown, Reply>) => this.onMessage(message));
    worker.on("error", (err) => this.fail(`${name} failed: ${err.message}; deploy again to reload the model`));
    worker.on("exit", (code) => {
      if (!this.releasing) this.fail(`${name} stopped unexpectedly (exit code ${code}); deploy again to reload the model`);
    });
    // Idle, the worker must not keep a script (the CLI, a bench) alive; while a call runs it must.
    worker.unref();
  }

  /**
   * Starts a worker that loads the model `ctx` names; resolves with the client and what the worker
   * reported once loaded, or rejects with the worker's own load message (the loader's, naming the model).
   */
  static start<Info, Request, Reply, Note = never, Extra = undefined>(
    ctx: LoadContext,
    options: ModelWorkerStart<Extra>,
  ): Promise<{ client: ModelWorkerClient<Request, Reply, Note>; info: Info }> {
    const init: ModelWorkerInit<Extra> = { spec: ctx.spec, sourceId: ctx.source.id, session: ctx.sessionSettings ?? {}, extra: options.extra };
    const worker = new Worker(options.script, { workerData: init });
    return new Promise((resolve, reject) => {
      // Only our own listeners come off: removeAllListeners() would also drop the Worker's internal ones.
      const detach = () => {
        worker.off("message", onMessage);
        worker.off("error", onError);
        worker.off("exit", onExit);
      };
      const failed = (message: string) => {
        detach();
        worker.on("error", () => {}); // a late error of a worker being torn down is not news
        // No run is going on here: the load failed (or the thread is gone already).
        void worker.terminate();
        reject(new Error(message));
      };
      const onMessage = (message: FromModelWorker<Info, Reply>) => {
        if (message.type === "source") void answerSource(worker, ctx, message);
        else if (message.type === "warn") ctx.warn(message.message);
        else if (message.type === "loading") ctx.reportLoading?.();
        else if (message.type === "load-error") failed(message.message);
        else if (message.type === "ready") {
          detach();
          resolve({ client: new ModelWorkerClient<Request, Reply, Note>(worker, options.name, options.released, ctx), info: message.info });
        }
      };
      const onError = (err: Error) => failed(`${options.name} failed while loading: ${err.message}`);
      const onExit = (code: number) => failed(`${options.name} stopped while loading (exit code ${code})`);
      worker.on("message", onMessage);
      worker.on("error", onError);
      worker.on("exit", onExit);
    });
  }

  /** Whether a call is out in the worker (it may be inside a run). */
  get busy(): boolean {
    return this.callsInWorker > 0;
  }

  /** Sends a call; resolves to the worker's reply, rejects with its error (or the model's end). */
  call(request: Request, options: CallOptions = {}): Promise<Reply> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.releasing) return Promise.reject(this.released());
    const call = this.nextCall++;
    const { signal } = options;
    return new Promise<Reply>((resolve, reject) => {
      const onAbort = () => this.send({ type: "cancel", call });
      signal?.addEventListener("abort", onAbort, { once: true });
      this.pending.set(call, { resolve, reject, cleanup: () => signal?.removeEventListener("abort", onAbort) });
      this.callsInWorker++;
      this.worker.ref();
      this.send({ type: "call", call, request }, options.transfer);
    });
  }

  /** Sends a note that gets no answer (nothing is sent to a dead or released worker). */
  post(note: Note): void {
    if (!this.failure && !this.releasing) this.send({ type: "note", note });
  }

  /** Fails the calls still waiting, lets the worker free its sessions, and ends it. */
  release(): Promise<void> {
    this.releasing ??= this.stop();
    return this.releasing;
  }

  private async stop(): Promise<void> {
    this.rejectAll(this.released());
    if (this.failure) return;
    const ended = new Promise<void>((resolve) => this.worker.once("exit", () => resolve()));
    this.send({ type: "dispose" });
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<"late">((resolve) => (timer = setTimeout(() => resolve("late"), this.graceMs)));
    if ((await Promise.race([ended, late])) === "late") {
      if (this.callsInWorker === 0) await this.worker.terminate();
      else {
        // Still inside a run: it ends by itself once the run is over (the dispose is queued behind
        // it), and meanwhile it keeps nothing alive.
        this.ctx.warn(`${this.name} is still finishing a run; it ends when the run does`);
        this.worker.unref();
      }
    }
    clearTimeout(timer);
  }

  private onMessage(message: FromModelWorker<unknown, Reply>): void {
    if (message.type === "warn") return this.ctx.warn(message.message);
    if (message.type !== "reply" && message.type !== "error") return;
    this.callsInWorker--;
    const waiting = this.pending.get(message.call);
    if (!waiting) return; // released or failed meanwhile: already rejected
    this.settle(message.call);
    if (message.type === "reply") waiting.resolve(message.value);
    else waiting.reject(new Error(message.message));
  }

  private settle(call: number): void {
    this.pending.get(call)?.cleanup();
    this.pending.delete(call);
    if (this.pending.size === 0) this.worker.unref();
  }

  private fail(message: string): void {
    if (this.failure) return;
    this.failure = new Error(message);
    this.rejectAll(this.failure);
  }

  private rejectAll(err: Error): void {
    for (const [call, waiting] of [...this.pending]) {
      this.settle(call);
      waiting.reject(err);
    }
  }

  private send(message: ToModelWorker<Request, Note>, transfer?: ArrayBuffer[]): void {
    this.worker.postMessage(message, transfer);
  }
}

/** Answers the worker's file request from the main thread's source (which may download, and names the file when it fails). */
async function answerSource(worker: Worker, ctx: LoadContext, request: Extract<FromModelWorker<unknown, unknown>, { type: "source" }>): Promise<void> {
  let reply: ToModelWorker<never, never>;
  try {
    const relPath = request.relPath ?? "";
    const value = request.op === "list" ? await ctx.source.list() : request.op === "has" ? await ctx.source.has(relPath) : await ctx.source.file(relPath);
    reply = { type: "source-reply", id: request.id, value };
  } catch (err) {
    reply = { type: "source-reply", id: request.id, error: err instanceof Error ? err.message : String(err) };
  }
  worker.postMessage(reply);
}
