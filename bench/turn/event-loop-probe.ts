/**
 * What blocks the Node-RED process's event loop during voice turns: runs the turn flow on the
 * tiny models (tiny-whisper, tiny-llm, eSpeak NG) in this process with
 * perf_hooks.monitorEventLoopDelay and a 5 ms watchdog that logs every stall over 50 ms. Run it
 * under `node --cpu-prof` to see which functions hold the loop (top self time).
 *
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof dist/bench/turn/event-loop-probe.js [turns] [speculative_final: on|off]
 *
 * PROBE_ASR_DIR=<whisper folder> probes another Whisper (e.g. bench/out/whisper-base-shaped);
 * BENCH_ASR_WORKER=off runs it on the main thread instead of its worker thread (issue #20), and
 * BENCH_LLM_WORKER=off the LLM likewise.
 */
import { monitorEventLoopDelay } from "perf_hooks";
import { readWavFile } from "../../src/core/audio/wav";
import { fixtureDir } from "../../test/helpers/fixtures";
import { sharedDir } from "../../test/helpers/paths";
import { replyPieces, runTurns } from "./turn-harness";

async function main(): Promise<void> {
  const turns = Number(process.argv[2] ?? 3);
  const speculativeFinal = process.argv[3] === undefined ? undefined : process.argv[3] === "on";
  const { samples } = await readWavFile(sharedDir("audio", "weather_16k.wav"));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const helper = require("node-red-node-test-helper");
  helper.init(require.resolve("node-red"));
  const histogram = monitorEventLoopDelay({ resolution: 5 });
  const stalls: { at: number; ms: number }[] = [];
  const t0 = performance.now();
  let last = t0;
  const watchdog = setInterval(() => {
    const now = performance.now();
    if (now - last > 55) stalls.push({ at: Math.round(last - t0), ms: Math.round(now - last - 5) });
    last = now;
  }, 5);
  histogram.enable();
  const timelines = await runTurns(helper, {
    models: {
      asr: { enginesPath: process.env.PROBE_ASR_DIR || (await fixtureDir("tiny-whisper")), config: process.env.BENCH_ASR_WORKER === "off" ? { worker_thread: false } : {} },
      llm: { enginesPath: await fixtureDir("tiny-llm"), config: process.env.BENCH_LLM_WORKER === "off" ? { worker_thread: false } : {} },
      tts: { enginesPath: "espeak", config: { engine: "espeak" } },
    },
    systemPrompt: "You are a helpful voice assistant. Answer in one short spoken sentence.",
    question: samples,
    replyPieces: replyPieces("It is mild and dry today, with a light breeze from the west and a high of eighteen degrees. Rain comes later."),
    schedule: Array.from({ length: turns }, () => ({ label: "probe", prefixCache: true, firstSpanWords: 8, asrEnd: "finish" as const })),
    turnTimeoutMs: 60000,
    speculativeFinal,
    log: (line) => process.stderr.write(`${Math.round(performance.now() - t0)} ms ${line}\n`),
  });
  histogram.disable();
  clearInterval(watchdog);
  const ms = (ns: number) => Math.round(ns / 1e6);
  const report = {
    turns: timelines.map((t) => ({ ms: t.ms, lateFrames: t.lateFrames })),
    eventLoopDelayMs: { max: ms(histogram.max), p99: ms(histogram.percentile(99)), p90: ms(histogram.percentile(90)), mean: ms(histogram.mean) },
    stallsOver50ms: stalls.length,
    longestStalls: [...stalls].sort((a, b) => b.ms - a.ms).slice(0, 10),
  };
  process.stdout.write(JSON.stringify(report, null, 1) + "\n");
  process.exit(0);
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
