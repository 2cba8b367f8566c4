/**
 * The main-thread side of a decoder model that runs in a worker thread (decoder-worker.ts): it
 * hands out sequences whose prefill / step calls travel to the worker and whose logits come back
 * transferred, so onnxruntime's synchronous runs (30–40 ms a step for a Qwen3-0.6B-sized LLM) no
 * longer hold the event loop that TTS, audio pacing and the flows share. A dead worker fails every
 * pending and later call with an error naming the model; it never takes Node-RED down.
 */
import * as path from "path";
import { Worker } from "worker_threads";
import type { LoadContext } from "../../types";
import type { DecoderCall, DecoderWorkerInit, FromDecoderWorker, ToDecoderWorker } from "./decoder-worker-protocol";
import type { DecoderModel, DecoderModelPlan, SequenceDecoder, SideInput } from "./sequence-decoder";

interface Pending {
  resolve: (message: Extract<FromDecoderWorker, { type: "reply" }>) => void;
  reject: (err: Error) => void;
}

/** How long a released worker gets to free its sessions before it is terminated. */
const DISPOSE_GRACE_MS = 5000;

/*
 * Never terminate() a worker while onnxruntime runs in it: onnxruntime-node then throws a
 * Napi::Error out of the finished run, and that aborts the whole process (seen with
 * onnxruntime-node 1.30). So the worker is terminated only when no call is out in it.
 */

export class WorkerDecoderModel implements DecoderModel {
  readonly inWorker = true;
  private readonly pending = new Map<number, Pending>();
  private nextCall = 0;
  private nextSeq = 0;
  /** Calls sent whose answer has not come back, rejected here or not: while > 0 the worker may be inside a run. */
  private outInWorker = 0;
  private failure: Error | undefined;
  private releasing: Promise<void> | undefined;

  private constructor(
    private readonly worker: Worker,
    /** "the LLM worker of model 'x'": how errors name it. */
    private readonly name: string,
    private readonly modelId: string,
    private readonly warn: (message: string) => void,
  ) {
    worker.on("message", (message: FromDecoderWorker) => this.onMessage(message));
    worker.on("error", (err) => this.fail(`${name} failed: ${err.message}; deploy again to reload the model`));
    worker.on("exit", (code) => {
      if (!this.releasing) this.fail(`${name} stopped unexpectedly (exit code ${code}); deploy again to reload the model`);
    });
    // Idle, the worker must not keep a script (the CLI, a bench) alive; while a call runs it must.
    worker.unref();
  }

  /**
   * Starts a worker that opens the model `plan` describes (its files already local); rejects with
   * the same message as openLocalDecoderModel when that fails. `label` names the engine ("LLM").
   */
  static start(ctx: LoadContext, plan: DecoderModelPlan, label: string): Promise<WorkerDecoderModel> {
    const init: DecoderWorkerInit = { spec: ctx.spec, sourceId: ctx.source.id, session: ctx.sessionSettings ?? {}, plan };
    const name = `the ${label} worker of model '${ctx.source.id}'`;
    ctx.reportLoading?.();
    const worker = new Worker(path.join(__dirname, "decoder-worker.js"), { workerData: init });
    return new Promise<WorkerDecoderModel>((resolve, reject) => {
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
      const onMessage = (message: FromDecoderWorker) => {
        if (message.type === "warn") ctx.warn(message.message);
        else if (message.type === "load-error") failed(message.message);
        else if (message.type === "ready") {
          detach();
          resolve(new WorkerDecoderModel(worker, name, ctx.source.id, (m) => ctx.warn(m)));
        }
      };
      const onError = (err: Error) => failed(`${name} failed while loading: ${err.message}`);
      const onExit = (code: number) => failed(`${name} stopped while loading (exit code ${code})`);
      worker.on("message", onMessage);
      worker.on("error", onError);
      worker.on("exit", onExit);
    });
  }

  open(): SequenceDecoder {
    const seq = this.nextSeq++;
    this.post({ type: "open", seq });
    return new WorkerSequence(this, seq);
  }

  async runSide(name: string, input: SideInput): Promise<Float32Array> {
    const copy = input.data.slice();
    const reply = await this.call({ op: "side", name, input: { ...input, data: copy } }, [copy.buffer as ArrayBuffer]);
    return reply.values!;
  }

  /** Fails the calls still waiting, lets the worker free its sessions, and ends it (terminated if it does not end in time). */
  release(): Promise<void> {
    this.releasing ??= this.stop();
    return this.releasing;
  }

  /** Sends a call; resolves to the worker's reply. */
  call(request: DecoderCall, transfer?: ArrayBuffer[]): Promise<Extract<FromDecoderWorker, { type: "reply" }>> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.releasing) return Promise.reject(this.released());
    const call = this.nextCall++;
    return new Promise((resolve, reject) => {
      this.pending.set(call, { resolve, reject });
      this.outInWorker++;
      this.worker.ref();
      this.worker.postMessage({ type: "call", call, ...request } satisfies ToDecoderWorker, transfer);
    });
  }

  /** Sends a message that gets no reply (nothing is sent to a dead or released worker). */
  post(message: ToDecoderWorker): void {
    if (!this.failure && !this.releasing) this.worker.postMessage(message);
  }

  private released(): Error {
    return new Error(`the model ${this.modelId} was unloaded`);
  }

  private async stop(): Promise<void> {
    this.rejectAll(this.released());
    if (this.failure) return;
    const ended = new Promise<void>((resolve) => this.worker.once("exit", () => resolve()));
    this.worker.postMessage({ type: "dispose" } satisfies ToDecoderWorker);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<"late">((resolve) => (timer = setTimeout(() => resolve("late"), DISPOSE_GRACE_MS)));
    if ((await Promise.race([ended, late])) === "late") {
      if (this.outInWorker === 0) await this.worker.terminate();
      else {
        // Still inside a run: it ends by itself once the run is over (the dispose is queued behind it).
        this.warn(`${this.name} is still finishing a run; it ends when the run does`);
        this.worker.unref();
      }
    }
    clearTimeout(timer);
  }

  private onMessage(message: FromDecoderWorker): void {
    if (message.type === "warn") return this.warn(message.message);
    if (message.type !== "reply" && message.type !== "error") return;
    this.outInWorker--;
    const waiting = this.pending.get(message.call);
    if (!waiting) return; // released or failed meanwhile: already rejected
    this.settle(message.call);
    if (message.type === "reply") waiting.resolve(message);
    else waiting.reject(new Error(message.message));
  }

  private settle(call: number): void {
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
}

/** A sequence whose cache lives in the worker; it counts its positions here, as the worker's decoder does there. */
class WorkerSequence implements SequenceDecoder {
  private fed = 0;
  private closed = false;

  constructor(
    private readonly model: WorkerDecoderModel,
    private readonly seq: number,
  ) {}

  get length(): number {
    return this.fed;
  }

  async seedFromPrefix(promptIds: readonly number[]): Promise<number> {
    const reply = await this.model.call({ op: "seed", seq: this.seq, ids: [...promptIds] });
    this.fed = reply.positions ?? 0;
    return this.fed;
  }

  async prefill(ids: number[]): Promise<Float32Array> {
    const reply = await this.model.call({ op: "prefill", seq: this.seq, ids });
    this.fed += ids.length;
    return reply.values!;
  }

  async step(id: number): Promise<Float32Array> {
    const reply = await this.model.call({ op: "step", seq: this.seq, id });
    this.fed += 1;
    return reply.values!;
  }

  keepPrefix(fed: number[]): void {
    if (fed.length > 0) this.model.post({ type: "keep", seq: this.seq, ids: fed });
  }

  dispose(): void {
    if (this.closed) return;
    this.closed = true;
    this.model.post({ type: "close", seq: this.seq });
  }
}
