import { strict as assert } from "assert";
import { lastValueFrom, toArray } from "rxjs";
import type { ModelWorkerClient } from "../../src/core/onnx/worker/model-worker-client";
import { CodecTtsEngine } from "../../src/core/tts/engines/codec/codec-engine";
import { localLoadContext } from "../../src/core/registry";
import { loadTts } from "../../src/core/tts/loader";
import type { TtsChunk, TtsStreamChunk, TtsStreamConfig } from "../../src/core/types";
import { fixtureDir } from "../helpers/fixtures";

async function load(dir: string, config: Record<string, unknown>): Promise<CodecTtsEngine> {
  const engine = await loadTts(localLoadContext("tts", { enginesPath: dir, config }));
  assert.ok(engine instanceof CodecTtsEngine);
  return engine;
}

/** Speaks `text` through a fresh streamer: the LM's codes in order, and the stream's chunks. */
async function speak(engine: CodecTtsEngine, text: string, config: Partial<TtsStreamConfig>): Promise<{ codes: number[]; chunks: TtsStreamChunk[] }> {
  const codes: number[] = [];
  engine.observer = { lmStep: (_span, _n, code) => codes.push(code) };
  try {
    const streamer = engine.openStreamer(config);
    const done = lastValueFrom(streamer.output$.pipe(toArray()));
    streamer.send(text);
    streamer.finish();
    return { codes, chunks: await done };
  } finally {
    engine.observer = undefined;
  }
}

const audioOf = (chunks: TtsStreamChunk[]) => chunks.filter((c): c is TtsChunk => c.kind === "audio" && !c.is_final).map((c) => ({ text: c.text, audio: [...c.audio] }));
const clientOf = (engine: CodecTtsEngine) => (engine as unknown as { sessions: { client: ModelWorkerClient<unknown, unknown, unknown> } }).sessions.client;
const workerOf = (engine: CodecTtsEngine) => clientOf(engine).worker;
/** Whether a call is out in the worker (false: it runs no session now, so terminating it is safe). */
const busy = (engine: CodecTtsEngine) => clientOf(engine).busy;

describe("tts codec engine (tiny-codec-tts) in a worker thread", function () {
  this.timeout(120000);
  let dir: string;
  let inProcess: CodecTtsEngine;
  let inWorker: CodecTtsEngine;
  before(async () => {
    dir = await fixtureDir("tiny-codec-tts");
    inProcess = await load(dir, { worker_thread: false });
    inWorker = await load(dir, {});
  });
  after(async () => {
    await inProcess?.dispose();
    await inWorker?.dispose();
  });

  it("is the default; worker_thread false keeps the sessions in this thread; a bad value names the model", async () => {
    assert.equal(inWorker.inWorker, true);
    assert.equal(inProcess.inWorker, false);
    await assert.rejects(load(dir, { worker_thread: 1 }), (err: Error) => err.message === `the config of model ${dir}: worker_thread must be true or false, got 1`);
  });

  it("speaks the same codes and the same audio, chunk by chunk, as in process (seeded, both voices, several spans)", async () => {
    const cases: [string, Partial<TtsStreamConfig>][] = [
      ["This sentence is long enough to be cut into several codec chunks by the streamer.", { seed: 7 }],
      ["Hi there! Dr. Smith paid 3.14 dollars. Bye.", { seed: 11, voice: "jo", first_frames_per_chunk: 6, frames_per_chunk: 10 }],
      ["Short one.", { seed: 3, voice: "dave", sample_rate_out: 16000 }],
    ];
    for (const [text, config] of cases) {
      const off = await speak(inProcess, text, config);
      const on = await speak(inWorker, text, config);
      assert.ok(on.codes.length > 0, text);
      assert.deepEqual(on.codes, off.codes, text);
      assert.deepEqual(audioOf(on.chunks), audioOf(off.chunks), text);
      assert.deepEqual(on.codes.length, (on.chunks[on.chunks.length - 1] as TtsChunk).generated_tokens);
    }
    const codes = [1, 2, 3, 4, 5, 6, 7, 8];
    assert.deepEqual(await inWorker.decode(codes), await inProcess.decode(codes), "a codec decode on its own");
  });

  it("a worker that dies fails the open stream and later ones with an error naming the model", async () => {
    const engine = await load(dir, {});
    try {
      const streamer = engine.openStreamer({ seed: 1 });
      const done = lastValueFrom(streamer.output$.pipe(toArray()));
      let steps = 0;
      let killed: Promise<number> | undefined;
      // Killed between two model calls: terminating a worker inside an onnxruntime run aborts the
      // whole process (onnxruntime-node's Napi::Error), which no code of ours can catch.
      engine.observer = {
        lmStep: () => {
          if (++steps >= 5 && !killed && !busy(engine)) killed = workerOf(engine).terminate();
        },
      };
      streamer.send("This sentence is long enough to be cut into several codec chunks by the streamer.");
      streamer.finish();
      const named = (err: Error) => err.message === `the codec TTS worker of model '${dir}' stopped unexpectedly (exit code 1); deploy again to reload the model`;
      await assert.rejects(done, named);
      assert.equal(await killed, 1);
      await assert.rejects(engine.decode([1, 2, 3]), named);
    } finally {
      await engine.dispose();
    }
  });

  it("dispose ends the worker", async () => {
    const engine = await load(dir, {});
    const exited = new Promise<number>((resolve) => workerOf(engine).once("exit", resolve));
    await speak(engine, "Short one.", { seed: 2 });
    await engine.dispose();
    assert.equal(await exited, 0);
    await assert.rejects(engine.decode([1, 2, 3]), /was unloaded/);
  });
});
