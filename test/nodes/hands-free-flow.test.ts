/**
 * The hands-free example flow (examples/Hands-free voice assistant.json) run in Node-RED with
 * the tiny offline models: a WAV stream stands in for the microphone (20 ms frames in real
 * time into the nodes audio-in feeds), audio-out plays into the null sink (paced in real
 * time). Wake word → question → answer → follow-up without the wake word → answer →
 * barge-in with the wake word over the answer.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { readWavFile } from "../../src/core/audio/wav";
import { convertLlama2c } from "../../src/core/llm/llama2c/convert";
import { fixtureDir } from "../helpers/fixtures";
import { repoRoot, sharedDir } from "../helpers/paths";
import { wakeModelFolder } from "../helpers/wake-models";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const helper = require("node-red-node-test-helper");
helper.init(require.resolve("node-red"));

const NODES = path.join(repoRoot(), "dist", "src", "nodes");
const node = (name: string) => require(path.join(NODES, `${name}.js`)); // eslint-disable-line @typescript-eslint/no-require-imports
/* eslint-disable @typescript-eslint/no-require-imports */
const coreNodes = [
  require("@node-red/nodes/core/function/10-function.js"),
  require("@node-red/nodes/core/common/25-catch.js"),
  require("@node-red/nodes/core/common/60-link.js"), // the example loops back through link nodes
];
/* eslint-enable @typescript-eslint/no-require-imports */

type Msg = Record<string, unknown>;
type FlowNode = Record<string, unknown> & { id: string; type: string; wires?: string[][] };

const FRAME = 320; // 20 ms at 16 kHz, as audio-in sends

async function clip(name: string): Promise<Float32Array> {
  return (await readWavFile(sharedDir("audio", `${name}.wav`))).samples;
}

function roomTone(seconds: number): Float32Array {
  const out = new Float32Array(Math.round(seconds * 16000));
  let seed = 7;
  for (let i = 0; i < out.length; i++) {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    out[i] = ((seed / 2 ** 32) * 2 - 1) * 0.001;
  }
  return out;
}

describe("hands-free example flow (tiny models, a WAV for the microphone)", function () {
  this.timeout(900000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "vs-handsfree-"));
  after(async () => {
    await helper.unload();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it("wake → question → answer → follow-up without the wake word → answer → barge-in by the wake word", async () => {
    const example = JSON.parse(fs.readFileSync(path.join(repoRoot(), "examples", "Hands-free voice assistant.json"), "utf8")) as FlowNode[];
    const llmDir = path.join(tmp, "stories260K");
    const stories = sharedDir("models", "stories260K");
    convertLlama2c(path.join(stories, "stories260K.bin"), path.join(stories, "tok512.bin"), llmDir);
    const paths: Record<string, string> = { wake: wakeModelFolder(["hey_jarvis_v0.1"]), asr: await fixtureDir("tiny-whisper"), llm: llmDir, tts: "espeak" };

    // The example as shipped, with: the tiny models, the null sink, helpers where the debug node is
    // and on the outputs the test watches, and no comment / inject / audio-in (the test is the microphone).
    const byType = (type: string) => example.find((n) => n.type === type)!;
    const tab = byType("tab").id;
    const mic = byType("audio-in");
    const micTargets = mic.wires![0];
    const flow: FlowNode[] = [];
    for (const n of example) {
      if (["comment", "inject", "audio-in", "debug"].includes(n.type)) continue;
      const copy: FlowNode = { ...n, wires: n.wires?.map((w) => w.filter((id) => example.find((m) => m.id === id)?.type !== "debug")) };
      if (n.type === "voice-model") Object.assign(copy, { enginesPath: paths[String(n.kind)], dtype: "" });
      if (n.type === "audio-out") copy.sink = "null";
      if (n.type === "llm-stream") Object.assign(copy, { maxNewTokens: "200", temperature: "0" });
      // The windows are wall-clock; on a loaded test machine the models run behind the audio,
      // so the test gives the turn-taking more time (the logic is the example's own).
      if (n.type === "function") copy.func = String(n.func).replace("const FOLLOW_UP_MS = 6000;", "const FOLLOW_UP_MS = 120000;").replace("const NO_SPEECH_MS = 5000;", "const NO_SPEECH_MS = 120000;");
      flow.push(copy);
    }
    const watch = (type: string, port: number, helperId: string) => {
      const n = flow.find((m) => m.type === type)!;
      n.wires![port] = [...n.wires![port], helperId];
    };
    watch("function", 2, "h_turns");
    watch("wake-word", 0, "h_wake");
    watch("vad", 1, "h_vad");
    watch("whisper-streamer", 1, "h_final");
    watch("llm-stream", 0, "h_llm");
    watch("audio-out", 0, "h_player");
    const helpers = ["h_turns", "h_wake", "h_vad", "h_final", "h_llm", "h_player", "h_caught"];
    const scope = flow.filter((n) => n.type !== "voice-model" && n.type !== "tab").map((n) => n.id);
    await helper.load(
      [node("voice-model"), node("wake-word"), node("vad"), node("whisper-streamer"), node("llm-stream"), node("tts-streamer"), node("audio-out"), ...coreNodes],
      [...flow, ...helpers.map((id) => ({ id, type: "helper", z: tab })), { id: "n_catch", type: "catch", z: tab, scope, wires: [["h_caught"]] }],
    );
    const missing = [...flow.filter((n) => n.type !== "tab").map((n) => `${n.type}:${n.id}`), ...helpers].filter((id) => !helper.getNode(id.split(":").pop()));
    assert.deepEqual(missing, [], "every node of the flow was created");
    const seen: Record<string, Msg[]> = {};
    const timeline: string[] = [];
    const t0 = Date.now();
    for (const id of helpers) {
      seen[id] = [];
      helper.getNode(id).on("input", (m: Msg) => {
        seen[id].push(m);
        const what = id === "h_llm" ? (m.is_final ? `llm final "${String(m.text ?? "").slice(0, 40)}"` : undefined) : `${id.slice(2)}: ${String(m.payload ?? m.event ?? m.kind).slice(0, 50)}`;
        if (what) timeline.push(`${((Date.now() - t0) / 1000).toFixed(2)} s ${what}`);
      });
    }

    // The microphone: 20 ms frames in real time; what it says is queued by the test as the flow answers.
    // A frame is held back while the wake-word or vad node is more than 200 ms behind: on a loaded
    // test machine the models would otherwise fall behind the wall-clock windows of the turn-taking.
    const completed: Record<string, number> = Object.fromEntries(micTargets.map((id) => [id, 0]));
    const hooks = helper._RED.hooks as { add(name: string, fn: (e: { node: { id: string } }) => void): void; remove(name: string): void };
    hooks.add("onComplete.handsfreeTest", (e) => {
      if (e.node.id in completed) completed[e.node.id]++;
    });
    let fed = 0;
    const queue: Float32Array[] = [];
    let sample = 0;
    let current: Float32Array = new Float32Array(0);
    let stopped = false;
    const say = (audio: Float32Array) => queue.push(audio);
    const feeder = setInterval(() => {
      if (stopped) return;
      const slowest = Math.min(...micTargets.filter((id) => helper.getNode(id).type !== "function").map((id) => completed[id]));
      if (fed - slowest > 10) return;
      fed++;
      if (sample >= current.length) {
        current = queue.shift() ?? roomTone(0.02);
        sample = 0;
      }
      const frame = current.slice(sample, sample + FRAME);
      sample += FRAME;
      for (const id of micTargets) helper.getNode(id).receive({ payload: frame, sample_rate: 16000, stream_id: "mic", is_final: false });
    }, 20);
    const waitFor = async (check: () => boolean, what: string, ms = 240000) => {
      const until = Date.now() + ms;
      while (!check()) {
        if (seen.h_caught.length > 0) throw new Error(`error in the flow: ${(seen.h_caught[0].error as Error)?.message}\n${timeline.join("\n")}`);
        if (Date.now() > until) throw new Error(`timed out waiting for ${what}\n${timeline.join("\n")}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    const turns = () => seen.h_turns.map((m) => String(m.payload));
    // whisper-streamer's output 2 also carries the speculative finals ("Send it early").
    const finals = () => seen.h_final.filter((m) => m.kind === "final");
    // The answer to a turn is its own stream: "<turn>/<n>" when started from speculation n, else the turn's id.
    const answerOf = (final: Msg) => (final.speculation === undefined ? String(final.stream_id) : `${final.stream_id}/${final.speculation}`);
    const events = (name: string) => seen.h_player.filter((m) => m.event === name);

    try {
      // 1. "Hey Jarvis" then a question, then quiet: the turn ends by silence and the answer plays.
      // (hello_16k is not used: hey_jarvis scores 0.85 on it for a step, see RESULTS.md)
      say(roomTone(1));
      say(await clip("hey_jarvis_16k"));
      say(roomTone(0.5));
      say(await clip("weather_16k"));
      await waitFor(() => seen.h_wake.length >= 1, "the wake word");
      assert.equal(seen.h_wake[0].name, "hey_jarvis_v0.1");
      await waitFor(() => turns().includes("turn ended by silence"), "the end of the first turn");
      await waitFor(() => finals().length >= 1, "the first transcript");
      const first = finals()[0];
      assert.equal(first.kind, "final");
      assert.ok(String(first.payload).trim().length > 0, "tiny-whisper transcribes something for real speech");
      await waitFor(() => events("started").length >= 1, "the first answer playing");
      // Only room tone followed the question: the final kept the speculative final, so the answer
      // that plays is the one started early from it (held by audio-out until the final came).
      assert.equal(typeof first.speculation, "number", "the final did not keep the speculative final");
      const speculative = seen.h_final.find((m) => m.kind === "speculative" && m.stream_id === first.stream_id && m.speculation === first.speculation);
      assert.equal(speculative?.payload, first.payload, "the speculative final the final kept says something else");
      assert.ok(seen.h_final.indexOf(speculative!) < seen.h_final.indexOf(first));
      const firstAnswer = answerOf(first);
      assert.equal(events("started")[0].stream_id, firstAnswer, "the answer that played is the early one");
      await waitFor(() => events("drained").length >= 1, "the first answer to finish");

      // 2. A follow-up question without the wake word, inside the follow-up window.
      await waitFor(() => turns().includes("answer done: follow-up window"), "the follow-up window to open");
      say(roomTone(0.5));
      say(await clip("count_16k"));
      await waitFor(() => turns().includes("follow-up question"), "the follow-up question to be heard");
      await waitFor(() => finals().length >= 2, "the follow-up transcript");
      const second = finals()[1];
      assert.notEqual(second.stream_id, first.stream_id, "the follow-up is a turn of its own");
      assert.equal(seen.h_wake.length, 1, "no wake word was said for the follow-up");
      await waitFor(() => events("started").some((e) => e.stream_id === answerOf(second)), "the second answer playing");

      // 3. Barge-in: "Hey Jarvis" over the answer cancels it (audio-out stops) and opens a new turn.
      // (Where this second wake word falls on the wake-word node's 80 ms grid is chance; with the
      // old default patience of 2 steps that missed it in 3 of 4 runs.)
      say(await clip("hey_jarvis_16k"));
      await waitFor(() => turns().some((t) => t.startsWith("barge-in")), "the barge-in");
      await waitFor(() => events("stopped").length >= 1, "audio-out to stop");
      assert.equal(events("drained").filter((e) => e.stream_id === answerOf(second)).length, 0, "the interrupted answer never drained");
      assert.equal(seen.h_wake.length, 2);
      assert.deepEqual(seen.h_caught, []);
      // the vad's events went to the function node in order: starts and ends alternate
      const kinds = seen.h_vad.map((m) => m.kind);
      for (let i = 1; i < kinds.length; i++) assert.notEqual(kinds[i], kinds[i - 1], kinds.join(","));
      console.log(`      ${timeline.filter((l) => !/vad:/.test(l)).join("\n      ")}`);
    } finally {
      stopped = true;
      clearInterval(feeder);
      hooks.remove("onComplete.handsfreeTest");
    }
  });
});
