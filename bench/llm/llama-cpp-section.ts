/**
 * Part "llamacpp" of `npm run bench`: our engine against llama.cpp (node-llama-cpp 3.21.1's
 * prebuilt CPU build) on the very same Qwen3-0.6B-shaped weights — ONNX fp32 / q4 files for us,
 * GGUF F32 / Q4_0 files written from the same seeded weights for llama.cpp — with the same
 * prompt ids and the same thread count, runs interleaved (the order rotates every round).
 *
 * Per side: time to first token after a 32-token prompt and decode tokens/s over 64 new tokens
 * (greedy). Then how far each quantized path moves the next-token distribution from fp32, along
 * a teacher-forced sequence (the fp32 greedy continuation): mean KL(fp32 ‖ variant) and top-1
 * agreement. That decides whether our int8-activation q4 path may be the CPU default (issue 20:
 * only if it moves the logits no more than llama.cpp's own Q4_0 does).
 */
import { execFileSync } from "child_process";
import * as os from "os";
import * as path from "path";
import { KvCacheDecoder } from "../../src/core/onnx/decoder/kv-cache-decoder";
import { loadLlm } from "../../src/core/llm/engines/onnx/loader";
import type { OnnxLlmEngine } from "../../src/core/llm/engines/onnx/onnx-llm-engine";
import { localLoadContext } from "../../src/core/registry";
import type { LlmStreamChunk } from "../../src/core/types";
import type { BenchOptions } from "../options";
import { ggufFile, hasGguf } from "../qwen3-shaped-gguf";
import { QWEN3_06B_SHAPE } from "../qwen3-shaped-model";
import { fmt, median } from "../stats";
import type { GgufTensorType } from "../gguf-writer";
import { LlamaCppRunner } from "./llama-cpp";
import { prepareQwen3 } from "./llm-section";
import { exactPrompt } from "./prompts";

const PROMPT_TOKENS = 32;
const NEW_TOKENS = 64;
const DRIFT_POSITIONS = 32;

interface SideResult {
  label: string;
  ttftMs: number[];
  tokensPerSecond: number[];
  ids?: number[];
}

interface DriftRow {
  label: string;
  meanKl: number;
  top1Agreement: number;
}

/** A side runs the prompt: our engine takes its text (raw, no chat template), llama.cpp the ids that text encodes to. */
type Side = { label: string; run: (text: string, ids: number[]) => Promise<{ ttftMs: number; tokensPerSecond: number; ids: number[] }> };

function ours(label: string, engine: OnnxLlmEngine): Side {
  return {
    label,
    run: (text) =>
      new Promise((resolve, reject) => {
        const chunks: LlmStreamChunk[] = [];
        engine.generate({ prompt: text, raw: true, temperature: 0, ignore_eos: true, max_new_tokens: NEW_TOKENS }).subscribe({
          next: (c) => chunks.push(c),
          error: reject,
          complete: () => {
            const fin = chunks[chunks.length - 1];
            resolve({ ttftMs: (fin.time_to_first_token ?? NaN) * 1000, tokensPerSecond: fin.tokens_per_second ?? 0, ids: chunks.flatMap((c) => c.token_ids ?? []) });
          },
        });
      }),
  };
}

function llamaCpp(label: string, runner: LlamaCppRunner): Side {
  return {
    label,
    run: async (_text, ids) => {
      const g = await runner.generate(ids, NEW_TOKENS);
      return { ttftMs: g.timeToFirstToken * 1000, tokensPerSecond: g.tokensPerSecond, ids: g.ids };
    },
  };
}

function softmax(logits: Float32Array): Float32Array {
  let max = -Infinity;
  for (const v of logits) if (v > max) max = v;
  const out = new Float32Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += out[i] = Math.exp(logits[i] - max);
  for (let i = 0; i < out.length; i++) out[i] /= sum;
  return out;
}

/** Our engines run in this thread here: the distributions read their session, and the speeds stay comparable with earlier runs. */
const IN_PROCESS = { worker_thread: false };

/** Next-token distributions of our engine along `ids`, for its last `positions` tokens. */
async function oursProbabilities(engine: OnnxLlmEngine, ids: number[], positions: number): Promise<Float32Array[]> {
  const session = (engine as unknown as { parts: { decoders: { session: import("onnxruntime-node").InferenceSession } } }).parts.decoders.session;
  const decoder = new KvCacheDecoder(session, engine.shape);
  try {
    const from = ids.length - positions;
    const rows: Float32Array[] = [softmax(await decoder.prefill(ids.slice(0, from + 1)))];
    for (let i = from + 1; i < ids.length; i++) rows.push(softmax(await decoder.step(ids[i])));
    return rows;
  } finally {
    decoder.dispose();
  }
}

/**
 * The int8 prefill session's rows along the same positions: each one the last row of a prefill of
 * the sequence up to it (that session only ever computes prefills; every one here is 33+ rows).
 */
async function prefillProbabilities(engine: OnnxLlmEngine, ids: number[], positions: number): Promise<Float32Array[]> {
  const session = (engine as unknown as { parts: { decoders: { prefill?: { session: import("onnxruntime-node").InferenceSession } } } }).parts.decoders.prefill?.session;
  if (!session) throw new Error("the engine with CPU defaults has no int8 prefill session");
  const rows: Float32Array[] = [];
  for (let end = ids.length - positions + 1; end <= ids.length; end++) {
    const decoder = new KvCacheDecoder(session, engine.shape);
    try {
      rows.push(softmax(await decoder.prefill(ids.slice(0, end))));
    } finally {
      decoder.dispose();
    }
  }
  return rows;
}

function drift(label: string, reference: Float32Array[], variant: Float32Array[]): DriftRow {
  let kl = 0;
  let agree = 0;
  reference.forEach((p, r) => {
    const q = variant[r];
    let pArg = 0;
    let qArg = 0;
    for (let i = 0; i < p.length; i++) {
      if (p[i] > 0) kl += p[i] * Math.log(p[i] / Math.max(q[i], 1e-30));
      if (p[i] > p[pArg]) pArg = i;
      if (q[i] > q[qArg]) qArg = i;
    }
    if (pArg === qArg) agree++;
  });
  return { label, meanKl: kl / reference.length, top1Agreement: agree / reference.length };
}

export function prepareGguf(dir: string, type: GgufTensorType, log: (line: string) => void): string {
  if (!hasGguf(dir, type)) {
    log(`  writing the Qwen3-0.6B-shaped ${type} GGUF into ${dir} (a minute or two)`);
    execFileSync(process.execPath, [path.join(__dirname, "..", "qwen3-shaped-gguf.js"), dir, type], { stdio: "inherit" });
  }
  return ggufFile(dir, type);
}

export async function llamaCppPart(options: BenchOptions, log: (line: string) => void): Promise<{ json: unknown; markdown: string }> {
  if (options.quick) return { json: { skipped: "--quick" }, markdown: "Skipped with --quick (it needs the Qwen3-0.6B-shaped model)." };
  const threads = os.availableParallelism?.() ?? os.cpus().length;
  const rounds = Math.max(options.runs, 3);
  const dir = prepareQwen3(options.outDir, "fp32", log);
  prepareQwen3(options.outDir, "q4", log);
  const f32File = prepareGguf(dir, "F32", log);
  const q40File = prepareGguf(dir, "Q4_0", log);

  const promptText = await exactPrompt(dir, PROMPT_TOKENS, 32);
  const tables: { title: string; sides: SideResult[] }[] = [];
  const probabilityRows: Record<string, Float32Array[]> = {};
  let greedyF32: { ours: number[]; theirs: number[] } | undefined;

  for (const group of ["fp32", "q4"] as const) {
    const engines: OnnxLlmEngine[] = [];
    const runners: LlamaCppRunner[] = [];
    try {
      const sides: Side[] = [];
      if (group === "fp32") {
        engines.push(await loadLlm(localLoadContext("llm", { enginesPath: dir, config: { dtype: "fp32", prefix_cache_mb: 0, ...IN_PROCESS } })));
        sides.push(ours("ours fp32", engines[0]));
        runners.push(await LlamaCppRunner.open(f32File, threads));
        sides.push(llamaCpp("llama.cpp F32", runners[0]));
      } else {
        const q4 = (config: Record<string, unknown>) => loadLlm(localLoadContext("llm", { enginesPath: dir, config: { dtype: "q4", prefix_cache_mb: 0, ...IN_PROCESS, ...config } }));
        engines.push(await q4({ q4_accuracy_level: 0, int8_prefill: false }));
        engines.push(await q4({ q4_accuracy_level: 4, int8_prefill: false }));
        engines.push(await q4({}));
        sides.push(
          ours("ours q4, exact (q4_accuracy_level 0, int8_prefill false)", engines[0]),
          ours("ours q4, int8 activations, 4-bit prefill (int8_prefill false)", engines[1]),
          ours("ours q4, CPU defaults (int8 activations + int8 prefill)", engines[2]),
        );
        runners.push(await LlamaCppRunner.open(q40File, threads));
        sides.push(llamaCpp("llama.cpp Q4_0", runners[0]));
      }
      // The ids our engine feeds for this text (raw: no chat template), which llama.cpp gets as they are.
      const promptIds = engines[0].tokenizer.encodePrompt({ prompt: promptText, raw: true });
      const results: SideResult[] = sides.map((s) => ({ label: s.label, ttftMs: [], tokensPerSecond: [] }));
      for (const side of sides) await side.run(promptText, promptIds); // warm-up
      for (let round = 0; round < rounds; round++) {
        for (let k = 0; k < sides.length; k++) {
          const i = (k + round) % sides.length;
          const r = await sides[i].run(promptText, promptIds);
          results[i].ttftMs.push(r.ttftMs);
          results[i].tokensPerSecond.push(r.tokensPerSecond);
          results[i].ids = r.ids;
        }
        log(`  ${group} round ${round + 1}: ` + results.map((r) => `${r.label} ${fmt(r.tokensPerSecond[round], 1)} tok/s`).join(", "));
      }
      tables.push({ title: group, sides: results });
      if (group === "fp32") {
        greedyF32 = { ours: results[0].ids!, theirs: results[1].ids! };
        const sequence = [...promptIds, ...greedyF32.ours.slice(0, DRIFT_POSITIONS)];
        probabilityRows["ours fp32"] = await oursProbabilities(engines[0], sequence, DRIFT_POSITIONS);
        probabilityRows["llama.cpp F32"] = await runners[0].probabilities(sequence, DRIFT_POSITIONS, QWEN3_06B_SHAPE.vocabSize);
        probabilityRows.sequence = [Float32Array.from(sequence)];
      } else {
        const sequence = Array.from(probabilityRows.sequence[0]);
        probabilityRows["ours q4"] = await oursProbabilities(engines[0], sequence, DRIFT_POSITIONS);
        probabilityRows["ours q4, int8 activations"] = await oursProbabilities(engines[1], sequence, DRIFT_POSITIONS);
        probabilityRows["ours q4, int8 prefill"] = await prefillProbabilities(engines[2], sequence, DRIFT_POSITIONS);
        probabilityRows["llama.cpp Q4_0"] = await runners[0].probabilities(sequence, DRIFT_POSITIONS, QWEN3_06B_SHAPE.vocabSize);
      }
    } finally {
      for (const e of engines) await e.dispose();
      for (const r of runners) await r.dispose();
    }
  }

  const reference = probabilityRows["ours fp32"];
  const drifts = ["llama.cpp F32", "ours q4", "ours q4, int8 activations", "ours q4, int8 prefill", "llama.cpp Q4_0"].map((label) => drift(label, reference, probabilityRows[label]));
  const sameGreedy = greedyF32 ? greedyF32.ours.join() === greedyF32.theirs.join() : false;
  return { json: { threads, rounds, tables, drifts, sameGreedy }, markdown: render(threads, rounds, tables, drifts, sameGreedy, greedyF32) };
}

function render(
  threads: number,
  rounds: number,
  tables: { title: string; sides: SideResult[] }[],
  drifts: DriftRow[],
  sameGreedy: boolean,
  greedy?: { ours: number[]; theirs: number[] },
): string {
  const lines = [
    `Qwen3-0.6B-shaped weights, ${threads} threads on both sides, ${PROMPT_TOKENS}-token prompt (the same ids), ${NEW_TOKENS} greedy tokens, ${rounds} interleaved rounds; medians. llama.cpp: node-llama-cpp 3.21.1 prebuilt CPU build on GGUF files written from the same seeded weights (bench/gguf-writer.ts).`,
    "",
    "| side | TTFT ms | decode tok/s | decode ÷ llama.cpp | decode ÷ llama.cpp round by round (median, range) | TTFT ÷ llama.cpp |",
    "|---|---:|---:|---:|---:|---:|",
  ];
  for (const table of tables) {
    const base = table.sides[table.sides.length - 1];
    for (const side of table.sides) {
      const tps = median(side.tokensPerSecond);
      const ttft = median(side.ttftMs);
      // Each round runs the sides back to back, so a round's ratio is less exposed to the VM's drift
      // over the run than the ratio of the medians.
      const perRound = side.tokensPerSecond.map((t, i) => t / base.tokensPerSecond[i]);
      const spread = `${fmt(median(perRound))}× (${fmt(Math.min(...perRound))}–${fmt(Math.max(...perRound))})`;
      lines.push(`| ${side.label} | ${fmt(ttft, 0)} | ${fmt(tps, 1)} | ${fmt(tps / median(base.tokensPerSecond))}× | ${spread} | ${fmt(ttft / median(base.ttftMs))}× |`);
    }
  }
  const firstDiff = greedy ? greedy.ours.findIndex((id, i) => id !== greedy.theirs[i]) : -1;
  lines.push(
    "",
    sameGreedy
      ? `Greedy ids in F32: the same ${NEW_TOKENS} tokens on both sides.`
      : `Greedy ids in F32: they part at token ${firstDiff} of ${NEW_TOKENS}.`,
    "",
    `How far each path moves the next-token distribution from ours fp32, over ${DRIFT_POSITIONS} teacher-forced positions:`,
    "",
    "| path | mean KL(fp32 ‖ path) | top-1 agreement |",
    "|---|---:|---:|",
    ...drifts.map((d) => `| ${d.label} | ${d.meanKl.toExponential(2)} | ${(100 * d.top1Agreement).toFixed(0)}% |`),
  );
  return lines.join("\n");
}
