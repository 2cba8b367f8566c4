/**
 * One side of the LLM benchmark in its own process (so its peak RSS is its own):
 *
 *   fork("dist/bench/llm/worker.js", ['{"side":"ours"|"theirs","modelDir":...,"dtype":"fp32"|"q4"}'])
 *
 * Loads the model with our engine ("ours") or transformers.js ("theirs") from the same
 * directory and dtype, then runs the generations the parent asks for over IPC: greedy, with
 * a forced number of new tokens (no EOS stop on either side).
 */
import * as path from "path";
import { installSessionTimer, insideRunMs, runMark, spansSince } from "./session-timer";
import { nowMs, peakRssMiB, rssMiB } from "../stats";
import { loadLlm } from "../../src/core/llm/engines/onnx/loader";
import { localLoadContext } from "../../src/core/registry";
import { sessionOptions } from "../../src/core/onnx/session-factory";

export interface LlmWorkerArgs {
  side: "ours" | "theirs";
  modelDir: string;
  dtype: "fp32" | "q4";
  /** Extra voice-model config for our engine (e.g. the opt-in q4_accuracy_level). */
  engineConfig?: Record<string, unknown>;
}

/** One generation's timings (milliseconds from the start of the call). */
export interface GenerationSample {
  promptTokens: number;
  generatedTokens: number;
  ttftMs: number;
  /** Decode steps after the first token, and their wall time. */
  decodeSteps: number;
  decodeMs: number;
  /** Of decodeMs, time inside session.run. */
  decodeInsideRunMs: number;
  prefillInsideRunMs: number;
  totalMs: number;
}

interface Generator {
  /** Runs one generation; resolves to token sample times (ms, absolute performance.now()) and counts. */
  generate(text: string, newTokens: number): Promise<{ startedAt: number; tokenAt: number[]; endedAt: number; promptTokens: number }>;
}

async function ours(args: LlmWorkerArgs): Promise<Generator> {
  // In this worker's own thread, so the session.run wrapper sees every run (the model's worker thread
  // would hide them), and without the prefix cache: every run prefills its prompt, as transformers.js does
  // (the same prompt repeats each run, which the cache would otherwise answer at once).
  const config = { dtype: args.dtype, worker_thread: false, prefix_cache_mb: 0, ...args.engineConfig };
  const engine = await loadLlm(localLoadContext("llm", { enginesPath: args.modelDir, config }));
  return {
    generate(text, newTokens) {
      return new Promise((resolve, reject) => {
        const startedAt = nowMs();
        const chunkAt: number[] = [];
        engine
          .generate({ prompt: text, raw: true, max_new_tokens: newTokens, temperature: 0, ignore_eos: true })
          .subscribe({
            next: (chunk) => {
              const now = nowMs();
              for (let i = 0; i < (chunk.token_ids?.length ?? 0); i++) chunkAt.push(now);
              if (!chunk.is_final) return;
              const c = chunk as { time_to_first_token?: number; tokens_per_second?: number; generated_tokens?: number; prompt_tokens?: number };
              if (c.generated_tokens !== newTokens) {
                reject(new Error(`ours generated ${c.generated_tokens} tokens, not ${newTokens} (finish_reason ${chunk.finish_reason})`));
                return;
              }
              // The engine timestamps each sampled token itself (a chunk may hold back an
              // incomplete character): rebuild first/last token times from its metrics.
              const first = startedAt + (c.time_to_first_token ?? 0) * 1000;
              const steps = newTokens - 1;
              const last = steps > 0 && c.tokens_per_second ? first + (steps / c.tokens_per_second) * 1000 : first;
              const tokenAt = [first, ...Array.from({ length: steps }, (_, i) => first + ((last - first) * (i + 1)) / steps)];
              resolve({ startedAt, tokenAt, endedAt: now, promptTokens: c.prompt_tokens ?? 0 });
            },
            error: reject,
          });
      });
    },
  };
}

async function theirs(args: LlmWorkerArgs): Promise<Generator> {
  const { env, AutoTokenizer, AutoModelForCausalLM, TextStreamer } = await import("@huggingface/transformers");
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = path.dirname(path.resolve(args.modelDir)) + path.sep;
  const name = path.basename(args.modelDir);
  const tokenizer = await AutoTokenizer.from_pretrained(name);
  // The same intra-op thread count as our sessions: onnxruntime-node's own default (left unset by
  // transformers.js) ran some graphs like one thread on this VM, which would flatter our side.
  const { intraOpNumThreads } = sessionOptions(["cpu"], {});
  const model = await AutoModelForCausalLM.from_pretrained(name, { dtype: args.dtype, session_options: { intraOpNumThreads } } as never);
  return {
    async generate(text, newTokens) {
      const startedAt = nowMs();
      const inputs = tokenizer(text);
      const tokenAt: number[] = [];
      // transformers.js's own streaming path: TextStreamer decodes text as tokens arrive (as our
      // engine does), so both loops do the same per-token work; the token callback timestamps them.
      let streamed = "";
      const streamer = new TextStreamer(tokenizer, {
        skip_prompt: true,
        callback_function: (piece: string) => (streamed += piece),
        token_callback_function: () => tokenAt.push(nowMs()),
      } as never);
      await model.generate({
        ...inputs,
        max_new_tokens: newTokens,
        min_new_tokens: newTokens,
        do_sample: false,
        streamer,
      } as never);
      const endedAt = nowMs();
      if (tokenAt.length !== newTokens) throw new Error(`theirs generated ${tokenAt.length} tokens, not ${newTokens} (${streamed.length} chars)`);
      return { startedAt, tokenAt, endedAt, promptTokens: inputs.input_ids.dims.at(-1) as number };
    },
  };
}

/** Parent → worker messages over the fork IPC channel. */
export type WorkerRequest = { type: "generate"; prompt: PromptSpec; keep: boolean } | { type: "finish" };
export type WorkerReply =
  | { type: "ready"; loadMs: number; rssAfterLoadMiB: number }
  | { type: "sample"; name: string; sample?: GenerationSample }
  | { type: "finished"; peakRssMiB: number }
  | { type: "error"; message: string };

export interface PromptSpec {
  name: string;
  text: string;
  tokens: number;
  newTokens: number;
}

function sampleOf(g: Awaited<ReturnType<Generator["generate"]>>, spans: ReturnType<typeof spansSince>): GenerationSample {
  const first = g.tokenAt[0];
  const last = g.tokenAt[g.tokenAt.length - 1];
  return {
    promptTokens: g.promptTokens,
    generatedTokens: g.tokenAt.length,
    ttftMs: first - g.startedAt,
    decodeSteps: g.tokenAt.length - 1,
    decodeMs: last - first,
    decodeInsideRunMs: insideRunMs(spans, first, last),
    prefillInsideRunMs: insideRunMs(spans, g.startedAt, first),
    totalMs: g.endedAt - g.startedAt,
  };
}

/** Driven by the parent (bench/llm/llm-bench.ts) so both sides' runs interleave and share the machine's noise. */
async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2]) as LlmWorkerArgs;
  const send = (reply: WorkerReply) => process.send!(reply);
  installSessionTimer();
  const loadStart = nowMs();
  const generator = args.side === "ours" ? await ours(args) : await theirs(args);
  send({ type: "ready", loadMs: nowMs() - loadStart, rssAfterLoadMiB: rssMiB() });
  process.on("message", (request: WorkerRequest) => {
    if (request.type === "finish") {
      send({ type: "finished", peakRssMiB: peakRssMiB() });
      process.disconnect();
      return;
    }
    const mark = runMark();
    generator.generate(request.prompt.text, request.prompt.newTokens).then(
      (g) => {
        if (g.promptTokens !== request.prompt.tokens) {
          send({ type: "error", message: `${args.side}: prompt ${request.prompt.name} encoded to ${g.promptTokens} tokens, expected ${request.prompt.tokens}` });
          return;
        }
        send({ type: "sample", name: request.prompt.name, sample: request.keep ? sampleOf(g, spansSince(mark)) : undefined });
      },
      (err: Error) => send({ type: "error", message: `${args.side}: ${err.message}` }),
    );
  });
}

main().catch((err) => {
  process.send?.({ type: "error", message: `llm worker failed to start: ${(err as Error).stack}` });
  process.exit(1);
});
