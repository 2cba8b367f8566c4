/**
 * ASR part of `npm run bench`: real-time factor of one-shot decoding and of streaming
 * (20 ms frames, flush, finish) on the tiny-whisper fixture over the shared espeak WAVs, and
 * the asr helper's per-pass latency over a long turn (bench/asr-streaming.js, run as is).
 * transformers.js is tried on the same directory; where it cannot run it, the reason is shown.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { loadAsr } from "../../src/core/asr/loader";
import { directoryLoadContext } from "../../src/core/asr/directory-context";
import { readWavFile } from "../../src/core/audio/wav";
import { write as writeTinyWhisper } from "../../src/core/fixtures/tiny-whisper";
import type { AsrEngine } from "../../src/core/types";
import { fmt, median, nowMs } from "../stats";
import type { BenchOptions } from "../options";

const REPO = path.join(__dirname, "..", "..", "..");
const AUDIO = process.env.SHARED_AUDIO_DIR ?? path.join(REPO, "..", "shared", "audio");
const CLIPS = ["hello_16k.wav", "weather_16k.wav", "count_16k.wav"];

interface ClipResult {
  clip: string;
  audioSeconds: number;
  oneShotRtf: number;
  streamingRtf: number;
  theirsOneShotRtf?: number;
}

async function streamOnce(engine: AsrEngine, audio: Float32Array): Promise<number> {
  const started = nowMs();
  const streamer = engine.openStreamer({ language: "en", partial_interval_ms: 600 });
  streamer.partials$.subscribe({ error: () => {} });
  const frame = 320;
  for (let at = 0; at < audio.length; at += frame) streamer.send(audio.slice(at, at + frame));
  streamer.flush();
  await streamer.finish();
  return (nowMs() - started) / 1000;
}

async function theirsOneShot(dir: string, audio: Float32Array, runs: number): Promise<number[]> {
  const { pipeline, env } = await import("@huggingface/transformers");
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = path.dirname(dir) + path.sep;
  const asr = await pipeline("automatic-speech-recognition", path.basename(dir), { dtype: "fp32" });
  const times: number[] = [];
  for (let r = 0; r < runs + 1; r++) {
    const started = nowMs();
    await asr(audio, { language: "en" } as never);
    if (r > 0) times.push((nowMs() - started) / 1000);
  }
  await asr.dispose();
  return times;
}

export async function recognitionPart(options: BenchOptions, log: (line: string) => void): Promise<{ json: unknown; markdown: string }> {
  const dir = path.join(options.outDir, "tiny-whisper");
  if (!fs.existsSync(path.join(dir, "onnx", "encoder_model.onnx"))) await writeTinyWhisper(dir);
  const engine = await loadAsr(directoryLoadContext(dir));
  const clips: ClipResult[] = [];
  let theirsError: string | undefined;
  try {
    for (const clip of CLIPS) {
      const file = path.join(AUDIO, clip);
      if (!fs.existsSync(file)) continue;
      const { samples, sampleRate } = await readWavFile(file);
      if (sampleRate !== 16000) continue;
      const seconds = samples.length / 16000;
      const oneShot: number[] = [];
      const streaming: number[] = [];
      for (let r = 0; r < options.warmup + options.runs; r++) {
        let started = nowMs();
        await engine.transcribe(samples, { language: "en" });
        const a = (nowMs() - started) / 1000;
        started = nowMs();
        const b = await streamOnce(engine, samples);
        if (r >= options.warmup) {
          oneShot.push(a);
          streaming.push(b);
        }
      }
      const result: ClipResult = { clip, audioSeconds: seconds, oneShotRtf: median(oneShot) / seconds, streamingRtf: median(streaming) / seconds };
      if (!theirsError) {
        try {
          result.theirsOneShotRtf = median(await theirsOneShot(dir, samples, options.runs)) / seconds;
        } catch (err) {
          theirsError = (err as Error).message.split("\n")[0].slice(0, 160);
        }
      }
      clips.push(result);
      log(`  ${clip}: one-shot RTF ${fmt(result.oneShotRtf, 3)}, streaming RTF ${fmt(result.streamingRtf, 3)}`);
    }
  } finally {
    await engine.dispose();
  }

  // The asr helper's long-turn benchmark, as it ships (per-pass latency against turn length).
  let perPass: unknown;
  let perPassError: string | undefined;
  const minutes = options.quick ? 1 : 3;
  try {
    const out = execFileSync(process.execPath, [path.join(__dirname, "..", "asr-streaming.js"), "--model", dir, "--minutes", String(minutes), "--json"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 10 * 60 * 1000,
    });
    perPass = JSON.parse(out);
  } catch (err) {
    perPassError = (err as Error).message.split("\n")[0];
  }

  const lines = [
    "Model: the tiny-whisper fixture (Whisper layout: encoder + merged decoder with KV cache). A whisper-base-shaped model is not measured:",
    "the tiny-whisper builder has fixed dimensions (its width, layers and vocabulary are constants, and its weights are hand-set so the",
    "fixture \"speaks\" words), so it cannot be scaled to base's shape with meaningful decoding.",
    "",
    "| clip | audio (s) | ours one-shot RTF | ours streaming RTF (20 ms frames, flush, finish) | transformers.js one-shot RTF |",
    "|---|---:|---:|---:|---:|",
    ...clips.map((c) => `| ${c.clip} | ${fmt(c.audioSeconds, 2)} | ${fmt(c.oneShotRtf, 3)} | ${fmt(c.streamingRtf, 3)} | ${c.theirsOneShotRtf !== undefined ? fmt(c.theirsOneShotRtf, 3) : "–"} |`),
    "",
  ];
  if (theirsError) lines.push(`transformers.js could not run this fixture: \`${theirsError}\``, "");
  lines.push(`Per-pass latency against turn length (bench/asr-streaming.js, ${minutes}-minute synthetic turn, a pass per 600 ms of audio):`, "");
  if (perPass) {
    const results = (perPass as { results: { mode: string; passes: number; pass_ms: { mean: number; p50: number; p95: number; max: number }; by_quarter_of_turn: { pass_ms: number; buffer_s: number }[] }[] }).results;
    lines.push("| mode | passes | pass ms p50 / p95 / max | mean pass ms (buffer s) by quarter of the turn |", "|---|---:|---:|---|");
    for (const r of results) {
      lines.push(`| ${r.mode} | ${r.passes} | ${fmt(r.pass_ms.p50, 1)} / ${fmt(r.pass_ms.p95, 1)} / ${fmt(r.pass_ms.max, 1)} | ${r.by_quarter_of_turn.map((q) => `${fmt(q.pass_ms, 1)} (${fmt(q.buffer_s, 1)})`).join(" → ")} |`);
    }
  } else lines.push(`Not measured: ${perPassError}`);
  return { json: { clips, theirsError, perPass, perPassError }, markdown: lines.join("\n") };
}
