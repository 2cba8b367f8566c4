/**
 * First audio before more text (core/scheduling/first-audio-priority.ts): a TTS stream holds
 * local LLM decode steps from taking up its first span until its first audio leaves; a hold
 * never outlives MAX_HOLD_MS for a waiting step; remote TTS takes no priority.
 */
import { strict as assert } from "assert";
import { fixtureDir } from "../helpers/fixtures";
import { firstAudioPriority, FirstAudioPriority } from "../../src/core/scheduling/first-audio-priority";
import { SpanStreamer, type SpanPipeline } from "../../src/core/tts/span-streamer";
import type { AsyncQueue } from "../../src/core/tts/async-queue";
import type { LlmStreamChunk } from "../../src/core/types";
import { collect, loadEngine } from "./llm-support";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A pipeline whose first span's audio comes only when the test says so. */
function gatedPipeline(runsLocally?: boolean): { pipeline: SpanPipeline<Float32Array>; open(): void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  const pipeline: SpanPipeline<Float32Array> = {
    sampleRate: 24000,
    runsLocally,
    async produce(_span, sink) {
      await opened;
      sink(new Float32Array(240).fill(0.1));
    },
    async consume(_span, units: AsyncQueue<Float32Array>, emit) {
      for await (const unit of units) emit(unit, false);
    },
  };
  return { pipeline, open };
}

describe("first-audio priority", function () {
  this.timeout(60000);

  it("a TTS stream holds from taking up its first span until its first audio; later spans take none", async () => {
    const priority = new FirstAudioPriority(true);
    const { pipeline, open } = gatedPipeline();
    const streamer = new SpanStreamer(pipeline, { priority });
    const chunks: unknown[] = [];
    streamer.output$.subscribe((c) => chunks.push(c));
    assert.equal(priority.active, 0, "held before any text");
    streamer.send("Hello there. ");
    await sleep(20);
    assert.equal(priority.active, 1, "not held while making the first audio");
    let yielded = false;
    void priority.yieldTo().then(() => (yielded = true));
    await sleep(50);
    assert.equal(yielded, false, "a waiting step went on during the hold");
    open();
    await sleep(20);
    assert.ok(chunks.length >= 1);
    assert.equal(priority.active, 0, "still held after the first audio");
    assert.equal(yielded, true, "the waiting step was not let go at the first audio");
    streamer.send("And more text. ");
    streamer.finish();
    await sleep(20);
    assert.equal(priority.active, 0, "a later span took priority");
  });

  it("cancel before any audio, and a remote pipeline, hold nothing afterwards", async () => {
    const priority = new FirstAudioPriority(true);
    const { pipeline } = gatedPipeline();
    const streamer = new SpanStreamer(pipeline, { priority });
    streamer.output$.subscribe(() => undefined);
    streamer.send("Hello there. ");
    await sleep(20);
    assert.equal(priority.active, 1);
    streamer.cancel();
    assert.equal(priority.active, 0, "a cancelled stream kept its hold");

    const remote = gatedPipeline(false);
    const remoteStreamer = new SpanStreamer(remote.pipeline, { priority });
    remoteStreamer.output$.subscribe(() => undefined);
    remoteStreamer.send("Hello there. ");
    await sleep(20);
    assert.equal(priority.active, 0, "a server-side voice took priority over local steps");
    remoteStreamer.cancel();
  });

  it("a waiting step goes on after the longest hold even if the first audio never comes; off, nothing waits", async () => {
    const priority = new FirstAudioPriority(true);
    priority.hold();
    const started = Date.now();
    await priority.yieldTo(150);
    assert.ok(Date.now() - started >= 140, "let go before the longest hold");
    const off = new FirstAudioPriority(false);
    off.hold();
    assert.equal(off.active, 0);
    let went = false;
    await off.yieldTo(10_000).then(() => (went = true));
    assert.equal(went, true);
  });

  it("an LLM generation takes no decode step while a first audio is being made, then finishes with the same text", async () => {
    const engine = await loadEngine(await fixtureDir("tiny-llm"));
    try {
      const request = { prompt: "Tell me about the river.", max_new_tokens: 24, temperature: 0, ignore_eos: true };
      const reference = await collect(engine.generate(request));
      const release = firstAudioPriority.hold();
      const chunks: LlmStreamChunk[] = [];
      const done = new Promise<void>((resolve, reject) => engine.generate(request).subscribe({ next: (c) => chunks.push(c), complete: resolve, error: reject }));
      await sleep(400);
      // The first token comes from the prefill's logits; every later one needs a decode step.
      const tokensWhileHeld = chunks.flatMap((c) => c.token_ids ?? []).length;
      assert.ok(tokensWhileHeld <= 1, `${tokensWhileHeld} tokens while the first audio was being made`);
      release();
      await done;
      const text = (list: LlmStreamChunk[]) => list.map((c) => c.delta ?? "").join("");
      assert.equal(text(chunks), text(reference));
    } finally {
      await engine.dispose();
    }
  });
});
