import { strict as assert } from "assert";
import { lastValueFrom, toArray } from "rxjs";
import { InferenceCore } from "../../src/core";
import type { AsrEvent, LlmStreamChunk, LoadProgress, TtsStreamChunk } from "../../src/core/types";
import { fixtureDir } from "../helpers/fixtures";

describe("InferenceCore", () => {
  it("starts an llm from a local folder, streams tokens ending with one final chunk, stops it", async () => {
    const core = new InferenceCore();
    const progress: LoadProgress[] = [];
    const model = await core.startModel("llm", { enginesPath: await fixtureDir("tiny-llm") }, (p) => progress.push(p));
    assert.equal(model.kind, "llm");
    assert.deepEqual(progress.map((p) => p.phase).slice(-1), ["ready"]);
    assert.ok(progress.some((p) => p.phase === "loading"));

    const chunks: LlmStreamChunk[] = await lastValueFrom(core.inferStream("llm", { prompt: "hello", max_new_tokens: 6, seed: 1, ignore_eos: true }).pipe(toArray()));
    assert.equal(chunks.filter((c) => c.is_final).length, 1);
    assert.equal(chunks[chunks.length - 1].is_final, true);
    const final = chunks[chunks.length - 1] as { generated_tokens?: number };
    assert.equal(final.generated_tokens, 6);

    assert.equal(await core.getModel("llm"), model);
    assert.equal(core.registry.refCount("llm", { enginesPath: await fixtureDir("tiny-llm") }), 1);
    await core.stopModel("llm");
    assert.equal(core.registry.refCount("llm", { enginesPath: await fixtureDir("tiny-llm") }), 0);
    await assert.rejects(core.getModel("llm"), /no model named 'llm' is started/);
    await assert.rejects(lastValueFrom(core.inferStream("llm", { prompt: "x" })), /no model named 'llm' is started/);
  });

  it("kind from the spec or the call; a wrong kind or an unknown name is a clear error", async () => {
    const core = new InferenceCore();
    await core.startModel("voice", { kind: "tts", enginesPath: "espeak" });
    await core.startModel("voice2", "tts", { enginesPath: "espeak" });
    assert.equal(core.registry.refCount("tts", { enginesPath: "espeak" }), 2, "two names share one espeak instance");
    assert.throws(() => core.openAsrStreamer("voice"), /model 'voice' is a tts model, not asr/);
    assert.throws(() => core.openTtsStreamer("nobody"), /no model named 'nobody' is started/);
    await assert.rejects(core.startModel("mystery", { enginesPath: "espeak" }), /no kind given/);
    await assert.rejects(core.startModel("llm", { enginesPath: "/no/such/dir" }), /model directory '\/no\/such\/dir' does not exist/);
    await core.close();
    assert.equal(core.registry.refCount("tts", { enginesPath: "espeak" }), 0);
  });

  it("opens a TTS streamer (espeak) that speaks and ends with one final chunk", async () => {
    const core = new InferenceCore();
    await core.startModel("tts", { enginesPath: "espeak" });
    const tts = core.openTtsStreamer("tts", { frames_per_chunk: 25, first_frames_per_chunk: 12, lookforward: 5, lookback: 50, overlap_frames: 1 });
    const all = lastValueFrom(tts.output$.pipe(toArray()));
    tts.send("Hello there.");
    tts.finish();
    const chunks: TtsStreamChunk[] = await all;
    const audio = chunks.filter((c) => c.kind === "audio").reduce((n, c) => n + (c.kind === "audio" ? c.audio.length : 0), 0);
    assert.ok(audio > 1000, `audio samples: ${audio}`);
    assert.equal(chunks.filter((c) => c.is_final).length, 1);
    await core.stopModel("tts");
  });

  it("opens an ASR streamer (tiny whisper fixture) that ends with one final event", async () => {
    const core = new InferenceCore();
    await core.startModel("asr", { enginesPath: await fixtureDir("tiny-whisper") });
    const asr = core.openAsrStreamer("asr", { language: "en", partial_interval_ms: 600 });
    const events = lastValueFrom(asr.partials$.pipe(toArray()));
    asr.send(new Float32Array(16000).map((_, i) => 0.1 * Math.sin(i / 10)));
    const text = await asr.finish();
    const all: AsrEvent[] = await events;
    assert.equal(all.filter((e) => e.is_final).length, 1);
    const final = all[all.length - 1];
    assert.equal(final.kind, "final");
    assert.equal((final as { text: string }).text, text);
    await core.stopModel("asr");
  });
});
