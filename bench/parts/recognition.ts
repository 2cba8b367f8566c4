/**
 * ASR part of `npm run bench`, on two Whisper models written by the project's own writer:
 * the tiny-whisper test fixture and a whisper-base-shaped model (bench/whisper-base-shaped-model.ts).
 * Per model and clip (the shared espeak WAVs):
 *  - one-shot real-time factor, ours against transformers.js on the same directory and the
 *    same settings, alternating ABBA in this process, with a check that both generated the
 *    same tokens (or where they part);
 *  - ours streaming (20 ms frames sent at once, flush, finish);
 * and per model the per-pass latency over a long synthetic turn (bench/asr-streaming.js, run as is).
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { loadModel } from "../../src/core/registry/load-model";
import { sessionOptions } from "../../src/core/onnx/session-factory";
import type { WhisperEngine } from "../../src/core/asr/engines/whisper/whisper-engine";
import { readWavFile } from "../../src/core/audio/wav";
import { write as writeTinyWhisper } from "../../fixtures/tiny-whisper";
import { hasWhisperBaseShaped, writeWhisperBaseShaped } from "../whisper-base-shaped-model";
import { compareTokens, oursOneShot, theirsOneShot, type OneShotResult, type OneShotSettings, type OneShotSide } from "./whisper-one-shot";
import { fmt, median, nowMs } from "../stats";
import type { BenchOptions } from "../options";

const REPO = path.join(__dirname, "..", "..", "..");
const AUDIO = process.env.SHARED_AUDIO_DIR ?? path.join(REPO, "test", "data", "audio");
const CLIPS = ["hello_16k.wav", "weather_16k.wav", "count_16k.wav"];
/** A pause between the two sides' turns: onnxruntime's worker threads spin for a while after a run. */
const PAUSE_MS = 300;

interface ModelCase {
  label: string;
  dir: string;
  /** Length of the per-pass benchmark's synthetic turn. */
  perPassMinutes: number;
}

interface ClipResult {
  model: string;
  clip: string;
  audioSeconds: number;
  oneShotRtf: number;
  streamingRtf: number;
  theirsOneShotRtf?: number;
  tokens: { ours: number; theirs?: number; same?: boolean; note: string };
}

interface PerPassRun {
  mode: string;
  passes: number;
  pass_ms: { mean: number; p50: number; p95: number; max: number };
  by_quarter_of_turn: { pass_ms: number; buffer_s: number }[];
}

interface PerPass {
  model: string;
  minutes: number;
  results?: PerPassRun[];
  error?: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The models to measure: the tiny fixture always written afresh (a second), the base-shaped one when its writer changed. */
async function prepareModels(options: BenchOptions, log: (line: string) => void): Promise<ModelCase[]> {
  const tiny = path.join(options.outDir, "tiny-whisper");
  fs.rmSync(tiny, { recursive: true, force: true });
  await writeTinyWhisper(tiny);
  const models: ModelCase[] = [{ label: "tiny-whisper", dir: tiny, perPassMinutes: options.quick ? 1 : 3 }];
  if (options.quick) return models; // --quick: small models only
  const base = path.join(options.outDir, "whisper-base-shaped");
  if (!hasWhisperBaseShaped(base)) {
    log("  writing the whisper-base-shaped model (about 300 MB, once)");
    await writeWhisperBaseShaped(base);
  }
  // Each pass reads a whole 30 s window through base's encoder: a half-minute turn keeps this part to minutes.
  models.push({ label: "whisper-base-shaped", dir: base, perPassMinutes: 0.5 });
  return models;
}

async function streamOnce(engine: WhisperEngine, audio: Float32Array): Promise<number> {
  const started = nowMs();
  const streamer = engine.openStreamer({ language: "en", partial_interval_ms: 600 });
  streamer.partials$.subscribe({ error: () => {} });
  const frame = 320;
  for (let at = 0; at < audio.length; at += frame) streamer.send(audio.slice(at, at + frame));
  streamer.flush();
  await streamer.finish();
  return (nowMs() - started) / 1000;
}

async function timed(side: OneShotSide, audio: Float32Array): Promise<{ seconds: number; result: OneShotResult }> {
  const started = nowMs();
  const result = await side.transcribe(audio);
  return { seconds: (nowMs() - started) / 1000, result };
}

async function measureModel(model: ModelCase, options: BenchOptions, log: (line: string) => void): Promise<{ clips: ClipResult[]; theirsError?: string; settings: OneShotSettings }> {
  const engine = await loadModel<WhisperEngine>("asr", { enginesPath: model.dir });
  const { settings: whisper } = engine.model;
  const settings: OneShotSettings = { language: "en", task: "transcribe", timestamps: true, maxNewTokens: Math.floor(whisper.maxTargetPositions / 2) };
  const t = whisper.tokens;
  const ours = oursOneShot(engine, settings);
  let theirs: OneShotSide | undefined;
  let theirsError: string | undefined;
  try {
    theirs = await theirsOneShot(model.dir, settings, [t.sot, t.languages.get(settings.language)!, t.transcribe!], t.eot, sessionOptions(["cpu"], {}).intraOpNumThreads!);
  } catch (err) {
    theirsError = (err as Error).message.split("\n")[0].slice(0, 200);
  }
  const clips: ClipResult[] = [];
  try {
    for (const clip of CLIPS) {
      const file = path.join(AUDIO, clip);
      if (!fs.existsSync(file)) continue;
      const { samples, sampleRate } = await readWavFile(file);
      if (sampleRate !== 16000) continue;
      const seconds = samples.length / 16000;
      const oneShot: number[] = [];
      const theirsOneShotTimes: number[] = [];
      const streaming: number[] = [];
      let oursResult: OneShotResult | undefined;
      let theirsResult: OneShotResult | undefined;
      for (let r = 0; r < options.warmup + options.runs; r++) {
        const measured = r >= options.warmup;
        // ABBA: ours first in runs 0 and 3 of every four, transformers.js first in 1 and 2.
        const oursFirst = r % 4 === 0 || r % 4 === 3;
        for (const side of oursFirst ? ["ours", "theirs"] : ["theirs", "ours"]) {
          if (side === "ours") {
            const { seconds: s, result } = await timed(ours, samples);
            oursResult ??= result;
            if (measured) oneShot.push(s);
          } else if (theirs && !theirsError) {
            try {
              const { seconds: s, result } = await timed(theirs, samples);
              theirsResult ??= result;
              if (measured) theirsOneShotTimes.push(s);
            } catch (err) {
              theirsError = (err as Error).message.split("\n")[0].slice(0, 200);
            }
          }
          await sleep(PAUSE_MS);
        }
        const s = await streamOnce(engine, samples);
        if (measured) streaming.push(s);
        await sleep(PAUSE_MS);
      }
      const check = theirsResult ? compareTokens(oursResult!.tokens, theirsResult.tokens) : undefined;
      const result: ClipResult = {
        model: model.label,
        clip,
        audioSeconds: seconds,
        oneShotRtf: median(oneShot) / seconds,
        streamingRtf: median(streaming) / seconds,
        ...(theirsOneShotTimes.length ? { theirsOneShotRtf: median(theirsOneShotTimes) / seconds } : {}),
        tokens: { ours: oursResult!.tokens.length, theirs: theirsResult?.tokens.length, same: check?.same, note: check?.note ?? `${oursResult!.tokens.length} tokens (transformers.js not run)` },
      };
      clips.push(result);
      log(`  ${model.label} ${clip}: one-shot RTF ours ${fmt(result.oneShotRtf, 3)} / transformers.js ${fmt(result.theirsOneShotRtf, 3)}, streaming RTF ${fmt(result.streamingRtf, 3)}; ${result.tokens.note}`);
    }
  } finally {
    await theirs?.dispose();
    await ours.dispose();
  }
  return { clips, theirsError, settings };
}

/** The asr helper's long-turn benchmark, as it ships (per-pass latency against turn length), in its own process. */
function perPassLatency(model: ModelCase): PerPass {
  try {
    const out = execFileSync(process.execPath, [path.join(__dirname, "..", "asr-streaming.js"), "--model", model.dir, "--minutes", String(model.perPassMinutes), "--json"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 15 * 60 * 1000,
    });
    return { model: model.label, minutes: model.perPassMinutes, results: (JSON.parse(out) as { results: PerPassRun[] }).results };
  } catch (err) {
    return { model: model.label, minutes: model.perPassMinutes, error: (err as Error).message.split("\n")[0] };
  }
}

function describeModel(model: ModelCase): string {
  const config = JSON.parse(fs.readFileSync(path.join(model.dir, "config.json"), "utf8"));
  const mb = ["encoder_model.onnx", "decoder_model_merged.onnx"].reduce((sum, f) => sum + fs.statSync(path.join(model.dir, "onnx", f)).size, 0) / 1e6;
  return (
    `**${model.label}**: d_model ${config.d_model}, ${config.encoder_layers} encoder + ${config.decoder_layers} decoder layers, ` +
    `${config.decoder_attention_heads} heads, FFN ${config.encoder_ffn_dim}, ${config.num_mel_bins} mel bins, ` +
    `vocabulary ${config.vocab_size}; ${fmt(mb, 1)} MB of ONNX`
  );
}

const turnLength = (minutes: number) => (minutes < 1 ? `${minutes * 60} s` : `${minutes} min`);

export async function recognitionPart(options: BenchOptions, log: (line: string) => void): Promise<{ json: unknown; markdown: string }> {
  const models = await prepareModels(options, log);
  const clips: ClipResult[] = [];
  const theirsErrors: Record<string, string> = {};
  let settings: OneShotSettings | undefined;
  for (const model of models) {
    const measured = await measureModel(model, options, log);
    clips.push(...measured.clips);
    settings = measured.settings;
    if (measured.theirsError) theirsErrors[model.label] = measured.theirsError;
  }
  const perPass: PerPass[] = [];
  for (const model of models) {
    log(`  ${model.label}: per-pass latency over a ${turnLength(model.perPassMinutes)} turn`);
    perPass.push(perPassLatency(model));
  }

  const base = models.some((m) => m.label === "whisper-base-shaped");
  const lines = [
    "Models written by the tiny-whisper fixture's writer (`fixtures/tiny-whisper.ts`) in the Optimum layout:",
    "",
    ...models.map((m) => `- ${describeModel(m)}`),
    "",
    ...(base
      ? [
          "whisper-base-shaped has whisper-base's real dimensions and special-token ids with seeded random weights",
          "(`bench/whisper-base-shaped-model.ts`).",
        ]
      : ["(--quick: the whisper-base-shaped model is left out.)"]),
    "The models keep the writer's hand-wired alignment path, so they speak one word per 0.5 s of speech and end with",
    "<|endoftext|> on their own; no token count is forced. Instead every row checks that both engines generated the same",
    `tokens. One-shot settings on both sides: greedy, language ${settings?.language}, ${settings?.task}, timestamps ${settings?.timestamps ? "on" : "off"},`,
    `at most ${settings?.maxNewTokens} new tokens; timed from samples to text (ours: \`WhisperModel.decode\`, which \`transcribe()\` runs;`,
    "transformers.js: `AutoProcessor` + `WhisperForConditionalGeneration.generate()` + tokenizer decode), alternating ABBA",
    "in one process; both with one intra-op thread per core (ours: `loadModel`, as the product loads it; transformers.js:",
    "`session_options`, as its default ran like one thread here, see the notes). RTF = median seconds ÷ audio seconds (lower is faster).",
    "",
    "| model | clip | audio (s) | generated tokens | ours one-shot RTF | transformers.js one-shot RTF | transformers.js ÷ ours | ours streaming RTF (20 ms frames, flush, finish) |",
    "|---|---|---:|---|---:|---:|---:|---:|",
    ...clips.map(
      (c) =>
        `| ${c.model} | ${c.clip} | ${fmt(c.audioSeconds, 2)} | ${c.tokens.note} | ${fmt(c.oneShotRtf, 3)} | ${fmt(c.theirsOneShotRtf, 3)} | ` +
        `${c.theirsOneShotRtf !== undefined ? fmt(c.theirsOneShotRtf / c.oneShotRtf, 2) + "×" : "–"} | ${fmt(c.streamingRtf, 3)} |`,
    ),
    "",
  ];
  for (const [label, error] of Object.entries(theirsErrors)) lines.push(`transformers.js could not run ${label}: \`${error}\``, "");
  lines.push(
    "Per-pass latency against turn length (`bench/asr-streaming.js`: a synthetic turn of speech bursts and pauses fed in 20 ms",
    "frames, a pass per 600 ms of audio; with auto flush at VAD pauses and without):",
    "",
    "| model | turn | mode | passes | pass ms p50 / p95 / max | mean pass ms (buffer s) by quarter of the turn |",
    "|---|---|---|---:|---:|---|",
  );
  for (const p of perPass) {
    if (!p.results) {
      lines.push(`| ${p.model} | ${turnLength(p.minutes)} | not measured: ${p.error} | | | |`);
      continue;
    }
    for (const r of p.results) {
      lines.push(
        `| ${p.model} | ${turnLength(p.minutes)} | ${r.mode} | ${r.passes} | ${fmt(r.pass_ms.p50, 1)} / ${fmt(r.pass_ms.p95, 1)} / ${fmt(r.pass_ms.max, 1)} | ` +
          `${r.by_quarter_of_turn.map((q) => `${fmt(q.pass_ms, 1)} (${fmt(q.buffer_s, 1)})`).join(" → ")} |`,
      );
    }
  }
  return { json: { models: models.map((m) => m.label), settings, clips, theirsErrors, perPass }, markdown: lines.join("\n") };
}
