/**
 * Worker-thread entry that owns one decoder model (see decoder-worker-protocol.ts for why). It
 * opens the model exactly as the in-process path does (openLocalDecoderModel), then serves the
 * calls one at a time in the order they came: the main thread's RunGate already hands out one
 * run at a time, and the chain keeps a seed, a keep or a close behind the run before it.
 */
import { parentPort, workerData } from "worker_threads";
import { createLoadContext } from "../load-context";
import type { ModelSource } from "../../types";
import { openLocalDecoderModel, type LocalDecoderModel } from "./local-decoder-model";
import type { DecoderCall, DecoderWorkerInit, FromDecoderWorker, ToDecoderWorker } from "./decoder-worker-protocol";
import type { SequenceDecoder } from "./sequence-decoder";

const port = parentPort!;
const init = workerData as DecoderWorkerInit;
const post = (message: FromDecoderWorker, transfer?: ArrayBuffer[]) => port.postMessage(message, transfer);

/** The main thread resolved every file already: the worker only needs the source's id, for messages. */
const unavailable = () => Promise.reject(new Error("the decoder worker reads no model files itself"));
const source: ModelSource = { id: init.sourceId, file: unavailable, has: unavailable, list: unavailable };
const ctx = createLoadContext(init.spec, source, { ...init.session, warn: (message) => post({ type: "warn", message }) });

const loaded: Promise<LocalDecoderModel> = openLocalDecoderModel(ctx, init.plan);
loaded.then(
  () => post({ type: "ready" }),
  (err: unknown) => post({ type: "load-error", message: err instanceof Error ? err.message : String(err) }),
);

const sequences = new Map<number, SequenceDecoder>();
/** The chain of work: each message's work starts when the one before it has settled. */
let queue: Promise<unknown> = loaded.catch(() => undefined);
const later = (work: (model: LocalDecoderModel) => unknown) => {
  queue = queue.then(async () => work(await loaded)).catch((err: unknown) => post({ type: "warn", message: `decoder worker: ${(err as Error).message}` }));
};

function sequence(seq: number): SequenceDecoder {
  const found = sequences.get(seq);
  if (!found) throw new Error(`no open sequence ${seq}`);
  return found;
}

/** Hands a logits row over without a copy when it is a whole buffer of its own (last-position graphs). */
function reply(call: number, values: Float32Array): void {
  const own = values.byteOffset === 0 && values.byteLength === values.buffer.byteLength ? values : values.slice();
  post({ type: "reply", call, values: own }, [own.buffer as ArrayBuffer]);
}

async function answer(call: number, request: DecoderCall, model: LocalDecoderModel): Promise<void> {
  try {
    switch (request.op) {
      case "seed":
        return post({ type: "reply", call, positions: await sequence(request.seq).seedFromPrefix(request.ids) });
      case "prefill":
        return reply(call, await sequence(request.seq).prefill(request.ids));
      case "step":
        return reply(call, await sequence(request.seq).step(request.id));
      case "side":
        return reply(call, await model.runSide(request.name, request.input));
    }
  } catch (err) {
    post({ type: "error", call, message: err instanceof Error ? err.message : String(err) });
  }
}

port.on("message", (message: ToDecoderWorker) => {
  switch (message.type) {
    case "call":
      return later((model) => answer(message.call, message, model));
    case "open":
      return later((model) => sequences.set(message.seq, model.open()));
    case "keep":
      return later(() => sequences.get(message.seq)?.keepPrefix(message.ids));
    case "close":
      return later(() => {
        sequences.get(message.seq)?.dispose();
        sequences.delete(message.seq);
      });
    case "dispose":
      queue = queue.then(async () => {
        for (const seq of sequences.values()) seq.dispose();
        sequences.clear();
        const model = await loaded.catch(() => undefined);
        await model?.release();
        post({ type: "disposed" });
        port.close();
      });
      return;
  }
});
