/**
 * The machine's memory bandwidth, measured from JavaScript: summing a 1 GiB Float64Array
 * (read), and copying 512 MiB buffers (read + write), on 1 thread and on every core with
 * worker_threads over a SharedArrayBuffer. Decode of a large LLM reads every weight once per
 * token, so bandwidth ÷ weight bytes is the ceiling on tokens per second.
 */
import * as os from "os";
import { Worker, isMainThread, parentPort, workerData } from "worker_threads";
import { median } from "./stats";

export interface BandwidthResult {
  /** GB/s (10^9 bytes per second), medians. */
  readOneThread: number;
  readAllThreads: number;
  copyOneThread: number;
  /** memcpy on every core at once (bytes read + bytes written): native SIMD. */
  copyAllThreads: number;
  /** Buffer.compare of two equal buffers (native memcmp: reads both, writes nothing), 1 thread and every core. */
  compareOneThread: number;
  compareAllThreads: number;
  threads: number;
  bytesRead: number;
}

const READ_BYTES = 1024 ** 3;
const COPY_BYTES = 512 * 1024 ** 2;

function sumRange(data: Float64Array, from: number, to: number): number {
  // Four accumulators keep the loop bound by loads, not by the add latency chain.
  let a = 0, b = 0, c = 0, d = 0;
  let i = from;
  for (; i + 3 < to; i += 4) {
    a += data[i];
    b += data[i + 1];
    c += data[i + 2];
    d += data[i + 3];
  }
  for (; i < to; i++) a += data[i];
  return a + b + c + d;
}

if (!isMainThread && workerData?.bandwidth) {
  const { buffer, target, compare, from, to } = workerData as { buffer: SharedArrayBuffer; target?: SharedArrayBuffer; compare?: boolean; from: number; to: number };
  const data = new Float64Array(buffer);
  let sink = 0;
  parentPort!.on("message", () => {
    const start = performance.now();
    const mine = Buffer.from(buffer, from * 8, (to - from) * 8);
    if (target && compare) sink += Buffer.compare(mine, Buffer.from(target, from * 8, (to - from) * 8));
    else if (target) mine.copy(Buffer.from(target, from * 8, (to - from) * 8));
    else sink += sumRange(data, from, to);
    parentPort!.postMessage({ ms: performance.now() - start, sink });
  });
  parentPort!.postMessage("ready");
}

/** GB/s of `threads` workers each reading (or, with `target`, copying) its share of `buffer`. */
async function allThreads(buffer: SharedArrayBuffer, threads: number, repeats: number, target?: SharedArrayBuffer, compare = false): Promise<number[]> {
  const length = buffer.byteLength / 8;
  const workers = Array.from({ length: threads }, (_, t) => {
    const from = Math.floor((length * t) / threads);
    const to = Math.floor((length * (t + 1)) / threads);
    return new Worker(__filename, { workerData: { bandwidth: true, buffer, target, compare, from, to } });
  });
  await Promise.all(workers.map((w) => new Promise((resolve) => w.once("message", resolve))));
  const rates: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const start = performance.now();
    await Promise.all(
      workers.map((w) => new Promise((resolve) => {
        w.once("message", resolve);
        w.postMessage("go");
      })),
    );
    rates.push(((target ? 2 : 1) * buffer.byteLength) / ((performance.now() - start) / 1000) / 1e9);
  }
  await Promise.all(workers.map((w) => w.terminate()));
  return rates;
}

/** The highest rate measured, GB/s: the bound a decode step that streams all weights can reach. */
export function bestBandwidth(b: BandwidthResult): number {
  return Math.max(b.readOneThread, b.readAllThreads, b.copyOneThread, b.copyAllThreads, b.compareOneThread, b.compareAllThreads);
}

export async function measureBandwidth(repeats = 5): Promise<BandwidthResult> {
  const threads = os.availableParallelism?.() ?? os.cpus().length;
  const buffer = new SharedArrayBuffer(READ_BYTES);
  const data = new Float64Array(buffer);
  for (let i = 0; i < data.length; i += 512) data[i] = i; // touch every page
  data.fill(1);
  const one: number[] = [];
  let sink = 0;
  for (let r = 0; r < repeats + 1; r++) {
    const start = performance.now();
    sink += sumRange(data, 0, data.length);
    if (r > 0) one.push(READ_BYTES / ((performance.now() - start) / 1000) / 1e9);
  }
  const all = await allThreads(buffer, threads, repeats);
  const twin = new SharedArrayBuffer(READ_BYTES);
  new Float64Array(twin).fill(1);
  const copyAll = await allThreads(buffer, threads, repeats, twin);
  // After the copy the twin equals the buffer: memcmp must read every byte of both.
  const compareAll = await allThreads(buffer, threads, repeats, twin, true);
  const compareOne: number[] = [];
  for (let r = 0; r < repeats + 1; r++) {
    const start = performance.now();
    sink += Buffer.compare(Buffer.from(buffer), Buffer.from(twin));
    if (r > 0) compareOne.push((2 * READ_BYTES) / ((performance.now() - start) / 1000) / 1e9);
  }
  const src = Buffer.alloc(COPY_BYTES, 1);
  const dst = Buffer.alloc(COPY_BYTES);
  const copy: number[] = [];
  for (let r = 0; r < repeats + 1; r++) {
    const start = performance.now();
    src.copy(dst);
    // Counted as bytes moved: read once and written once.
    if (r > 0) copy.push((2 * COPY_BYTES) / ((performance.now() - start) / 1000) / 1e9);
  }
  if (sink === -1) process.stdout.write(""); // keep the sums alive
  return { readOneThread: median(one), readAllThreads: median(all), copyOneThread: median(copy), copyAllThreads: median(copyAll), compareOneThread: median(compareOne), compareAllThreads: median(compareAll), threads, bytesRead: READ_BYTES };
}

if (isMainThread && require.main === module) {
  measureBandwidth().then((r) => process.stdout.write(JSON.stringify(r) + "\n"));
}
