/**
 * CPU time of other processes (Linux /proc), for the LLM harness's turns: a worker that is not
 * taking its turn must not be computing, or it takes the 2 cores from the one being measured.
 *
 * Why this exists: after a generation, transformers.js's worker kept its main thread and V8's
 * helper threads busy for seconds (GC of the garbage its loop leaves: the whole KV cache comes
 * back from onnxruntime-node every step). Measured on the NeuTTS-shaped backbone: during our
 * side's ~5 s turns the idle transformers.js worker used 3.3–4.3 s of CPU, and our decode step
 * went from ~40 ms alone to ~80–100 ms in the harness.
 */
import * as fs from "fs";

/** Linux's USER_HZ: /proc's utime and stime are in these ticks (100 on every mainstream kernel config). */
const TICKS_PER_SECOND = 100;

/** utime + stime of all threads of `pid` in ms, or undefined where /proc cannot tell (not Linux, process gone). */
export function processCpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) is in parentheses and may hold spaces: count fields after it.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface SettleResult {
  /** How long the wait took, ms. */
  waitedMs: number;
  /** False when the timeout came first (the turn then starts anyway). */
  quiet: boolean;
}

/**
 * Waits until the processes together use less than `maxShare` of one core over a `windowMs`
 * window (at least one window, so a run's last spinning threads are past), or `timeoutMs`.
 */
export async function waitUntilQuiet(pids: number[], windowMs = 250, maxShare = 0.04, timeoutMs = 30_000): Promise<SettleResult> {
  const start = Date.now();
  const total = () => pids.reduce((sum, pid) => sum + (processCpuMs(pid) ?? 0), 0);
  for (;;) {
    const before = total();
    await sleep(windowMs);
    const used = total() - before;
    if (used <= maxShare * windowMs) return { waitedMs: Date.now() - start, quiet: true };
    if (Date.now() - start >= timeoutMs) return { waitedMs: Date.now() - start, quiet: false };
  }
}
