import { strict as assert } from "assert";
import * as path from "path";
import { fixtureDir } from "../helpers/fixtures";
import { repoRoot } from "../helpers/paths";
import { loadAsr } from "../../src/core/asr/loader";
import { localLoadContext } from "../../src/core/registry";
import { resample } from "../../src/core/audio/resample";
import type { AsrEngine } from "../../src/core/types";
import { speechWithPauses, synthSpeech } from "../core/asr-audio";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const helper = require("node-red-node-test-helper");
helper.init(require.resolve("node-red"));

const NODES = path.join(repoRoot(), "dist", "src", "nodes");
// eslint-disable-next-line @typescript-eslint/no-require-imports
const voiceModelNode = require(path.join(NODES, "voice-model.js"));
// eslint-disable-next-line @typescript-eslint/no-require-imports
const whisperNode = require(path.join(NODES, "whisper-streamer.js"));
// eslint-disable-next-line @typescript-eslint/no-require-imports
const catchNode = require("@node-red/nodes/core/common/25-catch.js");

type Msg = Record<string, unknown> & { payload?: unknown };

interface Loaded {
  asr: { receive(msg: Msg): void };
  partials: Msg[];
  finals: Msg[];
  errors: Msg[];
  final(streamId: string): Promise<Msg>;
}

async function load(dir: string, settings: Record<string, unknown> = {}): Promise<Loaded> {
  const flow = [
    { id: "n_model", type: "voice-model", name: "asr model", kind: "asr", enginesPath: dir, revision: "main", config: "{}" },
    { id: "n_asr", type: "whisper-streamer", model: "n_model", language: "en", partialIntervalMs: "0", wires: [["n_partials"], ["n_finals"]], ...settings },
    { id: "n_partials", type: "helper" },
    { id: "n_finals", type: "helper" },
    { id: "n_catch", type: "catch", scope: ["n_asr"], wires: [["n_caught"]] },
    { id: "n_caught", type: "helper" },
  ];
  await helper.load([voiceModelNode, whisperNode, catchNode], flow);
  const partials: Msg[] = [];
  const finals: Msg[] = [];
  const errors: Msg[] = [];
  helper.getNode("n_partials").on("input", (m: Msg) => partials.push(m));
  helper.getNode("n_finals").on("input", (m: Msg) => finals.push(m));
  helper.getNode("n_caught").on("input", (m: Msg) => errors.push(m));
  return {
    asr: helper.getNode("n_asr"),
    partials,
    finals,
    errors,
    final: (id) => waitFor(() => finals.find((m) => m.stream_id === id)),
  };
}

async function waitFor<T>(get: () => T | undefined | false, ms = 60000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = get();
    if (v) return v;
    if (Date.now() > until) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 5));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Sends `audio` as frames of `frameSeconds`, pausing `pauseMs` between them. The Whisper passes
 * run in a worker thread, so a short pause no longer lets a pass finish between frames: a test
 * that counts partials paces the frames as a microphone would (pauseMs = the frame's duration).
 */
async function sendFrames(n: Loaded, audio: Float32Array, rate: number, frameSeconds: number, extra: Msg = {}, encode: (f: Float32Array) => unknown = (f) => f, pauseMs = 15) {
  const step = Math.round(frameSeconds * rate);
  for (let at = 0; at < audio.length; at += step) {
    n.asr.receive({ payload: encode(audio.slice(at, at + step)), sample_rate: rate, ...extra });
    await sleep(pauseMs);
  }
}

describe("whisper-streamer node", function () {
  this.timeout(120000);
  let dir: string;
  let engine: AsrEngine;
  before(async () => {
    dir = await fixtureDir("tiny-whisper");
    engine = await loadAsr(localLoadContext("asr", { enginesPath: dir }));
  });
  after(() => engine?.dispose());
  afterEach(() => helper.unload());

  it("streams growing partials on output 1 and the final on output 2, equal to a one-shot decode", async () => {
    const n = await load(dir);
    const audio = speechWithPauses([2.6, 0.6, 2.2], 41);
    await sendFrames(n, audio, 16000, 0.25, { stream_id: "turn-1", topic: "mic" }, undefined, 250);
    n.asr.receive({ stream_id: "turn-1", finish: true });
    const final = await n.final("turn-1");
    const oneShot = await engine.transcribe(audio, { language: "en" });
    assert.equal(final.payload, oneShot.text);
    assert.equal(final.kind, "final");
    assert.equal(final.is_final, true);
    assert.equal(final.text, final.payload);
    assert.equal(final.language, "en");
    assert.equal(final.topic, "mic", "the input msg's own properties travel on");
    assert.equal(final.sample_rate, undefined, "input-only fields do not");
    assert.equal(final.finish, undefined);
    for (const key of ["audio_seconds", "passes", "rtf", "total_seconds"]) assert.equal(typeof final[key], "number", key);
    assert.ok(n.partials.length >= 2, `${n.partials.length} partials`);
    n.partials.forEach((p, i) => {
      assert.equal(p.kind, "partial");
      assert.equal(p.is_final, false);
      assert.equal(p.stream_id, "turn-1");
      assert.deepEqual(p.parts, { id: "turn-1", index: i });
      assert.ok(String(final.payload).startsWith(String(p.payload)));
      if (i > 0) assert.ok(String(p.payload).startsWith(String(n.partials[i - 1].payload)));
    });
    assert.deepEqual(final.parts, { id: "turn-1", index: n.partials.length, count: n.partials.length + 1 });
    assert.equal(n.errors.length, 0);
  });

  it("Send it early (emitSpeculative): the speculative final leaves on output 2 before the turn ends, and the final that keeps it names it", async () => {
    const n = await load(dir, { emitSpeculative: true, partialIntervalMs: "60000" });
    const audio = new Float32Array(Math.round(3.1 * 16000));
    audio.set(synthSpeech(2.5, 12));
    // The question, then quiet: the speculation decodes while the turn's end is still awaited.
    await sendFrames(n, audio, 16000, 0.1, { stream_id: "early", topic: "mic" }, undefined, 100);
    const speculative = await waitFor(() => n.finals.find((m) => m.kind === "speculative"));
    assert.equal(n.finals.filter((m) => m.kind === "final").length, 0, "the final came before the turn ended");
    assert.equal(speculative.is_final, false);
    assert.equal(speculative.speculation, 1);
    assert.equal(speculative.stream_id, "early");
    assert.equal(speculative.topic, "mic");
    assert.ok(String(speculative.payload).length > 0);
    n.asr.receive({ stream_id: "early", finish: true });
    const final = await waitFor(() => n.finals.find((m) => m.stream_id === "early" && m.is_final === true));
    assert.equal(final.kind, "final");
    assert.equal(final.speculation, 1, "the final does not name the speculation it kept");
    assert.equal(final.payload, speculative.payload);
    assert.ok(!n.partials.some((m) => m.kind === "speculative"), "a speculative msg on output 1");
    assert.equal(n.errors.length, 0);
  });

  it("without Send it early, no speculative msg leaves the node and the final names none", async () => {
    const n = await load(dir, { partialIntervalMs: "60000" });
    const audio = new Float32Array(Math.round(3.1 * 16000));
    audio.set(synthSpeech(2.5, 12));
    await sendFrames(n, audio, 16000, 0.1, { stream_id: "quiet" }, undefined, 100);
    await sleep(300);
    n.asr.receive({ stream_id: "quiet", finish: true });
    const final = await n.final("quiet");
    assert.ok(String(final.payload).length > 0);
    assert.equal(final.speculation, undefined);
    assert.ok(![...n.finals, ...n.partials].some((m) => m.kind === "speculative"));
  });

  for (const rate of [8000, 22050, 44100, 48000]) {
    it(`resamples ${rate} Hz frames (msg.sample_rate) to 16 kHz`, async () => {
      const n = await load(dir);
      const speech = synthSpeech(3, 5);
      const atRate = resample(speech, 16000, rate);
      await sendFrames(n, atRate, rate, 0.1, { stream_id: `r${rate}` });
      n.asr.receive({ stream_id: `r${rate}`, is_final: true });
      const final = await n.final(`r${rate}`);
      const expected = await engine.transcribe(resample(atRate, rate, 16000), { language: "en" });
      assert.equal(final.payload, expected.text);
      assert.ok(String(final.payload).split(" ").length >= 3, String(final.payload));
      assert.ok(Math.abs(Number(final.audio_seconds) - atRate.length / rate) < 0.01);
    });
  }

  it("takes Int16Array, Buffer of s16le and number[] frames like Float32Array", async () => {
    const speech = synthSpeech(2.5, 8);
    const toInt16 = (f: Float32Array) => Int16Array.from(f, (s) => Math.max(-32768, Math.min(32767, Math.round(s * 32768))));
    const expected = (await engine.transcribe(Float32Array.from(toInt16(speech), (s) => s / 32768), { language: "en" })).text;
    const encoders: Record<string, (f: Float32Array) => unknown> = {
      int16: toInt16,
      buffer: (f) => Buffer.from(toInt16(f).buffer),
      array: (f) => Array.from(toInt16(f), (s) => s / 32768),
    };
    for (const [name, encode] of Object.entries(encoders)) {
      const n = await load(dir);
      await sendFrames(n, speech, 16000, 0.32, { stream_id: name }, encode);
      n.asr.receive({ stream_id: name, finish: true });
      const final = await n.final(name);
      assert.equal(final.payload, expected, name);
      await helper.unload();
    }
  });

  it("NaN frames, non-audio payloads and bad sample rates are errors (done(err)); the turn goes on; empty frames are dropped", async () => {
    const n = await load(dir);
    const speech = synthSpeech(2, 12);
    n.asr.receive({ stream_id: "s", payload: speech.slice(0, 16000) });
    n.asr.receive({ stream_id: "s", payload: Float32Array.from([0, NaN, 0]) });
    n.asr.receive({ stream_id: "s", payload: Float32Array.from([Infinity]) });
    n.asr.receive({ stream_id: "s", payload: "hello" });
    n.asr.receive({ stream_id: "s", payload: { samples: [1, 2] } });
    n.asr.receive({ stream_id: "s", payload: Buffer.from([1, 2, 3]) });
    n.asr.receive({ stream_id: "s", payload: [0.1, "x"] });
    n.asr.receive({ stream_id: "s", payload: speech.slice(0, 10), sample_rate: -1 });
    n.asr.receive({ stream_id: "s", payload: speech.slice(0, 10), sample_rate: 22050.5 });
    n.asr.receive({ stream_id: "s", payload: new Float32Array(0) });
    n.asr.receive({ stream_id: "s", payload: speech.slice(16000), finish: true });
    const final = await n.final("s");
    await waitFor(() => n.errors.length >= 8);
    const messages = n.errors.map((e) => String((e.error as { message: string }).message));
    assert.match(messages[0], /sample 1 is NaN/);
    assert.match(messages[1], /sample 0 is Infinity/);
    assert.match(messages[2], /msg\.payload must be audio: a Float32Array, an Int16Array, a Buffer .* \(got a string\)/);
    assert.match(messages[3], /got an object/);
    assert.match(messages[4], /Buffer of 3 bytes; 16-bit little-endian PCM needs an even number of bytes/);
    assert.match(messages[5], /must be an array of numbers; item 1 is a string/);
    assert.match(messages[6], /sample_rate must be a positive whole number.*got -1/);
    assert.match(messages[7], /sample_rate must be a positive whole number.*got 22050\.5/);
    assert.equal(n.errors.length, 8, "the empty frame is no error");
    assert.equal(final.payload, (await engine.transcribe(speech, { language: "en" })).text, "bad frames were dropped, good ones kept");
  });

  it("cancel gives one cancelled msg on output 2 and no final", async () => {
    const n = await load(dir);
    await sendFrames(n, synthSpeech(2, 3), 16000, 0.25, { stream_id: "c" });
    n.asr.receive({ stream_id: "c", cancel: true });
    const last = await n.final("c");
    assert.equal(last.kind, "cancelled");
    assert.equal(last.is_final, true);
    await sleep(200);
    assert.equal(n.finals.filter((m) => m.stream_id === "c").length, 1);
    assert.ok(!n.finals.some((m) => m.kind === "final"));
  });

  it("runs concurrent turns by stream_id, each with its own transcript", async () => {
    const n = await load(dir);
    const a = synthSpeech(2.5, 21);
    const b = synthSpeech(2.5, 22);
    const step = 4000;
    for (let at = 0; at < a.length; at += step) {
      n.asr.receive({ stream_id: "A", payload: a.slice(at, at + step) });
      n.asr.receive({ stream_id: "B", payload: b.slice(at, at + step) });
      await sleep(10);
    }
    n.asr.receive({ stream_id: "A", finish: true });
    n.asr.receive({ stream_id: "B", finish: true });
    const [fa, fb] = await Promise.all([n.final("A"), n.final("B")]);
    assert.equal(fa.payload, (await engine.transcribe(a, { language: "en" })).text);
    assert.equal(fb.payload, (await engine.transcribe(b, { language: "en" })).text);
    assert.notEqual(fa.payload, fb.payload);
    for (const p of n.partials) assert.ok(p.stream_id === "A" || p.stream_id === "B");
  });

  it("frames without stream_id share one default turn; auto flush at pauses still gives growing partials", async () => {
    const n = await load(dir, { autoFlush: true });
    const audio = speechWithPauses([2.2, 0.8, 2.2], 51);
    await sendFrames(n, audio, 16000, 0.2);
    n.asr.receive({ finish: true });
    const final = await waitFor(() => n.finals[0]);
    assert.equal(final.kind, "final");
    assert.ok(typeof final.stream_id === "string" && final.stream_id !== "");
    assert.ok(n.partials.every((p) => p.stream_id === final.stream_id));
    assert.ok(n.partials.every((p) => String(final.payload).startsWith(String(p.payload))));
    assert.ok(String(final.payload).split(" ").length >= 5, String(final.payload));
  });

  it("after a finish, frames without stream_id start the next default turn at once", async () => {
    const n = await load(dir);
    const first = synthSpeech(1.5, 61);
    const second = synthSpeech(1.5, 62);
    n.asr.receive({ payload: first });
    n.asr.receive({ finish: true });
    n.asr.receive({ payload: second });
    n.asr.receive({ finish: true });
    await waitFor(() => n.finals.length === 2);
    assert.equal(n.errors.length, 0);
    assert.notEqual(n.finals[0].stream_id, n.finals[1].stream_id);
    const texts = await Promise.all([first, second].map(async (a) => (await engine.transcribe(a, { language: "en" })).text));
    assert.deepEqual(n.finals.map((f) => f.payload).sort(), texts.sort());
  });

  it("control messages for a turn that never started open nothing", async () => {
    const n = await load(dir);
    n.asr.receive({ stream_id: "ghost", finish: true });
    n.asr.receive({ stream_id: "ghost", flush: true });
    n.asr.receive({ stream_id: "ghost", payload: new Float32Array(0), is_final: true });
    n.asr.receive({ stream_id: "ghost", cancel: true });
    await sleep(200);
    assert.equal(n.partials.length + n.finals.length + n.errors.length, 0);
  });

  it("closing the flow cancels open turns", async () => {
    const n = await load(dir);
    await sendFrames(n, synthSpeech(1, 2), 16000, 0.25, { stream_id: "open" });
    await helper.unload();
    await sleep(100);
    assert.ok(!n.finals.some((m) => m.kind === "final"));
  });
});
