/**
 * The main-thread side of a Whisper model that runs in a worker thread (whisper-worker.ts):
 * it offers what the engine and the streamers use of a WhisperModel, so onnxruntime's
 * synchronous runs (the encoder alone takes up to a second on whisper-base) no longer stall
 * the event loop that the VAD, the flows and the editor share. A dead worker fails every
 * pending and later decode with an error naming the model; it never takes Node-RED down.
 */
import * as path from "path";
import { Worker } from "worker_threads";
import type { LoadContext } from "../../../types";
import type { WhisperSettings } from "./whisper-config";
import type { DecodeOptions, DecodeResult, LoadedWhisper } from "./whisper-model";
import type { FromWorker, ToWorker, WorkerInit } from "./worker-protocol";

interface Pending {
  resolve: (result: DecodeResult) => void;
  reject: (err: Error) => void;
  cleanup: () => void;
}

/** How long a disposed worker gets to release its sessions before it is terminated. */
const DISPOSE_GRACE_MS = 5000;

export class WorkerWhisperModel implements LoadedWhisper {
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private failure: Error | undefined;
  private disposing: Promise<void> | undefined;

  private constructor(
    private readonly worker: Worker,
    private readonly modelId: string,
    readonly settings: WhisperSettings,
    readonly sampleRate: number,
    readonly windowSeconds: number,
    /** Where the worker's warnings go (the model's LoadContext.warn: the node's log). */
    private readonly warn: (message: string) => void,
  ) {
    worker.on("message", (message: FromWorker) => this.onMessage(message));
    worker.on("error", (err) => this.fail(`the Whisper worker of model '${modelId}' failed: ${err.message}`));
    worker.on("exit", (code) => {
      if (!this.disposing) this.fail(`the Whisper worker of model '${modelId}' stopped unexpectedly (exit code ${code}); deploy again to reload the model`);
    });
    // Idle, the worker must not keep a script (the CLI, a bench) alive; while a decode runs it must.
    worker.unref();
  }

  /** Starts a worker that loads the model `ctx` names; rejects with the loader's own message when the load fails. */
  static start(ctx: LoadContext): Promise<WorkerWhisperModel> {
    const init: WorkerInit = { spec: ctx.spec, sourceId: ctx.source.id, session: ctx.sessionSettings ?? {} };
    const worker = new Worker(path.join(__dirname, "whisper-worker.js"), { workerData: init });
    return new Promise<WorkerWhisperModel>((resolve, reject) => {
      // Only our own listeners come off: removeAllListeners() would also drop the Worker's internal ones.
      const detach = () => {
        worker.off("message", onMessage);
        worker.off("error", onError);
        worker.off("exit", onExit);
      };
      const failed = (message: string) => {
        detach();
        worker.on("error", () => {}); // a late error of a worker being torn down is not news
        void worker.terminate();
        reject(new Error(message));
      };
      const onMessage = (message: FromWorker) => {
        if (message.type === "source") void answerSource(worker, ctx, message);
        else if (message.type === "warn") ctx.warn(message.message);
        else if (message.type === "loading") ctx.reportLoading?.();
        else if (message.type === "load-error") failed(message.message);
        else if (message.type === "ready") {
          detach();
          resolve(new WorkerWhisperModel(worker, ctx.source.id, message.settings, message.sampleRate, message.windowSeconds, (m) => ctx.warn(m)));
        }
      };
      const onError = (err: Error) => failed(`the Whisper worker for model '${ctx.source.id}' failed while loading: ${err.message}`);
      const onExit = (code: number) => failed(`the Whisper worker for model '${ctx.source.id}' stopped while loading (exit code ${code})`);
      worker.on("message", onMessage);
      worker.on("error", onError);
      worker.on("exit", onExit);
    });
  }

  languageCodes(): string[] {
    return [...this.settings.tokens.languages.keys()];
  }

  decode(audio: Float32Array, options: DecodeOptions = {}): Promise<DecodeResult> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.disposing) return Promise.reject(new Error(`the Whisper model '${this.modelId}' was released`));
    const { signal, ...rest } = options;
    if (signal?.aborted) return Promise.reject(new Error("the decode was aborted"));
    const id = this.nextId++;
    const copy = audio.slice();
    return new Promise<DecodeResult>((resolve, reject) => {
      const onAbort = () => this.post({ type: "cancel", id });
      signal?.addEventListener("abort", onAbort, { once: true });
      this.pending.set(id, { resolve, reject, cleanup: () => signal?.removeEventListener("abort", onAbort) });
      this.worker.ref();
      this.post({ type: "decode", id, audio: copy, options: rest }, [copy.buffer as ArrayBuffer]);
    });
  }

  /** Aborts pending decodes, lets the worker release its sessions, and ends it (terminated if it does not end in time). */
  release(): Promise<void> {
    this.disposing ??= this.stop();
    return this.disposing;
  }

  private async stop(): Promise<void> {
    this.rejectAll(new Error(`the Whisper model '${this.modelId}' was released`));
    if (this.failure) return;
    const ended = new Promise<void>((resolve) => this.worker.once("exit", () => resolve()));
    this.post({ type: "dispose" });
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<"late">((resolve) => (timer = setTimeout(() => resolve("late"), DISPOSE_GRACE_MS)));
    if ((await Promise.race([ended, late])) === "late") await this.worker.terminate();
    clearTimeout(timer);
  }

  private onMessage(message: FromWorker): void {
    if (message.type === "warn") return this.warn(message.message);
    if (message.type !== "result" && message.type !== "error") return;
    const waiting = this.pending.get(message.id);
    if (!waiting) return; // released or failed meanwhile: already rejected
    this.settle(message.id);
    if (message.type === "result") waiting.resolve(message.result);
    else waiting.reject(new Error(message.message));
  }

  private settle(id: number): void {
    this.pending.get(id)?.cleanup();
    this.pending.delete(id);
    if (this.pending.size === 0) this.worker.unref();
  }

  private fail(message: string): void {
    if (this.failure) return;
    this.failure = new Error(message);
    this.rejectAll(this.failure);
  }

  private rejectAll(err: Error): void {
    for (const [id, waiting] of [...this.pending]) {
      this.settle(id);
      waiting.reject(err);
    }
  }

  private post(message: ToWorker, transfer?: ArrayBuffer[]): void {
    this.worker.postMessage(message, transfer);
  }
}

/** Answers the worker's file request from the main thread's source (which may download, and names the file when it fails). */
async function answerSource(worker: Worker, ctx: LoadContext, request: Extract<FromWorker, { type: "source" }>): Promise<void> {
  let reply: ToWorker;
  try {
    const relPath = request.relPath ?? "";
    const value = request.op === "list" ? await ctx.source.list() : request.op === "has" ? await ctx.source.has(relPath) : await ctx.source.file(relPath);
    reply = { type: "source-reply", id: request.id, value };
  } catch (err) {
    reply = { type: "source-reply", id: request.id, error: err instanceof Error ? err.message : String(err) };
  }
  worker.postMessage(reply);
}
