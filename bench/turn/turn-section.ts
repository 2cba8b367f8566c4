/**
 * Voice-turn part of `npm run bench` (part "turn"): what a person feels — the time from the end
 * of their spoken question to the first sound of the answer — on one Node-RED process running
 * vad → whisper-streamer → llm-stream → tts-streamer → audio-out (null sink) (bench/turn/turn-flow.ts),
 * a real speech WAV fed at real time. Models: whisper-base-shaped ASR, the Qwen3-0.6B-shaped q4
 * LLM with a ~150-token system prompt through its chat template, and the voices eSpeak NG,
 * piper (a piper-medium-shaped VITS) and the NeuTTS-shaped q4 codec; --quick uses tiny-whisper,
 * stories260K and eSpeak NG. Each voice runs in its own process (turn-worker.ts).
 *
 * The levers that act on the whole turn are A/B rows, interleaved with the base turns in the
 * same process: prefix KV cache off (prefix_cache_mb 0), first_span_words 8 (against the
 * default 0), vad's speech-end sending whisper-streamer flush + finish (against finish), Whisper
 * in 8 bits and with a shortened encoder window (encoder_window_s), answering early, and more.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { readWavFile } from "../../src/core/audio/wav";
import { write as writeTinyWhisper } from "../../fixtures/tiny-whisper";
import { LlmTokenizer } from "../../src/core/llm/engines/onnx/llm-tokenizer";
import type { BenchOptions } from "../options";
import { prepareQwen3, prepareStories } from "../llm/llm-section";
import { prepareNeutts } from "../parts/speech-synthesis";
import { preparePiperMedium } from "../piper-medium-shaped-model";
import { fmt } from "../stats";
import { hasWhisperBaseShaped, writeWhisperBaseShaped, writerHash } from "../whisper-base-shaped-model";
import { stackedBarSvg } from "./stacked-bar-svg";
import type { ModelSpec } from "./turn-flow";
import { replyPieces, speechEndSample, STAGES, type Stage, type TurnTimeline, type TurnVariant } from "./turn-harness";
import type { TurnWorkerArgs } from "./turn-worker";

const REPO = path.join(__dirname, "..", "..", "..");
const BENCH_SRC = path.join(REPO, "bench");
const AUDIO = process.env.SHARED_AUDIO_DIR ?? path.join(REPO, "test", "data", "audio");
const QUESTION = "weather_16k.wav";
/** The voice turn's spoken question (also the ASR lever's audio in part "levers"). */
export const questionWavPath = (): string => path.join(AUDIO, QUESTION);
const CHART = "voice-turn.svg";

/** About 150 tokens with the chat template (the Qwen3-shaped model's tokenizer counts them; see the notes). */
const SYSTEM_PROMPT =
  "You are Nova, a calm voice assistant for a family home. Answer in one or two short spoken sentences, with no lists or markdown, " +
  "because everything you say is read aloud. You control the lights, the hall heater, the garage door and the front door lock. Never invent sensor readings.";

/** What the TTS speaks (see turn-flow.ts: the LLM's pace, a fixed English text); its first sentence is long, its first clause short. */
const REPLY = "It is mild and dry in the garden, with a light breeze and about eighteen degrees. Rain may come late tonight, so keep an umbrella by the door.";

const BASE: TurnVariant = { label: "base", prefixCache: true, firstSpanWords: 0, asrEnd: "finish" };
const LEVERS: { variant: TurnVariant; lever: string; a: string; b: string; stage: Stage }[] = [
  { variant: { ...BASE, label: "prefix cache off", prefixCache: false }, lever: "prefix KV cache", a: "on (default 256 MB)", b: "off (prefix_cache_mb 0)", stage: "llmFirstToken" },
  { variant: { ...BASE, label: "first_span_words 8", firstSpanWords: 8 }, lever: "first span cut early", a: "first_span_words 0 (default)", b: "8", stage: "firstAudio" },
  { variant: { ...BASE, label: "flush + finish", asrEnd: "flush-finish" }, lever: "ASR end of turn", a: "speech-end → finish", b: "speech-end → flush + finish", stage: "asrFinal" },
  { variant: { ...BASE, label: "first-audio priority off", firstAudioPriority: false }, lever: "first audio before more text", a: "LLM steps wait while the TTS makes its first audio (default)", b: "off", stage: "firstAudio" },
  { variant: { ...BASE, label: "answer early", preempt: true }, lever: "answer the speculative final", a: "answer the final", b: "answer the speculative final, held until the final keeps it", stage: "playing" },
  { variant: { ...BASE, label: "answer early + first_span_words 8", preempt: true, firstSpanWords: 8 }, lever: "answer early and cut the first span", a: "answer the final, first_span_words 0", b: "answer early, first_span_words 8", stage: "playing" },
  { variant: { ...BASE, label: "ASR q8", asrQ8: true }, lever: "Whisper in 8 bits", a: "fp32 files (the picker's default)", b: "dtype q8 (the _quantized files)", stage: "asrFinal" },
  { variant: { ...BASE, label: "ASR q8 + answer early + first_span_words 8", asrQ8: true, preempt: true, firstSpanWords: 8 }, lever: "Whisper q8, answer early, first span cut", a: "fp32 Whisper, answer the final, first_span_words 0", b: "q8 Whisper, answer early, first_span_words 8", stage: "playing" },
  { variant: { ...BASE, label: "4-bit prefill", int8Prefill: false }, lever: "int8 prefill (LLM, codec LM)", a: "int8 prefill (the CPU default for 4-bit models)", b: "int8_prefill false (the 4-bit prefill)", stage: "firstAudio" },
  { variant: { ...BASE, label: "ASR q8 + answer early + first_span_words 4", asrQ8: true, preempt: true, firstSpanWords: 4 }, lever: "Whisper q8, answer early, first span of 4 words", a: "fp32 Whisper, answer the final, first_span_words 0", b: "q8 Whisper, answer early, first_span_words 4", stage: "playing" },
  { variant: { ...BASE, label: "ASR q8 window 5 s", asrQ8: true, asrWindowS: 5 }, lever: "Whisper q8 with a 5 s encoder window", a: "fp32 files, the 30 s window", b: "dtype q8, encoder_window_s 5", stage: "asrFinal" },
  {
    variant: { ...BASE, label: "ASR q8 window 5 s + answer early + first_span_words 4", asrQ8: true, asrWindowS: 5, preempt: true, firstSpanWords: 4 },
    lever: "Whisper q8 with a 5 s window, answer early, first span of 4 words",
    a: "fp32 Whisper (30 s window), answer the final, first_span_words 0",
    b: "q8 Whisper, encoder_window_s 5, answer early, first_span_words 4",
    stage: "playing",
  },
  {
    variant: { ...BASE, label: "ASR q8 window 5 s + answer early + first_span_words 4 + first_frames_per_chunk 6", asrQ8: true, asrWindowS: 5, preempt: true, firstSpanWords: 4, firstFramesPerChunk: 6 },
    lever: "Whisper q8 with a 5 s window, answer early, first span of 4 words, first chunk of 6 frames",
    a: "fp32 Whisper (30 s window), answer the final, first_span_words 0, first_frames_per_chunk 12",
    b: "q8 Whisper, encoder_window_s 5, answer early, first_span_words 4, first_frames_per_chunk 6",
    stage: "playing",
  },
  {
    variant: { ...BASE, label: "ASR q8 + answer early + first_span_words 4 + first_frames_per_chunk 6", asrQ8: true, preempt: true, firstSpanWords: 4, firstFramesPerChunk: 6 },
    lever: "Whisper q8, answer early, first span of 4 words, first chunk of 6 frames",
    a: "fp32 Whisper, answer the final, first_span_words 0, first_frames_per_chunk 12",
    b: "q8 Whisper, answer early, first_span_words 4, first_frames_per_chunk 6",
    stage: "playing",
  },
];

const STAGE_NAMES: Record<Stage, string> = {
  vadEnd: "VAD speech-end",
  asrFinal: "ASR final",
  llmFirstToken: "LLM first token",
  firstSpan: "first span complete",
  firstAudio: "first audio chunk",
  playing: "audio-out playing",
};

interface VoiceCase {
  voice: string;
  tts: ModelSpec;
  /** A codec voice (a decoder LM of its own). */
  codec?: boolean;
  /** Lever variants this voice's process interleaves with its base turns. */
  levers: TurnVariant[];
  /** A lever turn in every `leverEvery`-th round (the levers taking turns). */
  leverEvery: number;
  /** Minutes this voice's turns may take (after loading); fewer turns run when they are spent. */
  budgetMinutes: number;
}

interface VoiceResult {
  voice: string;
  budgetMinutes?: number;
  timelines: TurnTimeline[];
  warmup?: TurnTimeline[];
  loadAverage?: { before: number[]; after: number[] };
  error?: string;
}

export function percentile(values: number[], p: number): number {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const at = (v.length - 1) * p;
  const lo = Math.floor(at);
  return v[lo] + (v[Math.min(lo + 1, v.length - 1)] - v[lo]) * (at - lo);
}

function worker(args: TurnWorkerArgs): Omit<VoiceResult, "voice"> {
  const out = execFileSync(process.execPath, [path.join(__dirname, "turn-worker.js"), JSON.stringify(args)], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    timeout: 30 * 60 * 1000,
    maxBuffer: 64 * 1024 * 1024,
  });
  return JSON.parse(out.trim().split("\n").pop() ?? "{}");
}

/**
 * `runs` rounds of a base turn; every `every`-th round adds one lever turn (the levers taking
 * turns), before the base turn in odd rounds and after it in even ones. (On this shared 2-core
 * machine a turn takes seconds to tens of seconds: every lever in every round would not fit.)
 */
function schedule(levers: TurnVariant[], runs: number, every: number): TurnVariant[] {
  const out: TurnVariant[] = [];
  for (let r = 0; r < runs; r++) {
    const round = [BASE];
    if (levers.length > 0 && r % every === 0) round.push(levers[Math.floor(r / every) % levers.length]);
    out.push(...(r % 2 === 1 ? round.reverse() : round));
  }
  return out;
}

export async function asrModel(options: BenchOptions, log: (line: string) => void): Promise<{ label: string; dir: string }> {
  if (options.quick) {
    const dir = path.join(options.outDir, "tiny-whisper");
    // With its 8-bit files, for the q8 lever; written again when the writer's code changed.
    const marker = path.join(dir, ".complete");
    if (!fs.existsSync(marker) || fs.readFileSync(marker, "utf8").trim() !== writerHash()) {
      fs.rmSync(dir, { recursive: true, force: true });
      await writeTinyWhisper(dir, { quantized: true });
      fs.writeFileSync(marker, writerHash() + "\n");
    }
    return { label: "tiny-whisper", dir };
  }
  const dir = path.join(options.outDir, "whisper-base-shaped");
  if (!hasWhisperBaseShaped(dir)) {
    log("  writing the whisper-base-shaped model (about 300 MB, once)");
    await writeWhisperBaseShaped(dir);
  }
  return { label: "whisper-base-shaped", dir };
}

async function promptTokens(llmDir: string): Promise<number | undefined> {
  try {
    const read = (name: string) => JSON.parse(fs.readFileSync(path.join(llmDir, name), "utf8"));
    const tokenizer = await LlmTokenizer.create(read("tokenizer.json"), read("tokenizer_config.json"));
    return tokenizer.encodePrompt({ system: SYSTEM_PROMPT, prompt: "" }).length;
  } catch {
    return undefined;
  }
}

/** BENCH_ASR_WORKER=off runs Whisper on the main thread (worker_thread false) to A/B the worker (issue #20). */
function asrConfig(): Record<string, unknown> {
  return process.env.BENCH_ASR_WORKER === "off" ? { worker_thread: false } : {};
}

/** BENCH_LLM_WORKER=off runs the LLM's session on the main thread (worker_thread false) to A/B its worker (issue #20). */
export function llmWorkerConfig(): Record<string, unknown> {
  return process.env.BENCH_LLM_WORKER === "off" ? { worker_thread: false } : {};
}

export async function voiceTurnPart(options: BenchOptions, log: (line: string) => void): Promise<{ json: unknown; markdown: string }> {
  const questionWav = questionWavPath();
  if (!fs.existsSync(questionWav)) throw new Error(`the question WAV ${questionWav} is missing (set SHARED_AUDIO_DIR)`);
  const question = await readWavFile(questionWav);
  const speechEndS = speechEndSample(question.samples) / question.sampleRate;
  const asr = await asrModel(options, log);
  const llm = options.quick
    ? { label: "stories260K", spec: { enginesPath: prepareStories(options.outDir, log), config: { ...llmWorkerConfig() } } }
    : { label: "Qwen3-0.6B-shaped q4", spec: { enginesPath: prepareQwen3(options.outDir, "q4", log), config: { dtype: "q4", ...llmWorkerConfig() } } };
  const systemTokens = await promptTokens(llm.spec.enginesPath);
  // By label, not by position in LEVERS (a lever added in the middle would shift every name).
  const lever = (label: string): TurnVariant => {
    const found = LEVERS.find((l) => l.variant.label === label);
    if (!found) throw new Error(`no turn lever '${label}'`);
    return found.variant;
  };
  const prefixLever = lever("prefix cache off");
  const spanLever = lever("first_span_words 8");
  const asrLever = lever("flush + finish");
  const priorityLever = lever("first-audio priority off");
  const earlyLever = lever("answer early");
  const earlySpanLever = lever("answer early + first_span_words 8");
  const q8Lever = lever("ASR q8");
  const q8EarlySpanLever = lever("ASR q8 + answer early + first_span_words 8");
  const q8EarlySpan4Lever = lever("ASR q8 + answer early + first_span_words 4");
  const prefillLever = lever("4-bit prefill");
  const q8EarlySpan4Frames6Lever = lever("ASR q8 + answer early + first_span_words 4 + first_frames_per_chunk 6");
  const windowLever = lever("ASR q8 window 5 s");
  const windowEarlySpan4Lever = lever("ASR q8 window 5 s + answer early + first_span_words 4");
  const windowEarlySpan4Frames6Lever = lever("ASR q8 window 5 s + answer early + first_span_words 4 + first_frames_per_chunk 6");
  const voices: VoiceCase[] = [{ voice: "eSpeak NG", tts: { enginesPath: "espeak", config: { engine: "espeak" } }, levers: [windowEarlySpan4Lever, windowLever, prefillLever, q8EarlySpan4Lever, q8Lever, q8EarlySpanLever, earlyLever, earlySpanLever, priorityLever, spanLever, prefixLever, asrLever], leverEvery: 1, budgetMinutes: 9 }];
  if (!options.quick) {
    const piperDir = preparePiperMedium(options.outDir, log);
    voices.push({ voice: "piper (medium-shaped VITS)", tts: { enginesPath: piperDir, config: {} }, levers: [windowEarlySpan4Lever, prefillLever, q8EarlySpan4Lever, q8EarlySpanLever, earlyLever, earlySpanLever, priorityLever], leverEvery: 1, budgetMinutes: 6 });
    const neutts = prepareNeutts(options, "q4", log);
    // BENCH_TTS_WORKER=off runs the codec's sessions on the main thread (worker_thread false) to A/B its worker.
    const codecConfig = { ...(neutts.spec.config as Record<string, unknown>), ...(process.env.BENCH_TTS_WORKER === "off" ? { worker_thread: false } : {}) };
    voices.push({ voice: "codec, NeuTTS-shaped q4", tts: { enginesPath: neutts.dir, config: codecConfig }, codec: true, levers: [windowEarlySpan4Frames6Lever, windowEarlySpan4Lever, prefillLever, q8EarlySpan4Frames6Lever, q8EarlySpanLever, q8EarlySpan4Lever, earlyLever, priorityLever], leverEvery: 1, budgetMinutes: 8 });
  }
  // BENCH_TURN_LEVERS="label,label" keeps only those levers (a focused A/B with more turns each).
  const only = process.env.BENCH_TURN_LEVERS?.split(",").map((l) => l.trim());
  if (only) {
    for (const label of only) lever(label);
    for (const v of voices) v.levers = v.levers.filter((l) => only.includes(l.label));
  }
  const pieces = replyPieces(REPLY);
  const results: VoiceResult[] = [];
  for (const v of voices) {
    const turns = schedule(v.levers, options.runs, v.leverEvery);
    log(`  ${v.voice}: ${turns.length} turns (${options.runs} base${v.levers.map((l) => `, ${l.label}`).join("")})`);
    // Warm-up: the models load during the first turn; a turn on the prefix-cache-off LLM and one on the q8 Whisper warm those copies too.
    const warmup: TurnVariant[] = [];
    for (let w = 0; w < options.warmup; w++) warmup.push(BASE, ...v.levers.filter((l) => !l.prefixCache || l.int8Prefill === false), ...(v.levers.some((l) => l.asrQ8 && !l.asrWindowS) ? [q8Lever] : []), ...(v.levers.some((l) => l.asrWindowS) ? [windowLever] : []));
    const result = worker({
      models: { asr: { enginesPath: asr.dir, config: asrConfig() }, llm: llm.spec, tts: v.tts, ttsDecoder: v.codec === true },
      questionWav,
      systemPrompt: SYSTEM_PROMPT,
      replyPieces: pieces,
      warmup,
      schedule: turns,
      budgetMs: options.quick ? undefined : v.budgetMinutes * 60000,
    });
    results.push({ voice: v.voice, budgetMinutes: v.budgetMinutes, ...result, timelines: result.timelines ?? [] });
    log(`  ${v.voice}: ${result.error ?? `${result.timelines?.length ?? 0} turns`}`);
  }
  const chart = chartSvg(results);
  if (options.write) fs.writeFileSync(path.join(BENCH_SRC, CHART), chart);
  const context = {
    question: QUESTION,
    questionSeconds: question.samples.length / question.sampleRate,
    speechEndS,
    asr: asr.label,
    llm: process.env.BENCH_LLM_WORKER === "off" ? `${llm.label}, on the main thread` : llm.label,
    systemTokens,
    replyTokens: pieces.length,
    quick: options.quick,
  };
  return { json: { context, results }, markdown: render(context, results) };
}

const byVariant = (r: VoiceResult, label: string) => r.timelines.filter((t) => t.variant === label);
const stageValues = (turns: TurnTimeline[], stage: Stage) => turns.map((t) => t.ms[stage]);

/** Stacked segments from the p50 of each stage's time since the end of speech (a segment whose p50 is below the one before draws as 0). */
function segments(turns: TurnTimeline[]): number[] {
  const p50 = STAGES.map((s) => percentile(stageValues(turns, s), 0.5));
  return p50.map((v, i) => Math.max(0, v - (i === 0 ? 0 : Math.max(...p50.slice(0, i).filter(Number.isFinite), 0))));
}

export function chartSvg(results: VoiceResult[]): string {
  const bars = [];
  for (const r of results) {
    if (r.error) continue;
    bars.push({ label: `${r.voice}`, segments: segments(byVariant(r, "base")) });
    for (const lever of LEVERS) {
      const turns = byVariant(r, lever.variant.label);
      if (turns.length > 0) bars.push({ label: `  ${r.voice}, ${lever.variant.label}`, segments: segments(turns) });
    }
  }
  const legend = STAGES.map((s, i) => (i === 0 ? `end of speech → ${STAGE_NAMES[s]}` : `→ ${STAGE_NAMES[s]}`));
  return stackedBarSvg("Voice turn: end of speech → audio-out playing (p50 of each stage, ms)", legend, bars);
}

export function render(context: Record<string, unknown>, results: VoiceResult[]): string {
  const cell = (turns: TurnTimeline[], stage: Stage) => {
    const v = stageValues(turns, stage);
    const missing = v.filter((x) => !Number.isFinite(x)).length;
    return `${fmt(percentile(v, 0.5), 0)} / ${fmt(percentile(v, 0.95), 0)}${missing ? ` (${missing} missing)` : ""}`;
  };
  const lines = [
    `One Node-RED process: vad (Silero, min silence 700 ms, the node's default) → turn gate (function: speech-end → finish) → whisper-streamer (${context.asr}) → ` +
      `llm-stream (${context.llm}, chat template, system prompt of ${context.systemTokens ?? "?"} tokens with the template, greedy) → tts-streamer → audio-out (null sink). ` +
      `The question is the speech clip ${context.question} (${fmt(context.questionSeconds as number, 2)} s, speech ends at ${fmt(context.speechEndS as number, 2)} s), ` +
      "sent into vad in 20 ms frames at real time, then room tone, as audio-in would; times are ms from the send of the frame holding the last voiced sample.",
    "",
    `The LLM's random weights write filler tokens no voice could speak: a function node swaps each generated token's text for the next piece of a fixed ${context.replyTokens}-piece English reply, so the TTS speaks English at exactly the LLM's pace. ` +
      "\"First span complete\" is when the LLM chunk that completes the first TTS span's text arrived (the splitter may need one more chunk to see the cut). " +
      "A turn ends when audio-out starts playing (the rest of the answer is cancelled).",
    "",
    "| voice | turns | VAD speech-end | ASR final | LLM first token | first span complete | first audio chunk | audio-out playing |",
    "|---|---:|---:|---:|---:|---:|---:|---:|",
  ];
  for (const r of results) {
    if (r.error) {
      lines.push(`| ${r.voice} | – | not measured: ${r.error} | | | | | |`);
      continue;
    }
    const base = byVariant(r, "base");
    lines.push(`| ${r.voice} | ${base.length} | ${STAGES.map((s) => cell(base, s)).join(" | ")} |`);
  }
  lines.push("", "Cells: p50 / p95 in ms from the end of speech. Chart (p50 of each stage, stacked; base turns and the lever turns):", "", `![Voice turn breakdown](${CHART})`, "");
  lines.push(
    "**Levers on the whole turn** — A/B in the same process, interleaved round by round with the base turns (order rotating); p50 ms from the end of speech (turns):",
    "",
    "| lever | voice | A | B | stage it acts on: A → B | first audio: A → B | playing: A → B |",
    "|---|---|---|---|---:|---:|---:|",
  );
  for (const lever of LEVERS) {
    for (const r of results) {
      const b = byVariant(r, lever.variant.label);
      if (r.error || b.length === 0) continue;
      const a = byVariant(r, "base");
      const ab = (stage: Stage) => `${fmt(percentile(stageValues(a, stage), 0.5), 0)} → ${fmt(percentile(stageValues(b, stage), 0.5), 0)}`;
      lines.push(`| ${lever.lever} | ${r.voice} | ${lever.a} | ${lever.b} | ${STAGE_NAMES[lever.stage]}: ${ab(lever.stage)} (${a.length}/${b.length}) | ${ab("firstAudio")} | ${ab("playing")} |`);
    }
  }
  const lateFrames = results.reduce((s, r) => s + (r.timelines ?? []).reduce((t, x) => t + x.lateFrames, 0), 0);
  const vadEnds = results.flatMap((r) => stageValues(r.timelines ?? [], "vadEnd"));
  const vadP50 = percentile(vadEnds, 0.5);
  lines.push(
    "",
    "Notes:",
    "- piper is a VITS with the dimensions of piper's medium voices (bench/piper-medium-shaped-model.ts: 15.4 M parameters, HiFi-GAN 256→32 channels ×8 ×8 ×4, random weights with speech-like durations), so its synthesis costs what a real medium voice's does; its audio is noise.",
    "- ASR final: whisper-streamer's speculative final (on by default) decodes the turn 0.2 s after its last loud frame, while vad still waits out its min silence, and `finish` takes that result at once when only room tone followed — hence ASR final ≈ VAD speech-end in the base rows (its A/B alone is in \"Voice-turn latency levers\"). " +
      "\"flush + finish\" sends both in one msg at vad's speech-end: the flush cuts the buffer, which throws the speculation away, and decodes the whole turn again.",
    `- Each voice's turns stop when its time budget (${results.map((r) => `${r.voice.split(" ")[0]} ${r.budgetMinutes ?? "–"}`).join(", ")} minutes after loading) is spent: the turns column says how many ran; rows with fewer than 10 turns fall short of the issue's ≥ 10.`,
    "- Answer early: whisper-streamer sends its speculative final (`emit_speculative`) as soon as it is decoded; the route function starts the answer from it at once, with `hold: true`, so llm-stream and tts-streamer work while vad still waits out its min silence and audio-out keeps the audio; the final then names that speculation (audio-out `release`) or not (the early answer is cancelled and the final answered). Its first-token, span and first-audio stages come before the turn's end; \"audio-out playing\" is when it sounds.",
  );
  for (const r of results) {
    const early = (r.timelines ?? []).filter((t) => t.variant.startsWith("answer early"));
    if (early.length === 0) continue;
    const kept = early.filter((t) => t.answeredEarly).length;
    lines.push(`- ${r.voice}, answer early: the speculative final came ${fmt(percentile(early.map((t) => t.speculativeMs), 0.5), 0)} ms (p50) after the end of speech; the early answer was the one played in ${kept} of ${early.length} turns.`);
  }
  if (vadP50 > 2000) {
    lines.push(
      `- **vad ran far behind the microphone**: its speech-end came ${fmt(vadP50 / 1000, 1)} s (p50) after the end of speech, against 0.7 s of min silence — in the --quick run (tiny models, same flow) it came after ~0.76 s. ` +
        (lateFrames < 50 ? "The frames were sent on time (late-frame count below), so the backlog is inside the process: vad's" : "The harness itself sent frames late (count below), and vad's") +
        " serial per-frame Silero runs waited behind the ASR and LLM work of the same Node-RED: onnxruntime-node 1.30 runs every session.run synchronously on the main thread (a setImmediate, then the native run), so each Whisper encoder pass (0.3–1.1 s) and each decoder step holds the event loop, and vad gets about one 32 ms frame in per such step. " +
        "Every later stage inherits that lag; the gaps between stages are the informative part of these figures.",
    );
  }
  const loads = results.filter((r) => r.loadAverage).map((r) => `${r.voice} ${r.loadAverage!.before.map((v) => v.toFixed(1)).join("/")} → ${r.loadAverage!.after.map((v) => v.toFixed(1)).join("/")}`);
  lines.push("", `Load average (1/5/15 min) at the start → end of each voice's process: ${loads.join("; ") || "–"}. Frames sent more than 20 ms after their real-time slot: ${lateFrames}.`);
  return lines.join("\n");
}
