import { strict as assert } from "assert";
import * as path from "path";
import { fixtureDir } from "../helpers/fixtures";
import { repoRoot, sharedDir } from "../helpers/paths";
import { loadAsr } from "../../src/core/asr/loader";
import { localLoadContext } from "../../src/core/registry";
import { readWavFile } from "../../src/core/audio/wav";
import type { AsrEngine } from "../../src/core/types";
import { speechWithPauses } from "../core/asr-audio";
import { SpecClient, sendAudio, audioSamples, pcm16, type SpecEvent } from "../helpers/wyoming-spec-client";
import { findWyoming } from "../helpers/zeroconf-browse";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const helper = require("node-red-node-test-helper");
helper.init(require.resolve("node-red"));

const NODES = path.join(repoRoot(), "dist", "src", "nodes");
/* eslint-disable @typescript-eslint/no-require-imports */
const voiceModelNode = require(path.join(NODES, "voice-model.js"));
const whisperNode = require(path.join(NODES, "whisper-streamer.js"));
const ttsNode = require(path.join(NODES, "tts-streamer.js"));
const wyomingIn = require(path.join(NODES, "wyoming-in.js"));
const wyomingOut = require(path.join(NODES, "wyoming-out.js"));
const catchNode = require("@node-red/nodes/core/common/25-catch.js");
/* eslint-enable @typescript-eslint/no-require-imports */

type Msg = Record<string, unknown>;

async function waitFor<T>(get: () => T | undefined | false, ms = 30000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = get();
    if (v) return v;
    if (Date.now() > until) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Loads `flow`, waits for n_in to listen, returns its port and the messages it sent (tapped). */
async function start(nodes: unknown[], flow: Msg[]): Promise<{ port: number; tapped: Msg[] }> {
  await helper.load(nodes, flow);
  const tapped: Msg[] = [];
  helper.getNode("n_tap").on("input", (m: Msg) => tapped.push(m));
  const input = helper.getNode("n_in") as { address: () => { port: number } | undefined };
  const address = await waitFor(() => input.address());
  return { port: address.port, tapped };
}

async function transcribe(port: number, audio: Float32Array): Promise<SpecEvent[]> {
  const client = await SpecClient.connect(port);
  client.send("transcribe", { language: "en" });
  sendAudio(client, audio);
  const events = await client.until("transcript-stop", 120000);
  client.destroy();
  return events;
}

describe("wyoming-in → whisper-streamer → wyoming-out (Home Assistant speech-to-text)", function () {
  this.timeout(240000);
  let dir: string;
  let engine: AsrEngine;
  const flow = (partialIntervalMs = "300") => [
    { id: "n_model", type: "voice-model", name: "tiny whisper", kind: "asr", enginesPath: dir, revision: "main", config: "{}" },
    { id: "n_in", type: "wyoming-in", port: "0", asr: true, tts: false, asrModel: "n_model", zeroconf: false, wires: [["n_asr", "n_tap"]] },
    { id: "n_asr", type: "whisper-streamer", model: "n_model", language: "en", partialIntervalMs, wires: [["n_out"], ["n_out"]] },
    { id: "n_out", type: "wyoming-out" },
    { id: "n_tap", type: "helper" },
  ];
  before(async () => {
    dir = await fixtureDir("tiny-whisper");
    engine = await loadAsr(localLoadContext("asr", { enginesPath: dir }));
  });
  after(() => engine?.dispose());
  afterEach(() => helper.unload());

  it("describe names the model and its languages; a session's transcript equals the engine's", async () => {
    const { port, tapped } = await start([voiceModelNode, whisperNode, wyomingIn, wyomingOut], flow());
    const client = await SpecClient.connect(port);
    client.send("describe");
    const info = await client.next();
    client.destroy();
    const asr = (info.data.asr as { name: string; models: { languages: string[] }[]; supports_transcript_streaming: boolean }[])[0];
    assert.equal(asr.name, "tiny whisper");
    assert.ok(asr.models[0].languages.includes("en") && asr.models[0].languages.length > 1);
    assert.equal(asr.supports_transcript_streaming, true);
    assert.deepEqual(info.data.tts, []);
    const audio = (await readWavFile(sharedDir("audio", "hello_16k.wav"))).samples;
    const events = await transcribe(port, audio);
    const expected = await engine.transcribe(audio, { language: "en" });
    assert.ok(expected.text.length > 0);
    assert.equal(events.find((e) => e.type === "transcript")!.data.text, expected.text);
    assert.equal(events[0].type, "transcript-start");
    assert.equal(events[events.length - 1].type, "transcript-stop");
    // What the flow saw: frames with the client's rate, then finish, all on one stream_id.
    const ids = new Set(tapped.map((m) => m.stream_id));
    assert.equal(ids.size, 1);
    assert.ok(tapped[0].payload instanceof Float32Array && tapped[0].sample_rate === 16000);
    assert.deepEqual(tapped[0].wyoming, { type: "transcribe", language: "en", name: undefined, client: (tapped[0].wyoming as Msg).client });
    assert.equal(tapped[tapped.length - 1].finish, true);
  });

  it("whisper-streamer's partials stream as transcript-chunks while the audio still arrives; their text adds up to the committed text", async () => {
    const { port } = await start([voiceModelNode, whisperNode, wyomingIn, wyomingOut], flow("0"));
    const audio = speechWithPauses([2.6, 0.6, 2.2], 41);
    const client = await SpecClient.connect(port);
    client.send("transcribe", { language: "en" });
    client.send("audio-start", { rate: 16000, width: 2, channels: 1 });
    for (let at = 0; at < audio.length; at += 4000) {
      client.send("audio-chunk", { rate: 16000, width: 2, channels: 1 }, pcm16(audio.subarray(at, at + 4000)));
      await new Promise((r) => setTimeout(r, 40));
    }
    const early = await client.until("transcript-chunk", 60000);
    assert.equal(early[0].type, "transcript-start");
    client.send("audio-stop");
    const rest = await client.until("transcript-stop", 60000);
    client.destroy();
    const all = [...early, ...rest];
    const chunks = all.filter((e) => e.type === "transcript-chunk").map((e) => String(e.data.text));
    const transcript = String(all.find((e) => e.type === "transcript")!.data.text);
    assert.ok(chunks.join("").trim().length > 0);
    assert.ok(transcript.startsWith(chunks.join("").trim()), `${JSON.stringify(chunks)} vs ${transcript}`);
    assert.equal(transcript, (await engine.transcribe(audio, { language: "en" })).text);
  });

  it("8 sessions at once each get their own transcript (each equal to its solo decode)", async () => {
    const { port } = await start([voiceModelNode, whisperNode, wyomingIn, wyomingOut], flow());
    const names = ["hello", "weather", "count", "alexa", "neg", "hey_jarvis"];
    const wavs = await Promise.all(names.map(async (n) => (await readWavFile(sharedDir("audio", `${n}_16k.wav`))).samples));
    const audios = [...wavs, wavs[1].slice(0, Math.floor(wavs[1].length / 2)), wavs[2].slice(Math.floor(wavs[2].length / 3))];
    const solo: string[] = [];
    for (const a of audios) solo.push((await engine.transcribe(a, { language: "en" })).text);
    assert.ok(new Set(solo).size >= 6, `distinct answers: ${JSON.stringify(solo)}`);
    const answers = await Promise.all(audios.map(async (a) => (await transcribe(port, a)).find((e) => e.type === "transcript")!.data.text));
    assert.deepEqual(answers, solo);
  });

  it("a client that disconnects sends cancel downstream; the flow's cancelled chunk is dropped without a warning", async () => {
    const { port, tapped } = await start([voiceModelNode, whisperNode, wyomingIn, wyomingOut], flow());
    const out = helper.getNode("n_out");
    const warnings: string[] = [];
    const warn = out.warn.bind(out);
    out.warn = (m: string) => {
      warnings.push(m);
      warn(m);
    };
    const client = await SpecClient.connect(port);
    client.send("transcribe");
    client.send("audio-start", { rate: 16000, width: 2, channels: 1 });
    client.send("audio-chunk", { rate: 16000, width: 2, channels: 1 }, pcm16(new Float32Array(3200).fill(0.1)));
    await waitFor(() => tapped.length > 0);
    client.destroy();
    const cancel = await waitFor(() => tapped.find((m) => m.cancel === true));
    assert.equal(cancel.stream_id, tapped[0].stream_id);
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(warnings, []);
  });

  it("a message for a stream_id with no open session: one warning, dropped", async () => {
    await start([voiceModelNode, whisperNode, wyomingIn, wyomingOut], flow());
    const out = helper.getNode("n_out");
    const warnings: string[] = [];
    out.warn = (m: string) => warnings.push(m);
    out.receive({ stream_id: "gone", kind: "final", payload: "hi", text: "hi", is_final: true });
    out.receive({ stream_id: "gone", kind: "final", payload: "hi", text: "hi", is_final: true });
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /no open Wyoming session for stream_id 'gone'/);
  });
});

describe("wyoming-in → tts-streamer → wyoming-out (Home Assistant text-to-speech)", function () {
  this.timeout(120000);
  const flow = (extra: Msg = {}) => [
    { id: "n_model", type: "voice-model", name: "espeak", kind: "tts", enginesPath: "espeak", engine: "espeak", revision: "main", config: "{}" },
    { id: "n_in", type: "wyoming-in", port: "0", asr: false, tts: true, ttsModel: "n_model", zeroconf: false, wires: [["n_tts", "n_tap"]], ...extra },
    { id: "n_tts", type: "tts-streamer", model: "n_model", wires: [["n_out"]] },
    { id: "n_out", type: "wyoming-out" },
    { id: "n_tap", type: "helper" },
    { id: "n_catch", type: "catch", scope: ["n_tts"], wires: [["n_out"]] },
  ];
  afterEach(() => helper.unload());

  const nodes = () => [voiceModelNode, ttsNode, wyomingIn, wyomingOut, catchNode];
  const TEXT = "The first sentence is short. The second one ends here.";

  it("describe lists the model's voices; plain synthesize gets audio-start, s16le chunks, audio-stop", async () => {
    const { port } = await start(nodes(), flow());
    const client = await SpecClient.connect(port);
    client.send("describe");
    const info = await client.next();
    const tts = (info.data.tts as { name: string; voices: { name: string; languages: string[] }[]; supports_synthesize_streaming: boolean }[])[0];
    assert.equal(tts.name, "espeak");
    assert.ok(tts.voices.some((v) => v.name === "en-us" && v.languages[0] === "en-us"));
    assert.equal(tts.supports_synthesize_streaming, true);
    client.send("synthesize", { text: TEXT, voice: { name: "en-gb" } });
    const events = await client.until("audio-stop");
    client.destroy();
    assert.deepEqual(events[0].data, { rate: 24000, width: 2, channels: 1 });
    assert.ok(audioSamples(events) > 24000);
  });

  it("streaming synthesize: the first sentence is spoken before the last text chunk; the compat synthesize is not spoken twice; synthesize-stopped last", async () => {
    const { port } = await start(nodes(), flow());
    const plain = await SpecClient.connect(port);
    plain.send("synthesize", { text: TEXT });
    const plainSamples = audioSamples(await plain.until("audio-stop"));
    plain.destroy();
    const client = await SpecClient.connect(port);
    client.send("synthesize-start");
    client.send("synthesize-chunk", { text: "The first sentence is short. " });
    client.send("synthesize-chunk", { text: "The second" });
    const before = await client.until("audio-chunk");
    client.send("synthesize-chunk", { text: " one ends here." });
    client.send("synthesize", { text: TEXT });
    client.send("synthesize-stop");
    const rest = await client.until("synthesize-stopped");
    client.destroy();
    const all = [...before, ...rest];
    assert.equal(all.filter((e) => e.type === "audio-start").length, 1);
    assert.equal(rest[rest.length - 2].type, "audio-stop");
    // Same text, same spans: exactly the plain request's audio, so nothing was spoken twice.
    assert.equal(audioSamples(all), plainSamples);
  });

  it("a stream that fails in the flow reaches the client as an error event through catch → wyoming-out", async () => {
    const { port } = await start(nodes(), flow());
    const client = await SpecClient.connect(port);
    client.send("synthesize", { text: "Hello.", voice: { name: "not a voice!" } });
    const events = await client.until("error");
    client.destroy();
    const error = events[events.length - 1];
    assert.equal(error.data.code, "flow-error");
    assert.match(String(error.data.text), /unknown voice 'not a voice!'/);
  });

  it("a request the flow never answers gets an error event with code timeout", async () => {
    await helper.load([wyomingIn, wyomingOut], [
      { id: "n_in", type: "wyoming-in", port: "0", asr: false, tts: true, zeroconf: false, answerTimeout: "1", wires: [["n_tap"]] },
      { id: "n_tap", type: "helper" },
    ]);
    const input = helper.getNode("n_in") as { address: () => { port: number } | undefined };
    const { port } = await waitFor(() => input.address());
    const client = await SpecClient.connect(port);
    client.send("synthesize", { text: "Anyone there?" });
    const events = await client.until("error", 10000);
    client.destroy();
    assert.equal(events[events.length - 1].data.code, "timeout");
  });

  it("a port in use: red status and an error naming the port", async () => {
    const { port } = await start(nodes(), flow());
    const second = helper.getNode("n_in");
    assert.ok(second);
    await helper.unload();
    const net = await import("net");
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(port, "127.0.0.1", () => r()));
    try {
      await helper.load([wyomingIn, wyomingOut], [{ id: "n_in", type: "wyoming-in", port: String(port), tts: true, zeroconf: false, wires: [[]] }]);
      const n = helper.getNode("n_in");
      const statuses: Msg[] = [];
      n.on("call:status", (call: { args: Msg[] }) => statuses.push(call.args[0]));
      const errors: string[] = [];
      n.on("call:error", (call: { args: unknown[] }) => errors.push(String(call.args[0])));
      await waitFor(() => errors.length > 0, 5000);
      assert.match(errors[0], new RegExp(`port ${port} is in use`));
      assert.ok(statuses.some((st) => st.fill === "red" && /in use/.test(String(st.text))), JSON.stringify(statuses));
    } finally {
      blocker.close();
    }
  });
});

describe("wyoming-in: network exposure and wake sessions", function () {
  this.timeout(30000);
  afterEach(() => helper.unload());

  it("listening beyond loopback: a yellow status and a log warning that name it and ask for an allow-list", async () => {
    await helper.load([wyomingIn, wyomingOut], [{ id: "n_in", type: "wyoming-in", host: "0.0.0.0", port: "0", asr: false, tts: true, zeroconf: false, wires: [[]] }]);
    const n = helper.getNode("n_in");
    const statuses: Msg[] = [];
    const warnings: string[] = [];
    n.on("call:status", (call: { args: Msg[] }) => statuses.push(call.args[0]));
    n.on("call:warn", (call: { args: unknown[] }) => warnings.push(String(call.args[0])));
    await waitFor(() => statuses.some((st) => st.fill === "yellow"));
    assert.match(String(statuses.find((st) => st.fill === "yellow")!.text), /open to the network on 0\.0\.0\.0:\d+/);
    await waitFor(() => warnings.length > 0);
    assert.match(warnings[0], /open to the network: Wyoming has no authentication; set an allow-list/);
  });

  it("zeroconf is on by default beyond loopback and can be switched off", async () => {
    const name = `node-red-test-${process.pid}`;
    await helper.load([wyomingIn, wyomingOut], [{ id: "n_in", type: "wyoming-in", host: "0.0.0.0", port: "0", tts: true, zeroconfName: name, wires: [[]] }]);
    const input = helper.getNode("n_in") as { address: () => { port: number } | undefined };
    const { port } = await waitFor(() => input.address());
    assert.equal((await findWyoming(name, 8000))?.port, port);
    await helper.unload();
    const off = `${name}-off`;
    await helper.load([wyomingIn, wyomingOut], [{ id: "n_in", type: "wyoming-in", host: "0.0.0.0", port: "0", tts: true, zeroconf: false, zeroconfName: off, wires: [[]] }]);
    await waitFor(() => (helper.getNode("n_in") as { address: () => unknown }).address());
    assert.equal(await findWyoming(off, 3000), undefined);
  });

  it("detect: frames go out, a wake-word event comes back as detection, audio-stop ends it", async () => {
    await helper.load([wyomingIn, wyomingOut], [
      { id: "n_in", type: "wyoming-in", port: "0", asr: false, tts: false, wake: true, wakeNames: "hey_jarvis", zeroconf: false, wires: [["n_tap"]] },
      { id: "n_tap", type: "helper" },
      { id: "n_out", type: "wyoming-out" },
    ]);
    const tapped: Msg[] = [];
    helper.getNode("n_tap").on("input", (m: Msg) => tapped.push(m));
    const input = helper.getNode("n_in") as { address: () => { port: number } | undefined };
    const { port } = await waitFor(() => input.address());
    const client = await SpecClient.connect(port);
    client.send("describe");
    const info = await client.next();
    assert.equal((info.data.wake as { models: { name: string }[] }[])[0].models[0].name, "hey_jarvis");
    client.send("detect", { names: ["hey_jarvis"] });
    client.send("audio-start", { rate: 16000, width: 2, channels: 1 });
    client.send("audio-chunk", { rate: 16000, width: 2, channels: 1 }, pcm16(new Float32Array(1600)));
    const frame = await waitFor(() => tapped[0]);
    assert.deepEqual((frame.wyoming as Msg).type, "detect");
    assert.deepEqual((frame.wyoming as Msg).names, ["hey_jarvis"]);
    helper.getNode("n_out").receive({ stream_id: frame.stream_id, kind: "wake", name: "hey_jarvis", score: 0.9, audio_seconds: 0.1 });
    const detection = await client.until("detection");
    assert.deepEqual(detection[detection.length - 1].data, { name: "hey_jarvis", timestamp: 100 });
    client.send("audio-stop");
    await waitFor(() => tapped.find((m) => m.finish === true));
    client.send("detect");
    client.send("audio-start", { rate: 16000, width: 2, channels: 1 });
    client.send("audio-chunk", { rate: 16000, width: 2, channels: 1 }, pcm16(new Float32Array(1600)));
    client.send("audio-stop");
    await client.until("not-detected", 5000);
    client.destroy();
  });
});

describe("admin endpoint POST /voice-model/catalog (the editor's ask-the-server button), Wyoming side", function () {
  this.timeout(60000);
  before((done) => {
    helper.startServer(done);
  });
  after((done) => {
    helper.stopServer(done);
  });
  afterEach(() => helper.unload());

  it("answers what a wyoming:// service offers; 400 for a bad address, 502 when it cannot be asked", async () => {
    await helper.load([voiceModelNode, ttsNode, wyomingIn, wyomingOut], [
      { id: "n_model", type: "voice-model", name: "espeak", kind: "tts", enginesPath: "espeak", engine: "espeak", revision: "main", config: "{}" },
      { id: "n_in", type: "wyoming-in", port: "0", asr: false, tts: true, ttsModel: "n_model", zeroconf: false, wires: [[]] },
    ]);
    const input = helper.getNode("n_in") as { address: () => { port: number } | undefined };
    const { port } = await waitFor(() => input.address());
    const ok = await helper.request().post("/voice-model/catalog").send({ url: `wyoming://127.0.0.1:${port}` });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(ok.body.kind, "wyoming");
    assert.equal(ok.body.url, `wyoming://127.0.0.1:${port}`);
    assert.ok(ok.body.voices.includes("en-us"));
    assert.equal(ok.body.tts[0].supports_synthesize_streaming, true);
    assert.deepEqual(ok.body.models, []);
    const bad = await helper.request().post("/voice-model/catalog").send({ url: "wyoming://no-port" });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error, /wyoming:\/\/host:port/);
    await helper.unload();
    const gone = await helper.request().post("/voice-model/catalog").send({ url: `wyoming://127.0.0.1:${port}` });
    assert.equal(gone.status, 502);
    assert.match(gone.body.error, /refused the connection/);
  });
});
