import { strict as assert } from "assert";
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { readWavFile } from "../../src/core/audio/wav";
import { repoRoot, sharedDir } from "../helpers/paths";
import { wakeModelFolder } from "../helpers/wake-models";
import { needTool } from "../helpers/system-tools";
import { verifierClipFolders } from "../helpers/wake-verifier-clips";
import { openNamedModel } from "../../src/core/open-model";
import type { OpenWakeWordEngine } from "../../src/core/wake/engines/openwakeword/engine";
import { trainWakeVerifier } from "../../src/core/wake/engines/openwakeword/verifier-trainer";
import { VERIFIER_FORMAT, writeVerifierFile } from "../../src/core/wake/verifier";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const helper = require("node-red-node-test-helper");
helper.init(require.resolve("node-red"));
const NODES = path.join(repoRoot(), "dist", "src", "nodes");
const node = (name: string) => require(path.join(NODES, `${name}.js`)); // eslint-disable-line @typescript-eslint/no-require-imports
// eslint-disable-next-line @typescript-eslint/no-require-imports
const catchNode = require("@node-red/nodes/core/common/25-catch.js");

type Msg = Record<string, unknown>;

async function framesOf(name: string, leadSeconds: number, tailSeconds: number): Promise<Float32Array[]> {
  const speech = (await readWavFile(sharedDir("audio", `${name}.wav`))).samples;
  const audio = new Float32Array(Math.round((leadSeconds + tailSeconds) * 16000) + speech.length);
  audio.set(speech, Math.round(leadSeconds * 16000));
  const frames: Float32Array[] = [];
  for (let at = 0; at < audio.length; at += 320) frames.push(audio.slice(at, at + 320));
  return frames;
}

async function until(check: () => boolean, what: string, ms = 60000) {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("vad and wake-word nodes", function () {
  this.timeout(120000);
  afterEach(() => helper.unload());

  async function load(flow: Msg[], helpers: string[]) {
    await helper.load([node("voice-model"), node("vad"), node("wake-word"), catchNode], [
      { id: "tab", type: "tab" },
      ...flow.map((n) => ({ z: "tab", ...n })),
      ...helpers.map((id) => ({ id, type: "helper", z: "tab" })),
      { id: "c", type: "catch", z: "tab", scope: null, wires: [["caught"]] },
      { id: "caught", type: "helper", z: "tab" },
    ]);
    const seen: Record<string, Msg[]> = {};
    for (const id of [...helpers, "caught"]) {
      seen[id] = [];
      helper.getNode(id).on("input", (m: Msg) => seen[id].push(m));
    }
    return seen;
  }

  it("vad: speech-start then speech-end on count_16k; 'only speech' passes the padded speech frames in order", async () => {
    const seen = await load([{ id: "v", type: "vad", pass: "speech", minSilenceMs: "500", padMs: "200", wires: [["frames"], ["events"]] }], ["frames", "events"]);
    const frames = await framesOf("count_16k", 1, 1.5);
    const v = helper.getNode("v");
    frames.forEach((payload, i) => v.receive({ payload, sample_rate: 16000, index: i }));
    v.receive({ is_final: true });
    await until(() => seen.events.length >= 2 && seen.frames.some((m) => m.is_final === true), "the events");
    assert.deepEqual(seen.caught, []);
    const [start, end] = seen.events;
    assert.equal(start.kind, "speech-start");
    assert.equal(end.kind, "speech-end");
    assert.equal(start.stream_id, "default");
    assert.ok((start.audio_seconds as number) > 0.6 && (start.audio_seconds as number) < 1.3, `start ${start.audio_seconds}`);
    assert.ok((end.audio_seconds as number) > 2.5 && (end.audio_seconds as number) < 3.7, `end ${end.audio_seconds}`);
    assert.ok(Math.abs((end.speech_seconds as number) - ((end.audio_seconds as number) - (start.audio_seconds as number))) < 0.01);
    const passed = seen.frames.filter((m) => m.index !== undefined).map((m) => m.index as number);
    for (let i = 1; i < passed.length; i++) assert.equal(passed[i], passed[i - 1] + 1, "frames in order, none dropped in between");
    // The first passed frame covers the padded start; the last one the end.
    assert.ok(Math.abs((passed[0] * 320) / 16000 - (start.audio_seconds as number)) <= 0.04, `first frame at ${(passed[0] * 320) / 16000}`);
    assert.ok(((passed[passed.length - 1] + 1) * 320) / 16000 >= (end.audio_seconds as number) - 0.04);
    assert.ok(passed.length < frames.length - 50, "silence was not passed");
  });

  it("vad: all frames pass in 'all' mode; a bad frame is a clear error to Catch", async () => {
    const seen = await load([{ id: "v", type: "vad", wires: [["frames"], ["events"]] }], ["frames", "events"]);
    const v = helper.getNode("v");
    const frames = await framesOf("count_16k", 0.2, 0.2);
    frames.forEach((payload) => v.receive({ payload }));
    v.receive({ payload: "not audio", sample_rate: 16000 });
    v.receive({ payload: new Float32Array(320), sample_rate: "fast" });
    await until(() => seen.frames.length >= frames.length && seen.caught.length >= 1, "the frames and the error");
    assert.equal(seen.frames.length, frames.length);
    assert.match(String((seen.caught[0].error as Error).message), /sample_rate|payload/);
  });

  it("wake-word: one event for hey_jarvis_16k in 20 ms frames at 48 kHz (resampled), none for neg_16k", async () => {
    const seen = await load(
      [
        { id: "m", type: "voice-model", kind: "wake", enginesPath: wakeModelFolder(["hey_jarvis_v0.1"]), revision: "main", config: "" },
        { id: "w", type: "wake-word", model: "m", wires: [["wake"]] },
      ],
      ["wake"],
    );
    const w = helper.getNode("w");
    for (const [name, id] of [["hey_jarvis_16k", "a"], ["neg_16k", "b"]]) {
      for (const f of await framesOf(name, 0.5, 1)) {
        // 48 kHz by repeating samples: the node resamples to 16 kHz
        const up = new Float32Array(f.length * 3);
        for (let i = 0; i < up.length; i++) up[i] = f[Math.floor(i / 3)];
        w.receive({ payload: up, sample_rate: 48000, stream_id: id });
      }
      w.receive({ is_final: true, stream_id: id });
    }
    await until(() => seen.wake.length >= 1, "the wake event");
    await new Promise((r) => setTimeout(r, 3000));
    assert.deepEqual(seen.caught, []);
    assert.equal(seen.wake.length, 1);
    const [e] = seen.wake;
    assert.equal(e.kind, "wake");
    assert.equal(e.name, "hey_jarvis_v0.1");
    assert.equal(e.payload, "hey_jarvis_v0.1");
    assert.equal(e.stream_id, "a");
    assert.ok((e.audio_seconds as number) > 2 && (e.audio_seconds as number) < 3.2, String(e.audio_seconds));
  });

  it("wake-word: no model set is a clear error", async () => {
    const seen = await load([{ id: "w", type: "wake-word", model: "", wires: [["wake"]] }], ["wake"]);
    helper.getNode("w").receive({ payload: new Float32Array(320) });
    await until(() => seen.caught.length >= 1, "the error");
    assert.match(String((seen.caught[0].error as Error).message), /no wake model set/);
  });

  describe("wake-word with verifiers", () => {
    const folder = wakeModelFolder(["hey_jarvis_v0.1"]);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "node-verifier-"));
    const sha = (file: string) => createHash("sha256").update(fs.readFileSync(file)).digest("hex");
    const features = { melspectrogram: sha(path.join(folder, "melspectrogram.onnx")), embedding_model: sha(path.join(folder, "embedding_model.onnx")) };
    /** A verifier file for hey_jarvis with every weight 0: accepts everything (bias > 0) or nothing (bias < 0). */
    const plain = (name: string, bias: number, feature_models = features) => {
      const file = path.join(dir, name);
      const size = 16 * 96;
      fs.writeFileSync(file, JSON.stringify({ format: VERIFIER_FORMAT, version: 1, head: "hey_jarvis_v0.1", window: 16, feature_models, mean: new Array(size).fill(0), scale: new Array(size).fill(1), weights: new Array(size).fill(0), bias, threshold: 0.5 }));
      return file;
    };

    async function wakeEvents(verifiers: string, clips: string[]) {
      const seen = await load(
        [
          { id: "m", type: "voice-model", kind: "wake", enginesPath: folder, revision: "main", config: "" },
          { id: "w", type: "wake-word", model: "m", verifiers, wires: [["wake"]] },
        ],
        ["wake"],
      );
      const w = helper.getNode("w");
      for (const name of clips) {
        for (const f of await framesOf(name, 0.5, 1)) w.receive({ payload: f, sample_rate: 16000, stream_id: name });
        w.receive({ is_final: true, stream_id: name });
      }
      return seen;
    }

    it("a verifier that turns everything down silences hey_jarvis_16k; one that accepts keeps it", async () => {
      const no = await wakeEvents(plain("no.json", -20), ["hey_jarvis_16k", "count_16k"]);
      // both clips scored (the model loads first): hey_jarvis_16k alone woke the head
      await new Promise((r) => setTimeout(r, 8000));
      assert.deepEqual(no.caught, []);
      assert.deepEqual(no.wake, []);
      await helper.unload();
      const yes = await wakeEvents(plain("yes.json", 20), ["hey_jarvis_16k"]);
      await until(() => yes.wake.length >= 1, "the wake event");
      assert.equal(yes.wake[0].name, "hey_jarvis_v0.1");
    });

    it("trained at test time from espeak speech: hey_jarvis_16k still wakes it", async function () {
      needTool(this, "espeak-ng");
      const clips = await verifierClipFolders();
      const opened = await openNamedModel<OpenWakeWordEngine>("wake", folder);
      const file = path.join(dir, "trained.json");
      try {
        const loadClips = async (d: string) => Promise.all(fs.readdirSync(d).sort().map(async (f) => ({ label: f, samples: (await readWavFile(path.join(d, f))).samples })));
        const { verifier } = await trainWakeVerifier(opened.engine, "hey_jarvis_v0.1", await loadClips(clips.positive), await loadClips(clips.negative), { seed: 5 });
        writeVerifierFile(file, verifier);
      } finally {
        await opened.close();
      }
      const seen = await wakeEvents(file, ["hey_jarvis_16k", "neg_16k"]);
      await until(() => seen.wake.length >= 1, "the wake event");
      await new Promise((r) => setTimeout(r, 3000));
      assert.deepEqual(seen.caught, []);
      assert.equal(seen.wake.length, 1);
      assert.equal(seen.wake[0].stream_id, "hey_jarvis_16k");
    });

    it("a missing file, or one made with other feature models, is a clear error to Catch", async () => {
      const missing = await wakeEvents(path.join(dir, "gone.json"), ["neg_16k"]);
      await until(() => missing.caught.length >= 1, "the error");
      assert.match(String((missing.caught[0].error as Error).message), /wake-word: wake verifier file .*gone\.json does not exist/);
      await helper.unload();
      const other = await wakeEvents(plain("other.json", 20, { ...features, embedding_model: "0".repeat(64) }), ["neg_16k"]);
      await until(() => other.caught.length >= 1, "the error");
      assert.match(String((other.caught[0].error as Error).message), /other\.json was made with other feature models/);
    });
  });
});
