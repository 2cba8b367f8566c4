import * as fs from "fs";

/** Small statistics and formatting helpers shared by the benchmark parts. */

export function median(values: number[]): number {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return NaN;
  const sorted = [...finite].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Spread as (max − min) / median, to show how noisy a median is. */
export function spread(values: number[]): number {
  const m = median(values);
  return values.length ? (Math.max(...values) - Math.min(...values)) / m : NaN;
}

export function fmt(value: number | undefined, digits = 2): string {
  if (value === undefined || !Number.isFinite(value)) return "–";
  if (Math.abs(value) >= 100) return value.toFixed(0);
  return value.toFixed(digits);
}

export const nowMs = (): number => performance.now();

/**
 * Peak resident set size of this process so far, in MiB. Linux's VmHWM belongs to this
 * address space; ru_maxrss is not used because a spawned child inherits its parent's value.
 */
export function peakRssMiB(): number {
  try {
    const line = fs.readFileSync("/proc/self/status", "utf8").split("\n").find((l) => l.startsWith("VmHWM:"));
    if (line) return Number(line.replace(/\D+/g, "")) / 1024;
  } catch {
    // Not Linux: fall back to the rusage peak.
  }
  return process.resourceUsage().maxRSS / 1024;
}

export const rssMiB = (): number => process.memoryUsage().rss / 1024 / 1024;
