import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { from } from "rxjs";
import { readWavFile } from "../../src/core/audio/wav";
import { resample } from "../../src/core/audio/resample";
import { espeakSpeak } from "../../src/core/tts/espeak";
import { openNamedModel } from "../../src/core/open-model";
import { framesOf } from "../../src/cli/commands/wake";
import type { WakeDetection } from "../../src/core/wake/engine";
import type { OpenWakeWordEngine } from "../../src/core/wake/engines/openwakeword/engine";
import { trainWakeVerifier } from "../../src/core/wake/engines/openwakeword/verifier-trainer";
import { parseVerifier, readVerifierFile, VERIFIER_FORMAT, WakeVerifier, writeVerifierFile, type VerifierFile } from "../../src/core/wake/verifier";
import { seededRandom, trainLogistic } from "../../src/core/wake/verifier-training";
import { sharedDir } from "../helpers/paths";
import { WyomingWakeEngine } from "../../src/core/wake/engines/wyoming/wyoming-wake-engine";
import { parseWyomingUrl } from "../../src/core/wyoming/client";
import type { DescribedService } from "../../src/core/wyoming/info";
import { needTool } from "../helpers/system-tools";
import { verifierClipFolders } from "../helpers/wake-verifier-clips";
import { wakeModelFolder } from "../helpers/wake-models";

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "wake-verifier-"));

/** Two clouds of points in `d` dimensions, apart along every axis. */
function clouds(d: number, n: number, seed: number): { pos: Float32Array[]; neg: Float32Array[] } {
  const r = seededRandom(seed);
  const point = (centre: number) => Float32Array.from({ length: d }, () => centre + (r() - 0.5) * 2);
  return { pos: Array.from({ length: n }, () => point(0.6)), neg: Array.from({ length: 3 * n }, () => point(-0.6)) };
}

/** A verifier file for `head` with window 16, every weight `w`. */
function fileFor(head: string, features: VerifierFile["feature_models"], w = 0): VerifierFile {
  const size = 16 * 96;
  return { format: VERIFIER_FORMAT, version: 1, head, window: 16, feature_models: features, mean: new Array(size).fill(0), scale: new Array(size).fill(1), weights: new Array(size).fill(w), bias: 0, threshold: 0.5 };
}

/** espeak speech at 16 kHz, 130 words per minute, with silence around it. */
async function spoken(text: string, voice: string): Promise<Float32Array> {
  const a = await espeakSpeak(text, voice, { rate: 130 });
  const s = resample(a.audio, a.sampleRate, 16000);
  const out = new Float32Array(s.length + 24000);
  out.set(s, 8000);
  return out;
}

async function clip(name: string): Promise<Float32Array> {
  return (await readWavFile(sharedDir("audio", `${name}.wav`))).samples;
}

function detections(engine: OpenWakeWordEngine, samples: Float32Array, options = {}): Promise<WakeDetection[]> {
  return new Promise((resolve, reject) => {
    const out: WakeDetection[] = [];
    engine.detect(from(framesOf(samples)), options).subscribe({ next: (d) => out.push(d), error: reject, complete: () => resolve(out) });
  });
}

describe("wake verifier: training and its file", () => {
  it("training is deterministic, seeded, and separates what it was given", () => {
    const { pos, neg } = clouds(16 * 96, 30, 7);
    const a = trainLogistic(pos, neg, { seed: 3, epochs: 100 });
    const b = trainLogistic(pos, neg, { seed: 3, epochs: 100 });
    assert.deepEqual(a, b);
    const c = trainLogistic(pos, neg, { seed: 4, epochs: 100 });
    assert.notDeepEqual(a.weights, c.weights);
    const v = new WakeVerifier({ ...fileFor("x", { melspectrogram: "m", embedding_model: "e" }), mean: a.mean, scale: a.scale, weights: a.weights, bias: a.bias });
    const test = clouds(16 * 96, 20, 99);
    assert.ok(test.pos.every((x) => v.accepts(x)), "held-out positives accepted");
    assert.ok(test.neg.every((x) => !v.accepts(x)), "held-out negatives rejected");
  });

  it("a Wyoming wake service refuses verifiers with a clear error (it never sends the embeddings)", async () => {
    const engine = new WyomingWakeEngine(parseWyomingUrl("wyoming://127.0.0.1:9"), { wake: [] } as unknown as DescribedService, {});
    const verifier = new WakeVerifier(fileFor("hey_jarvis_v0.1", { melspectrogram: "m", embedding_model: "e" }), "v.json");
    await assert.rejects(detections(engine as unknown as OpenWakeWordEngine, new Float32Array(1280), { verifiers: [verifier] }), /only with a local openWakeWord model, not the Wyoming service wyoming:\/\/127\.0\.0\.1:9/);
  });

  it("empty or mismatched training data is a clear error", () => {
    assert.throws(() => trainLogistic([], [new Float32Array(3)]), /at least one positive/);
    assert.throws(() => trainLogistic([new Float32Array(3)], []), /at least one negative/);
    assert.throws(() => trainLogistic([new Float32Array(3)], [new Float32Array(4)]), /differ in size/);
  });

  it("a file round trip gives the same verifier", () => {
    const { pos, neg } = clouds(16 * 96, 10, 1);
    const m = trainLogistic(pos, neg, { epochs: 20 });
    const v = new WakeVerifier({ ...fileFor("hey_jarvis_v0.1", { melspectrogram: "a".repeat(64), embedding_model: "b".repeat(64) }), mean: m.mean, scale: m.scale, weights: m.weights, bias: m.bias });
    const file = path.join(tmp(), "v.json");
    writeVerifierFile(file, v);
    const back = readVerifierFile(file);
    assert.deepEqual(back.spec, v.spec);
    for (const x of [...pos.slice(0, 3), ...neg.slice(0, 3)]) assert.equal(back.probability(x), v.probability(x));
  });

  it("a missing, unreadable or malformed file is a clear error naming it", () => {
    const dir = tmp();
    const missing = path.join(dir, "nope.json");
    assert.throws(() => readVerifierFile(missing), (e: Error) => e.message.includes(missing) && /does not exist/.test(e.message));
    assert.throws(() => readVerifierFile(dir), /is a folder/);
    const bad = path.join(dir, "bad.json");
    fs.writeFileSync(bad, "{ not json");
    assert.throws(() => readVerifierFile(bad), (e: Error) => e.message.includes(bad) && /not valid JSON/.test(e.message));
    const good = fileFor("h", { melspectrogram: "m", embedding_model: "e" });
    assert.throws(() => parseVerifier([], "f.json"), /not a JSON object/);
    assert.throws(() => parseVerifier({ ...good, format: "other" }, "f.json"), /"format"/);
    assert.throws(() => parseVerifier({ ...good, version: 9 }, "f.json"), /version 9/);
    assert.throws(() => parseVerifier({ ...good, weights: [1, 2] }, "f.json"), /"weights" must be 1536/);
    assert.throws(() => parseVerifier({ ...good, scale: new Array(1536).fill(0) }, "f.json"), /"scale" must be positive/);
    assert.throws(() => parseVerifier({ ...good, threshold: 1.5 }, "f.json"), /"threshold"/);
    assert.throws(() => parseVerifier({ ...good, feature_models: undefined }, "f.json"), /"feature_models"/);
    assert.ok(parseVerifier(good, "f.json") instanceof WakeVerifier);
  });
});

describe("wake verifier: with the openWakeWord engine", function () {
  this.timeout(300000);
  let opened: Awaited<ReturnType<typeof openNamedModel<OpenWakeWordEngine>>>;
  let engine: OpenWakeWordEngine;

  before(async () => {
    opened = await openNamedModel<OpenWakeWordEngine>("wake", wakeModelFolder(["hey_jarvis_v0.1", "alexa_v0.1"]));
    engine = opened.engine;
  });
  after(async () => opened?.close());

  it("a verifier for another wake word, head window or feature models is refused with a clear error", async () => {
    const features = engine.featureIdentity;
    assert.match(features.embedding_model, /^[0-9a-f]{64}$/);
    const other = new WakeVerifier(fileFor("hey_mycroft_v0.1", features), "mycroft.json");
    assert.throws(() => engine.checkVerifier(other), /made for the wake word 'hey_mycroft_v0.1', which this model does not have/);
    const otherFeatures = new WakeVerifier(fileFor("hey_jarvis_v0.1", { ...features, embedding_model: "0".repeat(64) }), "old.json");
    assert.throws(() => engine.checkVerifier(otherFeatures), /other feature models \(embedding_model\.onnx/);
    const window = new WakeVerifier({ ...fileFor("hey_jarvis_v0.1", features), window: 22, mean: new Array(22 * 96).fill(0), scale: new Array(22 * 96).fill(1), weights: new Array(22 * 96).fill(0) }, "w.json");
    assert.throws(() => engine.checkVerifier(window), /window of 22 embeddings/);
    await assert.rejects(detections(engine, await clip("hey_jarvis_16k"), { verifiers: [otherFeatures] }), /other feature models/);
  });

  it("the voice-model's config.verifiers: a file per wake word, checked against the head it is given for", async () => {
    const folder = wakeModelFolder(["hey_jarvis_v0.1"]);
    const file = path.join(folder, "jarvis.verifier.json");
    // bias -20: rejects everything, so the head's detection on hey_jarvis_16k disappears
    fs.writeFileSync(file, JSON.stringify({ ...fileFor("hey_jarvis_v0.1", engine.featureIdentity), bias: -20 }));
    const withIt = await openNamedModel<OpenWakeWordEngine>("wake", folder, { config: { verifiers: { "hey_jarvis_v0.1": "jarvis.verifier.json" } } });
    try {
      assert.equal((await detections(withIt.engine, await clip("hey_jarvis_16k"))).length, 0);
      assert.equal((await detections(engine, await clip("hey_jarvis_16k"), { names: ["hey_jarvis_v0.1"] })).length, 1, "without it the head wakes");
    } finally {
      await withIt.close();
    }
    await assert.rejects(openNamedModel("wake", folder, { config: { verifiers: { "alexa_v0.1": file } } }), /given for 'alexa_v0.1' in config.verifiers, but it was made for the wake word 'hey_jarvis_v0.1'/);
    await assert.rejects(openNamedModel("wake", folder, { config: { verifiers: { "hey_jarvis_v0.1": "missing.json" } } }), /missing.json does not exist/);
  });

  it("trained at test time from espeak speech: keeps hey_jarvis_16k and new 'Hey Jarvis', drops a confusable the head wakes on", async function () {
    needTool(this, "espeak-ng");
    const folders = await verifierClipFolders();
    const load = async (dir: string) => Promise.all(fs.readdirSync(dir).sort().map(async (f) => ({ label: f, samples: (await readWavFile(path.join(dir, f))).samples })));
    const positives = await load(folders.positive);
    const negatives = await load(folders.negative);
    const a = await trainWakeVerifier(engine, "hey_jarvis_v0.1", positives, negatives, { seed: 5 });
    const b = await trainWakeVerifier(engine, "hey_jarvis_v0.1", positives, negatives, { seed: 5 });
    assert.deepEqual(a.verifier.spec, b.verifier.spec, "same clips, same seed: same file");
    assert.equal(a.verifier.head, "hey_jarvis_v0.1");
    assert.deepEqual(a.verifier.spec.feature_models, engine.featureIdentity);
    const jarvisOnly = { names: ["hey_jarvis_v0.1"] };
    const verified = { ...jarvisOnly, verifiers: [a.verifier] };
    const jarvis = await detections(engine, await clip("hey_jarvis_16k"), verified);
    assert.equal(jarvis.length, 1, JSON.stringify(jarvis));
    assert.equal(jarvis[0].name, "hey_jarvis_v0.1");
    for (const name of ["alexa_16k", "count_16k", "neg_16k", "weather_16k"]) assert.deepEqual(await detections(engine, await clip(name), verified), [], name);
    // Not reached: hello_16k still wakes it. The head scores it 0.77-0.96 (as openWakeWord's own
    // pipeline does) and a verifier trained on espeak speech, greetings included, accepts its
    // window too (the bench's larger verifier as well: bench/RESULTS.md, Hands-free).
    assert.equal((await detections(engine, await clip("hello_16k"), verified)).length, 1);
    // Speech in voices the verifier never heard: every "Hey Jarvis" kept, fewer confusables woken.
    let heads = 0;
    let kept = 0;
    for (const voice of ["en-gb-x-rp", "en-gb+f3"]) {
      for (const text of ["Hey Jasmine, where are you?", "Jarvie, come and look at this.", "Call Jasmine tomorrow."]) {
        const s = await spoken(text, voice);
        heads += (await detections(engine, s, jarvisOnly)).length;
        kept += (await detections(engine, s, verified)).length;
      }
      assert.equal((await detections(engine, await spoken("Hey Jarvis, turn on the light.", voice), verified)).length, 1, voice);
    }
    assert.ok(heads >= 1, "the head wakes on a confusable");
    assert.ok(kept < heads, `the verifier lets through ${kept} of the head's ${heads} false wakes`);
  });
});
