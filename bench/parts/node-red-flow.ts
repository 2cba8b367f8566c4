/**
 * Node-RED part of `npm run bench`: an embedded runtime (node-red-node-test-helper) runs
 * llm-stream → tts-streamer → audio-out (null sink) on stories260K and eSpeak NG, and N
 * llm-stream nodes share one voice-model config node (RSS with 1 and with 5 nodes on the
 * Qwen3-shaped q4 model, where one extra copy would show as ~1 GB). Each measurement runs in
 * its own process (bench/parts/node-red-worker.ts).
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { fmt } from "../stats";
import type { BenchOptions } from "../options";
import { hasVariant } from "../qwen3-shaped-model";

function worker(args: Record<string, unknown>): Record<string, any> {
  const out = execFileSync(process.execPath, [path.join(__dirname, "node-red-worker.js"), JSON.stringify(args)], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    timeout: 10 * 60 * 1000,
    maxBuffer: 64 * 1024 * 1024,
  });
  const line = out.trim().split("\n").pop() ?? "{}";
  return JSON.parse(line);
}

export async function nodeRedPart(options: BenchOptions, log: (line: string) => void): Promise<{ json: unknown; markdown: string }> {
  const stories = path.join(options.outDir, "stories260K");
  const qwenQ4 = path.join(options.outDir, "qwen3-0.6b-shaped");
  const lines: string[] = [];

  const flow = worker({ mode: "flow", llmDir: stories, runs: options.runs, warmup: options.warmup, newTokens: 48 });
  lines.push("Flow: inject → llm-stream (stories260K, 48 new tokens, greedy) → tts-streamer (eSpeak NG) → audio-out (null sink).", "");
  if (flow.error) lines.push(`Not measured: ${flow.error}`, "");
  else {
    const m = flow.medians as Record<string, number>;
    lines.push(
      "| measure | median |",
      "|---|---:|",
      `| llm-stream chunks/s (output 1) | ${fmt(m.llmChunksPerSecond, 1)} |`,
      `| tts-streamer chunks/s | ${fmt(m.ttsChunksPerSecond, 1)} |`,
      `| hop inject → first llm chunk (ms) | ${fmt(m.injectToFirstTokenMs, 1)} |`,
      `| hop first llm chunk → first audio chunk (ms) | ${fmt(m.firstTokenToFirstAudioMs, 1)} |`,
      ...(flow.audioOutMissing
        ? [`| hop first audio chunk → audio-out playing (ms) | not measured: ${flow.audioOutMissing} |`]
        : [
            `| hop first audio chunk → audio-out playing (ms) | ${fmt(m.firstAudioToPlayingMs, 1)} |`,
            `| audio-out drained after playback start + audio duration (ms late; the null sink plays in real time) | ${fmt(m.drainedLateMs, 1)} |`,
          ]),
      `| whole flow, inject → drained (ms) | ${fmt(m.totalMs, 0)} |`,
      "",
    );
  }
  log(`  flow: ${flow.error ?? "done"}`);

  const shareModel = hasVariant(qwenQ4, "q4") && !options.quick ? { llmDir: qwenQ4, llmDtype: "q4", label: "Qwen3-0.6B-shaped q4" } : { llmDir: stories, label: "stories260K" };
  const share = [1, 5].map((nodes) => worker({ mode: "share", llmDir: shareModel.llmDir, llmDtype: shareModel.llmDtype, nodes }));
  lines.push(`Model sharing: N llm-stream nodes on one voice-model config node (${shareModel.label}), RSS after every node has generated once.`, "");
  const shareError = share.find((s) => s.error)?.error;
  if (shareError) lines.push(`Not measured: ${shareError}`);
  else {
    lines.push("| llm-stream nodes | RSS before load (MiB) | RSS after (MiB) | peak RSS (MiB) |", "|---:|---:|---:|---:|");
    for (const s of share) lines.push(`| ${s.nodes} | ${fmt(s.rssBeforeMiB, 0)} | ${fmt(s.rssAfterMiB, 0)} | ${fmt(s.peakRssMiB, 0)} |`);
  }
  log(`  sharing: ${shareError ?? "done"}`);
  return { json: { flow, share }, markdown: lines.join("\n") };
}
