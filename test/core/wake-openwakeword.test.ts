import { strict as assert } from "assert";
import { from, Subject } from "rxjs";
import { readWavFile } from "../../src/core/audio/wav";
import { resample } from "../../src/core/audio/resample";
import { espeakSpeak } from "../../src/core/tts/espeak";
import { openNamedModel } from "../../src/core/open-model";
import type { OpenWakeWordEngine } from "../../src/core/wake/engines/openwakeword/engine";
import { framesOf } from "../../src/cli/commands/wake";
import type { WakeDetection } from "../../src/core/wake/engine";
import { DetectionGate } from "../../src/core/wake/detection-gate";
import { sharedDir } from "../helpers/paths";
import { wakeModelFolder, wakeModelsDir } from "../helpers/wake-models";

/** A wake model from a folder, opened as the CLI opens it. */
const openWakeModel = (folder: string) => openNamedModel<OpenWakeWordEngine>("wake", folder);

const CLIPS = ["hey_jarvis_16k", "alexa_16k", "count_16k", "hello_16k", "neg_16k", "weather_16k"];

async function clip(name: string): Promise<Float32Array> {
  return (await readWavFile(sharedDir("audio", `${name}.wav`))).samples;
}

async function maxScores(engine: OpenWakeWordEngine, samples: Float32Array): Promise<Record<string, number>> {
  const scorer = engine.scorer();
  const best: Record<string, number> = {};
  for (const frame of framesOf(samples)) {
    for (const step of await scorer.push(frame)) for (const [k, v] of Object.entries(step.scores)) best[k] = Math.max(best[k] ?? 0, v);
  }
  return best;
}

function detections(engine: OpenWakeWordEngine, samples: Float32Array, options = {}): Promise<WakeDetection[]> {
  return new Promise((resolve, reject) => {
    const out: WakeDetection[] = [];
    engine.detect(from(framesOf(samples)), options).subscribe({ next: (d) => out.push(d), error: reject, complete: () => resolve(out) });
  });
}

/** espeak speech at 16 kHz with `lead` / `tail` seconds of silence. */
async function spoken(text: string, voice = "en-us", lead = 0.5, tail = 1.5): Promise<Float32Array> {
  const a = await espeakSpeak(text, voice);
  const s = resample(a.audio, a.sampleRate, 16000);
  const out = new Float32Array(s.length + Math.round((lead + tail) * 16000));
  out.set(s, Math.round(lead * 16000));
  return out;
}

describe("wake: openWakeWord engine on real speech", function () {
  this.timeout(120000);
  let jarvis: Awaited<ReturnType<typeof openWakeModel>>;
  let all: Awaited<ReturnType<typeof openWakeModel>>;

  before(async () => {
    jarvis = await openWakeModel(wakeModelFolder(["hey_jarvis_v0.1"]));
    all = await openWakeModel(wakeModelsDir());
  });
  after(async () => {
    await jarvis?.close();
    await all?.close();
  });

  it("reads each head's window and outputs from its shapes; names are file names (labels for multi-output heads)", () => {
    const heads = Object.fromEntries(all.engine.heads.map((h) => [h.name, h]));
    assert.equal(heads["hey_jarvis_v0.1"].window, 16);
    assert.equal(heads["weather_v0.1"].window, 22);
    assert.equal(heads["timer_v0.1"].window, 34);
    assert.deepEqual(heads["hey_jarvis_v0.1"].outputs, [{ index: 0, name: "hey_jarvis_v0.1" }]);
    // 7 outputs, index 0 the background class: six wake words named by the head's own label map
    assert.deepEqual(heads["timer_v0.1"].outputs.map((o) => o.index), [1, 2, 3, 4, 5, 6]);
    assert.ok(all.engine.names.includes("5_minute_timer") && all.engine.names.includes("alexa_v0.1"));
    assert.ok(!all.engine.names.some((n) => /melspectrogram|embedding|silero/.test(n)), all.engine.names.join(","));
  });

  it("hey_jarvis scores ≥ 0.9 on hey_jarvis_16k and < 0.5 on the clips without it, except a lone spike on hello_16k", async () => {
    const scores: Record<string, number> = {};
    for (const name of CLIPS) scores[name] = (await maxScores(jarvis.engine, await clip(name)))["hey_jarvis_v0.1"];
    assert.ok(scores.hey_jarvis_16k >= 0.9, JSON.stringify(scores));
    for (const name of ["alexa_16k", "count_16k", "neg_16k", "weather_16k"]) assert.ok(scores[name] < 0.5, `${name}: ${scores[name]}`);
    // hello_16k reaches 0.85 (0.77 and 0.85, four steps apart), and openWakeWord itself scores
    // it the same (wake-openwakeword-reference.test.ts): the figure is the head's, not our
    // pipeline's. The head hears "hey jarvis" in that espeak "hello, how are you" (next test).
    assert.ok(scores.hello_16k < 0.9, `hello_16k: ${scores.hello_16k}`);
  });

  it("detects hey_jarvis once on hey_jarvis_16k and never on the other clips but hello_16k, the head's false accept (default threshold and patience)", async () => {
    for (const name of CLIPS) {
      const found = await detections(jarvis.engine, await clip(name));
      if (name === "hello_16k") {
        // openWakeWord's pipeline scores it ≥ 0.5 too, and at most offsets on the 80 ms grid for
        // two steps in a row as well: no patience setting tells it from the real wake word.
        assert.equal(found.length, 1, JSON.stringify(found));
      } else if (name === "hey_jarvis_16k") {
        assert.equal(found.length, 1, JSON.stringify(found));
        assert.equal(found[0].name, "hey_jarvis_v0.1");
        assert.ok(found[0].score >= 0.5 && found[0].audio_seconds > 1.5 && found[0].audio_seconds < 2.6, JSON.stringify(found[0]));
      } else {
        assert.deepEqual(found, [], name);
      }
    }
  });

  it("a head with a longer window (22) and a head with several outputs (34 × 7) hear their words", async () => {
    const weather = await maxScores(all.engine, await clip("weather_16k"));
    assert.ok(weather["weather_v0.1"] >= 0.9, JSON.stringify(weather));
    const timer = await detections(all.engine, await spoken("Set a five minute timer"), { names: ["1_minute_timer", "5_minute_timer", "10_minute_timer", "1_hour_timer"] });
    assert.deepEqual(timer.map((d) => d.name), ["5_minute_timer"]);
    const neg = await maxScores(all.engine, await clip("neg_16k"));
    for (const name of all.engine.names) assert.ok(neg[name] < 0.5, `${name} on neg_16k: ${neg[name]}`);
  });

  it("refractory time: one detection per utterance; two utterances far apart give two", async () => {
    const one = await spoken("Hey Jarvis", "en-us", 0.5, 0.5);
    const twice = new Float32Array(one.length * 2 + 3 * 16000);
    twice.set(one, 0);
    twice.set(one, one.length + 3 * 16000);
    const found = await detections(jarvis.engine, twice);
    assert.equal(found.length, 2, JSON.stringify(found));
    assert.ok(found[1].audio_seconds - found[0].audio_seconds > 3);
    const held = await detections(jarvis.engine, twice, { refractory_ms: 10000 });
    assert.equal(held.length, 1);
  });

  it("hears the wake word right after other speech wherever it falls on the 80 ms grid", async () => {
    // A second wake word in a live stream (a barge-in) falls on the 80 ms step grid by chance;
    // after count_16k, hey_jarvis_16k's score dips under 0.5 between two high steps at some
    // offsets (0.82, three steps near 0, 0.93), which two steps in a row (the old default) missed.
    const count = await clip("count_16k");
    const word = await clip("hey_jarvis_16k");
    const missed: number[] = [];
    for (let offset = 0; offset < 1280; offset += 80) {
      const gap = new Float32Array(8000 + offset);
      const stream = new Float32Array(count.length + gap.length + word.length + 16000);
      stream.set(count);
      stream.set(word, count.length + gap.length);
      const found = await detections(jarvis.engine, stream);
      if (found.length !== 1) missed.push(offset);
    }
    assert.deepEqual(missed, [], "grid offsets (samples) where hey_jarvis was not detected exactly once");
  });

  it("detect() is cold and stops on unsubscribe", async () => {
    const frames = new Subject<Float32Array>();
    const stream = jarvis.engine.detect(frames);
    assert.equal(frames.observed, false);
    const sub = stream.subscribe();
    assert.equal(frames.observed, true);
    sub.unsubscribe();
    assert.equal(frames.observed, false);
  });

  it("bad settings are clear errors", async () => {
    await assert.rejects(detections(jarvis.engine, new Float32Array(1280), { threshold: 2 }), /threshold .* between 0 and 1/);
    await assert.rejects(detections(jarvis.engine, new Float32Array(1280), { patience: 0 }), /patience/);
    await assert.rejects(detections(jarvis.engine, new Float32Array(1280), { names: ["nope"] }), /no wake word named nope/);
    await assert.rejects(openWakeModel(wakeModelFolder([])), /holds no wake word head/);
  });
});

describe("wake: detection gate", () => {
  it("needs `patience` steps in a row and keeps quiet for the refractory time", () => {
    const gate = new DetectionGate({ threshold: 0.5, patience: 2, refractory_ms: 1000 });
    const hits = [0.9, 0.1, 0.9, 0.9, 0.9, 0.9, 0.1].map((s, i) => gate.step(s, i * 0.08));
    assert.deepEqual(hits, [false, false, false, true, false, false, false]);
    assert.equal(gate.step(0.9, 2), false); // run restarts after a detection
    assert.equal(gate.step(0.9, 2.08), true); // past the refractory time
  });
});
