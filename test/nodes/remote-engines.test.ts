/**
 * The suite's nodes on remote engines (issue 15): voice-model configs whose engines path is a
 * local OpenAI-compatible server, the messages the same as with local models.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { readWavFile } from "../../src/core/audio/wav";
import { builtInReply, builtInSpeech, builtInTranscript, MODELS, startOpenAiTestServer, type OpenAiTestServer } from "../helpers/openai-test-server";
import { repoRoot } from "../helpers/paths";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const helper = require("node-red-node-test-helper");
helper.init(require.resolve("node-red"));

const NODES = path.join(repoRoot(), "dist", "src", "nodes");
const node = (name: string) => require(path.join(NODES, `${name}.js`)); // eslint-disable-line @typescript-eslint/no-require-imports
// eslint-disable-next-line @typescript-eslint/no-require-imports
const catchNode = require("@node-red/nodes/core/common/25-catch.js");

type Msg = Record<string, unknown> & { payload?: unknown };
const KEY = "sk-node-secret";

async function load(nodes: unknown[], flow: Record<string, unknown>[], helpers: string[], credentials: Record<string, unknown> = {}) {
  const scope = flow.filter((n) => n.type !== "voice-model").map((n) => n.id);
  await helper.load(
    [...nodes, catchNode],
    [...flow, ...helpers.map((id) => ({ id, type: "helper" })), { id: "n_catch", type: "catch", scope, wires: [["n_caught"]] }, { id: "n_caught", type: "helper" }],
    credentials,
  );
  const seen: Record<string, Msg[]> = { n_caught: [] };
  for (const id of [...helpers, "n_caught"]) {
    seen[id] = [];
    helper.getNode(id).on("input", (m: Msg) => seen[id].push(m));
  }
  return seen;
}

async function waitFor(check: () => boolean, what: string, ms = 20000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("nodes on remote engines (OpenAI-compatible server)", function () {
  this.timeout(30000);
  let server: OpenAiTestServer;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "vs-remote-nodes-"));
  const remote = (id: string, kind: string, serverModel: string, extra: Record<string, unknown> = {}) => ({
    id, type: "voice-model", name: `${kind} remote`, kind, enginesPath: server.url, serverModel, revision: "main", config: "", ...extra,
  });
  beforeEach(async () => {
    server = await startOpenAiTestServer({ apiKey: KEY });
  });
  afterEach(async () => {
    await helper.unload();
    await server.close();
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it("llm-stream (remote) → tts-streamer (remote http) → audio-out (file): every sample in the WAV, then drained", async () => {
    const seen = await load([node("voice-model"), node("llm-stream"), node("tts-streamer"), node("audio-out")], [
      remote("m_llm", "llm", MODELS.llm),
      remote("m_tts", "tts", MODELS.tts, { voice: "nova" }),
      { id: "n_llm", type: "llm-stream", model: "m_llm", wires: [["n_tts", "n_deltas"], []] },
      { id: "n_tts", type: "tts-streamer", model: "m_tts", wires: [["n_out", "n_audio"]] },
      { id: "n_out", type: "audio-out", sink: "file", path: path.join(tmp, "{stream_id}.wav"), wires: [["n_events"]] },
    ], ["n_deltas", "n_audio", "n_events"], { m_llm: { token: KEY }, m_tts: { token: KEY } });
    helper.getNode("n_llm").receive({ payload: "tell me. a story", stream_id: "remote-story" });
    await waitFor(() => seen.n_events.some((e) => e.event === "drained") || seen.n_caught.length > 0, "audio-out's drained event");
    assert.deepEqual(seen.n_caught.map((m) => (m.error as Error).message), []);

    const reply = builtInReply({ messages: [{ role: "user", content: "tell me. a story" }] });
    const deltas = seen.n_deltas.filter((m) => !m.is_final);
    assert.deepEqual(deltas.map((m) => m.payload), reply);
    assert.ok(seen.n_deltas.every((m) => m.stream_id === "remote-story"));
    const final = seen.n_deltas[seen.n_deltas.length - 1];
    assert.equal(final.is_final, true);
    assert.equal(final.text, reply.join(""));
    assert.equal(final.token_counts, "usage");

    const speech = server.requests.filter((r) => r.path === "/v1/audio/speech").map((r) => String(r.json!.input));
    assert.ok(speech.length >= 2, `spoken in spans: ${JSON.stringify(speech)}`);
    assert.ok(server.requests.every((r) => r.authorization === `Bearer ${KEY}`));
    const audio = seen.n_audio.filter((m) => m.kind === "audio" && !m.is_final);
    assert.ok(audio.every((m) => m.sample_rate === 24000 && m.stream_id === "remote-story"));
    const expectedSamples = speech.reduce((n, text) => n + builtInSpeech(text, "nova").length, 0);
    const wav = await readWavFile(path.join(tmp, "remote-story.wav"));
    assert.equal(wav.sampleRate, 24000);
    assert.equal(wav.samples.length, expectedSamples, "the WAV holds every sample the server spoke");
    assert.equal(seen.n_events[seen.n_events.length - 1].event, "drained");
  });

  it("whisper-streamer (remote): frames, a flush, then finish → partials and one final over all audio", async () => {
    const seen = await load([node("voice-model"), node("whisper-streamer")], [
      remote("m_asr", "asr", MODELS.asr),
      { id: "n_asr", type: "whisper-streamer", model: "m_asr", language: "en", wires: [["n_partials"], ["n_finals"]] },
    ], ["n_partials", "n_finals"], { m_asr: { token: KEY } });
    const asr = helper.getNode("n_asr");
    const frame = new Float32Array(8000).fill(0.05);
    asr.receive({ payload: frame, stream_id: "turn" });
    asr.receive({ payload: frame, stream_id: "turn", flush: true });
    asr.receive({ payload: frame, stream_id: "turn", finish: true });
    await waitFor(() => seen.n_finals.length > 0 || seen.n_caught.length > 0, "the final");
    assert.deepEqual(seen.n_caught.map((m) => (m.error as Error).message), []);
    const expected = `${builtInTranscript(16000, 16000)} ${builtInTranscript(8000, 16000)}`;
    assert.equal(seen.n_finals[0].payload, expected);
    assert.equal(seen.n_finals[0].stream_id, "turn");
    assert.equal(seen.n_partials[0].payload, builtInTranscript(16000, 16000));
  });

  it("a wrong key: a Catch node gets an error naming the server and the credential; the key is nowhere", async () => {
    const seen = await load([node("voice-model"), node("llm-stream")], [
      remote("m_llm", "llm", MODELS.llm),
      { id: "n_llm", type: "llm-stream", model: "m_llm", wires: [["n_deltas"], []] },
    ], ["n_deltas"], { m_llm: { token: "sk-wrong-key" } });
    const statuses: unknown[] = [];
    const llm = helper.getNode("n_llm");
    const status = llm.status.bind(llm);
    llm.status = (s: unknown) => {
      statuses.push(s);
      return status(s);
    };
    llm.receive({ payload: "hi" });
    await waitFor(() => seen.n_caught.length > 0, "the error");
    const message = (seen.n_caught[0].error as { message: string }).message;
    assert.match(message, new RegExp(`${server.url}/chat/completions answered 401.*Check the API key`));
    const everything = JSON.stringify([seen, statuses]);
    assert.ok(!everything.includes("sk-wrong-key") && !everything.includes(KEY), "no key in messages or status");
  });

  it("two configs of one server with different keys do not share an engine: each request carries its own key", async () => {
    const seen = await load([node("voice-model"), node("llm-stream")], [
      remote("m_a", "llm", MODELS.llm),
      remote("m_b", "llm", MODELS.llm),
      { id: "n_a", type: "llm-stream", model: "m_a", wires: [["n_out_a"], []] },
      { id: "n_b", type: "llm-stream", model: "m_b", wires: [["n_out_b"], []] },
    ], ["n_out_a", "n_out_b"], { m_a: { token: KEY }, m_b: { token: "sk-other" } });
    helper.getNode("n_a").receive({ payload: "a" });
    helper.getNode("n_b").receive({ payload: "b" });
    await waitFor(() => seen.n_out_a.some((m) => m.is_final) && seen.n_caught.length > 0, "a's answer and b's error");
    assert.match((seen.n_caught[0].error as { message: string }).message, /answered 401/);
    assert.deepEqual(server.requests.map((r) => r.authorization).sort(), [`Bearer ${KEY}`, "Bearer sk-other"]);
  });

  it("32 concurrent streams through one remote voice-model config: each equal to its solo run", async () => {
    const seen = await load([node("voice-model"), node("llm-stream")], [
      remote("m_llm", "llm", MODELS.llm),
      { id: "n_llm", type: "llm-stream", model: "m_llm", wires: [["n_out"], []] },
    ], ["n_out"], { m_llm: { token: KEY } });
    const llm = helper.getNode("n_llm");
    const prompt = (i: number) => `question ${i}: ${"more ".repeat(i % 7)}words`;
    const streamOf = (id: string) => seen.n_out.filter((m) => m.stream_id === id);
    const summary = (msgs: Msg[]) => ({ deltas: msgs.filter((m) => !m.is_final).map((m) => m.payload), final: msgs.find((m) => m.is_final)?.text, count: msgs.length });
    const solo: ReturnType<typeof summary>[] = [];
    for (let i = 0; i < 32; i++) {
      llm.receive({ payload: prompt(i), stream_id: `solo-${i}` });
      await waitFor(() => streamOf(`solo-${i}`).some((m) => m.is_final) || seen.n_caught.length > 0, `solo ${i}`);
      solo.push(summary(streamOf(`solo-${i}`)));
    }
    // The server answers none of the 32 until all 32 are open: they truly run at once.
    server.holdChatsUntilOpen(32);
    for (let i = 0; i < 32; i++) llm.receive({ payload: prompt(i), stream_id: `together-${i}` });
    await waitFor(() => Array.from({ length: 32 }, (_, i) => i).every((i) => streamOf(`together-${i}`).some((m) => m.is_final)) || seen.n_caught.length > 0, "all 32");
    assert.deepEqual(seen.n_caught.map((m) => (m.error as Error).message), []);
    for (let i = 0; i < 32; i++) {
      const msgs = streamOf(`together-${i}`);
      assert.deepEqual(summary(msgs), solo[i], `stream ${i}`);
      assert.deepEqual(msgs.map((m) => (m.parts as { index: number }).index), msgs.map((_, k) => k), `stream ${i} parts in order`);
    }
    assert.equal(new Set(server.requests.map((r) => r.authorization)).size, 1);
    assert.equal(server.requests.length, 64);
  });

  it("the editor's catalog endpoint lists the server's models with the stored credential", async () => {
    await load([node("voice-model")], [remote("m_llm", "llm", "")], [], { m_llm: { token: KEY } });
    const ok = await helper.request().post("/voice-model/catalog").send({ url: server.url, id: "m_llm", token: "__PWRD__" }).expect(200);
    assert.ok(ok.body.models.includes(MODELS.llm));
    const denied = await helper.request().post("/voice-model/catalog").send({ url: server.url, token: "sk-typed-wrong" }).expect(502);
    assert.match(denied.body.error, /answered 401/);
    assert.ok(!JSON.stringify(denied.body).includes("sk-typed-wrong"));
    const notRemote = await helper.request().post("/voice-model/catalog").send({ url: "onnx-community/x" }).expect(400);
    assert.match(notRemote.body.error, /not a remote engines path/);
  });
});
