/**
 * The worker-thread side of a model worker (model-worker-client.ts is the main-thread side): it
 * builds the LoadContext from workerData with a ModelSource that asks the main thread for files,
 * loads the model with the family's loader, says "ready" (or "load-error" with the loader's own
 * message), then serves calls and notes one at a time in the order they came, and on "dispose"
 * releases the model behind the work already queued and lets the thread end. A family's worker
 * entry calls serveModel once with its own load / answer / note / release.
 */
import { parentPort, workerData } from "worker_threads";
import { createLoadContext } from "../load-context";
import type { LoadContext, ModelSource } from "../../types";
import type { FromModelWorker, ModelWorkerInit, SourceOp, ToModelWorker } from "./model-worker-protocol";

/** A reply and the buffers to hand over with it instead of copying them. */
export interface WorkerAnswer<Reply> {
  value: Reply;
  transfer?: ArrayBuffer[];
}

export interface ModelWorkerHooks<Model, Request, Reply, Note, Info, Extra> {
  /** "the decoder worker": starts the warning about a note that failed. */
  name: string;
  load(ctx: LoadContext, extra: Extra): Promise<Model>;
  /** What the main thread learns once the model is loaded. */
  info(model: Model): Info;
  /** Answers one call; `signal` aborts when the main thread cancels it or releases the model. */
  answer(model: Model, request: Request, signal: AbortSignal): Promise<WorkerAnswer<Reply>>;
  note?(model: Model, note: Note): void;
  release(model: Model): Promise<void>;
}

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

export function serveModel<Model, Request, Reply, Note = never, Info = undefined, Extra = undefined>(
  hooks: ModelWorkerHooks<Model, Request, Reply, Note, Info, Extra>,
): void {
  const port = parentPort!;
  const init = workerData as ModelWorkerInit<Extra>;
  const post = (message: FromModelWorker<Info, Reply>, transfer?: ArrayBuffer[]) => port.postMessage(message, transfer);

  const sourceReplies = new Map<number, { resolve: (value: unknown) => void; reject: (err: Error) => void }>();
  let nextSourceId = 0;
  const ask = <T>(op: SourceOp, relPath?: string): Promise<T> => {
    const id = nextSourceId++;
    return new Promise<T>((resolve, reject) => {
      sourceReplies.set(id, { resolve: resolve as (value: unknown) => void, reject });
      post({ type: "source", id, op, relPath });
    });
  };
  const source: ModelSource = {
    id: init.sourceId,
    file: (relPath) => ask<string>("file", relPath),
    has: (relPath) => ask<boolean>("has", relPath),
    list: () => ask<string[]>("list"),
  };

  const ctx = createLoadContext(init.spec, source, { ...init.session, warn: (message) => post({ type: "warn", message }) });
  const loaded: Promise<Model> = hooks.load(
    {
      ...ctx,
      // A session being built means its files are here and loading goes on (the main thread's status
      // line shows it; after a later file's download it says "loading" again, as in process).
      createSession: (...args) => {
        post({ type: "loading" });
        return ctx.createSession(...args);
      },
    },
    init.extra,
  );
  loaded.then(
    (model) => post({ type: "ready", info: hooks.info(model) }),
    (err: unknown) => post({ type: "load-error", message: errorText(err) }),
  );

  const controllers = new Map<number, AbortController>();
  /** The chain of work: each message's work starts when the one before it has settled. */
  let queue: Promise<unknown> = loaded.catch(() => undefined);

  async function answer(call: number, request: Request): Promise<void> {
    const controller = controllers.get(call)!;
    try {
      const { value, transfer } = await hooks.answer(await loaded, request, controller.signal);
      post({ type: "reply", call, value }, transfer);
    } catch (err) {
      post({ type: "error", call, message: errorText(err) });
    } finally {
      controllers.delete(call);
    }
  }

  port.on("message", (message: ToModelWorker<Request, Note>) => {
    switch (message.type) {
      case "source-reply": {
        const waiting = sourceReplies.get(message.id);
        sourceReplies.delete(message.id);
        if (message.error !== undefined) waiting?.reject(new Error(message.error));
        else waiting?.resolve(message.value);
        return;
      }
      case "call":
        controllers.set(message.call, new AbortController());
        queue = queue.then(() => answer(message.call, message.request));
        return;
      case "cancel":
        // At once, not queued: the call in flight checks its signal between its runs.
        controllers.get(message.call)?.abort();
        return;
      case "note":
        queue = queue
          .then(async () => hooks.note?.(await loaded, message.note))
          .catch((err: unknown) => post({ type: "warn", message: `${hooks.name}: ${errorText(err)}` }));
        return;
      case "dispose":
        for (const controller of controllers.values()) controller.abort();
        queue = queue.then(async () => {
          const model = await loaded.catch(() => undefined);
          if (model !== undefined) await hooks.release(model);
          post({ type: "disposed" });
          port.close();
        });
        return;
    }
  });
}
