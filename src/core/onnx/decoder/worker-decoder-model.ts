/**
 * The main-thread side of a decoder model that runs in a worker thread (decoder-worker.ts): it
 * hands out sequences whose prefill / step calls travel to the worker and whose logits come back
 * transferred, so onnxruntime's synchronous runs (30–40 ms a step for a Qwen3-0.6B-sized LLM) no
 * longer hold the event loop that TTS, audio pacing and the flows share. The shared
 * ModelWorkerClient does the plumbing (a dead worker fails every pending and later call with an
 * error naming the model; release never terminates a worker inside a run); this adds the calls.
 */
import * as path from "path";
import type { LoadContext } from "../../types";
import { ModelWorkerClient } from "../worker/model-worker-client";
import type { DecoderCall, DecoderNote, DecoderReply, DecoderWorkerExtra } from "./decoder-worker-protocol";
import type { DecoderModel, DecoderModelPlan, SequenceDecoder, SideInput } from "./sequence-decoder";
import type { LogitsRow } from "./sampler";

export class WorkerDecoderModel implements DecoderModel {
  readonly inWorker = true;
  private nextSeq = 0;

  private constructor(private readonly client: ModelWorkerClient<DecoderCall, DecoderReply, DecoderNote>) {}

  /**
   * Starts a worker that opens the model `plan` describes (its files already local); rejects with
   * the same message as openLocalDecoderModel when that fails. `label` names the engine ("LLM").
   */
  static async start(ctx: LoadContext, plan: DecoderModelPlan, label: string): Promise<WorkerDecoderModel> {
    const modelId = ctx.source.id;
    ctx.reportLoading?.();
    const { client } = await ModelWorkerClient.start<undefined, DecoderCall, DecoderReply, DecoderNote, DecoderWorkerExtra>(ctx, {
      script: path.join(__dirname, "decoder-worker.js"),
      name: `the ${label} worker of model '${modelId}'`,
      released: () => new Error(`the model ${modelId} was unloaded`),
      extra: { plan },
    });
    return new WorkerDecoderModel(client);
  }

  open(): SequenceDecoder {
    const seq = this.nextSeq++;
    this.post({ op: "open", seq });
    return new WorkerSequence(this, seq);
  }

  async runSide(name: string, input: SideInput): Promise<Float32Array> {
    const copy = input.data.slice();
    const reply = await this.call({ op: "side", name, input: { ...input, data: copy } }, [copy.buffer as ArrayBuffer]);
    return reply.values!;
  }

  /** Fails the calls still waiting, lets the worker free its sessions, and ends it. */
  release(): Promise<void> {
    return this.client.release();
  }

  /** Sends a call; resolves to the worker's reply. */
  call(request: DecoderCall, transfer?: ArrayBuffer[]): Promise<DecoderReply> {
    return this.client.call(request, { transfer });
  }

  /** Sends a note that gets no reply (nothing is sent to a dead or released worker). */
  post(note: DecoderNote): void {
    this.client.post(note);
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

  async stepTop(id: number, top: number): Promise<LogitsRow> {
    const reply = await this.model.call({ op: "stepTop", seq: this.seq, id, top });
    this.fed += 1;
    return reply.ids ? { values: reply.values!, ids: reply.ids } : reply.values!;
  }

  keepPrefix(fed: number[]): void {
    if (fed.length > 0) this.model.post({ op: "keep", seq: this.seq, ids: fed });
  }

  dispose(): void {
    if (this.closed) return;
    this.closed = true;
    this.model.post({ op: "close", seq: this.seq });
  }
}
