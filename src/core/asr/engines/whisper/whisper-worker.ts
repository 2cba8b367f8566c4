/**
 * Worker-thread entry that owns one Whisper model (see worker-protocol.ts for why). It loads
 * the model exactly as the in-process loader does, then serves decode requests one at a time in
 * the order they came (as the in-process model does for one streamer); a cancel aborts that
 * request between decoder steps, a dispose releases the sessions and lets the thread end.
 */
import { parentPort, workerData } from "worker_threads";
import { createLoadContext } from "../../../onnx/load-context";
import type { ModelSource } from "../../../types";
import { loadWhisperModel } from "./load-whisper";
import type { WhisperModel } from "./whisper-model";
import type { FromWorker, ToWorker, WorkerInit } from "./worker-protocol";

const port = parentPort!;
const init = workerData as WorkerInit;
const post = (message: FromWorker, transfer?: ArrayBuffer[]) => port.postMessage(message, transfer);

/** File requests answered by the main thread's ModelSource (hub downloads, checks and errors stay there). */
const sourceReplies = new Map<number, { resolve: (value: unknown) => void; reject: (err: Error) => void }>();
let nextSourceId = 0;
function ask<T>(op: "file" | "has" | "list", relPath?: string): Promise<T> {
  const id = nextSourceId++;
  return new Promise<T>((resolve, reject) => {
    sourceReplies.set(id, { resolve: resolve as (value: unknown) => void, reject });
    post({ type: "source", id, op, relPath });
  });
}
const source: ModelSource = {
  id: init.sourceId,
  file: (relPath) => ask<string>("file", relPath),
  has: (relPath) => ask<boolean>("has", relPath),
  list: () => ask<string[]>("list"),
};

const ctx = createLoadContext(init.spec, source, { ...init.session, warn: (message) => post({ type: "warn", message }) });
const loaded: Promise<WhisperModel> = loadWhisperModel({
  ...ctx,
  // The first session means the files are here and loading began (the main thread's status line shows it).
  createSession: (...args) => {
    post({ type: "loading" });
    return ctx.createSession(...args);
  },
});
loaded.then(
  (model) => post({ type: "ready", settings: model.settings, sampleRate: model.sampleRate, windowSeconds: model.windowSeconds }),
  (err: unknown) => post({ type: "load-error", message: err instanceof Error ? err.message : String(err) }),
);

const controllers = new Map<number, AbortController>();
/** The chain of requests: each starts when the one before it has settled. */
let queue: Promise<unknown> = loaded.catch(() => undefined);

async function decode(id: number, audio: Float32Array, options: Parameters<WhisperModel["decode"]>[1]): Promise<void> {
  const controller = controllers.get(id)!;
  try {
    const model = await loaded;
    // A request cancelled while it waited never starts (the encoder alone is a long run).
    if (controller.signal.aborted) throw new Error("the decode was aborted");
    post({ type: "result", id, result: await model.decode(audio, { ...options, signal: controller.signal }) });
  } catch (err) {
    post({ type: "error", id, message: err instanceof Error ? err.message : String(err) });
  } finally {
    controllers.delete(id);
  }
}

port.on("message", (message: ToWorker) => {
  switch (message.type) {
    case "source-reply": {
      const waiting = sourceReplies.get(message.id);
      sourceReplies.delete(message.id);
      if (message.error !== undefined) waiting?.reject(new Error(message.error));
      else waiting?.resolve(message.value);
      break;
    }
    case "decode":
      controllers.set(message.id, new AbortController());
      queue = queue.then(() => decode(message.id, message.audio, message.options));
      break;
    case "cancel":
      controllers.get(message.id)?.abort();
      break;
    case "dispose":
      for (const controller of controllers.values()) controller.abort();
      queue = queue.then(async () => {
        const model = await loaded.catch(() => undefined);
        await model?.release();
        post({ type: "disposed" });
        port.close();
      });
      break;
  }
});
