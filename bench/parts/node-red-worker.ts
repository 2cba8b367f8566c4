/**
 * One Node-RED measurement in its own process (clean RSS), on an embedded runtime through
 * node-red-node-test-helper:
 *   "flow": inject → llm-stream → tts-streamer → audio-out (null sink); chunk rates and the
 *           latency of each hop (first message out of each node after the previous one's).
 *   "share": N llm-stream nodes on one voice-model config node; RSS once all have generated.
 * Prints one JSON line.
 *
 *   node dist/bench/parts/node-red-worker.js '{"mode":"flow","llmDir":...,"ttsDir":...,"runs":5}'
 */
import * as path from "path";
import { nowMs, peakRssMiB, rssMiB, median } from "../stats";

interface WorkerArgs {
  mode: "flow" | "share";
  llmDir: string;
  llmDtype?: string;
  ttsDir?: string;
  nodes?: number;
  runs?: number;
  warmup?: number;
  newTokens?: number;
}

type Msg = Record<string, unknown>;
const NODES = path.join(__dirname, "..", "..", "src", "nodes");

function requireNode(name: string): unknown {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(path.join(NODES, `${name}.js`));
  } catch (err) {
    throw new Error(`the ${name} node is not available (${(err as Error).message.split("\n")[0]})`);
  }
}

function modelConfig(id: string, kind: string, enginesPath: string, config: Record<string, unknown> = {}) {
  return { id, type: "voice-model", name: `${kind} model`, kind, enginesPath, revision: "main", config: JSON.stringify(config) };
}

async function flowMode(args: WorkerArgs, helper: any): Promise<unknown> {
  const nodes = ["voice-model", "llm-stream", "tts-streamer"].map(requireNode);
  let audioOutMissing: string | undefined;
  try {
    nodes.push(requireNode("audio-out"));
  } catch (err) {
    audioOutMissing = (err as Error).message;
  }
  const flow = [
    modelConfig("m_llm", "llm", args.llmDir, args.llmDtype ? { dtype: args.llmDtype } : {}),
    modelConfig("m_tts", "tts", args.ttsDir ?? "espeak", args.ttsDir ? {} : { engine: "espeak" }),
    // Node ids must not equal any config value ("llm", "tts" are voice-model kinds): Node-RED reads such values as references.
    { id: "n_llm", type: "llm-stream", model: "m_llm", maxNewTokens: args.newTokens ?? 48, temperature: 0, wires: [["n_tts", "at_llm"], []] },
    { id: "n_tts", type: "tts-streamer", model: "m_tts", wires: [["out", "at_tts"]] },
    // The null sink: audio-out with no device, as in CI (its own option name is tried both ways).
    audioOutMissing ? { id: "out", type: "helper" } : { id: "out", type: "audio-out", sink: "null", device: "null", wires: [["at_out"]] },
    { id: "at_llm", type: "helper" },
    { id: "at_tts", type: "helper" },
    { id: "at_out", type: "helper" },
  ];
  await helper.load(nodes, flow);
  const seen: Record<string, { t: number; msg: Msg }[]> = { at_llm: [], at_tts: [], at_out: [] };
  for (const id of Object.keys(seen)) helper.getNode(id).on("input", (msg: Msg) => seen[id].push({ t: nowMs(), msg }));
  const runs: Record<string, number>[] = [];
  for (let r = 0; r < (args.warmup ?? 1) + (args.runs ?? 5); r++) {
    for (const list of Object.values(seen)) list.length = 0;
    const streamId = `bench-${r}`;
    const started = nowMs();
    helper.getNode("n_llm").receive({ payload: "Tell me a short story about a cat.", stream_id: streamId, seed: 1 });
    // Done when audio-out reports the stream drained (without audio-out: the final TTS chunk), or after 120 s.
    const finished = () => (audioOutMissing ? seen.at_tts.some((e) => e.msg.is_final === true) : seen.at_out.some((e) => e.msg.event === "drained"));
    for (let i = 0; i < 120000 && !finished(); i += 5) await new Promise((res) => setTimeout(res, 5));
    const ended = nowMs();
    const firstLlm = seen.at_llm[0]?.t ?? NaN;
    const firstAudio = seen.at_tts.find((e) => (e.msg.payload as Float32Array | undefined)?.length)?.t ?? NaN;
    const lastLlm = seen.at_llm[seen.at_llm.length - 1]?.t ?? NaN;
    const lastTts = seen.at_tts[seen.at_tts.length - 1]?.t ?? NaN;
    const drained = seen.at_out.find((e) => e.msg.event === "drained")?.t ?? NaN;
    const startedPlaying = seen.at_out.find((e) => e.msg.event === "started")?.t ?? NaN;
    const audioSeconds = seen.at_tts.reduce((sum, e) => {
      const audio = e.msg.payload as Float32Array | undefined;
      return sum + (audio?.length ? audio.length / Number(e.msg.sample_rate ?? 24000) : 0);
    }, 0);
    const llmSpan = (lastLlm - firstLlm) / 1000;
    const ttsSpan = (lastTts - firstAudio) / 1000;
    if (r >= (args.warmup ?? 1)) {
      runs.push({
        llmChunks: seen.at_llm.length,
        ttsChunks: seen.at_tts.length,
        outEvents: seen.at_out.length,
        llmChunksPerSecond: (seen.at_llm.length - 1) / llmSpan,
        ttsChunksPerSecond: (seen.at_tts.length - 1) / ttsSpan,
        injectToFirstTokenMs: firstLlm - started,
        firstTokenToFirstAudioMs: firstAudio - firstLlm,
        lastAudioToDrainedMs: drained - lastTts,
        firstAudioToPlayingMs: startedPlaying - firstAudio,
        // The null sink paces playback in real time: drained is due audio-duration after playback started.
        drainedLateMs: drained - startedPlaying - audioSeconds * 1000,
        totalMs: ended - started,
      });
    }
  }
  await helper.unload();
  const keys = Object.keys(runs[0] ?? {});
  return { medians: Object.fromEntries(keys.map((k) => [k, median(runs.map((r) => r[k]))])), runs, audioOutMissing };
}

async function shareMode(args: WorkerArgs, helper: any): Promise<unknown> {
  const nodes = ["voice-model", "llm-stream"].map(requireNode);
  const n = args.nodes ?? 1;
  const before = rssMiB();
  const flow: Msg[] = [modelConfig("m_llm", "llm", args.llmDir, args.llmDtype ? { dtype: args.llmDtype } : {})];
  for (let i = 0; i < n; i++) flow.push({ id: `llm${i}`, type: "llm-stream", model: "m_llm", maxNewTokens: 4, temperature: 0, wires: [[], [`done${i}`]] }, { id: `done${i}`, type: "helper" });
  await helper.load(nodes, flow);
  // Every node generates once, so every node has really got its model.
  await Promise.all(
    Array.from({ length: n }, (_, i) =>
      new Promise<void>((resolve) => {
        helper.getNode(`done${i}`).once("input", () => resolve());
        helper.getNode(`llm${i}`).receive({ payload: "Hello", stream_id: `s${i}` });
      }),
    ),
  );
  const after = rssMiB();
  await helper.unload();
  return { nodes: n, rssBeforeMiB: before, rssAfterMiB: after, peakRssMiB: peakRssMiB() };
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2]) as WorkerArgs;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const helper = require("node-red-node-test-helper");
  helper.init(require.resolve("node-red"));
  const result = args.mode === "flow" ? await flowMode(args, helper) : await shareMode(args, helper);
  process.stdout.write(JSON.stringify(result) + "\n");
  process.exit(0);
}

main().catch((err) => {
  process.stdout.write(JSON.stringify({ error: (err as Error).message.split("\n")[0] }) + "\n");
  process.exit(0);
});
