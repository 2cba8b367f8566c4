/**
 * TTS part of `npm run bench`: time to first audio and real-time factor per engine (the codec
 * engine on the tiny-codec-tts fixture, piper on tiny-piper, and eSpeak NG), streaming one
 * two-sentence text with the default stream settings. transformers.js has no codec/piper
 * streaming TTS for these layouts, so these rows are ours alone.
 */
import * as fs from "fs";
import * as path from "path";
import { writeFixture } from "../../src/core/fixtures/cli";
import { loadTts } from "../../src/core/tts/loader";
import { localLoadContext } from "../../src/core/tts/local-context";
import type { TtsEngine, TtsStreamChunk } from "../../src/core/types";
import { fmt, median, nowMs } from "../stats";
import type { BenchOptions } from "../options";

const TEXT = "Hello there, this is a short test of the speech streamer. It speaks one sentence at a time while the next one is prepared.";

interface EngineCase {
  label: string;
  fixture?: string;
  spec: { enginesPath?: string; config?: Record<string, unknown> };
}

const CASES: EngineCase[] = [
  { label: "codec (tiny-codec-tts)", fixture: "tiny-codec-tts", spec: {} },
  { label: "piper (tiny-piper)", fixture: "tiny-piper", spec: {} },
  { label: "eSpeak NG", spec: { enginesPath: "espeak", config: { engine: "espeak" } } },
];

interface Sample {
  firstAudioMs: number;
  totalMs: number;
  audioSeconds: number;
  chunks: number;
}

function speakOnce(engine: TtsEngine): Promise<Sample> {
  return new Promise((resolve, reject) => {
    const started = nowMs();
    let first: number | undefined;
    let samples = 0;
    let rate = 24000;
    let chunks = 0;
    const streamer = engine.openStreamer({});
    streamer.output$.subscribe({
      next: (chunk: TtsStreamChunk) => {
        if (chunk.kind !== "audio") return;
        if (chunk.audio.length > 0) {
          first ??= nowMs();
          samples += chunk.audio.length;
          rate = chunk.sample_rate;
          chunks++;
        }
        if (chunk.is_final) {
          const end = nowMs();
          resolve({ firstAudioMs: (first ?? end) - started, totalMs: end - started, audioSeconds: samples / rate, chunks });
        }
      },
      error: reject,
    });
    streamer.send(TEXT);
    streamer.finish();
  });
}

export async function synthesisPart(options: BenchOptions, log: (line: string) => void): Promise<{ json: unknown; markdown: string }> {
  const rows: { label: string; firstAudioMs?: number; rtf?: number; audioSeconds?: number; chunks?: number; error?: string }[] = [];
  for (const c of CASES) {
    try {
      let dir = c.spec.enginesPath ?? "espeak";
      if (c.fixture) {
        dir = path.join(options.outDir, c.fixture);
        if (!fs.existsSync(dir)) await writeFixture(c.fixture, dir);
      }
      const engine = await loadTts(localLoadContext(dir, c.spec));
      const samples: Sample[] = [];
      try {
        for (let r = 0; r < options.warmup + options.runs; r++) {
          const s = await speakOnce(engine);
          if (r >= options.warmup) samples.push(s);
        }
      } finally {
        await engine.dispose();
      }
      const row = {
        label: c.label,
        firstAudioMs: median(samples.map((s) => s.firstAudioMs)),
        rtf: median(samples.map((s) => s.totalMs / 1000 / s.audioSeconds)),
        audioSeconds: median(samples.map((s) => s.audioSeconds)),
        chunks: median(samples.map((s) => s.chunks)),
      };
      rows.push(row);
      log(`  ${c.label}: first audio ${fmt(row.firstAudioMs, 1)} ms, RTF ${fmt(row.rtf, 3)}`);
    } catch (err) {
      rows.push({ label: c.label, error: (err as Error).message.split("\n")[0] });
      log(`  ${c.label}: ${(err as Error).message}`);
    }
  }
  const markdown = [
    `Text: "${TEXT}" (two sentences), sent at once, then finish(); default stream settings.`,
    "",
    "| engine | time to first audio (ms) | RTF (processing ÷ audio) | audio (s) | chunks |",
    "|---|---:|---:|---:|---:|",
    ...rows.map((r) =>
      r.error
        ? `| ${r.label} | not measured: ${r.error} | | | |`
        : `| ${r.label} | ${fmt(r.firstAudioMs, 1)} | ${fmt(r.rtf, 3)} | ${fmt(r.audioSeconds, 2)} | ${fmt(r.chunks, 0)} |`,
    ),
    "",
    "A NeuTTS-shaped codec model is not measured: the tiny-codec-tts fixture's writer takes no size options (its backbone",
    "dimensions are fixed), so it cannot be scaled without changing the tts helper's fixture.",
  ].join("\n");
  return { json: rows, markdown };
}
