/**
 * The LLM part of `npm run bench`: prepares the models (stories260K converted from
 * the llama2.c files in test/data/models/stories260K, the Qwen3-0.6B-shaped random model in fp32 and q4),
 * runs each case against transformers.js, and renders the table.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { fmt } from "../stats";
import { runLlmCase, type LlmCase, type LlmCaseResult, type SideSummary } from "./llm-bench";
import { exactPrompt } from "./prompts";
import { QWEN3_06B_SHAPE, hasVariant, variantFile, type WeightVariant } from "../qwen3-shaped-model";
import { bestBandwidth, type BandwidthResult } from "../bandwidth";
import type { BenchOptions } from "../options";

const REPO = path.join(__dirname, "..", "..", "..");
const STORIES_SOURCE = process.env.STORIES260K_DIR ?? path.join(REPO, "test", "data", "models", "stories260K");

export function prepareStories(outDir: string, log: (line: string) => void): string {
  const dir = path.join(outDir, "stories260K");
  if (fs.existsSync(path.join(dir, "onnx", "model.onnx"))) return dir;
  const bin = path.join(STORIES_SOURCE, "stories260K.bin");
  if (!fs.existsSync(bin)) throw new Error(`stories260K not found at ${STORIES_SOURCE} (set STORIES260K_DIR)`);
  log(`  converting stories260K into ${dir}`);
  execFileSync(process.execPath, [path.join(REPO, "bin", "voice-stream.js"), "convert-llama2c", bin, path.join(STORIES_SOURCE, "tok512.bin"), dir], {
    stdio: "inherit",
  });
  return dir;
}

export function prepareQwen3(outDir: string, variant: WeightVariant, log: (line: string) => void): string {
  const dir = path.join(outDir, "qwen3-0.6b-shaped");
  if (hasVariant(dir, variant)) return dir;
  fs.mkdirSync(outDir, { recursive: true });
  const free = fs.statfsSync(outDir);
  const needed = variant === "fp32" ? 2.6e9 : 1.1e9;
  if (free.bavail * free.bsize < needed * 1.5) {
    throw new Error(`not enough disk for the Qwen3-shaped ${variant} model: need ~${(needed / 1e9).toFixed(1)} GB in ${outDir}`);
  }
  log(`  generating the Qwen3-0.6B-shaped ${variant} model into ${dir} (about a minute, ~4 GB of memory)`);
  // Its own process: the weights (2.4 GB) and their MatMul/4-bit layouts are freed when it exits.
  execFileSync(process.execPath, [path.join(__dirname, "..", "qwen3-shaped-model.js"), dir, variant], { stdio: "inherit" });
  return dir;
}

/** Bytes one decode step reads: every weight file byte, less the fp32 embedding table where only one row is gathered (q4 has its own 4-bit lm_head). */
function weightBytesPerToken(dir: string, dtype: WeightVariant, vocab: number, hidden: number): number {
  const file = path.join(dir, "onnx", variantFile(dtype));
  let bytes = fs.statSync(file).size;
  if (fs.existsSync(`${file}_data`)) bytes += fs.statSync(`${file}_data`).size;
  return dtype === "q4" ? bytes - vocab * hidden * 4 : bytes;
}

export async function llmSection(options: BenchOptions, log: (line: string) => void): Promise<LlmCaseResult[]> {
  const cases: LlmCase[] = [];
  const want = (label: string) => options.models.length === 0 || options.models.includes(label);
  if (want("stories260K")) {
    const dir = prepareStories(options.outDir, log);
    cases.push({
      label: "stories260K",
      modelDir: dir,
      dtype: "fp32",
      weightBytesPerToken: weightBytesPerToken(dir, "fp32", 512, 64),
      // The model has 512 positions: the long prompt is 448 so prompt + new tokens fit.
      prompts: [
        { name: "p32", text: await exactPrompt(dir, 32, 32), tokens: 32, newTokens: 64 },
        { name: "p448", text: await exactPrompt(dir, 448, 448), tokens: 448, newTokens: 32 },
      ],
      decodePrompt: "p32",
    });
  }
  if (!options.quick) {
    for (const dtype of ["fp32", "q4"] as const) {
      const label = `qwen3-${dtype}`;
      if (!want(label)) continue;
      const dir = prepareQwen3(options.outDir, dtype, log);
      cases.push({
        label,
        modelDir: dir,
        dtype,
        weightBytesPerToken: weightBytesPerToken(dir, dtype, QWEN3_06B_SHAPE.vocabSize, QWEN3_06B_SHAPE.hiddenSize),
        prompts: [
          { name: "p32", text: await exactPrompt(dir, 32, 32), tokens: 32, newTokens: dtype === "fp32" ? 32 : 64 },
          // 16 new tokens after the long prompt: decode speed where the KV cache is big.
          { name: "p512", text: await exactPrompt(dir, 512, 512), tokens: 512, newTokens: 16 },
        ],
        decodePrompt: "p32",
        oursVariant: dtype === "q4" ? { label: "CPU defaults (int8 activations, int8 prefill)", config: {} } : undefined,
        // The file's own numerics: no int8 activations, no int8 prefill.
        oursConfig: dtype === "q4" ? { q4_accuracy_level: 0, int8_prefill: false } : undefined,
      });
    }
  }
  const results: LlmCaseResult[] = [];
  for (const c of cases) {
    log(`llm: ${c.label} (${c.dtype}), ${options.warmup} warm-up + ${options.runs} runs per prompt and side`);
    results.push(await runLlmCase(c, options.runs, options.warmup, log));
  }
  return results;
}

const ratio = (ours: number, theirs: number) => fmt(ours / theirs, 2) + "×";

/** Best run (fastest) of a side: the least disturbed by other load on a shared machine. */
const bestTtft = (side: SideSummary, prompt: string) => Math.min(...side.samples[prompt].map((x) => x.ttftMs));
const bestTps = (side: SideSummary, prompt: string) => Math.max(...side.samples[prompt].filter((x) => x.decodeSteps > 0).map((x) => (1000 * x.decodeSteps) / x.decodeMs));

/** The issue's targets, checked on the Qwen3-shaped cases: median ratio, and best-run ratio beside it. */
export function targetsMarkdown(results: LlmCaseResult[]): string {
  const rows: string[] = ["| target | case | median ratio | best-run ratio | met (median)? |", "|---|---|---:|---:|:---:|"];
  const yes = (ok: boolean) => (ok ? "yes" : "**no**");
  for (const r of results.filter((x) => x.label.startsWith("qwen3"))) {
    for (const p of r.prompts.filter((x) => x.newTokens > 1)) {
      const tps = (s: SideSummary) => s.decodeTokensPerSecondByPrompt?.[p.name] ?? NaN;
      const decode = tps(r.ours) / tps(r.theirs);
      const best = bestTps(r.ours, p.name) / bestTps(r.theirs, p.name);
      rows.push(`| decode tokens/s ≥ 1.3× transformers.js (after ${p.tokens} tokens) | ${r.label} | ${fmt(decode, 2)}× | ${fmt(best, 2)}× | ${yes(decode >= 1.3)} |`);
      if (r.oursVariant) {
        const v = tps(r.oursVariant) / tps(r.theirs);
        const vb = bestTps(r.oursVariant, p.name) / bestTps(r.theirs, p.name);
        rows.push(`| (same, ${r.oursVariant.label}) | ${r.label} | ${fmt(v, 2)}× | ${fmt(vb, 2)}× | ${yes(v >= 1.3)} |`);
      }
    }
    for (const p of r.prompts) {
      const t = r.ours.ttftMs[p.name] / r.theirs.ttftMs[p.name];
      const best = bestTtft(r.ours, p.name) / bestTtft(r.theirs, p.name);
      rows.push(`| time to first token ≤ 0.8× (${p.tokens}-token prompt) | ${r.label} | ${fmt(t, 2)}× | ${fmt(best, 2)}× | ${yes(t <= 0.8)} |`);
    }
  }
  for (const r of results) {
    rows.push(`| loop overhead < 3% of a decode step | ${r.label} | ${fmt(100 * r.ours.overheadShare, 1)}% | | ${yes(r.ours.overheadShare < 0.03)} |`);
  }
  return rows.join("\n");
}

/** "median / max %" of the idle workers' CPU during a side's turns (results from before this was measured have none). */
export function peerCpu(s: SideSummary): string {
  if (!s.peerCpuShare) return "–";
  const unsettled = s.unsettledTurns ? ` (${s.unsettledTurns} turns started unsettled)` : "";
  return `${fmt(100 * s.peerCpuShare.median, 1)} / ${fmt(100 * s.peerCpuShare.max, 1)}${unsettled}`;
}

export function llmMarkdown(results: LlmCaseResult[], bandwidth?: BandwidthResult): string {
  const lines: string[] = [];
  for (const r of results) {
    const { ours, theirs } = r;
    const v = r.oursVariant;
    const extra = (value: (s: SideSummary) => string) => (v ? ` ${value(v)} |` : "");
    lines.push(`### ${r.label} (${r.dtype})`, "");
    lines.push(
      `| metric | ours | transformers.js | ours ÷ theirs |${v ? ` ours, ${v.label} |` : ""}`,
      `|---|---:|---:|---:|${v ? "---:|" : ""}`,
    );
    for (const p of r.prompts) {
      lines.push(`| time to first token, ${p.tokens}-token prompt (ms) | ${fmt(ours.ttftMs[p.name], 1)} | ${fmt(theirs.ttftMs[p.name], 1)} | ${ratio(ours.ttftMs[p.name], theirs.ttftMs[p.name])} |${extra((s) => fmt(s.ttftMs[p.name], 1))}`);
    }
    for (const p of r.prompts.filter((x) => x.newTokens > 1)) {
      const tps = (s: SideSummary) => s.decodeTokensPerSecondByPrompt?.[p.name] ?? NaN;
      lines.push(`| decode tokens/s (${p.newTokens} new after ${p.tokens}) | ${fmt(tps(ours), 1)} | ${fmt(tps(theirs), 1)} | ${ratio(tps(ours), tps(theirs))} |${extra((s) => fmt(tps(s), 1))}`);
    }
    const dp = r.prompts.find((p) => p.name === r.decodePrompt)!;
    lines.push(`| decode step after ${dp.tokens} (ms) | ${fmt(ours.decodeStepMs, 2)} | ${fmt(theirs.decodeStepMs, 2)} | ${ratio(ours.decodeStepMs, theirs.decodeStepMs)} |${extra((s) => fmt(s.decodeStepMs, 2))}`);
    lines.push(`| … of which inside session.run (ms) | ${fmt(ours.decodeStepMs - ours.overheadMs, 2)} | ${fmt(theirs.decodeStepMs - theirs.overheadMs, 2)} | ${ratio(ours.decodeStepMs - ours.overheadMs, theirs.decodeStepMs - theirs.overheadMs)} |${extra((s) => fmt(s.decodeStepMs - s.overheadMs, 2))}`);
    lines.push(`| loop overhead per token outside session.run (ms) | ${fmt(ours.overheadMs, 3)} | ${fmt(theirs.overheadMs, 3)} | ${ratio(ours.overheadMs, theirs.overheadMs)} |${extra((s) => fmt(s.overheadMs, 3))}`);
    lines.push(`| … as a share of the step | ${fmt(100 * ours.overheadShare, 1)}% | ${fmt(100 * theirs.overheadShare, 1)}% | |${extra((s) => fmt(100 * s.overheadShare, 1) + "%")}`);
    lines.push(`| peak RSS (MiB) | ${fmt(ours.peakRssMiB, 0)} | ${fmt(theirs.peakRssMiB, 0)} | ${ratio(ours.peakRssMiB, theirs.peakRssMiB)} |${extra((s) => fmt(s.peakRssMiB, 0))}`);
    lines.push(`| RSS after load (MiB) | ${fmt(ours.rssAfterLoadMiB, 0)} | ${fmt(theirs.rssAfterLoadMiB, 0)} | |${extra((s) => fmt(s.rssAfterLoadMiB, 0))}`);
    lines.push(`| load time (s) | ${fmt(ours.loadMs / 1000, 1)} | ${fmt(theirs.loadMs / 1000, 1)} | |${extra((s) => fmt(s.loadMs / 1000, 1))}`);
    lines.push(`| the other workers' CPU during this side's turns, median / max (% of one core; turns start once all are quiet) | ${peerCpu(ours)} | ${peerCpu(theirs)} | |${extra(peerCpu)}`);
    if (bandwidth) {
      const bw = bestBandwidth(bandwidth) * 1e9;
      const ceiling = bw / r.weightBytesPerToken;
      const share = (s: SideSummary) => fmt((100 * s.decodeTokensPerSecond) / ceiling, 0) + "%";
      lines.push(
        `| decode as a share of the bandwidth ceiling (${fmt(bw / 1e9, 1)} GB/s ÷ ${fmt(r.weightBytesPerToken / 1e6, 1)} MB of weights per token = ${fmt(ceiling, 1)} tok/s) | ${share(ours)} | ${share(theirs)} | |${extra(share)}`,
      );
    }
    lines.push("");
  }
  return lines.join("\n");
}
