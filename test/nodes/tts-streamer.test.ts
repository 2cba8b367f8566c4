import { strict as assert } from "assert";
import * as path from "path";
import { fixtureDir } from "../helpers/fixtures";
import { repoRoot } from "../helpers/paths";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const helper = require("node-red-node-test-helper");
helper.init(require.resolve("node-red"));

const NODES = path.join(repoRoot(), "dist", "src", "nodes");
// eslint-disable-next-line @typescript-eslint/no-require-imports
const voiceModelNode = require(path.join(NODES, "voice-model.js"));
// eslint-disable-next-line @typescript-eslint/no-require-imports
const ttsStreamerNode = require(path.join(NODES, "tts-streamer.js"));
// eslint-disable-next-line @typescript-eslint/no-require-imports
const catchNode = require("@node-red/nodes/core/common/25-catch.js");

type Msg = Record<string, unknown> & { payload?: unknown };
const LONG = "This sentence is long enough to be cut into several codec chunks by the streamer.";

/** The voice-model config node for a local model directory (the registry helper's node). */
function modelConfig(id: string, enginesPath: string) {
  return { id, type: "voice-model", name: "tts model", kind: "tts", enginesPath, revision: "main", config: "{}" };
}

interface Loaded {
  tts: { receive(msg: Msg): void; status: (...a: unknown[]) => void };
  out: Msg[];
  errors: Msg[];
  ended(streamId: string): Promise<Msg[]>;
}

async function load(settings: Record<string, unknown> = {}, model?: string): Promise<Loaded> {
  const dir = model ?? (await fixtureDir("tiny-codec-tts"));
  const flow = [
    // Ids differ from every string property value: Node-RED takes a property equal to a config node's id for a reference.
    modelConfig("n_model", dir),
    { id: "n_tts", type: "tts-streamer", model: "n_model", wires: [["n_out"]], ...settings },
    { id: "n_out", type: "helper" },
    { id: "n_catch", type: "catch", scope: ["n_tts"], wires: [["n_caught"]] },
    { id: "n_caught", type: "helper" },
  ];
  await helper.load([voiceModelNode, ttsStreamerNode, catchNode], flow);
  const out: Msg[] = [];
  const errors: Msg[] = [];
  const waiters: { id: string; resolve: (msgs: Msg[]) => void }[] = [];
  helper.getNode("n_out").on("input", (msg: Msg) => {
    out.push(msg);
    if (msg.is_final) for (const w of waiters.filter((w) => w.id === msg.stream_id)) w.resolve(out.filter((m) => m.stream_id === w.id));
  });
  helper.getNode("n_caught").on("input", (msg: Msg) => errors.push(msg));
  return {
    tts: helper.getNode("n_tts"),
    out,
    errors,
    ended: (id) =>
      new Promise((resolve) => {
        const done = out.filter((m) => m.stream_id === id);
        if (done.some((m) => m.is_final)) return resolve(done);
        waiters.push({ id, resolve });
      }),
  };
}

const waitFor = async (check: () => boolean, ms = 20000) => {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 10));
  }
};

const audioOf = (msgs: Msg[]) => msgs.filter((m) => !m.is_final).flatMap((m) => [...(m.payload as Float32Array)]);

describe("tts-streamer node", function () {
  this.timeout(60000);
  afterEach(async () => {
    await helper.unload();
  });

  it("speaks a whole text: audio chunk msgs, then one final with the metrics; status 'speaking · N s'", async () => {
    const { tts, ended } = await load();
    const statuses: string[] = [];
    const original = tts.status.bind(tts);
    tts.status = (s: unknown) => {
      statuses.push(String((s as { text?: string }).text));
      return original(s);
    };
    tts.receive({ payload: "Hello there. " + LONG, stream_id: "a", topic: "greeting", seed: 1 });
    const msgs = await ended("a");
    const audio = msgs.filter((m) => !m.is_final);
    assert.ok(audio.length >= 3);
    for (const [i, m] of msgs.entries()) {
      assert.equal(m.chunk_index, i);
      assert.equal(m.topic, "greeting");
      assert.deepEqual(m.parts, m.is_final ? { id: "a", index: i, count: msgs.length } : { id: "a", index: i });
    }
    assert.ok(audio.every((m) => m.payload instanceof Float32Array && m.sample_rate === 24000 && m.kind === "audio"));
    assert.equal(audio[0].text, "Hello there.");
    const final = msgs[msgs.length - 1];
    assert.equal(final.is_final, true);
    assert.equal((final.payload as Float32Array).length, 0);
    assert.equal(typeof final.time_to_first_audio, "number");
    assert.equal(typeof final.generated_tokens, "number");
    assert.ok(statuses.some((t) => /^speaking · \d+\.\d s$/.test(t)), JSON.stringify(statuses));
    assert.match(statuses[statuses.length - 1], /^done · \d+\.\d s$/);
  });

  it("llm-stream deltas (is_final false … then the LLM's final with payload \"\") speak like the whole text", async () => {
    const { tts, ended } = await load();
    tts.receive({ payload: LONG, stream_id: "whole", seed: 9 });
    const whole = await ended("whole");
    const words = LONG.split(/(?<= )/);
    words.forEach((w, i) => tts.receive({ kind: "text", delta: w, index: i, payload: w, is_final: false, stream_id: "llm", seed: 9 }));
    tts.receive({ kind: "text", delta: "", payload: "", is_final: true, text: LONG, finish_reason: "stop", stream_id: "llm", seed: 9 });
    const piped = await ended("llm");
    assert.deepEqual(audioOf(piped), audioOf(whole));
    assert.ok(piped.every((m) => m.delta === undefined && m.finish_reason === undefined), "upstream LLM fields do not leak");
  });

  it("runs concurrent streams by stream_id", async () => {
    const { tts, ended } = await load();
    for (const w of ["Hello ", "there, ", "one. "]) {
      tts.receive({ payload: w, is_final: false, stream_id: "s1" });
      tts.receive({ payload: w.toUpperCase(), is_final: false, stream_id: "s2" });
    }
    tts.receive({ payload: "", is_final: true, stream_id: "s2" });
    tts.receive({ payload: "", is_final: true, stream_id: "s1" });
    const [one, two] = await Promise.all([ended("s1"), ended("s2")]);
    assert.equal(one.filter((m) => m.is_final).length, 1);
    assert.equal(two.filter((m) => m.is_final).length, 1);
    assert.equal(one[0].text, "Hello there, one.");
    assert.equal(two[0].text, "HELLO THERE, ONE.");
  });

  it("msg.flush speaks the buffered fragment before the stream ends", async () => {
    const { tts, out, ended } = await load();
    tts.receive({ payload: "no sentence end yet", is_final: false, stream_id: "f" });
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(out.length, 0);
    tts.receive({ flush: true, stream_id: "f" });
    await waitFor(() => out.length > 0);
    assert.equal(out[0].text, "no sentence end yet");
    tts.receive({ payload: "", is_final: true, stream_id: "f" });
    await ended("f");
  });

  for (const how of ["cancel", "llm-cancelled"] as const) {
    it(`cancels mid-stream (${how === "cancel" ? "msg.cancel" : "a cancelled llm chunk"}): one cancelled final, no audio after`, async () => {
      const { tts, out, ended } = await load();
      tts.receive({ payload: `${LONG} ${LONG} ${LONG}`, stream_id: "c" });
      await waitFor(() => out.length > 0);
      tts.receive(how === "cancel" ? { cancel: true, stream_id: "c" } : { kind: "cancelled", is_final: true, finish_reason: "cancelled", stream_id: "c", payload: "" });
      const msgs = await ended("c");
      const last = msgs[msgs.length - 1];
      assert.equal(last.kind, "cancelled");
      assert.equal(msgs.filter((m) => m.is_final).length, 1);
      const count = out.length;
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(out.length, count, "nothing after the cancelled chunk");
    });
  }

  it("outputs s16le Buffers when asked", async () => {
    const { tts, ended } = await load({ outputFormat: "s16le" });
    tts.receive({ payload: "Hello there.", stream_id: "b" });
    const msgs = await ended("b");
    const first = msgs[0];
    assert.ok(Buffer.isBuffer(first.payload));
    assert.equal((first.payload as Buffer).length, 5760 * 2);
  });

  it("bad input reaches a Catch node with a clear message and a red ring", async () => {
    const { tts, errors } = await load();
    const statuses: { fill?: string; shape?: string; text?: string }[] = [];
    const original = tts.status.bind(tts);
    tts.status = (s: unknown) => {
      statuses.push(s as (typeof statuses)[0]);
      return original(s);
    };
    tts.receive({ payload: 42 });
    tts.receive({ payload: { text: "hi" } });
    tts.receive({ payload: "Hello.", voice: "nobody" });
    await waitFor(() => errors.length === 3);
    const messages = errors.map((e) => (e.error as { message: string }).message);
    assert.match(messages[0], /msg.payload must be the text to speak \(a string\), got number/);
    assert.match(messages[1], /got object/);
    assert.match(messages[2], /unknown voice 'nobody'; this model has: dave, jo/);
    assert.ok(statuses.some((s) => s.fill === "red" && s.shape === "ring"));
  });

  it("impossible settings are reported on input", async () => {
    for (const [settings, message] of [
      [{ framesPerChunk: "0" }, /frames_per_chunk must be a whole number ≥ 1, got 0/],
      [{ overlapFrames: "25" }, /overlap_frames \(25\) must be smaller than frames_per_chunk \(25\)/],
    ] as const) {
      const { tts, errors } = await load(settings);
      tts.receive({ payload: "Hello." });
      await waitFor(() => errors.length === 1);
      assert.match((errors[0].error as { message: string }).message, message);
      await helper.unload();
    }
  });

  it("closing the flow cancels every stream; nothing is sent after", async () => {
    const { tts, out } = await load();
    tts.receive({ payload: `${LONG} ${LONG}`, stream_id: "x" });
    tts.receive({ payload: `${LONG} ${LONG}`, stream_id: "y" });
    await waitFor(() => out.length > 0);
    await helper.unload();
    const count = out.length;
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(out.length, count);
    assert.ok(!out.some((m) => m.is_final));
  });

  it("speaks with the espeak engine too", async () => {
    const { tts, ended } = await load({}, "espeak");
    tts.receive({ payload: "Hello world. This is a test.", stream_id: "e" });
    const msgs = await ended("e");
    assert.deepEqual(msgs.filter((m) => !m.is_final).map((m) => m.text), ["Hello world.", "This is a test."]);
    assert.equal(msgs[0].sample_rate, 24000);
  });

  it("msg.first_frames_per_chunk (and the other chunking settings) set a codec stream's chunking, as the SDK's per-call stream_config; a bad one is a caught error naming it", async () => {
    const { tts, ended, errors } = await load();
    tts.receive({ payload: LONG, stream_id: "default", seed: 1 });
    const byDefault = (await ended("default")).filter((m) => !m.is_final);
    tts.receive({ payload: LONG, stream_id: "short", seed: 1, first_frames_per_chunk: 4, frames_per_chunk: 10 });
    const short = (await ended("short")).filter((m) => !m.is_final);
    const first = (msgs: Msg[]) => (msgs[0].payload as Float32Array).length;
    assert.ok(first(short) < first(byDefault), `first chunk ${first(short)} samples with 4 frames, ${first(byDefault)} with the default 12`);
    assert.ok(short.length > byDefault.length, `${short.length} chunks of 10 frames, ${byDefault.length} of 25`);
    tts.receive({ payload: LONG, stream_id: "bad", first_frames_per_chunk: 0 });
    await waitFor(() => errors.length > 0);
    assert.match(String((errors[0].error as { message?: string })?.message), /first_frames_per_chunk must be a whole number ≥ 1, got 0/);
  });

  it("ends the first span early with the node's First piece setting, and msg.first_span_words overrides it", async () => {
    const { tts, ended } = await load({ firstSpanWords: "3" }, "espeak");
    const text = "The kitchen light in the north wing is on now. Goodbye.";
    tts.receive({ payload: text, stream_id: "node" });
    const spans = (await ended("node")).filter((m) => !m.is_final).map((m) => m.text);
    assert.deepEqual([...new Set(spans)], ["The kitchen light", "in the north wing is on now.", "Goodbye."]);
    tts.receive({ payload: text, stream_id: "off", first_span_words: 0 });
    const whole = (await ended("off")).filter((m) => !m.is_final).map((m) => m.text);
    assert.deepEqual([...new Set(whole)], ["The kitchen light in the north wing is on now.", "Goodbye."]);
  });
});
