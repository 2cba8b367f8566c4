/**
 * LLM: our engine against transformers.js on the same model directory and dtype. Both sides
 * live in their own worker process at once; their runs alternate (ABBA order) so the shared
 * machine's noise lands on both alike. Medians over `runs` after `warmup` runs per prompt.
 */
import { fork, type ChildProcess } from "child_process";
import * as path from "path";
import { median } from "../stats";
import { processCpuMs, waitUntilQuiet } from "./process-cpu";
import type { GenerationSample, LlmWorkerArgs, PromptSpec, WorkerReply, WorkerRequest } from "./worker";

export interface LlmCase {
  label: string;
  modelDir: string;
  dtype: "fp32" | "q4";
  /** Bytes of weights one decode step reads (for the bandwidth bound). */
  weightBytesPerToken: number;
  prompts: PromptSpec[];
  /** Name of the prompt whose generation gives the decode speed. */
  decodePrompt: string;
  /** Also run our engine with this opt-in config (a third column). */
  oursVariant?: { label: string; config: Record<string, unknown> };
  /** Extra config for our main side (q4: the exact path, like for like with transformers.js). */
  oursConfig?: Record<string, unknown>;
}

export interface SideSummary {
  loadMs: number;
  rssAfterLoadMiB: number;
  peakRssMiB: number;
  /** Median time to first token per prompt name, ms. */
  ttftMs: Record<string, number>;
  decodeTokensPerSecond: number;
  /** Decode tokens/s after each prompt that generates more than one token. */
  decodeTokensPerSecondByPrompt: Record<string, number>;
  decodeStepMs: number;
  /** Per decode step: wall time outside session.run, ms, and its share of the step. */
  overheadMs: number;
  overheadShare: number;
  samples: Record<string, GenerationSample[]>;
  /** During this side's measured turns: the other workers' CPU time as a share of the turn's wall time (median, max). */
  peerCpuShare: { median: number; max: number };
  /** Turns that started before the other workers were quiet (the settle wait timed out). */
  unsettledTurns: number;
}

export interface LlmCaseResult {
  label: string;
  dtype: string;
  prompts: { name: string; tokens: number; newTokens: number }[];
  decodePrompt: string;
  weightBytesPerToken: number;
  ours: SideSummary;
  theirs: SideSummary;
  oursVariant?: SideSummary & { label: string; config: Record<string, unknown> };
}

class Worker {
  private readonly child: ChildProcess;
  private waiting?: { resolve: (r: WorkerReply) => void; reject: (e: Error) => void };
  private stderr = "";

  constructor(args: LlmWorkerArgs) {
    this.child = fork(path.join(__dirname, "worker.js"), [JSON.stringify(args)], { stdio: ["ignore", "inherit", "pipe", "ipc"] });
    this.child.stderr!.on("data", (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-4000)));
    this.child.on("message", (reply: WorkerReply) => {
      const w = this.waiting;
      this.waiting = undefined;
      if (!w) return;
      if (reply.type === "error") w.reject(new Error(reply.message));
      else w.resolve(reply);
    });
    this.child.on("exit", (code) => {
      const w = this.waiting;
      this.waiting = undefined;
      w?.reject(new Error(`${args.side} worker exited with code ${code}: ${this.stderr.trim().split("\n").slice(-5).join(" | ")}`));
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  next(request?: WorkerRequest): Promise<WorkerReply> {
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      if (request) this.child.send(request);
    });
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill();
  }
}

export async function runLlmCase(c: LlmCase, runs: number, warmup: number, log: (line: string) => void): Promise<LlmCaseResult> {
  const sides: string[] = ["ours", "theirs", ...(c.oursVariant ? ["oursVariant"] : [])];
  const workers: Record<string, Worker> = {};
  const ready: Record<string, Extract<WorkerReply, { type: "ready" }>> = {};
  try {
    // Load one after the other: loading is disk- and CPU-heavy and would skew the other side's load time.
    for (const side of sides) {
      const worker = new Worker({
        side: side === "theirs" ? "theirs" : "ours",
        modelDir: c.modelDir,
        dtype: c.dtype,
        engineConfig: side === "oursVariant" ? c.oursVariant!.config : side === "ours" ? c.oursConfig : undefined,
      });
      workers[side] = worker;
      ready[side] = (await worker.next()) as Extract<WorkerReply, { type: "ready" }>;
      log(`  ${c.label}: ${side} loaded in ${(ready[side].loadMs / 1000).toFixed(1)} s`);
    }
    const samples: Record<string, Record<string, GenerationSample[]>> = Object.fromEntries(sides.map((s) => [s, {}]));
    let settleMs = 0;
    const turns: Record<string, { peerShare: number; settled: boolean }[]> = Object.fromEntries(sides.map((s) => [s, []]));
    for (const prompt of c.prompts) {
      for (let r = 0; r < warmup + runs; r++) {
        // ABBA: alternate who goes first so slow drifts in machine load cancel out.
        const order = r % 2 === 0 ? sides : [...sides].reverse();
        for (const side of order) {
          // Every turn starts on a quiet machine: onnxruntime's threads spin for a while after a
          // run, and transformers.js's worker goes on collecting garbage for seconds after a
          // generation; either would take CPU from the next turn (see process-cpu.ts).
          const pids = sides.map((s) => workers[s].pid).filter((pid): pid is number => pid !== undefined);
          const settled = await waitUntilQuiet(pids);
          settleMs += settled.waitedMs;
          const peers = sides.filter((s) => s !== side).map((s) => workers[s].pid);
          const peerCpu = () => peers.reduce((sum: number, pid) => sum + (processCpuMs(pid) ?? 0), 0);
          const peerBefore = peerCpu();
          const turnStart = Date.now();
          const reply = await workers[side].next({ type: "generate", prompt, keep: r >= warmup });
          if (reply.type === "sample" && reply.sample) {
            (samples[side][prompt.name] ??= []).push(reply.sample);
            turns[side].push({ peerShare: (peerCpu() - peerBefore) / Math.max(1, Date.now() - turnStart), settled: settled.quiet });
          }
        }
      }
      const t = (side: string) => median(samples[side][prompt.name].map((s) => s.ttftMs));
      log(`  ${c.label} ${prompt.name}: ttft ours ${t("ours").toFixed(0)} ms, theirs ${t("theirs").toFixed(0)} ms (waited ${(settleMs / 1000).toFixed(1)} s in all for quiet workers)`);
    }
    const peaks: Record<string, number> = {};
    for (const side of sides) peaks[side] = ((await workers[side].next({ type: "finish" })) as Extract<WorkerReply, { type: "finished" }>).peakRssMiB;
    const summary = (side: string): SideSummary => {
      const decode = samples[side][c.decodePrompt].filter((s) => s.decodeSteps > 0);
      const stepMs = median(decode.map((s) => s.decodeMs / s.decodeSteps));
      const overheadMs = median(decode.map((s) => (s.decodeMs - s.decodeInsideRunMs) / s.decodeSteps));
      return {
        loadMs: ready[side].loadMs,
        rssAfterLoadMiB: ready[side].rssAfterLoadMiB,
        peakRssMiB: peaks[side],
        ttftMs: Object.fromEntries(c.prompts.map((p) => [p.name, median(samples[side][p.name].map((s) => s.ttftMs))])),
        decodeTokensPerSecond: median(decode.map((s) => (1000 * s.decodeSteps) / s.decodeMs)),
        decodeTokensPerSecondByPrompt: Object.fromEntries(
          c.prompts
            .filter((p) => p.newTokens > 1)
            .map((p) => [p.name, median(samples[side][p.name].map((s) => (1000 * s.decodeSteps) / s.decodeMs))]),
        ),
        decodeStepMs: stepMs,
        overheadMs,
        overheadShare: overheadMs / stepMs,
        samples: samples[side],
        peerCpuShare: { median: median(turns[side].map((t) => t.peerShare)), max: Math.max(...turns[side].map((t) => t.peerShare)) },
        unsettledTurns: turns[side].filter((t) => !t.settled).length,
      };
    };
    return {
      label: c.label,
      dtype: c.dtype,
      prompts: c.prompts.map(({ name, tokens, newTokens }) => ({ name, tokens, newTokens })),
      decodePrompt: c.decodePrompt,
      weightBytesPerToken: c.weightBytesPerToken,
      ours: summary("ours"),
      theirs: summary("theirs"),
      oursVariant: c.oursVariant ? { ...summary("oursVariant"), ...c.oursVariant } : undefined,
    };
  } finally {
    for (const side of sides) workers[side]?.kill();
  }
}
