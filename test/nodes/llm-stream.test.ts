import { strict as assert } from "assert";
import * as os from "os";
import * as path from "path";
import { fixtureDir } from "../helpers/fixtures";
import { repoRoot } from "../helpers/paths";
import { OnnxLlmEngine } from "../../src/core/llm/engines/onnx/onnx-llm-engine";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const helper = require("node-red-node-test-helper");
helper.init(require.resolve("node-red"));

const NODES = path.join(repoRoot(), "dist", "src", "nodes");
// eslint-disable-next-line @typescript-eslint/no-require-imports
const voiceModelNode = require(path.join(NODES, "voice-model.js"));
// eslint-disable-next-line @typescript-eslint/no-require-imports
const llmStreamNode = require(path.join(NODES, "llm-stream.js"));
// eslint-disable-next-line @typescript-eslint/no-require-imports
const catchNode = require("@node-red/nodes/core/common/25-catch.js");

type Msg = Record<string, unknown> & { payload?: unknown };

/** The voice-model config node for a local model directory. */
function modelConfig(id: string, enginesPath: string) {
  return { id, type: "voice-model", name: "llm model", kind: "llm", enginesPath, revision: "main", config: "{}" };
}

interface Loaded {
  llm: { receive(msg: Msg): void };
  chunks: Msg[];
  results: Msg[];
  errors: Msg[];
  statuses: Record<string, unknown>[];
  /** Resolves with [chunks, result] of `streamId` once its output-2 message is out. */
  ended(streamId: string): Promise<[Msg[], Msg]>;
}

async function load(settings: Record<string, unknown> = {}, options: { modelDir?: string; noModel?: boolean } = {}): Promise<Loaded> {
  const dir = options.modelDir ?? (await fixtureDir("tiny-llm"));
  // Flow nodes sit on a tab with a position, as the editor saves them: without x/y Node-RED
  // would take them for config nodes (and a Catch node scoped to one would never fire).
  const onTab = (node: Record<string, unknown>, i: number) => ({ z: "tab", x: 100 + 150 * i, y: 100, ...node });
  const flow = [
    { id: "tab", type: "tab", label: "llm-stream test" },
    modelConfig("model", dir),
    ...[
      { id: "llm-node", type: "llm-stream", model: options.noModel ? "" : "model", wires: [["chunks"], ["results"]], ...settings },
      { id: "chunks", type: "helper", wires: [] },
      { id: "results", type: "helper", wires: [] },
      { id: "catch", type: "catch", scope: ["llm-node"], uncaught: false, wires: [["caught"]] },
      { id: "caught", type: "helper", wires: [] },
    ].map(onTab),
  ];
  await helper.load([voiceModelNode, llmStreamNode, catchNode], flow);
  const chunks: Msg[] = [];
  const results: Msg[] = [];
  const errors: Msg[] = [];
  const statuses: Record<string, unknown>[] = [];
  const waiters: { id: string; resolve: (r: [Msg[], Msg]) => void }[] = [];
  const llm = helper.getNode("llm-node");
  const setStatus = llm.status.bind(llm);
  llm.status = (status: Record<string, unknown>) => {
    statuses.push(status);
    return setStatus(status);
  };
  helper.getNode("chunks").on("input", (msg: Msg) => chunks.push(msg));
  helper.getNode("results").on("input", (msg: Msg) => {
    results.push(msg);
    for (const w of waiters.filter((w) => w.id === msg.stream_id)) w.resolve([chunks.filter((c) => c.stream_id === w.id), msg]);
  });
  helper.getNode("caught").on("input", (msg: Msg) => errors.push(msg));
  return {
    llm,
    chunks,
    results,
    errors,
    statuses,
    ended: (id) =>
      new Promise((resolve) => {
        const result = results.find((r) => r.stream_id === id);
        if (result) return resolve([chunks.filter((c) => c.stream_id === id), result]);
        waiters.push({ id, resolve });
      }),
  };
}

const waitFor = async (check: () => boolean, ms = 20000) => {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 5));
  }
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const textOf = (msgs: Msg[]) => msgs.map((m) => m.payload).join("");

describe("llm-stream node", function () {
  this.timeout(60000);
  afterEach(async () => {
    await helper.unload();
  });

  it("streams deltas on output 1 (parts, stream_id, final last) and the whole text with metrics on output 2", async () => {
    const t = await load({ maxNewTokens: "20", temperature: "0.8", seed: "3" });
    t.llm.receive({ payload: "Tell me about the weather", topic: "weather", stream_id: "s1" });
    const [chunks, result] = await t.ended("s1");
    assert.ok(chunks.length >= 2);
    assert.equal(chunks.filter((c) => c.is_final).length, 1);
    const final = chunks[chunks.length - 1];
    assert.equal(final.is_final, true);
    chunks.forEach((c, i) => {
      assert.equal(c.stream_id, "s1");
      assert.equal(c.topic, "weather", "the input msg's properties ride along");
      assert.equal(c.index, i);
      assert.equal(c.payload, c.delta);
      assert.equal(c.kind, "text");
      assert.deepEqual(c.parts, c.is_final ? { id: "s1", index: i, count: i + 1 } : { id: "s1", index: i });
    });
    assert.equal(final.text, textOf(chunks));
    assert.equal(final.generated_tokens, 20);
    assert.equal(final.finish_reason, "length");

    assert.equal(t.results.length, 1);
    assert.equal(result.payload, textOf(chunks));
    assert.equal(result.stream_id, "s1");
    assert.equal(result.topic, "weather");
    assert.equal(result.finish_reason, "length");
    for (const key of ["time_to_first_token", "total_seconds", "prompt_tokens", "generated_tokens", "tokens_per_second"]) {
      assert.equal(typeof result[key], "number", key);
    }
    assert.equal(result.parts, undefined, "output 2 is one whole message, not part of a sequence");
    assert.equal(result.is_final, undefined);
    assert.ok(t.statuses.some((s) => s.fill === "blue" && s.shape === "dot" && /^streaming · \d+ tok\/s$/.test(String(s.text))));
    await waitFor(() => t.statuses.some((s) => s.fill === "green" && s.shape === "dot" && s.text === "done · 20 tokens"));
    assert.equal(t.errors.length, 0);
  });

  it("generates a stream_id when the msg has none, and accepts chat messages as payload", async () => {
    const t = await load({ maxNewTokens: "5" });
    t.llm.receive({
      payload: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "Hello" },
      ],
    });
    await waitFor(() => t.results.length === 1);
    const id = t.results[0].stream_id;
    assert.equal(typeof id, "string");
    assert.ok((id as string).length > 0);
    assert.ok(t.chunks.every((c) => c.stream_id === id));
    assert.equal(t.results[0].generated_tokens, 5);
  });

  it("msg properties override the node's settings", async () => {
    const t = await load({ maxNewTokens: "30", temperature: "1", seed: "1", system: "You are a helpful assistant." });
    t.llm.receive({ payload: "Hi", stream_id: "base" });
    t.llm.receive({ payload: "Hi", stream_id: "short", max_new_tokens: 4 });
    t.llm.receive({ payload: "Hi", stream_id: "seedA", seed: 77, max_new_tokens: 15 });
    t.llm.receive({ payload: "Hi", stream_id: "seedB", seed: 77, max_new_tokens: 15 });
    t.llm.receive({ payload: "Hi", stream_id: "seedC", seed: 78, max_new_tokens: 15 });
    t.llm.receive({ payload: "Hi", stream_id: "greedy1", temperature: 0, seed: 1, max_new_tokens: 10 });
    t.llm.receive({ payload: "Hi", stream_id: "greedy2", temperature: 0, seed: 2, max_new_tokens: 10 });
    t.llm.receive({ payload: "Hi", stream_id: "system", system: "Short.", max_new_tokens: 2 });
    t.llm.receive({ payload: "Hi", stream_id: "topk", top_k: 1, top_p: 0.5, max_new_tokens: 10 });
    t.llm.receive({ payload: "Hi", stream_id: "raw", raw: true, max_new_tokens: 2 });
    t.llm.receive({ payload: "Hi", stream_id: "thinking", enable_thinking: true, max_new_tokens: 2 });
    t.llm.receive({ payload: "Hi", stream_id: "strings", temperature: "0", max_new_tokens: "10", seed: "5" });
    const [, base] = await t.ended("base");
    const [, short] = await t.ended("short");
    const [, a] = await t.ended("seedA");
    const [, b] = await t.ended("seedB");
    const [, c] = await t.ended("seedC");
    const [, g1] = await t.ended("greedy1");
    const [, g2] = await t.ended("greedy2");
    const [, system] = await t.ended("system");
    const [, topk] = await t.ended("topk");
    assert.equal(base.generated_tokens, 30);
    assert.equal(short.generated_tokens, 4);
    assert.equal(a.payload, b.payload);
    assert.notEqual(a.payload, c.payload);
    assert.equal(g1.payload, g2.payload);
    // top_k 1 is greedy too.
    assert.equal(topk.payload, g1.payload);
    assert.ok((system.prompt_tokens as number) < (base.prompt_tokens as number), "msg.system replaced the node's system prompt");
    const [, raw] = await t.ended("raw");
    const [, thinking] = await t.ended("thinking");
    const [, strings] = await t.ended("strings");
    // Raw: "<system>\n\nHi" without the template's role markers.
    assert.ok((raw.prompt_tokens as number) < (base.prompt_tokens as number) - 6, `raw ${raw.prompt_tokens}, templated ${base.prompt_tokens}`);
    // Thinking on drops the pre-filled empty <think></think> block from the prompt.
    assert.ok((thinking.prompt_tokens as number) < (base.prompt_tokens as number));
    // Numbers as strings (from a change node) are taken as numbers.
    assert.equal(strings.payload, g1.payload);
  });

  it("stops at stop sequences (msg.stop_sequences, or the node's list) without sending them", async () => {
    let t = await load({ maxNewTokens: "40", temperature: "0" });
    t.llm.receive({ payload: "Hello there", stream_id: "free" });
    const [, free] = await t.ended("free");
    const text = free.payload as string;
    // A stop sequence from the middle of the greedy answer: 3 characters, none that the editor field escapes.
    let at = Math.floor(text.length / 2);
    while (/[\n\t\\]/.test(text.slice(at, at + 3)) && at < text.length - 3) at++;
    const stop = text.slice(at, at + 3);
    assert.equal(stop.length, 3);
    const expected = text.slice(0, text.indexOf(stop));

    t.llm.receive({ payload: "Hello there", stream_id: "stopped", stop_sequences: [stop] });
    const [chunks, result] = await t.ended("stopped");
    assert.equal(result.payload, expected);
    assert.equal(textOf(chunks), expected);
    assert.equal(result.finish_reason, "stop");

    await helper.unload();
    t = await load({ maxNewTokens: "40", temperature: "0", stop: `never matches\n${stop}` });
    t.llm.receive({ payload: "Hello there", stream_id: "node-stop" });
    const [, fromNode] = await t.ended("node-stop");
    assert.equal(fromNode.payload, expected);
    assert.equal(fromNode.finish_reason, "stop");
  });

  it("msg.cancel with a stream_id cancels that stream only: one cancelled final chunk, then nothing", async () => {
    const t = await load({ maxNewTokens: "1500", temperature: "0.9", seed: "5" });
    t.llm.receive({ payload: "Tell me a long story", stream_id: "a" });
    t.llm.receive({ payload: "Tell me a short story", stream_id: "b", max_new_tokens: 30 });
    await waitFor(() => t.chunks.filter((c) => c.stream_id === "a").length >= 3);
    t.llm.receive({ cancel: true, stream_id: "a" });
    const [chunksA, resultA] = await t.ended("a");
    const [chunksB, resultB] = await t.ended("b");
    const countA = chunksA.length;
    await sleep(100);
    assert.equal(t.chunks.filter((c) => c.stream_id === "a").length, countA, "nothing after the cancelled chunk");
    const finalA = chunksA[chunksA.length - 1];
    assert.deepEqual([finalA.kind, finalA.is_final, finalA.finish_reason, finalA.payload], ["cancelled", true, "cancelled", ""]);
    assert.equal(chunksA.filter((c) => c.is_final).length, 1);
    assert.ok((finalA.generated_tokens as number) < 1500);
    assert.equal(finalA.cancel, undefined, "the control flag does not travel on");
    assert.equal(resultA.finish_reason, "cancelled");
    assert.equal(resultA.payload, textOf(chunksA));
    assert.equal(chunksB[chunksB.length - 1].kind, "text");
    assert.equal(resultB.generated_tokens, 30);
    await waitFor(() => OnnxLlmEngine.liveGenerations === 0, 2000);
  });

  it("msg.cancel without a stream_id cancels every stream", async () => {
    const t = await load({ maxNewTokens: "1500", seed: "5", temperature: "0.9" });
    t.llm.receive({ payload: "One", stream_id: "x" });
    t.llm.receive({ payload: "Two", stream_id: "y" });
    await waitFor(() => t.chunks.some((c) => c.stream_id === "x") && t.chunks.some((c) => c.stream_id === "y"));
    t.llm.receive({ cancel: true });
    const [, x] = await t.ended("x");
    const [, y] = await t.ended("y");
    assert.equal(x.finish_reason, "cancelled");
    assert.equal(y.finish_reason, "cancelled");
  });

  it("reports bad input to a Catch node with a clear message and a red ring", async () => {
    const t = await load();
    const cases: [Msg, RegExp][] = [
      [{ payload: 42 }, /msg.payload must be the prompt text/],
      [{ payload: { text: "hi" } }, /msg.payload must be the prompt text/],
      [{}, /msg.payload must be the prompt text .* got nothing/],
      [{ payload: "" }, /prompt is empty/],
      [{ payload: [] }, /message list is empty/],
      [{ payload: "hi", temperature: "hot" }, /temperature must be/],
      [{ payload: "hi", max_new_tokens: -1 }, /max_new_tokens must be/],
    ];
    for (const [msg, message] of cases) {
      const before = t.errors.length;
      t.llm.receive(msg);
      await waitFor(() => t.errors.length === before + 1);
      assert.match(String((t.errors[before].error as { message: string }).message), message);
    }
    assert.ok(t.statuses.some((s) => s.fill === "red" && s.shape === "ring"));
    assert.equal(t.results.length, 0);
    // The node still works.
    t.llm.receive({ payload: "hi", max_new_tokens: 2, stream_id: "ok" });
    const [, result] = await t.ended("ok");
    assert.equal(result.generated_tokens, 2);
  });

  it("reports a missing model configuration to a Catch node", async () => {
    const t = await load({}, { noModel: true });
    t.llm.receive({ payload: "hi" });
    await waitFor(() => t.errors.length === 1);
    assert.match(String((t.errors[0].error as { message: string }).message), /model/i);
    assert.equal(t.chunks.length, 0);
  });

  it("reports a model that fails to load to a Catch node", async () => {
    const t = await load({}, { modelDir: path.join(os.tmpdir(), "voice-stream-no-such-model") });
    t.llm.receive({ payload: "hi" });
    await waitFor(() => t.errors.length === 1);
    assert.match(String((t.errors[0].error as { message: string }).message), /voice-stream-no-such-model|not found|no such/i);
    assert.ok(t.statuses.some((s) => s.fill === "red"));
  });

  it("a redeploy mid-stream leaves no generation running and sends nothing after close", async () => {
    const t = await load({ maxNewTokens: "1500", temperature: "0.9", seed: "9" });
    t.llm.receive({ payload: "Tell me a long story", stream_id: "long" });
    t.llm.receive({ payload: "And another", stream_id: "long2" });
    await waitFor(() => t.chunks.length >= 3);
    assert.ok(OnnxLlmEngine.liveGenerations >= 1);
    await helper.unload();
    const sent = t.chunks.length;
    await waitFor(() => OnnxLlmEngine.liveGenerations === 0, 2000);
    await sleep(100);
    assert.equal(t.chunks.length, sent);
    assert.equal(t.results.length, 0);
  });
});
