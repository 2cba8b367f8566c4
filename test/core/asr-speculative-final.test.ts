import { strict as assert } from "assert";
import { fixtureDir } from "../helpers/fixtures";
import { sharedDir } from "../helpers/paths";
import { loadAsr } from "../../src/core/asr/loader";
import { localLoadContext } from "../../src/core/registry";
import { readWavFile } from "../../src/core/audio";
import { WhisperStreamer, SILENCE_RMS, SPECULATION_TAIL_SECONDS, type PassInfo, type Transcriber } from "../../src/core/asr/streamer";
import { frameRms } from "../../src/core/asr/frame-rms";
import type { WhisperEngine } from "../../src/core/asr/engines/whisper/whisper-engine";
import type { AsrEvent } from "../../src/core/types";
import { concatSamples } from "./asr-audio";

const RATE = 16000;
const FRAME = 320; // 20 ms, as audio-in sends them
const CLIPS = ["hello_16k.wav", "weather_16k.wav", "count_16k.wav", "alexa_16k.wav", "hey_jarvis_16k.wav"];

/** A quiet room's tone (about −65 dBFS), as follows a question before the VAD calls the turn over. */
function roomTone(seconds: number, seed: number): Float32Array {
  const out = new Float32Array(Math.round(seconds * RATE));
  let s = seed >>> 0;
  for (let i = 0; i < out.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = ((s / 2 ** 32) * 2 - 1) * 0.001;
  }
  return out;
}

async function clip(name: string): Promise<Float32Array> {
  const wav = await readWavFile(sharedDir("audio", name));
  assert.equal(wav.sampleRate, RATE);
  return wav.samples;
}

const tick = () => new Promise((r) => setTimeout(r, 1));

interface Run {
  final: string;
  passes: PassInfo[];
  events: AsrEvent[];
}

/**
 * Feeds `audio` in 20 ms frames. `live`: the worker may run between frames (waiting out each
 * pass, as a fast machine keeps up); otherwise every frame and the finish go in at once.
 */
async function transcribe(model: Transcriber, audio: Float32Array, speculative: boolean, live: boolean, emit = false): Promise<Run> {
  const passes: PassInfo[] = [];
  let running = 0;
  const counting: Transcriber = {
    sampleRate: model.sampleRate,
    windowSeconds: model.windowSeconds,
    decode: async (a, o) => {
      running++;
      try {
        return await model.decode(a, o);
      } finally {
        running--;
      }
    },
  };
  // One partial (at 0.1 s) and then none: no committed words that depend on timing.
  const streamer = new WhisperStreamer(counting, { language: "en", partial_interval_ms: 60000, speculative_final: speculative, emit_speculative: emit, onPass: (p) => passes.push(p) });
  const events: AsrEvent[] = [];
  const done = new Promise<void>((resolve, reject) => streamer.partials$.subscribe({ next: (e) => events.push(e), complete: resolve, error: reject }));
  for (let at = 0; at < audio.length; at += FRAME) {
    streamer.send(audio.slice(at, at + FRAME));
    if (live) do await tick(); while (running > 0);
  }
  const final = await streamer.finish();
  await done;
  return { final, passes, events };
}

describe("asr: speculative final on tiny-whisper", function () {
  this.timeout(300000);
  let engine: WhisperEngine;
  before(async () => {
    engine = (await loadAsr(localLoadContext("asr", { enginesPath: await fixtureDir("tiny-whisper") }))) as WhisperEngine;
  });
  after(() => engine?.dispose());

  it("the kept speculation is exactly the final a decode at finish gives, and the final matches the lever off, over several clips", async () => {
    for (const [i, name] of CLIPS.entries()) {
      const audio = concatSamples([await clip(name), roomTone(0.7, i + 1)]);
      const off = await transcribe(engine.model, audio, false, true);
      const kept = await transcribe(engine.model, audio, true, true);
      const atFinish = await transcribe(engine.model, audio, true, false);
      // The live run decoded its final while the room tone came in, and finish() decoded nothing.
      assert.ok(kept.passes.some((p) => p.kind === "speculative"), `${name}: no speculative pass`);
      assert.ok(!kept.passes.some((p) => p.kind === "final"), `${name}: finish decoded again`);
      const spec = kept.passes.find((p) => p.kind === "speculative")!;
      assert.ok(spec.buffer_seconds < audio.length / RATE - 0.4, `${name}: the speculation read the room tone (${spec.buffer_seconds} s)`);
      // Fed all at once there is no time to speculate: finish decodes the same audio itself.
      assert.ok(!atFinish.passes.some((p) => p.kind === "speculative"), `${name}: speculated without time to`);
      assert.equal(atFinish.passes.filter((p) => p.kind === "final").length, 1);
      assert.equal(kept.final, atFinish.final, `${name}: the kept speculation differs from a decode at finish`);
      assert.equal(kept.final, off.final, `${name}: the final differs with the lever on`);
      for (const run of [off, kept, atFinish]) assert.equal(run.events.filter((e) => e.is_final).length, 1, `${name}: one final`);
    }
  });

  it("speech after the speculative start discards the speculation: the final covers the speech after it", async () => {
    const first = await clip("hello_16k.wav");
    const audio = concatSamples([first, roomTone(0.5, 7), await clip("count_16k.wav")]);
    const run = await transcribe(engine.model, audio, true, true);
    const speculative = run.passes.filter((p) => p.kind === "speculative");
    assert.ok(speculative.length >= 1, "no speculation in the pause");
    assert.ok(speculative[0].buffer_seconds < first.length / RATE + SPECULATION_TAIL_SECONDS + 0.05, `the first speculation read past the pause (${speculative[0].buffer_seconds} s)`);
    // The second clip's words reached the final: it read past the pause (a later speculation, kept in
    // the clip's own quiet end, or a decode at finish).
    const last = run.passes.filter((p) => p.kind === "speculative" || p.kind === "final").pop()!;
    assert.ok(last.buffer_seconds > first.length / RATE + 0.5, `the final came from audio before the second clip (${last.buffer_seconds} s)`);
    const reference = await transcribe(engine.model, audio, true, false);
    assert.equal(run.final, reference.final);
    assert.equal(run.events.filter((e) => e.is_final).length, 1);
  });

  it("emit_speculative sends the speculation's text before the turn ends, and the final that keeps it names it and says the same", async () => {
    let spoken = 0;
    for (const [i, name] of CLIPS.entries()) {
      const audio = concatSamples([await clip(name), roomTone(0.7, i + 1)]);
      const quiet = await transcribe(engine.model, audio, true, true);
      assert.ok(!quiet.events.some((e) => e.kind === "speculative"), `${name}: a speculative event without emit_speculative`);
      const run = await transcribe(engine.model, audio, true, true, true);
      const speculative = run.events.filter((e) => e.kind === "speculative");
      const final = run.events.find((e) => e.kind === "final");
      assert.ok(final && final.kind === "final");
      if (final.text === "") {
        // A clip the tiny model hears as nothing: no speculative event for an empty turn.
        assert.equal(speculative.length, 0, `${name}: a speculative event for an empty turn`);
        continue;
      }
      spoken++;
      assert.ok(speculative.length >= 1, `${name}: no speculative event`);
      const last = speculative[speculative.length - 1];
      assert.ok(last.kind === "speculative");
      assert.deepEqual(speculative.map((e) => (e.kind === "speculative" ? e.speculation : 0)), speculative.map((_, k) => k + 1), `${name}: numbers`);
      assert.ok(run.events.indexOf(last) < run.events.indexOf(final), `${name}: the speculative event came after the final`);
      assert.equal(final.speculation, last.speculation, `${name}: the final does not name the speculation it kept`);
      assert.equal(last.text, final.text, `${name}: the speculative text differs from the final that kept it`);
      assert.equal(last.language, final.language);
      assert.equal(final.text, quiet.final, `${name}: emitting the speculation changed the final`);
    }
    assert.ok(spoken >= 3, `only ${spoken} clips gave text`);
  });

  it("emit_speculative without speculative_final is a clear error, not silence", () => {
    assert.throws(() => new WhisperStreamer(engine.model, { speculative_final: false, emit_speculative: true }), /emit_speculative .* needs speculative_final on/);
  });

  it("emit_speculative: speech after a speculation makes a later one (or a fresh final), and the final never names the replaced one", async () => {
    const first = await clip("hello_16k.wav");
    const audio = concatSamples([first, roomTone(0.5, 7), await clip("count_16k.wav")]);
    const run = await transcribe(engine.model, audio, true, true, true);
    const speculative = run.events.filter((e) => e.kind === "speculative");
    const final = run.events.find((e) => e.kind === "final");
    assert.ok(final && final.kind === "final");
    assert.ok(speculative.length >= 1, "no speculative event in the pause");
    const firstEvent = speculative[0];
    assert.ok(firstEvent.kind === "speculative" && firstEvent.speculation === 1);
    assert.notEqual(final.speculation, 1, "the final names the speculation that speech replaced");
    assert.notEqual(final.text, firstEvent.text, "the final kept the text from before the second clip");
    if (final.speculation !== undefined) {
      const named = speculative.find((e) => e.kind === "speculative" && e.speculation === final.speculation);
      assert.equal(named?.text, final.text);
    }
    const reference = await transcribe(engine.model, audio, true, false);
    assert.equal(final.text, reference.final);
  });

  it("a partial in flight when the speculation's audio is in is aborted, and the speculation starts at once; none starts in the tail", async () => {
    const audio = concatSamples([await clip("weather_16k.wav"), roomTone(1.0, 5)]);
    const model = engine.model;
    // The end of the last frame the streamer counts as loud (as it does: 20 ms frames from the start).
    let loudEnd = 0;
    for (let at = 0; at < audio.length; at += FRAME) if (frameRms(audio.subarray(at, at + FRAME)) >= SILENCE_RMS) loudEnd = Math.min(audio.length, at + FRAME);
    let fed = 0;
    const calls: { fedAtStart: number; length: number; aborted: boolean }[] = [];
    // A pass that starts in the last 0.6 s of speech takes 3 s (a slow machine's partial, still
    // running when the speech ends and its tail is in), abortable as the real decode is between steps.
    const slow: Transcriber = {
      sampleRate: model.sampleRate,
      windowSeconds: model.windowSeconds,
      decode: async (a, o) => {
        const call = { fedAtStart: fed, length: a.length, aborted: false };
        calls.push(call);
        const lingers = fed > loudEnd - 0.6 * RATE && fed <= loudEnd;
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(resolve, lingers ? 3000 : 0);
          o.signal?.addEventListener("abort", () => {
            clearTimeout(timer);
            call.aborted = true;
            reject(new Error("the decode was aborted"));
          }, { once: true });
        });
        return model.decode(a, o);
      },
    };
    const passes: PassInfo[] = [];
    const streamer = new WhisperStreamer(slow, { language: "en", partial_interval_ms: 0, speculative_final: true, onPass: (p) => passes.push(p) });
    const events: AsrEvent[] = [];
    const done = new Promise<void>((resolve, reject) => streamer.partials$.subscribe({ next: (e) => events.push(e), complete: resolve, error: reject }));
    for (let at = 0; at < audio.length; at += FRAME) {
      streamer.send(audio.slice(at, at + FRAME));
      fed = Math.min(audio.length, at + FRAME);
      await new Promise((r) => setTimeout(r, 20)); // a microphone's pace
    }
    const final = await streamer.finish();
    await done;
    const spec = passes.find((p) => p.kind === "speculative");
    assert.ok(spec, "no speculative pass");
    assert.ok(!passes.some((p) => p.kind === "final"), "finish decoded again");
    const specCall = calls.find((c) => c.length === Math.round(spec.buffer_seconds * RATE) && !c.aborted);
    assert.ok(specCall, "the speculative decode was not found");
    // It started within a few frames of its audio (the tail after the last loud frame) being in.
    assert.ok(specCall.fedAtStart - specCall.length <= 3 * FRAME, `the speculation started ${(specCall.fedAtStart - specCall.length) / RATE} s after its audio was in`);
    const before = calls.slice(0, calls.indexOf(specCall));
    assert.ok(before.some((c) => c.aborted), "no partial was in flight and aborted (the test did not exercise the abort)");
    assert.ok(passes.filter((p) => p.kind === "partial").length >= 2, "the partials stopped");
    const reference = await transcribe(engine.model, audio, true, false);
    assert.equal(final, reference.final);
    assert.equal(events.filter((e) => e.is_final).length, 1);
  });

  it("cancel during the speculative decode aborts it: no pass completes after, nothing keeps running, one cancelled chunk", async () => {
    const speech = await clip("weather_16k.wav");
    const audio = concatSamples([speech, roomTone(0.7, 3)]);
    const calls: { settled: Promise<string> }[] = [];
    const model = engine.model;
    const watched: Transcriber = {
      sampleRate: model.sampleRate,
      windowSeconds: model.windowSeconds,
      decode: (a, o) => {
        const result = model.decode(a, o);
        calls.push({ settled: result.then(() => "done", (err: Error) => err.message) });
        return result;
      },
    };
    const passes: PassInfo[] = [];
    // Partials only far apart, so the worker is idle when the tail completes and speculates at once.
    const streamer = new WhisperStreamer(watched, { language: "en", partial_interval_ms: 60000, speculative_final: true, onPass: (p) => passes.push(p) });
    const events: AsrEvent[] = [];
    streamer.partials$.subscribe({ next: (e) => events.push(e) });
    let cancelledAt = -1;
    for (let at = 0; at < audio.length && cancelledAt < 0; at += FRAME) {
      streamer.send(audio.slice(at, at + FRAME));
      // The first partial runs at once and the next not for a minute: a second decode is the speculation.
      if (calls.length === 2) {
        streamer.cancel();
        cancelledAt = passes.length;
      } else {
        await Promise.all(calls.map((c) => c.settled));
      }
    }
    assert.ok(cancelledAt >= 0, "the speculative decode never started");
    const outcome = await calls[1].settled;
    assert.match(outcome, /aborted/, "the speculative decode ran to its end after cancel");
    await new Promise((r) => setTimeout(r, 300));
    const outcomes = await Promise.all(calls.map((c) => c.settled));
    assert.equal(outcomes.length, calls.length, "a decode started after cancel");
    assert.equal(passes.length, cancelledAt, "a pass completed after cancel");
    assert.deepEqual(events.filter((e) => e.is_final).map((e) => e.kind), ["cancelled"]);
    assert.equal(await streamer.finish(), streamer.text);
  });
});
