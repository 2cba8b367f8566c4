import { strict as assert } from "assert";
import { fixtureDir } from "../helpers/fixtures";
import { loadAsr } from "../../src/core/asr/loader";
import { localLoadContext } from "../../src/core/registry";
import type { WhisperEngine } from "../../src/core/asr/engines/whisper/whisper-engine";
import type { WhisperStreamer } from "../../src/core/asr/streamer";
import type { AsrEvent } from "../../src/core/types";
import { speechWithPauses, synthSpeech } from "./asr-audio";

/** Feeds `audio` in `chunkSeconds` pieces, waiting for one decode pass after each (a fast "live" feed). */
async function feed(streamer: WhisperStreamer, audio: Float32Array, chunkSeconds: number, passes: { count: number }, flushAt: number[] = []): Promise<void> {
  const step = Math.round(chunkSeconds * 16000);
  for (let at = 0; at < audio.length; at += step) {
    const before = passes.count;
    streamer.send(audio.slice(at, at + step));
    if (flushAt.some((t) => t * 16000 >= at && t * 16000 < at + step)) streamer.flush();
    for (let i = 0; i < 5000 && passes.count === before; i++) await new Promise((r) => setTimeout(r, 2));
  }
}

function collect(streamer: WhisperStreamer): { events: AsrEvent[]; done: Promise<void> } {
  const events: AsrEvent[] = [];
  const done = new Promise<void>((resolve, reject) => streamer.partials$.subscribe({ next: (e) => events.push(e), complete: resolve, error: reject }));
  return { events, done };
}

function assertGrowingPrefixes(events: AsrEvent[], final: string): string[] {
  const partials = events.filter((e) => e.kind === "partial").map((e) => (e as { text: string }).text);
  for (let i = 0; i < partials.length; i++) {
    for (let j = i + 1; j < partials.length; j++) assert.ok(partials[j].startsWith(partials[i]), `partial ${j} '${partials[j]}' does not extend partial ${i} '${partials[i]}'`);
    assert.ok(final.startsWith(partials[i]), `final '${final}' does not extend partial '${partials[i]}'`);
  }
  return partials;
}

describe("asr: streaming on tiny-whisper", function () {
  this.timeout(120000);
  let engine: WhisperEngine;
  before(async () => {
    engine = (await loadAsr(localLoadContext("asr", { enginesPath: await fixtureDir("tiny-whisper") }))) as WhisperEngine;
  });
  after(() => engine?.dispose());

  it("partials only grow, each is a prefix of every later one and of the final; with no flush the final equals a one-shot decode", async () => {
    const audio = speechWithPauses([3.2, 0.8, 2.6], 21);
    const passes = { count: 0 };
    const streamer = engine.openStreamer({ language: "en", partial_interval_ms: 0, onPass: () => passes.count++ });
    const { events, done } = collect(streamer);
    await feed(streamer, audio, 0.3, passes);
    const final = await streamer.finish();
    await done;
    const partials = assertGrowingPrefixes(events, final);
    assert.ok(partials.length >= 3, `only ${partials.length} partials`);
    assert.ok(partials[partials.length - 1].split(" ").length >= 5, "words were committed while audio streamed");
    const oneShot = await engine.transcribe(audio, { language: "en" });
    assert.equal(final, oneShot.text.split(/\s+/).join(" "));
    const last = events[events.length - 1];
    assert.equal(last.kind, "final");
    assert.equal(events.filter((e) => e.is_final).length, 1);
    if (last.kind === "final") {
      assert.equal(last.text, final);
      assert.equal(last.language, "en");
      assert.ok(Math.abs(last.audio_seconds - audio.length / 16000) < 1e-9);
      assert.equal(last.passes, passes.count);
      assert.ok(last.rtf > 0 && last.total_seconds > 0);
    }
  });

  it("with flush at the pause: prefix property holds and speech after the flush is transcribed with the prompt", async () => {
    const audio = speechWithPauses([2.6, 0.8, 2.6], 33);
    const passes = { count: 0 };
    const buffers: number[] = [];
    const streamer = engine.openStreamer({ language: "en", partial_interval_ms: 0, onPass: (p) => { passes.count++; buffers.push(p.buffer_seconds); } });
    const { events, done } = collect(streamer);
    await feed(streamer, audio, 0.3, passes, [3.3]);
    const final = await streamer.finish();
    await done;
    assertGrowingPrefixes(events, final);
    const before = (await engine.transcribe(audio.subarray(0, Math.round(3.3 * 16000)), { language: "en" })).text;
    assert.ok(final.startsWith(before), `flush committed the first part: '${before}' / '${final}'`);
    assert.ok(final.split(" ").length > before.split(" ").length + 2, `the second part added words: ${final}`);
    assert.ok(Math.max(...buffers.slice(-3)) < 3.5, `after the flush passes decode only the new audio (${buffers.join(", ")})`);
  });

  it("a turn longer than the 30 s window without flush: no pass reads more than 30 s, partials still only grow", async () => {
    const pattern: number[] = [];
    for (let i = 0; i < 9; i++) pattern.push(3.5 + (i % 3) * 0.5, 0.8);
    const audio = speechWithPauses(pattern, 5);
    const speechSeconds = pattern.filter((_, i) => i % 2 === 0).reduce((a, b) => a + b, 0);
    const passes = { count: 0 };
    const buffers: number[] = [];
    const streamer = engine.openStreamer({ language: "en", partial_interval_ms: 0, onPass: (p) => { passes.count++; buffers.push(p.buffer_seconds); } });
    const { events, done } = collect(streamer);
    await feed(streamer, audio, 1, passes);
    const final = await streamer.finish();
    await done;
    assertGrowingPrefixes(events, final);
    assert.ok(audio.length / 16000 > 40);
    assert.ok(Math.max(...buffers) <= 30, `largest pass ${Math.max(...buffers)} s`);
    assert.ok(buffers[buffers.length - 1] < 20, "the buffer was trimmed");
    // one word per 0.5 s of speech, give or take the words cut at the trim
    const words = final.split(" ").length;
    assert.ok(Math.abs(words - speechSeconds * 2) <= 4, `${words} words for ${speechSeconds} s of speech`);
  });

  it("language auto is detected and reported", async () => {
    const streamer = engine.openStreamer({ language: "auto", partial_interval_ms: 0 });
    const { events, done } = collect(streamer);
    streamer.send(synthSpeech(2, 5));
    await streamer.finish();
    await done;
    const last = events[events.length - 1];
    assert.ok(last.kind === "final" && engine.model.languageCodes().includes(last.language), JSON.stringify(last));
  });

  it("cancel gives exactly one cancelled event and no final", async () => {
    const passes = { count: 0 };
    const streamer = engine.openStreamer({ language: "en", partial_interval_ms: 0, onPass: () => passes.count++ });
    const { events, done } = collect(streamer);
    await feed(streamer, synthSpeech(2, 9), 0.5, passes);
    streamer.cancel();
    await done;
    assert.deepEqual(events.filter((e) => e.is_final).map((e) => e.kind), ["cancelled"]);
    assert.equal(events[events.length - 1].kind, "cancelled");
    assert.ok(!events.some((e) => e.kind === "final"));
  });

  it("an unknown language is a clear error", () => {
    assert.throws(() => engine.openStreamer({ language: "xx" }), /language 'xx' is not one this model knows/);
  });
});
