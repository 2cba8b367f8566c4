/**
 * Part "kernel" of `npm run bench`: what bounds a 4-bit decode step on this CPU. For the
 * Qwen3-0.6B-shaped LLM and the NeuTTS-shaped codec LM, both as the engine loads them (q4,
 * int8 activations, fused q/k/v and gate/up, append-only cache, the codec's speech-only head):
 * one step after a cache of typical length, against the step's 4-bit MatMuls alone
 * (llm/matmul-only-graph.ts: same weights, kernel and prepacking), interleaved in one process;
 * beside them llama.cpp's whole decode step on the same Qwen3-shaped weights (Q4_0, same
 * threads) and the codec's real-time budget (20 ms a frame at 50 frames/s).
 *
 * If the MatMuls alone take as long as llama.cpp's whole step (or the frame budget), no change
 * outside onnxruntime's MatMulNBits kernel can reach those goals of issue 20.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as ort from "onnxruntime-node";
import { lastLogitsModel } from "../../src/core/onnx/decoder/last-logits-graph";
import { readModelShape } from "../../src/core/onnx/decoder/model-config";
import { SpeechVocabulary } from "../../src/core/tts/engines/codec/speech-vocabulary";
import { appendOnlyLayoutBySize, CPU_DEFAULT_Q4_ACCURACY_LEVEL } from "../../src/core/onnx/decoder/decoder-session";
import type { AppendOnlyLayout } from "../../src/core/onnx/decoder/append-only-cache";
import type { KvCacheShape } from "../../src/core/onnx/decoder/kv-cache-decoder";
import type { BenchOptions } from "../options";
import { fmt, median } from "../stats";
import { LlamaCppRunner } from "../llm/llama-cpp";
import { prepareGguf } from "../llm/llama-cpp-section";
import { prepareQwen3 } from "../llm/llm-section";
import { matMulNBitsOnly } from "../llm/matmul-only-graph";
import { decoderFeeds } from "../llm/decoder-feeds";
import { openBenchSession, timeRuns } from "../llm/session-runs";
import { prepareNeutts } from "./speech-synthesis";

/** Steps timed per side per round (after one untimed step). */
const STEPS = 16;
/** llama.cpp: tokens generated per round after a 32-token prompt (its cache then spans 32–96, like ours at 64). */
const LLAMA_PROMPT = 32;
const LLAMA_NEW = 64;
/** llama.cpp in the sweep: tokens generated after each prompt length (the first comes from the prefill). */
const SWEEP_NEW = 9;

interface Case {
  label: string;
  file: string;
  /** Cached positions the timed step attends to. */
  past: number;
  numLayers: number;
  numKvHeads: number;
  headDim: number;
  logitRows?: number[];
  /** Cache lengths of the sweep: how the step grows with the context (llama.cpp's too, where it is the reference). */
  sweep: number[];
  /** The engine's cache layout (the main table and the sweep), and the other one (the sweep's A/B). */
  layout: AppendOnlyLayout;
  otherLayout: AppendOnlyLayout;
  /** What the step is measured against: a label and, for llama.cpp, a runner to time each round. */
  reference: { label: string; fixedMs?: number; runner?: LlamaCppRunner };
}

interface Timed {
  wholeMs: number[];
  matMulsMs: number[];
  referenceMs: number[];
  matMuls: number;
  sweep: { past: number; oursMs: number[]; otherMs: number[]; llamaMs: number[] }[];
}

/**
 * The heads layout's masked spare positions in these steps: the decoder keeps 0–32 (SLACK in
 * kv-cache-decoder.ts), 16 on average.
 */
const HEADS_SPARE = 16;

/** One decode step's feeds after `past` positions (heads layout: HEADS_SPARE masked spare positions). */
function stepFeeds(c: Case, layout: AppendOnlyLayout, past = c.past): Record<string, ort.Tensor> {
  return decoderFeeds(c, layout, past, 1, HEADS_SPARE);
}

/** The decoder graph as createDecoderSession prepares it on the CPU (both models pass the append-only size rule). */
function prepared(c: Case, layout: AppendOnlyLayout) {
  const rewritten = lastLogitsModel(c.file, {
    matMulNBitsAccuracyLevel: CPU_DEFAULT_Q4_ACCURACY_LEVEL,
    appendOnlyCache: true,
    appendOnlyLayout: layout,
    fuseSiblingMatMuls: true,
    logitRows: c.logitRows,
    pastInPlaceAttention: true,
  });
  if (!rewritten) throw new Error(`${c.file}: the decoder graph could not be prepared as the engine does`);
  if (c.logitRows && !rewritten.keptRows) throw new Error(`${c.file}: the head did not take the speech-only rows`);
  return rewritten;
}

async function measure(c: Case, rounds: number, log: (line: string) => void): Promise<Timed> {
  const rewritten = prepared(c, c.layout);
  const other = prepared(c, c.otherLayout);
  const only = matMulNBitsOnly(rewritten.bytes);
  const whole = await openBenchSession(rewritten.bytes, rewritten.externalDataFolder);
  const otherWhole = await openBenchSession(other.bytes, other.externalDataFolder);
  const alone = await openBenchSession(only.bytes, rewritten.externalDataFolder);
  try {
    const feeds = stepFeeds(c, c.layout);
    const xs: Record<string, ort.Tensor> = {};
    for (const k of only.widths) xs[`x${k}`] = new ort.Tensor("float32", Float32Array.from({ length: k }, (_, i) => Math.cos(i) * 0.5), [1, 1, k]);
    const timed: Timed = { wholeMs: [], matMulsMs: [], referenceMs: [], matMuls: only.matMuls, sweep: c.sweep.map((past) => ({ past, oursMs: [], otherMs: [], llamaMs: [] })) };
    const ids = Array.from({ length: LLAMA_PROMPT }, (_, i) => 100 + i * 37);
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? ["whole", "alone", "reference"] : ["reference", "alone", "whole"];
      for (const side of order) {
        if (side === "whole") timed.wholeMs.push(...(await timeRuns(whole, feeds, STEPS)));
        else if (side === "alone") timed.matMulsMs.push(...(await timeRuns(alone, xs, STEPS)));
        else if (c.reference.runner) {
          const g = await c.reference.runner.generate(ids, LLAMA_NEW);
          timed.referenceMs.push(1000 / g.tokensPerSecond);
        }
      }
      log(`  ${c.label} round ${round + 1}: step ${fmt(median(timed.wholeMs.slice(-STEPS)), 1)} ms, 4-bit MatMuls alone ${fmt(median(timed.matMulsMs.slice(-STEPS)), 1)} ms` +
        (c.reference.runner ? `, llama.cpp step ${fmt(timed.referenceMs[timed.referenceMs.length - 1], 1)} ms` : ""));
    }
    // The sweep: the same session after longer and longer caches, llama.cpp after prompts of those lengths.
    const sweepFeeds = c.sweep.map((past) => stepFeeds(c, c.layout, past));
    const otherFeeds = c.sweep.map((past) => stepFeeds(c, c.otherLayout, past));
    for (let round = 0; round < rounds; round++) {
      for (let k = 0; k < c.sweep.length; k++) {
        const i = (k + round) % c.sweep.length;
        const point = timed.sweep[i];
        // The two layouts back to back, their order alternating by round.
        for (const side of round % 2 === 0 ? ["ours", "other"] : ["other", "ours"]) {
          if (side === "ours") point.oursMs.push(...(await timeRuns(whole, sweepFeeds[i], STEPS / 2)));
          else point.otherMs.push(...(await timeRuns(otherWhole, otherFeeds[i], STEPS / 2)));
        }
        if (c.reference.runner) {
          const prompt = Array.from({ length: point.past }, (_, j) => 100 + ((j * 37) % 5000));
          point.llamaMs.push(1000 / (await c.reference.runner.generate(prompt, SWEEP_NEW)).tokensPerSecond);
        }
      }
      log(`  ${c.label} sweep round ${round + 1}: ` + timed.sweep.map((p) => `${p.past}: ${fmt(median(p.oursMs.slice(-STEPS / 2)), 1)} (${c.otherLayout} ${fmt(median(p.otherMs.slice(-STEPS / 2)), 1)})` + (p.llamaMs.length ? `/${fmt(p.llamaMs[p.llamaMs.length - 1], 1)}` : "") + " ms").join(", "));
    }
    return timed;
  } finally {
    await whole.release();
    await otherWhole.release();
    await alone.release();
  }
}

/** The layout the engine picks for a cache of `shape`, and the other one (the sweep's A/B). */
function layouts(shape: KvCacheShape): { layout: AppendOnlyLayout; otherLayout: AppendOnlyLayout } {
  const layout = appendOnlyLayoutBySize(shape);
  return { layout, otherLayout: layout === "heads" ? "positions" : "heads" };
}

/** The speech tokens and end token the codec engine asks its LM's head for, read as the engine reads them. */
export async function codecRows(dir: string): Promise<number[]> {
  const readJson = (rel: string) => JSON.parse(fs.readFileSync(path.join(dir, rel), "utf8"));
  const config = readJson("tts_config.json") as { speech_token: string; speech_end_token: string; codebook_size: number };
  const { Tokenizer } = await import("@huggingface/tokenizers");
  const tokenizer = new Tokenizer(readJson("backbone/tokenizer.json"), readJson("backbone/tokenizer_config.json"));
  const { vocabSize } = readModelShape(readJson("backbone/config.json"), "backbone/config.json");
  return SpeechVocabulary.of(tokenizer, config.speech_token, config.speech_end_token, config.codebook_size, { vocabSize }).rows;
}

export async function kernelBoundPart(options: BenchOptions, log: (line: string) => void): Promise<{ json: unknown; markdown: string }> {
  if (options.quick) return { json: { skipped: "--quick" }, markdown: "Skipped with --quick (it needs the Qwen3- and NeuTTS-shaped q4 models)." };
  const threads = os.availableParallelism?.() ?? os.cpus().length;
  const rounds = Math.max(options.runs, 3);
  const qwenDir = prepareQwen3(options.outDir, "q4", log);
  const qwen = readModelShape(JSON.parse(fs.readFileSync(path.join(qwenDir, "config.json"), "utf8")));
  const neutts = prepareNeutts(options, "q4", log).dir;
  const codec = readModelShape(JSON.parse(fs.readFileSync(path.join(neutts, "backbone", "config.json"), "utf8")), "backbone/config.json");
  const runner = await LlamaCppRunner.open(prepareGguf(qwenDir, "Q4_0", log), threads);
  const cases: Case[] = [
    {
      label: "Qwen3-0.6B-shaped q4 (LLM)",
      file: path.join(qwenDir, "onnx", "model_q4.onnx"),
      past: 64,
      sweep: [4, 64, 256, 512],
      ...qwen,
      ...layouts(qwen),
      reference: { label: "llama.cpp Q4_0, whole decode step (same weights, same threads)", runner },
    },
    {
      // 321 prompt tokens (text + the voice's 250 reference codes) and ~60 frames into a span.
      label: "NeuTTS-shaped q4 (codec LM, speech-only head)",
      file: path.join(neutts, "backbone", "onnx", "model_q4.onnx"),
      past: 380,
      sweep: [4, 128, 380, 640],
      ...codec,
      ...layouts(codec),
      logitRows: await codecRows(neutts),
      reference: { label: "real time: 50 frames/s", fixedMs: 20 },
    },
  ];
  const results: { c: Case; t: Timed }[] = [];
  try {
    for (const c of cases) results.push({ c, t: await measure(c, rounds, log) });
  } finally {
    await runner.dispose();
  }
  const lines = [
    `One decode step as the engine runs it on the CPU (q4, int8 activations, fused q/k/v and gate/up, append-only cache; ${threads} threads) against ` +
      `the same step's 4-bit MatMuls alone (every node but its MatMulNBits removed: same weights, kernel, accuracy level and prepacking; ` +
      `bench/llm/matmul-only-graph.ts), ${STEPS} steps a side per round, ${rounds} rounds interleaved in one process (order alternating); ` +
      `llama.cpp's step is 1 ÷ its decode rate over ${LLAMA_NEW} tokens after a ${LLAMA_PROMPT}-token prompt, in the same rounds. Medians, ms:`,
    "",
    "| model | cached positions | whole step | 4-bit MatMuls alone (count) | their share of the step | reference | reference step | MatMuls alone ÷ reference |",
    "|---|---:|---:|---:|---:|---|---:|---:|",
  ];
  const json = results.map(({ c, t }) => {
    const whole = median(t.wholeMs);
    const alone = median(t.matMulsMs);
    const reference = c.reference.fixedMs ?? median(t.referenceMs);
    lines.push(`| ${c.label}, ${c.layout === "heads" ? "heads" : "position"}-major cache | ${c.past} | ${fmt(whole, 1)} | ${fmt(alone, 1)} (${t.matMuls}) | ${fmt(alone / whole, 2)} | ${c.reference.label} | ${fmt(reference, 1)} | ${fmt(alone / reference, 2)}× |`);
    return {
      label: c.label,
      past: c.past,
      wholeStepMs: whole,
      matMulsAloneMs: alone,
      matMuls: t.matMuls,
      referenceLabel: c.reference.label,
      referenceStepMs: reference,
      samples: t.wholeMs.length,
      layout: c.layout,
      sweep: t.sweep.map((p) => ({
        past: p.past,
        oursStepMs: median(p.oursMs),
        otherLayout: c.otherLayout,
        otherLayoutStepMs: median(p.otherMs),
        llamaCppStepMs: p.llamaMs.length ? median(p.llamaMs) : undefined,
      })),
    };
  });
  lines.push(
    "",
    `**The step against the cache's length** — the same sessions fed caches of these lengths (${STEPS / 2} steps a round), in the ` +
      `append-only cache layout the engine picks for the model and in the other one (heads-major buffers carry ${HEADS_SPARE} masked spare ` +
      `positions, the decoder's average), llama.cpp decoding ${SWEEP_NEW - 1} tokens after prompts of those lengths, ${rounds} rounds with ` +
      "the order rotating; medians, ms:",
    "",
    "| model | cached positions | our step (the engine's layout) | the other layout | engine's ÷ other | llama.cpp step | ours ÷ llama.cpp |",
    "|---|---:|---:|---:|---:|---:|---:|",
  );
  for (const { c, t } of results) {
    for (const p of t.sweep) {
      const llama = p.llamaMs.length ? median(p.llamaMs) : undefined;
      const [ours, other] = [median(p.oursMs), median(p.otherMs)];
      lines.push(
        `| ${c.label} | ${p.past} | ${fmt(ours, 1)} (${c.layout}) | ${fmt(other, 1)} (${c.otherLayout}) | ${fmt(ours / other, 2)}× | ` +
          `${llama === undefined ? "—" : fmt(llama, 1)} | ${llama === undefined ? "—" : fmt(ours / llama, 2) + "×"} |`,
      );
    }
  }
  lines.push(
    "",
    "Below 1.0×, the kernel alone leaves room under the reference and the rest of the step (norms, rotary embedding, attention, " +
      "cache, one onnxruntime node each) is the gap that graph fusion at load can close; at or above 1.0×, nothing outside " +
      "onnxruntime's MatMulNBits kernel can bring the step under it (only a faster kernel or a GPU).",
  );
  return { json, markdown: lines.join("\n") };
}
