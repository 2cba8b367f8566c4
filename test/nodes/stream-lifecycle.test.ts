/**
 * A stream's life in every streaming node (issue 18 points 1, 4, 5): a late control message
 * never reopens a finished stream (no second final, no final before its audio); a model
 * that failed to load gives one error per stream, not one per frame; a redeploy while a
 * model is still loading reports nothing.
 */
import { strict as assert } from "assert";
import * as os from "os";
import * as path from "path";
import { fixtureDir } from "../helpers/fixtures";
import { repoRoot, sharedDir } from "../helpers/paths";
import { readWavFile } from "../../src/core/audio/wav";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const helper = require("node-red-node-test-helper");
helper.init(require.resolve("node-red"));

const NODES = path.join(repoRoot(), "dist", "src", "nodes");
/* eslint-disable @typescript-eslint/no-require-imports */
const voiceModelNode = require(path.join(NODES, "voice-model.js"));
const ttsNode = require(path.join(NODES, "tts-streamer.js"));
const llmNode = require(path.join(NODES, "llm-stream.js"));
const whisperNode = require(path.join(NODES, "whisper-streamer.js"));
const audioOutNode = require(path.join(NODES, "audio-out.js"));
const catchNode = require("@node-red/nodes/core/common/25-catch.js");
/* eslint-enable @typescript-eslint/no-require-imports */

type Msg = Record<string, unknown> & { payload?: unknown };
type TestNode = { receive(msg: Msg): void; status(s: unknown): void; error(...a: unknown[]): void };

interface Loaded {
  node: TestNode;
  /** Every msg on every output, in order. */
  out: Msg[];
  errors: Msg[];
  statuses: { fill?: string; shape?: string; text?: string }[];
}

/** One node of `type` under test, its outputs collected, a Catch node on it. */
async function load(type: string, kind: string | undefined, enginesPath: string | undefined, settings: Record<string, unknown> = {}, outputs = 1): Promise<Loaded> {
  const wires = Array.from({ length: outputs }, () => ["n_out"]);
  const flow: Record<string, unknown>[] = [
    { id: "n_node", type, wires, ...(kind ? { model: "n_model" } : {}), ...settings },
    { id: "n_out", type: "helper" },
    { id: "n_catch", type: "catch", scope: ["n_node"], wires: [["n_caught"]] },
    { id: "n_caught", type: "helper" },
  ];
  if (kind) flow.push({ id: "n_model", type: "voice-model", name: `${kind} model`, kind, enginesPath, revision: "main", config: "{}" });
  await helper.load([voiceModelNode, ttsNode, llmNode, whisperNode, audioOutNode, catchNode], flow);
  const loaded: Loaded = { node: helper.getNode("n_node"), out: [], errors: [], statuses: [] };
  helper.getNode("n_out").on("input", (m: Msg) => loaded.out.push(m));
  helper.getNode("n_caught").on("input", (m: Msg) => loaded.errors.push(m));
  const status = loaded.node.status.bind(loaded.node);
  loaded.node.status = (s: unknown) => {
    loaded.statuses.push(s as Loaded["statuses"][0]);
    status(s);
  };
  return loaded;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function waitFor(check: () => boolean, ms = 30000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error("timed out");
    await sleep(5);
  }
}
const of = (msgs: Msg[], id: string) => msgs.filter((m) => m.stream_id === id);
const finals = (msgs: Msg[], id: string) => of(msgs, id).filter((m) => m.is_final === true);

describe("stream life in the streaming nodes", function () {
  this.timeout(120000);
  afterEach(() => helper.unload());

  describe("a late control message never reopens a finished stream", () => {
    it("tts-streamer: an extra is_final gives no second final, and the final comes after the audio", async () => {
      const t = await load("tts-streamer", "tts", await fixtureDir("tiny-codec-tts"));
      t.node.receive({ payload: "Hello there, this is a sentence.", is_final: false, stream_id: "s" });
      t.node.receive({ payload: "", is_final: true, stream_id: "s" });
      t.node.receive({ payload: "", is_final: true, stream_id: "s" });
      await waitFor(() => finals(t.out, "s").length >= 1);
      await sleep(500);
      t.node.receive({ payload: "", is_final: true, stream_id: "s" });
      await sleep(300);
      const msgs = of(t.out, "s");
      assert.equal(finals(t.out, "s").length, 1, JSON.stringify(msgs.map((m) => [m.is_final, (m.payload as Float32Array).length])));
      assert.equal(msgs[msgs.length - 1].is_final, true, "the final is the stream's last msg");
      assert.ok(msgs.length > 1 && (msgs[0].payload as Float32Array).length > 0, "audio comes before the final");
      assert.equal(t.errors.length, 0);
    });

    it("llm-stream: a prompt with the id of a running stream is refused; the stream has one final", async () => {
      const t = await load("llm-stream", "llm", await fixtureDir("tiny-llm"), { maxNewTokens: "200", temperature: "0.9", seed: "3" }, 2);
      t.node.receive({ payload: "Tell me a story", stream_id: "a" });
      await waitFor(() => of(t.out, "a").length >= 1);
      t.node.receive({ payload: "And another", stream_id: "a" });
      await waitFor(() => t.errors.length >= 1);
      assert.match(String((t.errors[0].error as { message: string }).message), /stream 'a' is still running/);
      await waitFor(() => finals(t.out, "a").length >= 1);
      await sleep(300);
      assert.equal(finals(t.out, "a").length, 1);
      const indexes = of(t.out, "a").filter((m) => m.parts).map((m) => (m.parts as { index: number }).index);
      assert.equal(new Set(indexes).size, indexes.length, "parts indexes of one stream never repeat");
    });

    it("whisper-streamer: frames after the finish of a turn are dropped; one final", async () => {
      const wav = await readWavFile(sharedDir("audio", "count_16k.wav"));
      const t = await load("whisper-streamer", "asr", await fixtureDir("tiny-whisper"), { language: "en", partialIntervalMs: "0" }, 2);
      const frame = wav.samples.slice(0, 3200);
      t.node.receive({ payload: frame, stream_id: "w" });
      t.node.receive({ payload: frame, stream_id: "w", finish: true });
      t.node.receive({ payload: frame, stream_id: "w" });
      t.node.receive({ payload: frame, stream_id: "w", is_final: true });
      await waitFor(() => finals(t.out, "w").length >= 1);
      t.node.receive({ payload: frame, stream_id: "w" });
      t.node.receive({ payload: new Float32Array(0), stream_id: "w", finish: true });
      await sleep(1500);
      assert.equal(finals(t.out, "w").length, 1);
      assert.equal(t.errors.length, 0, JSON.stringify(t.errors.map((e) => (e.error as { message: string }).message)));
    });

    it("audio-out: an extra is_final gives no second drained", async () => {
      const t = await load("audio-out", undefined, undefined, { sink: "null" });
      t.node.receive({ payload: new Float32Array(1600), sample_rate: 16000, stream_id: "p" });
      t.node.receive({ payload: new Float32Array(0), sample_rate: 16000, stream_id: "p", is_final: true });
      t.node.receive({ payload: new Float32Array(0), sample_rate: 16000, stream_id: "p", is_final: true });
      await waitFor(() => t.out.some((m) => m.event === "drained"));
      t.node.receive({ is_final: true, stream_id: "p" });
      await sleep(400);
      assert.deepEqual(t.out.filter((m) => m.event === "drained").map((m) => m.stream_id), ["p"]);
    });
  });

  it("a model that failed to load: one error per stream, a red status, frames dropped quietly until the next turn", async () => {
    const t = await load("whisper-streamer", "asr", path.join(os.tmpdir(), "voice-stream-no-such-whisper"), { language: "en" }, 2);
    for (let i = 0; i < 20; i++) t.node.receive({ payload: new Float32Array(320) });
    await waitFor(() => t.errors.length >= 1);
    await sleep(300);
    assert.equal(t.errors.length, 1);
    assert.match(String((t.errors[0].error as { message: string }).message), /voice-stream-no-such-whisper/);
    assert.ok(t.statuses.some((s) => s.fill === "red"));
    t.node.receive({ finish: true });
    for (let i = 0; i < 10; i++) t.node.receive({ payload: new Float32Array(320) });
    await waitFor(() => t.errors.length >= 2);
    await sleep(300);
    assert.equal(t.errors.length, 2, "the next turn reports once again");
  });

  it("a redeploy while the model is still loading reports nothing", async () => {
    const dir = await fixtureDir("tiny-codec-tts");
    for (let i = 0; i < 5; i++) {
      const t = await load("tts-streamer", "tts", dir);
      const reported: unknown[] = [];
      t.node.error = (err: unknown) => reported.push(err);
      t.node.receive({ payload: "Hello there.", stream_id: `r${i}` });
      await helper.unload();
      await sleep(200);
      assert.deepEqual(reported.map(String), [], `redeploy ${i}`);
    }
  });
});
