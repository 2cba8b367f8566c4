/**
 * Times every onnxruntime `session.run` in this process by wrapping the shared
 * InferenceSession prototype (onnxruntime-node resolves to one onnxruntime-common instance,
 * used by our engine and by transformers.js alike), so the generation loop's own cost per
 * token is wall time minus time inside run.
 */
import * as ort from "onnxruntime-node";

export interface RunSpan {
  start: number;
  end: number;
}

const spans: RunSpan[] = [];
let installed = false;

export function installSessionTimer(): void {
  if (installed) return;
  installed = true;
  const proto = (ort.InferenceSession as unknown as { prototype: unknown }).prototype as { run: (...args: unknown[]) => Promise<unknown> };
  const original = proto.run;
  proto.run = async function timedRun(this: unknown, ...args: unknown[]) {
    const start = performance.now();
    try {
      return await original.apply(this, args);
    } finally {
      spans.push({ start, end: performance.now() });
    }
  };
}

/** Spans recorded since `mark` (an index from `runMark()`). */
export const runMark = (): number => spans.length;
export const spansSince = (mark: number): RunSpan[] => spans.slice(mark);

/** Milliseconds spent inside session.run within [from, to]. */
export function insideRunMs(list: RunSpan[], from: number, to: number): number {
  let total = 0;
  for (const s of list) total += Math.max(0, Math.min(s.end, to) - Math.max(s.start, from));
  return total;
}
