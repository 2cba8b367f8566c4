/**
 * TTS part of `npm run bench`: time to first audio and real-time factor per engine, streaming
 * one two-sentence text through the engine's real streamer with the default TTSStreamConfig:
 *  - the codec engine on the tiny-codec-tts fixture and on the NeuTTS-shaped model (Qwen2-0.5B-
 *    sized speech-token LM, fp32 and q4; bench/neutts-shaped-model.ts), with the LM's frame rate;
 *  - piper on tiny-piper and on a piper-medium-shaped VITS (bench/piper-medium-shaped-model.ts), and eSpeak NG.
 * transformers.js has no codec/piper streaming TTS for these layouts, so these rows are ours alone.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { writeFixture } from "../../fixtures/cli";
import { CodecTtsEngine, type CodecVoice } from "../../src/core/tts/engines/codec/codec-engine";
import { loadTts } from "../../src/core/tts/loader";
import { localLoadContext } from "../../src/core/registry";
import type { ModelSpec, TtsEngine, TtsStreamChunk, TtsStreamConfig } from "../../src/core/types";
import { FRAMES_PER_CHAR, hasNeuttsVariant } from "../neutts-shaped-model";
import type { WeightVariant } from "../qwen3-shaped-model";
import { fmt, median, nowMs } from "../stats";
import { codecBackboneMarkdown, runCodecBackboneCase } from "./codec-backbone-llm";
import { speechLogitsLever } from "./speech-logits-lever";
import { preparePiperMedium } from "../piper-medium-shaped-model";
import type { BenchOptions } from "../options";

export const TEXT = "Hello there, this is a short test of the speech streamer. It speaks one sentence at a time while the next one is prepared.";
/** Warm-up text: the same graphs and code paths as TEXT, in a fraction of the time on the big model. */
export const WARMUP_TEXT = "Hello there.";
/** Codec frames per second of audio (24 kHz, hop 480): what the LM must sustain for real time. */
const CODEC_FRAME_RATE = 50;
/** Runs of the NeuTTS-shaped cases (each speaks ~7 s of audio at several seconds per second of audio on this machine). */
const BIG_MODEL_RUNS = 3;

interface Prepared {
  dir: string;
  spec: Partial<ModelSpec>;
}

interface EngineCase {
  label: string;
  prepare(options: BenchOptions, log: (line: string) => void): Promise<Prepared>;
  /** A large model: skipped with --quick, at most BIG_MODEL_RUNS runs. */
  big?: boolean;
  /** Stream settings other than the defaults (e.g. the guide's faster-first-audio knob). */
  stream?: Partial<TtsStreamConfig>;
}

async function fixture(name: string, options: BenchOptions): Promise<Prepared> {
  const dir = path.join(options.outDir, name);
  if (!fs.existsSync(dir)) await writeFixture(name, dir);
  return { dir, spec: {} };
}

export function prepareNeutts(options: BenchOptions, variant: WeightVariant, log: (line: string) => void, config: Record<string, unknown> = {}): Prepared {
  const dir = path.join(options.outDir, "neutts-air-shaped");
  if (!hasNeuttsVariant(dir, variant)) {
    fs.mkdirSync(options.outDir, { recursive: true });
    const free = fs.statfsSync(options.outDir);
    const needed = variant === "fp32" ? 2.3e9 : 1.2e9;
    if (free.bavail * free.bsize < needed * 1.5) {
      throw new Error(`not enough disk for the NeuTTS-shaped ${variant} model: need ~${(needed / 1e9).toFixed(1)} GB in ${options.outDir}`);
    }
    log(`  generating the NeuTTS-shaped ${variant} model into ${dir} (about two minutes, ~4 GB of memory)`);
    // Its own process: the weights (2.2 GB) and their MatMul/4-bit layouts are freed when it exits.
    execFileSync(process.execPath, [path.join(__dirname, "..", "neutts-shaped-model.js"), dir, variant], { stdio: "inherit" });
  }
  return { dir, spec: { config: { dtype: variant, ...config } } };
}

const CASES: EngineCase[] = [
  { label: "codec (tiny-codec-tts)", prepare: (o) => fixture("tiny-codec-tts", o) },
  { label: "codec, NeuTTS-shaped fp32", prepare: async (o, log) => prepareNeutts(o, "fp32", log), big: true },
  { label: "codec, NeuTTS-shaped q4, exact (q4_accuracy_level 0, int8_prefill false)", prepare: async (o, log) => prepareNeutts(o, "q4", log, { q4_accuracy_level: 0, int8_prefill: false }), big: true },
  // The int8-activation kernel (slightly different logits) with the 4-bit prefill: the int8 prefill's A/B.
  {
    label: "codec, NeuTTS-shaped q4, int8 activations, 4-bit prefill (int8_prefill false)",
    prepare: async (o, log) => prepareNeutts(o, "q4", log, { q4_accuracy_level: 4, int8_prefill: false }),
    big: true,
  },
  { label: "codec, NeuTTS-shaped q4, CPU defaults (int8 activations + int8 prefill)", prepare: async (o, log) => prepareNeutts(o, "q4", log), big: true },
  // The voice's prompt head from the prefix cache (the default) against prefilling it every span.
  { label: "codec, NeuTTS-shaped q4, CPU defaults, prefix_cache_mb 0", prepare: async (o, log) => prepareNeutts(o, "q4", log, { prefix_cache_mb: 0 }), big: true },
  // The per-step Concat of the cache (and the position-major layout this cache size had before): the A/B of the past attended in place.
  {
    label: "codec, NeuTTS-shaped q4, CPU defaults, past_in_place_attention false",
    prepare: async (o, log) => prepareNeutts(o, "q4", log, { past_in_place_attention: false }),
    big: true,
  },
  // Every step's whole speech row (65537 floats) instead of the sampler's best 51: the A/B of the top logits.
  {
    label: "codec, NeuTTS-shaped q4, CPU defaults, top_logits false",
    prepare: async (o, log) => prepareNeutts(o, "q4", log, { top_logits: false }),
    big: true,
  },
  // The guide's knob for faster first audio ("e.g. from 12 to 6"): a shorter first chunk.
  {
    label: "codec, NeuTTS-shaped q4, CPU defaults, first_frames_per_chunk 6",
    prepare: async (o, log) => prepareNeutts(o, "q4", log),
    big: true,
    stream: { first_frames_per_chunk: 6 },
  },
  { label: "piper (tiny-piper)", prepare: (o) => fixture("tiny-piper", o) },
  // A VITS of piper's medium dimensions (random weights): what a real medium voice costs.
  { label: "piper (medium-shaped VITS)", prepare: async (o, log) => ({ dir: preparePiperMedium(o.outDir, log), spec: {} }) },
  { label: "eSpeak NG", prepare: async () => ({ dir: "espeak", spec: { enginesPath: "espeak", config: { engine: "espeak" } } }) },
];

/** What the codec LM did in one span, from the engine's observer hooks. */
export interface SpanTrace {
  startedAt: number;
  promptTokens: number;
  frameTimes: number[];
}

export interface Sample {
  firstAudioMs: number;
  totalMs: number;
  audioSeconds: number;
  chunks: number;
  /** Codec engines: the engine's own frames ÷ LM busy time (prefill included). */
  lmFramesPerSecond?: number;
  spans?: SpanTrace[];
}

export function speakOnce(engine: TtsEngine, text: string, voice?: CodecVoice, stream: Partial<TtsStreamConfig> = {}): Promise<Sample> {
  const traces = new Map<number, SpanTrace>();
  if (engine instanceof CodecTtsEngine && voice) {
    engine.observer = {
      spanStart: (span) => traces.set(span.index, { startedAt: nowMs(), promptTokens: engine.promptIds(voice, span.text).length, frameTimes: [] }),
      lmStep: (span) => traces.get(span.index)?.frameTimes.push(nowMs()),
    };
  }
  const spans = () => [...traces.entries()].sort(([a], [b]) => a - b).map(([, trace]) => trace);
  return new Promise<Sample>((resolve, reject) => {
    const started = nowMs();
    let first: number | undefined;
    let samples = 0;
    let rate = 24000;
    let chunks = 0;
    const streamer = engine.openStreamer(stream);
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
          resolve({
            firstAudioMs: (first ?? end) - started,
            totalMs: end - started,
            audioSeconds: samples / rate,
            chunks,
            lmFramesPerSecond: chunk.tokens_per_second,
            spans: traces.size ? spans() : undefined,
          });
        }
      },
      error: reject,
    });
    streamer.send(text);
    streamer.finish();
  }).finally(() => {
    if (engine instanceof CodecTtsEngine) engine.observer = undefined;
  });
}

/** The default voice's reference (voices/<id>.json), to count prompt tokens the way the engine builds them. */
export function readVoice(engine: TtsEngine, dir: string): CodecVoice | undefined {
  if (!(engine instanceof CodecTtsEngine)) return undefined;
  const id = engine.config.defaultVoice ?? engine.voices[0];
  const json = JSON.parse(fs.readFileSync(path.join(dir, "voices", `${id}.json`), "utf8")) as { ref_text: string; ref_codes: number[] };
  return { id, refText: json.ref_text, refCodes: json.ref_codes };
}

/** Decode rate of one span: frames after the first ÷ time from the first to the last (wall clock, codec decodes interleaved). */
export const decodeFramesPerSecond = (s: SpanTrace) =>
  s.frameTimes.length > 1 ? (1000 * (s.frameTimes.length - 1)) / (s.frameTimes[s.frameTimes.length - 1] - s.frameTimes[0]) : NaN;

interface Row {
  label: string;
  runs?: number;
  firstAudioMs?: number;
  rtf?: number;
  audioSeconds?: number;
  chunks?: number;
  lmFramesPerSecond?: number;
  decodeFramesPerSecond?: number;
  /** First span: prompt tokens and the time from taking up the span to its first frame (tokenize + prefill + first sample). */
  promptTokens?: number;
  firstFrameMs?: number;
  framesPerRun?: number;
  error?: string;
}

export async function synthesisPart(options: BenchOptions, log: (line: string) => void): Promise<{ json: unknown; markdown: string }> {
  const rows: Row[] = [];
  for (const c of CASES) {
    if (c.big && options.quick) continue;
    try {
      const { dir, spec } = await c.prepare(options, log);
      const engine = await loadTts(localLoadContext("tts", { enginesPath: dir, ...spec }));
      const runs = c.big ? Math.min(options.runs, BIG_MODEL_RUNS) : options.runs;
      const voice = readVoice(engine, dir);
      const samples: Sample[] = [];
      try {
        for (let r = 0; r < options.warmup; r++) await speakOnce(engine, WARMUP_TEXT, voice, c.stream);
        for (let r = 0; r < runs; r++) samples.push(await speakOnce(engine, TEXT, voice, c.stream));
      } finally {
        await engine.dispose();
      }
      const traced = samples.filter((s) => s.spans);
      const row: Row = {
        label: c.label,
        runs,
        firstAudioMs: median(samples.map((s) => s.firstAudioMs)),
        rtf: median(samples.map((s) => s.totalMs / 1000 / s.audioSeconds)),
        audioSeconds: median(samples.map((s) => s.audioSeconds)),
        chunks: median(samples.map((s) => s.chunks)),
      };
      if (traced.length) {
        Object.assign(row, {
          lmFramesPerSecond: median(traced.map((s) => s.lmFramesPerSecond ?? NaN)),
          decodeFramesPerSecond: median(traced.flatMap((s) => s.spans!.map(decodeFramesPerSecond))),
          promptTokens: traced[0].spans![0].promptTokens,
          firstFrameMs: median(traced.map((s) => s.spans![0].frameTimes[0] - s.spans![0].startedAt)),
          framesPerRun: median(traced.map((s) => s.spans!.reduce((n, span) => n + span.frameTimes.length, 0))),
        });
      }
      rows.push(row);
      log(
        `  ${c.label}: first audio ${fmt(row.firstAudioMs, 1)} ms, RTF ${fmt(row.rtf, 3)}` +
          (row.decodeFramesPerSecond ? `, LM ${fmt(row.decodeFramesPerSecond, 1)} frames/s in decode` : ""),
      );
    } catch (err) {
      rows.push({ label: c.label, error: (err as Error).message.split("\n")[0] });
      log(`  ${c.label}: ${(err as Error).message}`);
    }
  }
  let markdown = synthesisMarkdown(rows, options);
  let lever: unknown;
  if (!options.quick) {
    try {
      const result = await speechLogitsLever(options, log);
      lever = result.json;
      markdown += "\n\n" + result.markdown;
    } catch (err) {
      lever = { error: (err as Error).message };
      markdown += `\n\nThe speech-logits lever was not measured: ${(err as Error).message.split("\n")[0]}`;
      log(`  speech-logits lever: ${(err as Error).message}`);
    }
  }
  let backbone: unknown;
  const q4 = rows.find((r) => r.label === "codec, NeuTTS-shaped q4" && !r.error);
  if (q4) {
    try {
      const result = await runCodecBackboneCase(path.join(options.outDir, "neutts-air-shaped"), Math.min(options.runs, BIG_MODEL_RUNS), options.warmup, log);
      backbone = result;
      markdown += "\n\n" + codecBackboneMarkdown(result, q4.decodeFramesPerSecond, q4.firstFrameMs);
    } catch (err) {
      backbone = { error: (err as Error).message };
      markdown += `\n\nThe q4 backbone as a causal LM (ours vs transformers.js) was not measured: ${(err as Error).message.split("\n")[0]}`;
      log(`  backbone vs transformers.js: ${(err as Error).message}`);
    }
  }
  return { json: { rows, lever, backbone }, markdown };
}

function synthesisMarkdown(rows: Row[], options: BenchOptions): string {
  const codec = rows.filter((r) => !r.error && r.decodeFramesPerSecond !== undefined);
  const lines = [
    `Text: "${TEXT}" (two sentences, ${[...TEXT].length} characters), sent at once, then finish(); the default TTSStreamConfig ` +
      "(first_frames_per_chunk 12, frames_per_chunk 25, lookforward 5, lookback 50, overlap_frames 1). " +
      `RTF is wall time from send to the final chunk ÷ seconds of audio (below 1 is faster than real time). Warm-up: "${WARMUP_TEXT}" ` +
      `× ${options.warmup}; the NeuTTS-shaped rows are medians of ${Math.min(options.runs, BIG_MODEL_RUNS)} runs${options.quick ? " (skipped with --quick)" : ""}.`,
    "",
    "| engine | runs | time to first audio (ms) | RTF (processing ÷ audio) | audio (s) | chunks |",
    "|---|---:|---:|---:|---:|---:|",
    ...rows.map((r) =>
      r.error
        ? `| ${r.label} | | not measured: ${r.error} | | | |`
        : `| ${r.label} | ${r.runs} | ${fmt(r.firstAudioMs, 1)} | ${fmt(r.rtf, 3)} | ${fmt(r.audioSeconds, 2)} | ${fmt(r.chunks, 0)} |`,
    ),
  ];
  if (codec.length) {
    lines.push(
      "",
      `Codec LM (one speech frame per LM step; real time needs ${CODEC_FRAME_RATE} frames/s):`,
      "",
      "| model | frames per run | LM frames/s in decode | LM frames/s incl. prefill (engine metric) | first span: prompt tokens | first span: start → first frame (ms) |",
      "|---|---:|---:|---:|---:|---:|",
      ...codec.map(
        (r) =>
          `| ${r.label} | ${fmt(r.framesPerRun, 0)} | ${fmt(r.decodeFramesPerSecond, 1)} | ${fmt(r.lmFramesPerSecond, 1)} | ${fmt(r.promptTokens, 0)} | ${fmt(r.firstFrameMs, 0)} |`,
      ),
      "",
      "\"In decode\": frames after a span's first ÷ time from its first to its last frame (wall clock; the codec decodes run in between). " +
        "The engine metric divides all frames by the LM's busy time, prefill included. \"Start → first frame\": from the span being taken up " +
        "to its first frame (tokenizing, the prefill of the whole prompt, the first sampling).",
      "",
      "NeuTTS-shaped model (`bench/neutts-shaped-model.ts`): the speech-token LM has NeuTTS-Air's Qwen2.5-0.5B backbone dimensions " +
        "(hidden 896, 24 layers, 14 query / 2 KV heads of 64, MLP 4864, q/k/v biases, tied embeddings) over Qwen's 151936 text ids " +
        "plus 65536 `<|speech_i|>` tokens (vocabulary 217472), seeded random weights; its voice has 250 reference frames (5 s). " +
        `Every span is held to exactly ${FRAMES_PER_CHAR} frames per character (the end token is masked until then, and generation stops there), ` +
        "so every run generates the same number of frames whatever the random weights sample. Its codec decoder is the fixture's toy " +
        "grain synthesiser (with 65536-entry tables), not NeuCodec, so these rows are the LM's cost plus a near-free decoder.",
    );
  }
  return lines.join("\n");
}
