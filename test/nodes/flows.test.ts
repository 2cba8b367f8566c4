import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { fixtureDir } from "../helpers/fixtures";
import { repoRoot, sharedDir } from "../helpers/paths";
import { readWavFile } from "../../src/core/audio/wav";
import { loadAsr } from "../../src/core/asr/loader";
import { localLoadContext } from "../../src/core/registry";
import { convertLlama2c } from "../../src/core/llm/llama2c/convert";
import { concatSamples } from "../core/asr-audio";

// Whole flows of the suite's nodes wired to each other (node-red-node-test-helper): the
// messages one node sends are what the next one takes, with no test code in between.

// eslint-disable-next-line @typescript-eslint/no-require-imports
const helper = require("node-red-node-test-helper");
helper.init(require.resolve("node-red"));

const NODES = path.join(repoRoot(), "dist", "src", "nodes");
const node = (name: string) => require(path.join(NODES, `${name}.js`)); // eslint-disable-line @typescript-eslint/no-require-imports
// eslint-disable-next-line @typescript-eslint/no-require-imports
const catchNode = require("@node-red/nodes/core/common/25-catch.js");

type Msg = Record<string, unknown> & { payload?: unknown };

const model = (id: string, kind: string, enginesPath: string) => ({ id, type: "voice-model", name: `${kind} model`, kind, enginesPath, revision: "main", config: "{}" });

/** Loads `flow` plus a Catch node over every node, and collects what each helper node receives. */
async function load(nodes: unknown[], flow: Record<string, unknown>[], helpers: string[]) {
  const scope = flow.filter((n) => n.type !== "voice-model").map((n) => n.id);
  await helper.load([...nodes, catchNode], [
    ...flow,
    ...helpers.map((id) => ({ id, type: "helper" })),
    { id: "n_catch", type: "catch", scope, wires: [["n_caught"]] },
    { id: "n_caught", type: "helper" },
  ]);
  const seen: Record<string, Msg[]> = { n_caught: [] };
  for (const id of [...helpers, "n_caught"]) {
    seen[id] = [];
    helper.getNode(id).on("input", (m: Msg) => seen[id].push(m));
  }
  return seen;
}

async function waitFor(check: () => boolean, what: string, ms = 90000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("flows of the suite's nodes", function () {
  this.timeout(180000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "vs-flows-"));
  afterEach(() => helper.unload());
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it("audio-in (WAV file) → whisper-streamer (tiny-whisper): one final, equal to a one-shot decode of the file", async () => {
    const dir = await fixtureDir("tiny-whisper");
    const file = sharedDir("audio", "hello_16k.wav");
    const seen = await load([node("voice-model"), node("audio-in"), node("whisper-streamer")], [
      model("m_asr", "asr", dir),
      { id: "n_in", type: "audio-in", source: "file", path: file, realtime: false, wires: [["n_asr", "n_frames"]] },
      { id: "n_asr", type: "whisper-streamer", model: "m_asr", language: "en", partialIntervalMs: "0", wires: [["n_partials"], ["n_finals"]] },
    ], ["n_frames", "n_partials", "n_finals"]);
    helper.getNode("n_in").receive({ payload: "start" });
    await waitFor(() => seen.n_finals.length > 0 || seen.n_caught.length > 0, "the transcript");
    assert.deepEqual(seen.n_caught.map((m) => (m.error as Error).message), []);
    const [final] = seen.n_finals;
    assert.equal(final.kind, "final");
    assert.equal(final.stream_id, seen.n_frames[0].stream_id, "the turn is audio-in's stream");

    const engine = await loadAsr(localLoadContext("asr", { enginesPath: dir }));
    try {
      const { samples, sampleRate } = await readWavFile(file);
      assert.equal(sampleRate, 16000);
      const oneShot = await engine.transcribe(samples, { language: "en" });
      assert.ok(oneShot.text.trim().length > 0, "the fixture says something for real speech");
      assert.equal(final.payload, oneShot.text);
    } finally {
      await engine.dispose();
    }
    for (const p of seen.n_partials) assert.ok(String(final.payload).startsWith(String(p.payload)), "partials are prefixes of the final");
    assert.equal(seen.n_finals.length, 1);
  });

  it("llm-stream (stories260K) → tts-streamer (espeak) → audio-out (file): a valid WAV of what was spoken, then drained", async () => {
    const llmDir = path.join(tmp, "stories260K");
    const stories = sharedDir("models", "stories260K");
    convertLlama2c(path.join(stories, "stories260K.bin"), path.join(stories, "tok512.bin"), llmDir);
    const seen = await load([node("voice-model"), node("llm-stream"), node("tts-streamer"), node("audio-out")], [
      model("m_llm", "llm", llmDir),
      model("m_tts", "tts", "espeak"),
      { id: "n_llm", type: "llm-stream", model: "m_llm", maxNewTokens: "24", temperature: "0", wires: [["n_tts", "n_deltas"], []] },
      { id: "n_tts", type: "tts-streamer", model: "m_tts", wires: [["n_out", "n_audio"]] },
      { id: "n_out", type: "audio-out", sink: "file", path: path.join(tmp, "{stream_id}.wav"), wires: [["n_events"]] },
    ], ["n_deltas", "n_audio", "n_events"]);
    helper.getNode("n_llm").receive({ payload: "Once upon a time", stream_id: "story", raw: true });
    await waitFor(() => seen.n_events.some((e) => e.event === "drained") || seen.n_caught.length > 0, "audio-out's drained event");
    assert.deepEqual(seen.n_caught.map((m) => (m.error as Error).message), []);

    const text = seen.n_deltas.map((m) => String(m.payload ?? "")).join("");
    assert.ok(/\w{3,}/.test(text), `the story has words: ${JSON.stringify(text)}`);
    const audio = seen.n_audio.filter((m) => m.kind === "audio");
    assert.ok(audio.length >= 1);
    assert.ok(audio.every((m) => m.stream_id === "story" && m.sample_rate === 24000));
    const events = seen.n_events.filter((e) => e.stream_id === "story").map((e) => e.event);
    // An underrun in between is allowed (synthesis slower than playback on a loaded machine); a stop is not.
    assert.equal(events[0], "started");
    assert.equal(events[events.length - 1], "drained");
    assert.ok(!events.includes("stopped"), events.join(", "));

    const wav = await readWavFile(path.join(tmp, "story.wav"));
    const sent = concatSamples(audio.map((m) => m.payload as Float32Array));
    assert.equal(wav.sampleRate, 24000);
    assert.equal(wav.samples.length, sent.length, "the WAV holds every sample spoken");
    let worst = 0;
    for (let i = 0; i < sent.length; i++) worst = Math.max(worst, Math.abs(wav.samples[i] - Math.max(-1, Math.min(1, sent[i]))));
    assert.ok(worst <= 1 / 32768 + 1e-6, `s16 rounding only (worst ${worst})`);
    console.log(`      story: ${JSON.stringify(text.slice(0, 60))}…, ${audio.length} audio chunks, ${(sent.length / 24000).toFixed(2)} s in story.wav`);
  });
});
