import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { performance } from "perf_hooks";
import { fixtureDir } from "../helpers/fixtures";
import { sharedDir } from "../helpers/paths";
import { loadAsr } from "../../src/core/asr/loader";
import type { ModelWorkerClient } from "../../src/core/onnx/worker/model-worker-client";
import { workerThreadSetting } from "../../src/core/onnx/worker/worker-thread-setting";
import { ModelRegistry, localLoadContext, type ModelState } from "../../src/core/registry";
import { startHubServer } from "../helpers/hub-server";
import { readWavFile } from "../../src/core/audio";
import type { WhisperEngine } from "../../src/core/asr/engines/whisper/whisper-engine";
import { WorkerWhisperModel } from "../../src/core/asr/engines/whisper/worker-whisper-model";
import type { WhisperStreamer } from "../../src/core/asr/streamer";
import type { AsrEvent } from "../../src/core/types";
import { synthSpeech } from "./asr-audio";

const RATE = 16000;
const CLIPS = fs.readdirSync(sharedDir("audio")).filter((f) => f.endsWith("_16k.wav")).sort();

async function load(dir: string, worker: boolean | string, warn?: (message: string) => void): Promise<WhisperEngine> {
  return (await loadAsr(localLoadContext("asr", { enginesPath: dir, config: { worker_thread: worker } }, { warn }))) as WhisperEngine;
}

/** Streams `audio` in 0.4 s pieces, letting one pass finish after each, so both runs decode the same buffers. */
async function stream(engine: WhisperEngine, audio: Float32Array): Promise<AsrEvent[]> {
  const passes = { count: 0 };
  const streamer: WhisperStreamer = engine.openStreamer({ language: "en", partial_interval_ms: 0, speculative_final: false, onPass: () => passes.count++ });
  const events: AsrEvent[] = [];
  const done = new Promise<void>((resolve, reject) => streamer.partials$.subscribe({ next: (e) => events.push(e), complete: resolve, error: reject }));
  const step = Math.round(0.4 * RATE);
  for (let at = 0; at < audio.length; at += step) {
    const before = passes.count;
    streamer.send(audio.slice(at, at + step));
    for (let i = 0; i < 2000 && passes.count === before; i++) await new Promise((r) => setTimeout(r, 2));
  }
  await streamer.finish();
  await done;
  return events;
}

/** What a caption stream says, without the timings that differ from run to run. */
const said = (events: AsrEvent[]) => events.map((e) => ({ kind: e.kind, text: (e as { text?: string }).text, language: (e as { language?: string }).language }));

const clientOf = (engine: WhisperEngine) => (engine.model as unknown as { client: ModelWorkerClient<unknown, unknown> }).client;
const workerOf = (engine: WhisperEngine) => clientOf(engine).worker;

describe("asr: Whisper in a worker thread", function () {
  this.timeout(180000);
  let dir: string;
  let inProcess: WhisperEngine;
  let inWorker: WhisperEngine;
  before(async () => {
    dir = await fixtureDir("tiny-whisper");
    inProcess = await load(dir, false);
    inWorker = await load(dir, true);
  });
  after(async () => {
    await inProcess?.dispose();
    await inWorker?.dispose();
  });

  it("is the default; worker_thread false keeps the in-process model; a bad value is a clear error naming the model", async () => {
    assert.ok(inWorker.model instanceof WorkerWhisperModel);
    assert.ok(!(inProcess.model instanceof WorkerWhisperModel));
    assert.equal(workerThreadSetting(undefined, "x"), true);
    assert.equal(workerThreadSetting({ worker_thread: "false" }, "x"), false);
    await assert.rejects(load(dir, "maybe"), (err: Error) => err.message === `the config of model ${dir}: worker_thread must be true or false, got "maybe"`);
  });

  it("gives the same settings, languages, partials and finals as the in-process model on every test clip", async () => {
    assert.deepEqual(inWorker.model.settings, inProcess.model.settings);
    assert.deepEqual(inWorker.model.languageCodes(), inProcess.model.languageCodes());
    assert.equal(inWorker.sampleRate, inProcess.sampleRate);
    assert.equal(inWorker.model.windowSeconds, inProcess.model.windowSeconds);
    assert.ok(CLIPS.length >= 4, `clips: ${CLIPS.join(", ")}`);
    for (const name of CLIPS) {
      const audio = (await readWavFile(sharedDir("audio", name))).samples;
      const off = await stream(inProcess, audio);
      const on = await stream(inWorker, audio);
      assert.deepEqual(said(on), said(off), name);
      assert.equal(off.filter((e) => e.kind === "final").length, 1, name);
      assert.deepEqual(await inWorker.transcribe(audio, { language: "auto" }), await inProcess.transcribe(audio, { language: "auto" }), name);
    }
  });

  it("a cancel aborts the decode in the worker, which goes on serving the next request", async () => {
    const audio = synthSpeech(28, 5);
    const controller = new AbortController();
    const cancelled = inWorker.model.decode(audio, { language: "en", temperatures: [0], signal: controller.signal });
    const next = inWorker.model.decode(audio.subarray(0, 3 * RATE), { language: "en", temperatures: [0] });
    setTimeout(() => controller.abort(), 10);
    await assert.rejects(cancelled, /the decode was aborted/);
    assert.deepEqual(await next, await inProcess.model.decode(audio.subarray(0, 3 * RATE), { language: "en", temperatures: [0] }));
    await assert.rejects(inWorker.model.decode(audio, { signal: controller.signal }), /aborted/, "an already aborted signal never starts");
  });

  it("keeps the event loop free while it decodes: timers fire and the main thread is mostly idle, unlike in process", async () => {
    const audio = synthSpeech(28, 9);
    const options = { language: "en", temperatures: [0], maxNewTokens: 200 };
    const measure = async (engine: WhisperEngine) => {
      let ticks = 0;
      const timer = setInterval(() => ticks++, 5);
      const start = performance.eventLoopUtilization();
      await engine.model.decode(audio, options);
      await engine.model.decode(audio, options);
      const used = performance.eventLoopUtilization(start).utilization;
      clearInterval(timer);
      return { ticks, used };
    };
    const worker = await measure(inWorker);
    const local = await measure(inProcess);
    assert.ok(worker.ticks > 0, "no timer fired during a worker decode");
    assert.ok(worker.used < local.used, `main-thread utilization with the worker ${worker.used.toFixed(2)} is not below in-process ${local.used.toFixed(2)}`);
    assert.ok(worker.used < 0.5, `main thread ${Math.round(worker.used * 100)} % busy while the worker decoded`);
  });

  it("a worker that dies fails the pending and later decodes with an error naming the model, and nothing else", async () => {
    const engine = await load(dir, true);
    // The worker is idle when it is killed, and the decode sent right after never starts there:
    // terminating a worker inside an onnxruntime run aborts the whole process (onnxruntime-node's
    // Napi::Error), which no code of ours can catch.
    assert.equal(clientOf(engine).busy, false);
    const killed = workerOf(engine).terminate();
    const pending = engine.model.decode(synthSpeech(20, 3), { language: "en" });
    assert.equal(clientOf(engine).busy, true, "the decode was sent to the worker before it died");
    await assert.rejects(pending, (err: Error) => err.message === `the Whisper worker of model '${dir}' stopped unexpectedly (exit code 1); deploy again to reload the model`);
    assert.equal(await killed, 1);
    await assert.rejects(engine.model.decode(synthSpeech(2, 3)), /stopped unexpectedly/);
    await engine.dispose();
  });

  it("dispose ends the worker and later decodes say the model was released", async () => {
    const engine = await load(dir, true);
    const exited = new Promise<number>((resolve) => workerOf(engine).once("exit", resolve));
    await engine.dispose();
    assert.equal(await exited, 0);
    await assert.rejects(engine.model.decode(synthSpeech(2, 3)), /was released/);
  });

  it("a release while a decode runs in the worker never terminates it inside the run: the process lives on and the worker ends by itself", async () => {
    const warnings: string[] = [];
    const engine = await load(dir, true, (message) => warnings.push(message));
    const client = clientOf(engine);
    const worker = workerOf(engine);
    // Count terminate() calls instead of making them: one inside a run would abort this process.
    let terminated = 0;
    worker.terminate = () => {
      terminated++;
      return Promise.resolve(1);
    };
    // The release grace runs out at once, while the decode is still in the worker's run.
    (client as unknown as { graceMs: number }).graceMs = 0;
    const exited = new Promise<number>((resolve) => worker.once("exit", resolve));
    const audio = synthSpeech(28, 6);
    const decoding = engine.model.decode(audio, { language: "en", temperatures: [0], maxNewTokens: 200 });
    const failed = assert.rejects(decoding, /was released/);
    await new Promise((r) => setTimeout(r, 30)); // the worker has picked the decode up
    assert.equal(client.busy, true);
    await engine.dispose();
    await failed;
    assert.equal(terminated, 0, "terminate() was called while a decode was out in the worker");
    assert.deepEqual(warnings, [`the Whisper worker of model '${dir}' is still finishing a run; it ends when the run does`]);
    assert.equal(await exited, 0, "the worker ended by itself once its run was over");
    assert.equal(client.busy, false, "the decode's answer came back before the worker ended");
    await assert.rejects(engine.model.decode(synthSpeech(2, 3)), /was released/);
    // This process and the other worker are untouched.
    const short = audio.subarray(0, 3 * RATE);
    assert.deepEqual(await inWorker.model.decode(short, { language: "en", temperatures: [0] }), await inProcess.model.decode(short, { language: "en", temperatures: [0] }));
  });

  it("a model that fails to load in the worker rejects with the loader's own message, naming the model", async () => {
    const bad = fs.mkdtempSync(path.join(os.tmpdir(), "bad-whisper-"));
    try {
      fs.writeFileSync(path.join(bad, "config.json"), JSON.stringify({ model_type: "bert" }));
      await assert.rejects(load(bad, true), (err: Error) => err.message === `'${bad}' is not a Whisper model (config.json model_type is 'bert')`);
      for (const f of ["config.json", "generation_config.json", "preprocessor_config.json", "tokenizer.json", "tokenizer_config.json", "onnx/encoder_model.onnx"]) {
        fs.mkdirSync(path.dirname(path.join(bad, f)), { recursive: true });
        fs.copyFileSync(path.join(dir, f), path.join(bad, f));
      }
      const off = await load(bad, false).then(() => "loaded", (err: Error) => err.message);
      const on = await load(bad, true).then(() => "loaded", (err: Error) => err.message);
      assert.match(on, /has no usable Whisper decoder/);
      assert.equal(on, off);
    } finally {
      fs.rmSync(bad, { recursive: true, force: true });
    }
  });

  it("from a hub repo through the registry: the worker's files download on the main thread, the status says loading then ready, and the last release ends the worker", async () => {
    const server = await startHubServer({ repos: { "test/tiny-whisper": dir } });
    try {
      const registry = new ModelRegistry({ cacheDir: fs.mkdtempSync(path.join(os.tmpdir(), "vs-asr-cache-")), hubUrl: server.url });
      const states: ModelState[] = [];
      const lease = registry.startModel<WhisperEngine>("asr", { enginesPath: "test/tiny-whisper" });
      lease.state$.subscribe((s) => states.push(s));
      const engine = await lease.model;
      assert.ok(engine.model instanceof WorkerWhisperModel);
      const phases = states.map((s) => s.phase);
      assert.ok(phases.includes("downloading"), phases.join(","));
      assert.deepEqual(phases.slice(-2), ["loading", "ready"]);
      const audio = synthSpeech(3, 4);
      assert.deepEqual(await engine.transcribe(audio, { language: "en" }), await inProcess.transcribe(audio, { language: "en" }));
      const exited = new Promise<number>((resolve) => workerOf(engine).once("exit", resolve));
      await lease.release();
      assert.equal(await exited, 0);
    } finally {
      await server.close();
    }
  });
});
