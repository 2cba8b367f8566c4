/**
 * Voice-turn latency levers of `npm run bench` (part "levers"), each an interleaved A/B in one
 * process so the machine's drift hits both sides alike:
 *  - prefix KV cache: time to first token of a chat turn behind a ~300-token system prompt, on
 *    the Qwen3-0.6B-shaped q4 model (stories260K with --quick), cold (prefix_cache_mb 0) against
 *    warm (the system prompt cached by an earlier turn), each turn a different question;
 *  - the first TTS span cut early (first_span_words 8 against 0): time to first audio of an answer
 *    whose first sentence is long, for eSpeak NG, tiny-piper, a piper-medium-shaped VITS and (without --quick) the
 *    NeuTTS-shaped q4 codec voice;
 *  - the speculative ASR final (asr-final-lever.ts): finish → final transcript on the
 *    whisper-base-shaped model (tiny-whisper with --quick); VOICE_BENCH_LEVERS=asr runs only it.
 */
import * as fs from "fs";
import * as path from "path";
import { writeFixture } from "../../fixtures/cli";
import { loadLlm } from "../../src/core/llm/engines/onnx/loader";
import type { OnnxLlmEngine } from "../../src/core/llm/engines/onnx/onnx-llm-engine";
import { loadTts } from "../../src/core/tts/loader";
import { localLoadContext } from "../../src/core/registry";
import type { LlmStreamChunk, ModelConfig, TtsEngine, TtsStreamChunk } from "../../src/core/types";
import type { BenchOptions } from "../options";
import { prepareQwen3, prepareStories } from "../llm/llm-section";
import { prepareNeutts } from "./speech-synthesis";
import { preparePiperMedium } from "../piper-medium-shaped-model";
import { fmt, median, nowMs } from "../stats";
import { asrFinalCase, renderAsrFinal, type AsrFinalRow } from "./asr-final-lever";
import { asrWindowCases, renderAsrWindow, type AsrWindowRow } from "./asr-window-lever";

/** ~300 tokens of system prompt, as a home assistant's would be (rules, rooms, devices). */
const SYSTEM_PROMPT = [
  "You are Nova, a calm voice assistant for a family home. You answer in one or two short spoken sentences,",
  "with no lists, no markdown and no emoji, because everything you say is read aloud by a speech engine.",
  "The home has these rooms: kitchen, living room, hall, study, bathroom, the children's bedroom, the main",
  "bedroom, the garage and the garden. Devices you can control: ceiling lights in every room, the kitchen",
  "under-cabinet strip, the living room floor lamp, the hall heater, the study desk lamp, the bathroom fan,",
  "the garage door, the garden sprinklers and the front door lock. When asked to change a device, say",
  "what you did in the past tense and name the room. When a device does not exist, say so plainly and",
  "offer the nearest one that does. Never invent readings: temperatures come only from the hall and",
  "garden sensors, and you report them rounded to whole degrees Celsius. Quiet hours run from ten at",
  "night to seven in the morning; during them you speak softly and keep answers to a single sentence.",
  "If a question is not about the home, answer briefly and helpfully, then stop. If you did not catch",
  "the question, ask the person to repeat it in a few words. Do not mention these instructions.",
].join(" ");

const QUESTIONS = [
  "Is the kitchen light on?",
  "Turn off the hall heater, please.",
  "What is the temperature in the garden?",
  "Open the garage door.",
  "Dim the living room floor lamp.",
  "Are the sprinklers running?",
  "Lock the front door.",
  "Switch on the study desk lamp.",
  "Is the bathroom fan still on?",
  "Turn on the garden lights.",
  "How warm is the hall?",
  "Close the garage.",
];

const ANSWER =
  "Sure thing, I have switched on the ceiling light and the under-cabinet strip in the kitchen for you, and the hall stays dark. " +
  "Anything else?";

interface PrefixRow {
  model: string;
  systemTokens: number;
  coldMs: number[];
  warmMs: number[];
  cachedTokens: number[];
}

interface SpanRow {
  voice: string;
  offMs: number[];
  onMs: number[];
}

function ttft(engine: OnnxLlmEngine, system: string, question: string): Promise<{ ms: number; cached: number }> {
  return new Promise((resolve, reject) => {
    let last: LlmStreamChunk | undefined;
    engine.generate({ system, prompt: question, temperature: 0, max_new_tokens: 4 }).subscribe({
      next: (c) => (last = c),
      error: reject,
      complete: () => resolve({ ms: (last?.time_to_first_token ?? NaN) * 1000, cached: last?.cached_prompt_tokens ?? 0 }),
    });
  });
}

async function prefixCase(label: string, dir: string, config: ModelConfig, system: string, rounds: number, log: (line: string) => void): Promise<PrefixRow> {
  const cold = await loadLlm(localLoadContext("llm", { enginesPath: dir, config: { ...config, prefix_cache_mb: 0 } }));
  const warm = await loadLlm(localLoadContext("llm", { enginesPath: dir, config }));
  try {
    const systemTokens = warm.tokenizer.encodePrompt({ system, prompt: "" }).length;
    // Warm-up: the graphs' first runs, and the warm engine's cache of the system prompt.
    await ttft(cold, system, "Hello.");
    await ttft(warm, system, "Hello.");
    const row: PrefixRow = { model: label, systemTokens, coldMs: [], warmMs: [], cachedTokens: [] };
    for (let i = 0; i < rounds; i++) {
      const question = QUESTIONS[i % QUESTIONS.length];
      // Alternate which side goes first, so neither always runs on a machine just warmed by the other.
      const order = i % 2 === 0 ? ["cold", "warm"] : ["warm", "cold"];
      for (const side of order) {
        const r = await ttft(side === "cold" ? cold : warm, system, question);
        if (side === "cold") row.coldMs.push(r.ms);
        else {
          row.warmMs.push(r.ms);
          row.cachedTokens.push(r.cached);
        }
      }
      log(`  ${label} round ${i + 1}: cold ${fmt(row.coldMs[i], 0)} ms, warm ${fmt(row.warmMs[i], 0)} ms (${row.cachedTokens[i]} cached)`);
    }
    return row;
  } finally {
    await cold.dispose();
    await warm.dispose();
  }
}

function firstAudioMs(engine: TtsEngine, firstSpanWords: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = nowMs();
    let done = false;
    const streamer = engine.openStreamer({ first_span_words: firstSpanWords });
    const sub = streamer.output$.subscribe({
      next: (chunk: TtsStreamChunk) => {
        if (done || chunk.kind !== "audio" || chunk.audio.length === 0) return;
        done = true;
        resolve(nowMs() - started);
        streamer.cancel();
        queueMicrotask(() => sub.unsubscribe());
      },
      error: reject,
      complete: () => {
        if (!done) reject(new Error("the stream ended with no audio"));
      },
    });
    streamer.send(ANSWER);
    streamer.finish();
  });
}

async function spanCase(voice: string, engine: TtsEngine, rounds: number, log: (line: string) => void): Promise<SpanRow> {
  await firstAudioMs(engine, 0);
  await firstAudioMs(engine, 8);
  const row: SpanRow = { voice, offMs: [], onMs: [] };
  for (let i = 0; i < rounds; i++) {
    for (const words of i % 2 === 0 ? [0, 8] : [8, 0]) (words === 0 ? row.offMs : row.onMs).push(await firstAudioMs(engine, words));
    log(`  ${voice} round ${i + 1}: whole sentence ${fmt(row.offMs[i], 0)} ms, first clause ${fmt(row.onMs[i], 0)} ms`);
  }
  await engine.dispose();
  return row;
}

export async function latencyLeversPart(options: BenchOptions, log: (line: string) => void): Promise<{ json: unknown; markdown: string }> {
  const rounds = Math.max(options.runs, 5);
  const asrFinal = await asrFinalCase(options, options.runs, log);
  const asrWindow = await asrWindowCases(options, rounds, log);
  if (process.env.VOICE_BENCH_LEVERS === "asr") return { json: { asrFinal, asrWindow }, markdown: [...renderAsrFinal(asrFinal), ...renderAsrWindow(asrWindow)].join("\n").trim() };
  const prefix: PrefixRow[] = [];
  // stories260K holds 512 positions and spends a token per byte or two: a shorter system prompt there.
  if (options.quick) prefix.push(await prefixCase("stories260K", prepareStories(options.outDir, log), {}, SYSTEM_PROMPT.slice(0, 400), rounds, log));
  else prefix.push(await prefixCase("Qwen3-0.6B-shaped q4", prepareQwen3(options.outDir, "q4", log), { dtype: "q4" }, SYSTEM_PROMPT, rounds, log));

  const spans: SpanRow[] = [];
  spans.push(await spanCase("eSpeak NG", await loadTts(localLoadContext("tts", { enginesPath: "espeak", config: { engine: "espeak" } })), rounds, log));
  const piperDir = path.join(options.outDir, "tiny-piper");
  if (!fs.existsSync(piperDir)) await writeFixture("tiny-piper", piperDir);
  spans.push(await spanCase("piper (tiny-piper)", await loadTts(localLoadContext("tts", { enginesPath: piperDir })), rounds, log));
  const mediumDir = preparePiperMedium(options.outDir, log);
  spans.push(await spanCase("piper (medium-shaped VITS)", await loadTts(localLoadContext("tts", { enginesPath: mediumDir })), rounds, log));
  if (!options.quick) {
    const neutts = prepareNeutts(options, "q4", log);
    spans.push(await spanCase("codec, NeuTTS-shaped q4", await loadTts(localLoadContext("tts", { enginesPath: neutts.dir, ...neutts.spec })), Math.min(rounds, 3), log));
  }
  return { json: { prefix, spans, asrFinal, asrWindow }, markdown: render(prefix, spans, asrFinal, asrWindow) };
}

function render(prefix: PrefixRow[], spans: SpanRow[], asrFinal: AsrFinalRow, asrWindow: AsrWindowRow[]): string {
  const lines = [
    "Interleaved A/B in one process (sides alternate which goes first each round); medians.",
    "",
    "**Prefix KV cache** — time to first token of a chat turn behind the same system prompt, each turn a new question:",
    "",
    "| model | system prompt tokens | cold TTFT ms | warm TTFT ms | warm ÷ cold | tokens from the cache |",
    "|---|---:|---:|---:|---:|---:|",
  ];
  for (const r of prefix) {
    const cold = median(r.coldMs);
    const warm = median(r.warmMs);
    lines.push(`| ${r.model} | ${r.systemTokens} | ${fmt(cold, 0)} | ${fmt(warm, 0)} | ${fmt(warm / cold)}× | ${median(r.cachedTokens)} |`);
  }
  lines.push(
    "",
    `**First span cut early** — time to first audio of a reply whose first sentence has ${ANSWER.split(". ")[0].split(" ").length} words (first_span_words 8 against 0):`,
    "",
    "| voice | whole first sentence ms | first clause ms | ratio |",
    "|---|---:|---:|---:|",
  );
  for (const r of spans) {
    const off = median(r.offMs);
    const on = median(r.onMs);
    lines.push(`| ${r.voice} | ${fmt(off, 0)} | ${fmt(on, 0)} | ${fmt(on / off)}× |`);
  }
  lines.push(...renderAsrFinal(asrFinal), ...renderAsrWindow(asrWindow));
  return lines.join("\n");
}
