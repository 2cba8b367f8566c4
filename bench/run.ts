/**
 * `npm run bench`: our inference core against transformers.js on the same model files, on
 * this machine, in one run; writes bench/RESULTS.md and (with --json) prints every number.
 * See bench/options.ts for the flags (--only llm, --quick, --runs N, ...).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { bestBandwidth, measureBandwidth, type BandwidthResult } from "./bandwidth";
import { machineInfo, type MachineInfo } from "./machine";
import { parseBenchOptions, type BenchOptions, type Part } from "./options";
import { fmt } from "./stats";
import { llmMarkdown, llmSection, targetsMarkdown } from "./llm/llm-section";
import type { LlmCaseResult } from "./llm/llm-bench";
import { extraSections, type ExtraSection } from "./sections";
import { keepForeignSections, keepHandWritten, mergeReport } from "./merge-report";

const BENCH_SRC = path.join(__dirname, "..", "..", "bench");

export interface BenchResults {
  machine: MachineInfo;
  options: Omit<BenchOptions, "outDir">;
  bandwidth?: BandwidthResult;
  llm?: LlmCaseResult[];
  /** `partial`: the run measured some pieces of the part; a merge replaces just their "### " subsections. */
  sections: Record<string, { json: unknown; markdown: string; partial?: boolean } | { error: string }>;
  seconds: number;
  /** The command line of the measuring run. */
  argv?: string[];
}

const log = (line: string) => process.stderr.write(line + "\n");

function machineMarkdown(m: MachineInfo, seconds: number): string {
  const load = (l?: number[]) => (l ? l.map((v) => v.toFixed(2)).join(" / ") : "–");
  return [
    `- Machine: ${m.nproc} cores (${m.cpuModel}; ${m.cpuFlags || "no AVX flags read"}), ${m.ramGiB.toFixed(0)} GiB RAM, ${os.platform()} ${os.release()}`,
    `- Node ${m.node}, onnxruntime-node ${m.onnxruntimeNode} (ours and, via its own dependency, transformers.js), @huggingface/transformers ${m.transformersJs}`,
    `- Run ${m.startedAt} → ${m.finishedAt ?? "?"} (${(seconds / 60).toFixed(1)} min); load average (1/5/15 min) before ${load(m.loadAverageBefore)}, after ${load(m.loadAverageAfter)}`,
  ].join("\n");
}

function bandwidthMarkdown(b: BandwidthResult): string {
  return [
    "| measure | GB/s |",
    "|---|---:|",
    `| sum a 1 GiB Float64Array, 1 thread (JS, bound by V8's scalar loop) | ${fmt(b.readOneThread, 1)} |`,
    `| same, ${b.threads} worker threads | ${fmt(b.readAllThreads, 1)} |`,
    `| Buffer.copy 512 MiB, 1 thread (read + write bytes) | ${fmt(b.copyOneThread, 1)} |`,
    `| Buffer.copy, ${b.threads} worker threads (read + write bytes) | ${fmt(b.copyAllThreads, 1)} |`,
    `| Buffer.compare of two equal 1 GiB buffers (native memcmp, read only), 1 thread | ${fmt(b.compareOneThread, 1)} |`,
    `| same, ${b.threads} worker threads | ${fmt(b.compareAllThreads, 1)} |`,
    "",
    `The ceiling used below is the best of these, ${fmt(bestBandwidth(b), 1)} GB/s.`,
  ].join("\n");
}

/** The headings report() gives result sections (everything else under "## " comes from NOTES.md). */
const RESULT_TITLES = ["Memory bandwidth (the physical limit)", "Targets (issue 8)", "LLM", ...extraSections.map((s) => s.title)];

/** What a merged-in section says about its own run (the file's header describes the full run). */
function mergeStamp(results: BenchResults): string {
  const m = results.machine;
  const load = (l?: number[]) => (l ? l.map((v) => v.toFixed(2)).join(" / ") : "–");
  return (
    `_Measured separately from the run above, by \`npm run bench -- ${(results.argv ?? []).join(" ")}\`: ${m.startedAt} → ${m.finishedAt ?? "?"} ` +
    `(${(results.seconds / 60).toFixed(1)} min) on ${m.nproc} cores (${m.cpuModel}; ${m.cpuFlags || "no AVX flags read"}), ` +
    `medians over ${results.options.runs} runs after ${results.options.warmup} warm-up run(s); ` +
    `load average (1/5/15 min) before ${load(m.loadAverageBefore)}, after ${load(m.loadAverageAfter)}._`
  );
}

const readIfThere = (file: string) => (fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "");

/** Puts the sections of `results` into the existing RESULTS.md (see merge-report.ts). */
function writeMerged(resultsFile: string, results: BenchResults, notes: string): void {
  const fresh: Record<string, string> = {};
  for (const [title, section] of Object.entries(results.sections)) fresh[title] = "error" in section ? `Not measured: ${section.error}` : section.markdown;
  const previous = fs.existsSync(resultsFile) ? fs.readFileSync(resultsFile, "utf8") : report({ ...results, sections: {} }, "");
  const partial = Object.entries(results.sections).filter(([, s]) => "partial" in s && s.partial).map(([title]) => title);
  fs.writeFileSync(resultsFile, keepForeignSections(previous, keepHandWritten(previous, mergeReport(previous, notes, RESULT_TITLES, fresh, mergeStamp(results), partial))) + "\n");
}

function report(results: BenchResults, notes: string): string {
  const parts = [
    "# Benchmarks: node-red-contrib-voice-stream core vs transformers.js",
    "",
    "Generated by `" + ["npm run bench", ...(results.argv?.length ? ["--", ...results.argv] : [])].join(" ") + "`. Medians over " +
      `${results.options.runs} runs after ${results.options.warmup} warm-up run(s); both sides load the very same model files.`,
    "",
    machineMarkdown(results.machine, results.seconds),
    "",
  ];
  if (notes) parts.push(notes, "");
  if (results.bandwidth) parts.push("## Memory bandwidth (the physical limit)", "", bandwidthMarkdown(results.bandwidth), "");
  if (results.llm) {
    parts.push("## Targets (issue 8)", "", targetsMarkdown(results.llm), "");
    parts.push("## LLM", "", llmMarkdown(results.llm, results.bandwidth));
  }
  for (const [name, section] of Object.entries(results.sections)) {
    parts.push(`## ${name}`, "", "error" in section ? `Not measured: ${section.error}` : section.markdown, "");
  }
  return parts.join("\n");
}

async function main(): Promise<number> {
  let options: BenchOptions;
  try {
    options = parseBenchOptions(process.argv.slice(2), path.join(BENCH_SRC, "out"));
  } catch (err) {
    log((err as Error).message);
    return 2;
  }
  const notesFile = path.join(BENCH_SRC, "NOTES.md");
  const notes = fs.existsSync(notesFile) ? fs.readFileSync(notesFile, "utf8").trim() : "";
  const resultsFile = path.join(BENCH_SRC, "RESULTS.md");
  if (options.reportOnly) {
    const saved = JSON.parse(fs.readFileSync(path.join(options.outDir, "results.json"), "utf8")) as BenchResults;
    if (options.merge) {
      if (saved.llm || saved.bandwidth) throw new Error("bench/out/results.json holds a full run: re-render it with --report-only alone");
      writeMerged(resultsFile, saved, notes);
    } else {
      fs.writeFileSync(resultsFile, keepForeignSections(readIfThere(resultsFile), keepHandWritten(readIfThere(resultsFile), report(saved, notes))) + "\n");
    }
    log(`re-rendered ${resultsFile} from ${path.join(options.outDir, "results.json")}`);
    return 0;
  }
  const started = performance.now();
  const machine = machineInfo();
  const { outDir: _outDir, ...shownOptions } = options;
  const results: BenchResults = { machine, options: shownOptions, sections: {}, seconds: 0, argv: process.argv.slice(2) };
  const has = (part: Part) => options.only.includes(part);
  if (has("bandwidth") || has("llm")) {
    log("bandwidth: summing and copying big buffers");
    results.bandwidth = await measureBandwidth(options.runs);
  }
  if (has("llm")) results.llm = await llmSection(options, log);
  for (const section of extraSections as ExtraSection[]) {
    if (!has(section.part)) continue;
    log(`${section.part}: ${section.title}`);
    try {
      results.sections[section.title] = await section.run(options, log);
    } catch (err) {
      log(`  ${section.title} failed: ${(err as Error).message}`);
      results.sections[section.title] = { error: (err as Error).message.split("\n")[0] };
    }
  }
  results.seconds = (performance.now() - started) / 1000;
  machine.finishedAt = new Date().toISOString();
  machine.loadAverageAfter = os.loadavg();

  fs.mkdirSync(options.outDir, { recursive: true });
  fs.writeFileSync(path.join(options.outDir, "results.json"), JSON.stringify(results, null, 2) + "\n");
  if (options.write && options.merge) {
    writeMerged(resultsFile, results, notes);
    log(`merged ${Object.keys(results.sections).join(", ")} into ${resultsFile} in ${(results.seconds / 60).toFixed(1)} min`);
  } else if (options.write) {
    fs.writeFileSync(resultsFile, keepForeignSections(readIfThere(resultsFile), keepHandWritten(readIfThere(resultsFile), report(results, notes))) + "\n");
    log(`wrote ${path.join(BENCH_SRC, "RESULTS.md")} in ${(results.seconds / 60).toFixed(1)} min`);
  }
  if (options.json) process.stdout.write(JSON.stringify(results) + "\n");
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    log(`bench: ${(err as Error).stack}`);
    process.exit(1);
  },
);
