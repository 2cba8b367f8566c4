/**
 * Worker-thread entry that owns one decoder model (see decoder-worker-protocol.ts for why). The
 * shared serveModel does the plumbing; this opens the model exactly as the in-process path does
 * (openLocalDecoderModel) and serves the calls and notes one at a time in the order they came:
 * the main thread's RunGate already hands out one run at a time, and the chain keeps a seed, a
 * keep or a close behind the run before it.
 */
import { serveModel, type WorkerAnswer } from "../worker/serve-model";
import { openLocalDecoderModel, type LocalDecoderModel } from "./local-decoder-model";
import type { DecoderCall, DecoderNote, DecoderReply, DecoderWorkerExtra } from "./decoder-worker-protocol";
import type { SequenceDecoder } from "./sequence-decoder";
import type { LogitsRow } from "./sampler";

const sequences = new Map<number, SequenceDecoder>();

function sequence(seq: number): SequenceDecoder {
  const found = sequences.get(seq);
  if (!found) throw new Error(`no open sequence ${seq}`);
  return found;
}

/** `array` itself when it is a whole buffer of its own (safe to transfer), else a copy. */
function owned<T extends Float32Array | Int32Array>(array: T): T {
  return array.byteOffset === 0 && array.byteLength === array.buffer.byteLength ? array : (array.slice() as T);
}

/** Hands a logits row over without a copy when it is a whole buffer of its own (last-position graphs). */
function logits(values: Float32Array): WorkerAnswer<DecoderReply> {
  const own = owned(values);
  return { value: { values: own }, transfer: [own.buffer as ArrayBuffer] };
}

/** A stepTop's answer: the best logits and their ids (two small buffers), or a whole row. */
function row(values: LogitsRow): WorkerAnswer<DecoderReply> {
  if (values instanceof Float32Array) return logits(values);
  const best = owned(values.values);
  const ids = owned(values.ids);
  return { value: { values: best, ids }, transfer: [best.buffer as ArrayBuffer, ids.buffer as ArrayBuffer] };
}

async function answer(model: LocalDecoderModel, request: DecoderCall): Promise<WorkerAnswer<DecoderReply>> {
  switch (request.op) {
    case "seed":
      return { value: { positions: await sequence(request.seq).seedFromPrefix(request.ids) } };
    case "prefill":
      return logits(await sequence(request.seq).prefill(request.ids));
    case "step":
      return logits(await sequence(request.seq).step(request.id));
    case "stepTop":
      return row(await sequence(request.seq).stepTop(request.id, request.top));
    case "side":
      return logits(await model.runSide(request.name, request.input));
  }
}

function note(model: LocalDecoderModel, note: DecoderNote): void {
  switch (note.op) {
    case "open":
      sequences.set(note.seq, model.open());
      return;
    case "keep":
      sequences.get(note.seq)?.keepPrefix(note.ids);
      return;
    case "close":
      sequences.get(note.seq)?.dispose();
      sequences.delete(note.seq);
      return;
  }
}

serveModel<LocalDecoderModel, DecoderCall, DecoderReply, DecoderNote, undefined, DecoderWorkerExtra>({
  name: "decoder worker",
  // The main thread resolved every file already: the plan holds their local paths.
  load: (ctx, { plan }) => openLocalDecoderModel(ctx, plan),
  info: () => undefined,
  answer: (model, request) => answer(model, request),
  note,
  release: async (model) => {
    for (const seq of sequences.values()) seq.dispose();
    sequences.clear();
    await model.release();
  },
});
