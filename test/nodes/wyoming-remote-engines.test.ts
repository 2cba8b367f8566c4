import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { repoRoot } from "../helpers/paths";
import { readWavFile } from "../../src/core/audio/wav";
import { fakeService, type FakeConnection, type FakeService } from "../helpers/fake-wyoming-service";
import { pcm16 } from "../helpers/wyoming-spec-client";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const helper = require("node-red-node-test-helper");
helper.init(require.resolve("node-red"));

const NODES = path.join(repoRoot(), "dist", "src", "nodes");
/* eslint-disable @typescript-eslint/no-require-imports */
const voiceModelNode = require(path.join(NODES, "voice-model.js"));
const ttsNode = require(path.join(NODES, "tts-streamer.js"));
const whisperNode = require(path.join(NODES, "whisper-streamer.js"));
const audioOutNode = require(path.join(NODES, "audio-out.js"));
/* eslint-enable @typescript-eslint/no-require-imports */

type Msg = Record<string, unknown>;

/** Speech whose samples depend only on the sentence: a level from its characters, 40 samples per character. */
function speechFor(text: string): Float32Array {
  let sum = 0;
  for (const ch of text) sum += ch.charCodeAt(0);
  return new Float32Array(text.length * 40).fill(((sum % 97) + 1) / 200);
}

/** A Wyoming TTS service (no streaming): each synthesize answered after a text-dependent delay, so concurrent streams interleave. */
function ttsService(): Promise<FakeService> {
  return fakeService((event, c: FakeConnection) => {
    if (event.type !== "synthesize") return;
    const text = String(event.data.text);
    setTimeout(() => {
      c.send("audio-start", { rate: 16000, width: 2, channels: 1 });
      const audio = speechFor(text);
      for (let at = 0; at < audio.length; at += 256) c.send("audio-chunk", { rate: 16000, width: 2, channels: 1 }, pcm16(audio.subarray(at, at + 256)));
      c.send("audio-stop");
    }, text.length % 17);
  });
}

async function waitFor<T>(get: () => T | undefined | false, ms = 30000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = get();
    if (v) return v;
    if (Date.now() > until) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 10));
  }
}

function joined(chunks: Msg[]): number[] {
  return chunks.flatMap((m) => [...(m.payload as Float32Array)]);
}

describe("nodes on wyoming:// engines (voice-model engines path)", function () {
  this.timeout(120000);
  let service: FakeService;
  beforeEach(async () => (service = await ttsService()));
  afterEach(async () => {
    await helper.unload();
    await service.close();
  });

  it("tts-streamer (Wyoming) → audio-out (file): the WAV holds the service's audio", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "wyoming-flow-"));
    await helper.load([voiceModelNode, ttsNode, audioOutNode], [
      { id: "n_model", type: "voice-model", kind: "tts", enginesPath: service.url, revision: "main", config: "{}" },
      { id: "n_tts", type: "tts-streamer", model: "n_model", wires: [["n_audio"]] },
      { id: "n_audio", type: "audio-out", sink: "file", path: path.join(dir, "{stream_id}.wav"), wires: [["n_events"]] },
      { id: "n_events", type: "helper" },
    ]);
    const events: Msg[] = [];
    helper.getNode("n_events").on("input", (m: Msg) => events.push(m));
    helper.getNode("n_tts").receive({ payload: "Hello from a remote voice. It speaks two sentences.", stream_id: "remote-1" });
    await waitFor(() => events.find((e) => e.event === "drained"), 60000);
    const wav = await readWavFile(path.join(dir, "remote-1.wav"));
    const expected = speechFor("Hello from a remote voice.").length + speechFor("It speaks two sentences.").length;
    assert.ok(Math.abs(wav.samples.length * (16000 / wav.sampleRate) - expected) < 4, `${wav.samples.length} @ ${wav.sampleRate}`);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("32 concurrent streams through one remote model config, each equal to its solo run", async () => {
    await helper.load([voiceModelNode, ttsNode], [
      { id: "n_model", type: "voice-model", kind: "tts", enginesPath: service.url, revision: "main", config: "{}" },
      { id: "n_tts", type: "tts-streamer", model: "n_model", wires: [["n_out"]] },
      { id: "n_out", type: "helper" },
    ]);
    const out: Msg[] = [];
    helper.getNode("n_out").on("input", (m: Msg) => out.push(m));
    const tts = helper.getNode("n_tts");
    const texts = Array.from({ length: 32 }, (_, i) => `Stream number ${i} starts here${"!".repeat(1 + (i % 3))} It ends ${i % 2 ? "soon" : "later"}.`);
    const finals = (id: string) => out.find((m) => m.stream_id === id && m.is_final === true);
    const solo: number[][] = [];
    for (let i = 0; i < texts.length; i++) {
      tts.receive({ payload: texts[i], stream_id: `solo-${i}` });
      await waitFor(() => finals(`solo-${i}`));
      solo.push(joined(out.filter((m) => m.stream_id === `solo-${i}`)));
    }
    texts.forEach((text, i) => tts.receive({ payload: text, stream_id: `together-${i}` }));
    await waitFor(() => texts.every((_, i) => finals(`together-${i}`)), 60000);
    for (let i = 0; i < texts.length; i++) {
      const together = joined(out.filter((m) => m.stream_id === `together-${i}`));
      assert.ok(together.length > 0);
      assert.deepEqual(together, solo[i], `stream ${i}`);
    }
    // One connection per stream (plus the one describe).
    assert.equal(service.connections.length, 1 + 64);
  });

  it("whisper-streamer on a Wyoming asr service: streamed transcript-chunks are partials, the transcript the final", async () => {
    const asr = await fakeService((event, c: FakeConnection & { samples?: number }) => {
      if (event.type === "audio-chunk") c.samples = (c.samples ?? 0) + (event.payload?.length ?? 0) / 2;
      if (event.type === "audio-stop") {
        c.send("transcript-chunk", { text: "turn on " });
        c.send("transcript-chunk", { text: "the light" });
        c.send("transcript", { text: `turn on the light (${c.samples})`, language: "en" });
      }
    });
    try {
      await helper.load([voiceModelNode, whisperNode], [
        { id: "n_model", type: "voice-model", kind: "asr", enginesPath: asr.url, revision: "main", config: "{}" },
        { id: "n_asr", type: "whisper-streamer", model: "n_model", language: "en", wires: [["n_partials"], ["n_finals"]] },
        { id: "n_partials", type: "helper" },
        { id: "n_finals", type: "helper" },
      ]);
      const partials: Msg[] = [];
      const finals: Msg[] = [];
      helper.getNode("n_partials").on("input", (m: Msg) => partials.push(m));
      helper.getNode("n_finals").on("input", (m: Msg) => finals.push(m));
      const node = helper.getNode("n_asr");
      // 48 kHz frames: the node resamples to 16 kHz before the engine sends them.
      for (let i = 0; i < 5; i++) node.receive({ payload: new Float32Array(960).fill(0.1), sample_rate: 48000, stream_id: "t1" });
      node.receive({ stream_id: "t1", finish: true });
      const final = await waitFor(() => finals[0]);
      assert.equal(final.kind, "final");
      assert.equal(final.payload, "turn on the light (1600)");
      assert.equal(final.language, "en");
      assert.deepEqual(partials.map((p) => p.payload), ["turn on ", "turn on the light"]);
    } finally {
      await asr.close();
    }
  });
  it("a wyoming:// address where nothing listens: the tts node says why in one short red status, the error names the service", async () => {
    const port = service.port;
    await service.close();
    // Every node's status calls, from the first one (the prototype is shared by all nodes).
    await helper.load([], [{ id: "probe", type: "helper" }]);
    let proto = Object.getPrototypeOf(helper.getNode("probe")) as { status: (s: unknown) => void };
    while (!Object.prototype.hasOwnProperty.call(proto, "status")) proto = Object.getPrototypeOf(proto);
    await helper.unload();
    const original = proto.status;
    const statuses: { id: string; status: Record<string, unknown> }[] = [];
    proto.status = function (this: { id: string }, s: unknown) {
      statuses.push({ id: this.id, status: s as Record<string, unknown> });
      return original.call(this, s);
    };
    try {
      await helper.load([voiceModelNode, ttsNode], [
        { id: "n_model", type: "voice-model", kind: "tts", enginesPath: `wyoming://127.0.0.1:${port}`, revision: "main", config: "{}" },
        { id: "n_tts", type: "tts-streamer", model: "n_model", wires: [[]] },
      ]);
      const red = await waitFor(() => statuses.find((s) => s.id === "n_tts" && s.status.fill === "red"), 30000);
      assert.deepEqual(red.status, { fill: "red", shape: "ring", text: "wyoming: connection refused" });
      const errors = helper.log().args.map((a: [{ level: number; msg: unknown }]) => a[0]).filter((e: { level: number }) => e.level === helper.log().ERROR);
      assert.ok(errors.some((e: { msg: unknown }) => String(e.msg).includes(`Wyoming service wyoming://127.0.0.1:${port} refused the connection`)), JSON.stringify(errors));
    } finally {
      proto.status = original;
    }
  });
});
