/**
 * ASR streaming benchmark (not a test): per-pass decode time over a 5-minute synthetic turn
 * (speech bursts of 3–6 s between 0.6–1.2 s pauses) on the tiny-whisper fixture, fed in 20 ms
 * frames at "live" pace (a pass is awaited after each partial interval of audio), once with
 * auto flush at VAD pauses (built-in Silero VAD) and once without. Without flush the buffer
 * grows until the 30 s window forces a trim; with it each pass only reads the current phrase.
 *
 *   node dist/bench/asr-streaming.js [--model <dir>] [--minutes 5] [--interval-ms 600] [--json]
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseArgs } from "util";
import { loadModel } from "../src/core/registry/load-model";
import type { WhisperEngine } from "../src/core/asr/engines/whisper/whisper-engine";
import type { PassInfo } from "../src/core/asr/streamer";
import { builtinVad } from "../src/core/vad/engines/silero/shared";
import { SeededRandom } from "../src/core/onnx-builder/random";
import { write as writeTinyWhisper } from "../fixtures/tiny-whisper";

const RATE = 16000;

function voiced(samples: number, rng: SeededRandom): Float32Array {
  const out = new Float32Array(samples);
  const phase = rng.next() * 6;
  let theta = 0;
  for (let i = 0; i < samples; i++) {
    const t = i / RATE;
    const f0 = 120 + 60 * Math.sin(2 * Math.PI * 0.9 * t + phase) + 40 * Math.sin(2 * Math.PI * 2.3 * t + phase * 2);
    theta += (2 * Math.PI * f0) / RATE;
    let v = 0;
    for (let h = 1; h <= 8; h++) v += (0.3 / h) * Math.sin(h * theta * (1 + 0.01 * h));
    out[i] = v * Math.min(1, i / 800, (samples - i) / 800) + 0.005 * (rng.next() - 0.5);
  }
  return out;
}

function syntheticTurn(seconds: number, seed = 7): Float32Array {
  const rng = new SeededRandom(seed);
  const out = new Float32Array(Math.round(seconds * RATE));
  let at = Math.round(0.3 * RATE);
  while (at < out.length) {
    const speech = Math.round((3 + 3 * rng.next()) * RATE);
    out.set(voiced(Math.min(speech, out.length - at), rng), at);
    at += speech + Math.round((0.6 + 0.6 * rng.next()) * RATE);
  }
  return out;
}

interface RunResult {
  mode: string;
  passes: PassInfo[];
  final_words: number;
  wall_seconds: number;
}

async function run(engine: WhisperEngine, audio: Float32Array, intervalMs: number, autoFlush: boolean): Promise<RunResult> {
  const passes: PassInfo[] = [];
  const detector = autoFlush ? (await builtinVad()).openDetector({ min_silence_ms: 300 }) : undefined;
  // The audio is paced by the feed below (one pass per interval of audio), not by the wall clock.
  const streamer = engine.openStreamer({ language: "en", partial_interval_ms: 0, onPass: (p) => passes.push(p), pauseDetector: detector });
  streamer.partials$.subscribe({ error: (e) => process.stderr.write(`stream error: ${e}\n`) });
  const started = Date.now();
  const frame = RATE / 50;
  const framesPerPass = Math.round(intervalMs / 20);
  for (let at = 0, n = 0; at < audio.length; at += frame, n++) {
    streamer.send(audio.slice(at, at + frame));
    if (n % framesPerPass === framesPerPass - 1) {
      // Live pace: the next partial interval of audio arrives after this one's pass is done.
      const before = passes.length;
      for (let i = 0; i < 10000 && passes.length === before; i++) await new Promise((r) => setTimeout(r, 1));
    }
  }
  const text = await streamer.finish();
  return { mode: autoFlush ? "auto flush at VAD pauses" : "no flush", passes, final_words: text.split(" ").filter(Boolean).length, wall_seconds: (Date.now() - started) / 1000 };
}

function stats(values: number[]): { mean: number; p50: number; p95: number; max: number } {
  const s = [...values].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? 0;
  return { mean: s.reduce((a, b) => a + b, 0) / (s.length || 1), p50: q(0.5), p95: q(0.95), max: s[s.length - 1] ?? 0 };
}

function summary(r: RunResult) {
  const partial = r.passes.filter((p) => p.kind !== "final");
  const quarter = Math.ceil(partial.length / 4);
  const quarters = [0, 1, 2, 3].map((i) => {
    const part = partial.slice(i * quarter, (i + 1) * quarter);
    return { pass_ms: stats(part.map((p) => p.seconds * 1000)).mean, buffer_s: stats(part.map((p) => p.buffer_seconds)).mean };
  });
  return {
    mode: r.mode,
    passes: r.passes.length,
    flush_passes: r.passes.filter((p) => p.kind === "flush").length,
    pass_ms: stats(partial.map((p) => p.seconds * 1000)),
    buffer_seconds: stats(partial.map((p) => p.buffer_seconds)),
    by_quarter_of_turn: quarters,
    final_words: r.final_words,
    wall_seconds: r.wall_seconds,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { model: { type: "string" }, minutes: { type: "string" }, "interval-ms": { type: "string" }, json: { type: "boolean" } } });
  const minutes = Number(values.minutes ?? 5);
  const interval = Number(values["interval-ms"] ?? 600);
  let dir = values.model;
  if (!dir) {
    dir = path.join(os.tmpdir(), "voice-stream-bench-tiny-whisper");
    if (!fs.existsSync(path.join(dir, "onnx", "decoder_model_merged.onnx"))) await writeTinyWhisper(dir);
  }
  // Loaded as the product loads it (session settings included: one intra-op thread per core).
  const engine = await loadModel<WhisperEngine>("asr", { enginesPath: dir });
  const audio = syntheticTurn(minutes * 60);
  const results = [];
  for (const autoFlush of [true, false]) results.push(summary(await run(engine, audio, interval, autoFlush)));
  await engine.dispose();
  if (values.json) {
    process.stdout.write(JSON.stringify({ model: dir, minutes, interval_ms: interval, results }, null, 2) + "\n");
    return;
  }
  const f = (x: number) => x.toFixed(1);
  process.stdout.write(`ASR streaming, ${minutes} min synthetic turn, ${interval} ms partial interval, model ${dir}\n`);
  for (const r of results) {
    process.stdout.write(`\n${r.mode}: ${r.passes} passes (${r.flush_passes} flush), ${r.final_words} words, ${f(r.wall_seconds)} s wall\n`);
    process.stdout.write(`  per-pass decode ms: mean ${f(r.pass_ms.mean)}  p50 ${f(r.pass_ms.p50)}  p95 ${f(r.pass_ms.p95)}  max ${f(r.pass_ms.max)}\n`);
    process.stdout.write(`  buffer seconds per pass: mean ${f(r.buffer_seconds.mean)}  max ${f(r.buffer_seconds.max)}\n`);
    process.stdout.write(`  by quarter of the turn (mean ms / mean buffer s): ${r.by_quarter_of_turn.map((q) => `${f(q.pass_ms)} / ${f(q.buffer_s)}`).join(" | ")}\n`);
  }
}

main().catch((err) => {
  process.stderr.write(`asr-streaming bench: ${(err as Error).stack}\n`);
  process.exitCode = 1;
});
