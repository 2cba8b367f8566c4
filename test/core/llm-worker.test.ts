import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Subject, take } from "rxjs";
import { fixtureDir } from "../helpers/fixtures";
import { startHubServer } from "../helpers/hub-server";
import { convertLlama2c } from "../../src/core/llm/llama2c/convert";
import { loadLlm } from "../../src/core/llm/engines/onnx/loader";
import { OnnxLlmEngine } from "../../src/core/llm/engines/onnx/onnx-llm-engine";
import type { DecoderCall } from "../../src/core/onnx/decoder/decoder-worker-protocol";
import { WorkerDecoderModel } from "../../src/core/onnx/decoder/worker-decoder-model";
import type { ModelWorkerClient } from "../../src/core/onnx/worker/model-worker-client";
import { workerThreadSetting } from "../../src/core/onnx/worker/worker-thread-setting";
import { ModelRegistry, localLoadContext, type ModelState } from "../../src/core/registry";
import type { LlmRequest, LlmStreamChunk } from "../../src/core/types";
import { STORIES, collect, finalOf } from "./llm-support";

const idsOf = (chunks: LlmStreamChunk[]) => chunks.flatMap((c) => c.token_ids ?? []);
const textOf = (chunks: LlmStreamChunk[]) => chunks.map((c) => c.delta ?? "").join("");
/** What a stream says, without the timings that differ from run to run. */
const said = (chunks: LlmStreamChunk[]) => ({
  ids: idsOf(chunks),
  text: textOf(chunks),
  kinds: chunks.map((c) => `${c.kind}:${c.index}:${c.is_final}`),
  finish: finalOf(chunks).finish_reason,
  prompt: finalOf(chunks).prompt_tokens,
  cached: finalOf(chunks).cached_prompt_tokens,
  generated: finalOf(chunks).generated_tokens,
});

async function load(dir: string, worker: boolean, config: Record<string, unknown> = {}): Promise<OnnxLlmEngine> {
  return loadLlm(localLoadContext("llm", { enginesPath: dir, config: { worker_thread: worker, ...config } }));
}

const decodersOf = (engine: OnnxLlmEngine) => (engine as unknown as { parts: { decoders: WorkerDecoderModel } }).parts.decoders;
const clientOf = (engine: OnnxLlmEngine) => (decodersOf(engine) as unknown as { client: ModelWorkerClient<unknown, unknown, unknown> }).client;
const workerOf = (engine: OnnxLlmEngine) => clientOf(engine).worker;
/** Whether a call is out in the worker (false: it runs no session now, so terminating it is safe). */
const busy = (engine: OnnxLlmEngine) => clientOf(engine).busy;

/** Watches the calls an engine's worker model sends: every call, whether one is waiting for its reply, and the failed ones. */
function spyCalls(engine: OnnxLlmEngine): { ops: string[]; inFlight: () => boolean; failed: string[] } {
  const model = decodersOf(engine);
  const call = model.call.bind(model);
  const ops: string[] = [];
  const failed: string[] = [];
  let waiting = 0;
  model.call = (request: DecoderCall, transfer?: ArrayBuffer[]) => {
    ops.push(request.op);
    waiting++;
    const reply = call(request, transfer);
    void reply.then(
      () => waiting--,
      (err: Error) => {
        waiting--;
        failed.push(`${request.op}: ${err.message}`);
      },
    );
    return reply;
  };
  return { ops, inFlight: () => waiting > 0, failed };
}

const system = "You are a calm home assistant. Answer in one short sentence, name the room, and never invent devices. ".repeat(2);

describe("llm: the ONNX LLM's sessions in a worker thread", function () {
  this.timeout(120000);
  let dir: string;
  let inProcess: OnnxLlmEngine;
  let inWorker: OnnxLlmEngine;
  before(async () => {
    dir = await fixtureDir("tiny-llm");
    inProcess = await load(dir, false);
    inWorker = await load(dir, true);
  });
  after(async () => {
    await inProcess?.dispose();
    await inWorker?.dispose();
  });

  it("is the default; worker_thread false keeps the session in this thread; a bad value is a clear error naming the model", async () => {
    const byDefault = await loadLlm(localLoadContext("llm", { enginesPath: dir }));
    try {
      assert.equal(byDefault.inWorker, true);
      assert.ok(decodersOf(byDefault) instanceof WorkerDecoderModel);
    } finally {
      await byDefault.dispose();
    }
    assert.equal(inWorker.inWorker, true);
    assert.equal(inProcess.inWorker, false);
    assert.equal(workerThreadSetting({ worker_thread: "false" }, "x"), false);
    await assert.rejects(load(dir, "maybe" as unknown as boolean), (err: Error) => err.message === `the config of model ${dir}: worker_thread must be true or false, got "maybe"`);
  });

  it("gives the same ids, text and chunks as in process: greedy, seeded sampling, and with prefix cache hits", async () => {
    const requests: LlmRequest[] = [
      { prompt: "Tell me about the river.", temperature: 0, max_new_tokens: 40 },
      { prompt: "Good morning", temperature: 1, top_k: 50, seed: 1234, max_new_tokens: 30 },
      { prompt: [{ role: "user", content: "Say something about bread" }], temperature: 0.9, top_p: 0.95, repetition_penalty: 1.2, seed: 7, max_new_tokens: 35 },
      { prompt: "Count: one two", temperature: 0.8, seed: 3, max_new_tokens: 20, stop_sequences: ["three"] },
      // The same system prompt three times: the second and third start from the prefix cache.
      { system, prompt: "Is the kitchen light on?", temperature: 0, max_new_tokens: 12 },
      { system, prompt: "Turn off the hall heater.", temperature: 0, max_new_tokens: 12 },
      { system, prompt: "Turn off the hall heater.", temperature: 0.7, seed: 11, max_new_tokens: 12 },
    ];
    const cached: number[] = [];
    for (const request of requests) {
      const off = said(await collect(inProcess.generate(request)));
      const on = said(await collect(inWorker.generate(request)));
      assert.deepEqual(on, off, JSON.stringify(request));
      assert.ok(on.ids.length > 0);
      cached.push(on.cached ?? 0);
    }
    assert.ok(cached[5] > 0 && cached[6] > cached[5], `cached prompt tokens ${cached.join(", ")}: the later turns hit the worker's prefix cache`);
  });

  it("with the prefix cache off and the append-only cache forced, the worker still matches in process", async () => {
    for (const config of [{ prefix_cache_mb: 0 }, { append_only_cache: true }]) {
      const off = await load(dir, false, config);
      const on = await load(dir, true, config);
      try {
        for (const prompt of ["The weather today is", "The weather today is cold, and"]) {
          const request: LlmRequest = { system, prompt, temperature: 0.6, seed: 5, max_new_tokens: 60 };
          assert.deepEqual(said(await collect(on.generate(request))), said(await collect(off.generate(request))), JSON.stringify(config));
        }
      } finally {
        await off.dispose();
        await on.dispose();
      }
    }
  });

  it("runs concurrent streams interleaved, each equal to its in-process run", async () => {
    const requests: LlmRequest[] = Array.from({ length: 8 }, (_, i) => ({
      prompt: i % 2 ? `Question number ${i}: where is the station?` : [{ role: "user", content: `Say something about bread ${i}` }],
      max_new_tokens: 12 + (i % 5),
      temperature: 0.9,
      top_p: 0.95,
      seed: 1000 + i,
    }));
    const expected = await Promise.all(requests.map((r) => collect(inProcess.generate(r))));
    const events: string[] = [];
    const together = await Promise.all(
      requests.map(
        (request, i) =>
          new Promise<LlmStreamChunk[]>((resolve, reject) => {
            const chunks: LlmStreamChunk[] = [];
            inWorker.generate(request).subscribe({
              next: (c) => {
                chunks.push(c);
                events.push(`${i}:${c.is_final ? "final" : c.index}`);
              },
              error: reject,
              complete: () => resolve(chunks),
            });
          }),
      ),
    );
    together.forEach((chunks, i) => assert.deepEqual(said(chunks), said(expected[i]), `stream ${i}`));
    assert.ok(events.findIndex((e) => e.startsWith("7:")) < events.indexOf("0:final"), "the last stream produced text before the first one ended");
    assert.equal(inWorker.activeStreams, 0);
  });

  it("stories260K (llama2.c, converted) gives the same greedy and sampled ids in the worker as in process", async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "vs-llm-worker-stories-"));
    convertLlama2c(path.join(STORIES, "stories260K.bin"), path.join(STORIES, "tok512.bin"), out);
    const off = await load(out, false);
    const on = await load(out, true);
    try {
      for (const request of [
        { prompt: "Once upon a time", temperature: 0, max_new_tokens: 120 },
        { prompt: "One day, a little girl", temperature: 1, top_k: 40, seed: 42, max_new_tokens: 120 },
      ]) {
        assert.deepEqual(said(await collect(on.generate(request))), said(await collect(off.generate(request))), request.prompt);
      }
    } finally {
      await off.dispose();
      await on.dispose();
      fs.rmSync(out, { recursive: true, force: true });
    }
  });

  it("cancel$ mid-generation: one cancelled chunk, nothing after, at most the step in flight runs after it, and the worker goes on serving", async () => {
    const engine = await load(dir, true);
    const calls = spyCalls(engine);
    try {
      const request: LlmRequest = { prompt: "Tell me a long story", max_new_tokens: 200, temperature: 0.9, seed: 99, ignore_eos: true };
      const cancel$ = new Subject<void>();
      const chunks: LlmStreamChunk[] = [];
      let callsAtCancel = -1;
      let completed = false;
      engine.generate(request, { cancel$ }).subscribe({
        next: (c) => {
          chunks.push(c);
          if (chunks.length === 3) {
            callsAtCancel = calls.ops.length;
            cancel$.next();
          }
        },
        complete: () => (completed = true),
      });
      while (!completed) await new Promise((r) => setTimeout(r, 5));
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(chunks.length, 4, "three text chunks, the cancelled chunk, then nothing");
      assert.deepEqual([finalOf(chunks).kind, finalOf(chunks).finish_reason, finalOf(chunks).index], ["cancelled", "cancelled", 3]);
      assert.ok(calls.ops.length - callsAtCancel <= 1, `${calls.ops.length - callsAtCancel} worker calls after the cancel`);
      assert.equal(engine.activeStreams, 0);
      const again = await collect(engine.generate(request));
      const reference = await collect(inProcess.generate(request));
      assert.deepEqual(idsOf(again), idsOf(reference));
      assert.equal(finalOf(again).cached_prompt_tokens, finalOf(chunks).prompt_tokens! - 1, "the cancelled run left its prompt in the worker's prefix cache");
      assert.deepEqual(idsOf(again).slice(0, idsOf(chunks).length), idsOf(chunks), "the cancelled stream's ids are the run's first ids");
    } finally {
      await engine.dispose();
    }
  });

  it("unsubscribing stops the generation within the step in flight and leaves no live generation", async () => {
    const engine = await load(dir, true);
    const calls = spyCalls(engine);
    try {
      const got: LlmStreamChunk[] = [];
      await new Promise<void>((resolve) =>
        engine.generate({ prompt: "Tell me a long story", max_new_tokens: 200, ignore_eos: true, seed: 5 }).pipe(take(2)).subscribe({
          next: (c) => got.push(c),
          complete: resolve,
        }),
      );
      const callsAtUnsubscribe = calls.ops.length;
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(got.length, 2);
      assert.ok(calls.ops.length - callsAtUnsubscribe <= 1, `${calls.ops.length - callsAtUnsubscribe} worker calls after the unsubscribe`);
      assert.equal(engine.activeStreams, 0);
      assert.equal(OnnxLlmEngine.liveGenerations, 0);
    } finally {
      await engine.dispose();
    }
  });

  it("leaves the event loop free while the worker runs a step: immediates run while a call waits for the worker", async () => {
    const engine = await load(dir, true);
    const calls = spyCalls(engine);
    try {
      let ticks = 0;
      let ticksDuringCalls = 0;
      let running = true;
      const tick = () => {
        ticks++;
        if (calls.inFlight()) ticksDuringCalls++;
        if (running) setImmediate(tick);
      };
      setImmediate(tick);
      const chunks = await collect(engine.generate({ prompt: "Tell me a long story", temperature: 0, max_new_tokens: 100, ignore_eos: true }));
      running = false;
      assert.equal(finalOf(chunks).generated_tokens, 100);
      // Greedy: each step asks for the best logit only (top-logits-graph.ts).
      assert.ok(calls.ops.filter((op) => op === "stepTop").length >= 99, calls.ops.join(","));
      assert.ok(ticks > 0, "the event loop never turned during the generation");
      assert.ok(ticksDuringCalls > 0, `no immediate ran while a step was in the worker (${ticks} ticks in all)`);
    } finally {
      await engine.dispose();
    }
  });

  it("a worker that dies fails the open stream and later ones with an error naming the model", async () => {
    const engine = await load(dir, true);
    try {
      // The worker is killed between two steps: terminating a worker inside an onnxruntime run
      // aborts the whole process (onnxruntime-node's Napi::Error), which no code of ours can catch.
      let killed: Promise<number> | undefined;
      const failed = new Promise<LlmStreamChunk[]>((resolve, reject) => {
        const chunks: LlmStreamChunk[] = [];
        engine.generate({ prompt: "Tell me a long story", max_new_tokens: 500, ignore_eos: true, seed: 1 }).subscribe({
          next: (c) => {
            chunks.push(c);
            if (!killed && chunks.length >= 5 && !busy(engine)) killed = workerOf(engine).terminate();
          },
          error: reject,
          complete: () => resolve(chunks),
        });
      });
      const named = (err: Error) => err.message === `the LLM worker of model '${dir}' stopped unexpectedly (exit code 1); deploy again to reload the model`;
      await assert.rejects(failed, named);
      assert.equal(await killed, 1);
      await assert.rejects(collect(engine.generate({ prompt: "hi", max_new_tokens: 3 })), named);
      assert.equal(engine.activeStreams, 0);
    } finally {
      await engine.dispose();
    }
    // This process and the other engines are untouched.
    assert.ok((await collect(inWorker.generate({ prompt: "hi", max_new_tokens: 3 }))).length > 0);
  });

  it("dispose fails the open streams, waits for the step in flight, ends the worker, and refuses new streams", async () => {
    const engine = await load(dir, true);
    const calls = spyCalls(engine);
    const exited = new Promise<number>((resolve) => workerOf(engine).once("exit", resolve));
    const pending = collect(engine.generate({ prompt: "A long one", max_new_tokens: 500, ignore_eos: true, seed: 3 }));
    while (calls.ops.filter((op) => op === "step" || op === "stepTop").length < 5 || !calls.inFlight()) await new Promise((r) => setImmediate(r));
    const failed = assert.rejects(pending, /unloaded while generating/);
    await engine.dispose();
    await failed;
    assert.ok(!calls.inFlight());
    assert.deepEqual(calls.failed, [], "the step in flight at dispose got its reply before the worker ended");
    assert.equal(await exited, 0, "the worker ended on its own");
    await assert.rejects(collect(engine.generate({ prompt: "hi" })), /was unloaded/);
  });

  it("a model that fails to load in the worker rejects with the in-process message, naming the model", async () => {
    const bad = fs.mkdtempSync(path.join(os.tmpdir(), "bad-llm-"));
    try {
      for (const f of fs.readdirSync(dir)) if (f.endsWith(".json")) fs.copyFileSync(path.join(dir, f), path.join(bad, f));
      fs.mkdirSync(path.join(bad, "onnx"));
      fs.writeFileSync(path.join(bad, "onnx", "model.onnx"), "<html>not a model</html>");
      const messageOf = (worker: boolean) => load(bad, worker).then(() => "loaded", (err: Error) => err.message);
      const broken = await messageOf(true);
      assert.match(broken, /model\.onnx/);
      assert.equal(broken, await messageOf(false));

      // A config.json that does not match the graph's cache inputs.
      fs.copyFileSync(path.join(dir, "onnx", "model.onnx"), path.join(bad, "onnx", "model.onnx"));
      const config = JSON.parse(fs.readFileSync(path.join(dir, "config.json"), "utf8"));
      fs.writeFileSync(path.join(bad, "config.json"), JSON.stringify({ ...config, num_hidden_layers: config.num_hidden_layers + 1 }));
      const mismatch = await messageOf(true);
      assert.ok(mismatch.startsWith(`model ${bad} does not fit the llm engine: `), mismatch);
      assert.equal(mismatch, await messageOf(false));
    } finally {
      fs.rmSync(bad, { recursive: true, force: true });
    }
  });

  it("from a hub repo through the registry: files download on the main thread, the status says loading then ready, the last release ends the worker", async () => {
    const server = await startHubServer({ repos: { "test/tiny-llm": dir } });
    try {
      const registry = new ModelRegistry({ cacheDir: fs.mkdtempSync(path.join(os.tmpdir(), "vs-llm-cache-")), hubUrl: server.url });
      const states: ModelState[] = [];
      const lease = registry.startModel<OnnxLlmEngine>("llm", { enginesPath: "test/tiny-llm" });
      lease.state$.subscribe((s) => states.push(s));
      const engine = await lease.model;
      assert.equal(engine.inWorker, true);
      const phases = states.map((s) => s.phase);
      assert.ok(phases.includes("downloading"), phases.join(","));
      assert.deepEqual(phases.slice(-2), ["loading", "ready"]);
      const request: LlmRequest = { prompt: "Hello", temperature: 0, max_new_tokens: 10 };
      assert.deepEqual(said(await collect(engine.generate(request))), said(await collect(inProcess.generate(request))));
      const exited = new Promise<number>((resolve) => workerOf(engine).once("exit", resolve));
      await lease.release();
      assert.equal(await exited, 0);
    } finally {
      await server.close();
    }
  });
});
