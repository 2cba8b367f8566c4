/**
 * Shared by the llm tests: loading a model directory through loadLlm, collecting a stream,
 * and wrapping the real session to count or steer its runs.
 */
import * as fs from "fs";
import * as path from "path";
import type * as ort from "onnxruntime-node";
import { Observable } from "rxjs";
import { loadLlm } from "../../src/core/llm/engines/onnx/loader";
import { localLoadContext } from "../../src/core/registry";
import type { OnnxLlmEngine } from "../../src/core/llm/engines/onnx/onnx-llm-engine";
import type { LlmStreamChunk } from "../../src/core/types";
import { sharedDir } from "../helpers/paths";

export type SessionWrapper = (session: ort.InferenceSession) => ort.InferenceSession;

/**
 * loadLlm over a local directory; `wrap` replaces the session the engine gets, so an engine with
 * one runs its session in this thread (worker_thread false); without one, the default (a worker).
 */
export async function loadEngine(dir: string, wrap?: SessionWrapper): Promise<OnnxLlmEngine> {
  const ctx = localLoadContext("llm", { enginesPath: dir, config: wrap ? { worker_thread: false } : {} });
  if (wrap) {
    const create = ctx.createSession.bind(ctx);
    ctx.createSession = async (file) => wrap(await create(file));
  }
  return loadLlm(ctx);
}

export function collect(stream: Observable<LlmStreamChunk>): Promise<LlmStreamChunk[]> {
  return new Promise((resolve, reject) => {
    const chunks: LlmStreamChunk[] = [];
    stream.subscribe({ next: (c) => chunks.push(c), error: reject, complete: () => resolve(chunks) });
  });
}

/** Counts session runs (prefill or decode step). */
export class RunCounter {
  runs = 0;
  readonly wrap: SessionWrapper = (session) => {
    const run = session.run.bind(session);
    return new Proxy(session, {
      get: (target, key, receiver) =>
        key === "run"
          ? (...args: Parameters<ort.InferenceSession["run"]>) => {
              this.runs++;
              return run(...args);
            }
          : Reflect.get(target, key, receiver),
    });
  };
}

/**
 * Makes the model "say" a scripted id sequence: after the real run, the last position's
 * logit of the next scripted id is raised far above the rest, so greedy decoding picks it.
 * Each generation must own a fresh script (it is indexed by the runs of that generation:
 * use one engine per script). After the script the model is steered to `then` (e.g. EOS).
 */
export function scriptedSession(script: number[], then?: number): SessionWrapper {
  let step = 0;
  return (session) => {
    const run = session.run.bind(session);
    return new Proxy(session, {
      get: (target, key, receiver) =>
        key === "run"
          ? async (...args: Parameters<ort.InferenceSession["run"]>) => {
              const out = await run(...args);
              const target = step < script.length ? script[step] : then;
              step++;
              if (target !== undefined) {
                const logits = out.logits;
                const vocab = logits.dims[logits.dims.length - 1];
                const data = logits.data as Float32Array;
                data[data.length - vocab + target] = 1e4;
              }
              return out;
            }
          : Reflect.get(target, key, receiver),
    });
  };
}

/** The in-process session of an engine loaded with worker_thread false (tests only). */
export function sessionOf(engine: OnnxLlmEngine): ort.InferenceSession {
  const decoders = (engine as unknown as { parts: { decoders: { session?: ort.InferenceSession } } }).parts.decoders;
  if (!decoders.session) throw new Error("this engine runs in a worker: load it with worker_thread false to reach its session");
  return decoders.session;
}

export function finalOf(chunks: LlmStreamChunk[]): LlmStreamChunk {
  return chunks[chunks.length - 1];
}

export const STORIES = sharedDir("models", "stories260K");
export const STORIES_REFERENCE = path.join(STORIES, "reference");
/** The prompts run.c was given for each reference file. */
export const STORIES_PROMPTS: Record<string, string> = {
  once_upon_a_time: "Once upon a time",
  one_day_a_little_girl: "One day, a little girl",
};

/** run.c's prompt ids (BOS first) and greedy generated ids for reference `name`. */
export function readReferenceIds(name: string): { prompt: number[]; generated: number[] } {
  const lines = fs.readFileSync(path.join(STORIES_REFERENCE, `${name}.ids.txt`), "utf8").trim().split("\n");
  const field = (key: string) =>
    lines
      .find((l) => l.startsWith(`${key}:`))!
      .slice(key.length + 1)
      .trim()
      .split(/\s+/)
      .map(Number);
  return { prompt: field("prompt_ids"), generated: field("generated_ids") };
}
