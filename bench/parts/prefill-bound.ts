/**
 * Part "prefill" of `npm run bench`: what bounds the codec voice's first audio on this CPU.
 *
 * The codec voice cannot play before its LM has read the first span's prompt: NeuTTS puts the
 * voice's 250 reference codes after the span's text, so each span prefills ~286 new tokens (the
 * prompt's head comes from the prefix cache). The engine runs that prefill on its int8 session
 * (int8-prefill-graph.ts), where nearly all the work is DynamicQuantizeMatMul. This part times,
 * interleaved in one process: that prefill as the engine builds it; the same prefill's int8
 * MatMuls alone (llm/matmul-only-graph.ts: same weights, shapes and kernel); and one large
 * DynamicQuantizeMatMul, the rate onnxruntime's integer GEMM reaches on this CPU at best. When the
 * MatMuls alone already run at that rate, the prefill (and so first audio) can only get faster
 * with a CPU with a faster integer unit (AMX) or a GPU, or fewer prompt tokens a span.
 */
import * as fs from "fs";
import * as path from "path";
import * as ort from "onnxruntime-node";
import { onnx } from "onnx-proto";
import { lastLogitsModel } from "../../src/core/onnx/decoder/last-logits-graph";
import { int64Tensor } from "../../src/core/onnx/node-attributes";
import { TOP_K_INPUT } from "../../src/core/onnx/decoder/top-logits-graph";
import { readModelShape } from "../../src/core/onnx/decoder/model-config";
import { appendOnlyLayoutBySize, CPU_DEFAULT_Q4_ACCURACY_LEVEL } from "../../src/core/onnx/decoder/decoder-session";
import type { BenchOptions } from "../options";
import { fmt, median } from "../stats";
import { machineInfo } from "../machine";
import { matMulsOnly } from "../llm/matmul-only-graph";
import { decoderFeeds } from "../llm/decoder-feeds";
import { openBenchSession, timeRuns } from "../llm/session-runs";
import { codecRows } from "./kernel-bound";
import { prepareNeutts } from "./speech-synthesis";

/** The first span of the TTS table: 321 prompt tokens, of which the prefix cache holds the first 35. */
const CACHED = 35;
const ROWS = 286;
/** The single GEMM: large enough that packing and the activations' quantization are a small part of it. */
const GEMM = 2048;
/** Timed runs a side per round (after an untimed one); the GEMM, ~10× shorter, more. */
const RUNS = 2;
const GEMM_RUNS = 8;

/** One DynamicQuantizeMatMul [m, k] × int8 [k, n], the weight a constant (prepacked at load, as in the prefill graph). */
function singleGemm(m: number, k: number, n: number): Uint8Array {
  const weights = Int8Array.from({ length: k * n }, (_, i) => ((i * 7919) % 255) - 127);
  const scales = new Float32Array(n).fill(0.01);
  const tensor = (name: string, dims: number[]) => onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: dims.map((d) => ({ dimValue: d })) } } } });
  const graph = onnx.GraphProto.create({
    name: "gemm",
    // Only the product's first value leaves the session: copying 16 MB out to JavaScript is not the GEMM's time.
    node: [
      onnx.NodeProto.create({ opType: "DynamicQuantizeMatMul", domain: "com.microsoft", input: ["a", "w", "s"], output: ["product"] }),
      onnx.NodeProto.create({ opType: "Slice", input: ["product", "starts", "ends"], output: ["y"] }),
    ],
    initializer: [
      onnx.TensorProto.create({ name: "w", dataType: onnx.TensorProto.DataType.INT8, dims: [k, n], rawData: new Uint8Array(weights.buffer) }),
      onnx.TensorProto.create({ name: "s", dataType: onnx.TensorProto.DataType.FLOAT, dims: [n], rawData: new Uint8Array(scales.buffer) }),
      int64Tensor("starts", [0, 0]),
      int64Tensor("ends", [1, 1]),
    ],
    input: [tensor("a", [m, k])],
    output: [tensor("y", [1, 1])],
  });
  return onnx.ModelProto.encode(onnx.ModelProto.create({ irVersion: 8, opsetImport: [{ domain: "", version: 17 }, { domain: "com.microsoft", version: 1 }], graph })).finish();
}

const cosines = (length: number, dims: number[]) => new ort.Tensor("float32", Float32Array.from({ length }, (_, i) => Math.cos(i * 0.7) * 0.5), dims);

export async function prefillBoundPart(options: BenchOptions, log: (line: string) => void): Promise<{ json: unknown; markdown: string }> {
  if (options.quick) return { json: { skipped: "--quick" }, markdown: "Skipped with --quick (it needs the NeuTTS-shaped q4 model)." };
  const rounds = Math.max(options.runs, 3);
  const neutts = prepareNeutts(options, "q4", log).dir;
  const file = path.join(neutts, "backbone", "onnx", "model_q4.onnx");
  const shape = readModelShape(JSON.parse(fs.readFileSync(path.join(neutts, "backbone", "config.json"), "utf8")), "backbone/config.json");
  const layout = appendOnlyLayoutBySize(shape);
  // As decoder-session.ts's createPrefillOption builds the codec's prefill session with the CPU defaults.
  const rewritten = lastLogitsModel(file, {
    matMulNBitsAccuracyLevel: CPU_DEFAULT_Q4_ACCURACY_LEVEL,
    appendOnlyCache: true,
    appendOnlyLayout: layout,
    fuseSiblingMatMuls: true,
    logitRows: await codecRows(neutts),
    int8MatMuls: true,
    pastInPlaceAttention: false,
    topLogits: true,
  });
  if (!rewritten) throw new Error(`${file}: the int8 prefill graph could not be prepared as the engine does`);
  const only = matMulsOnly(rewritten.bytes, "DynamicQuantizeMatMul", { rows: ROWS, firstValuesOnly: true });
  const whole = await openBenchSession(rewritten.bytes, rewritten.externalDataFolder);
  const alone = await openBenchSession(only.bytes, rewritten.externalDataFolder);
  const gemm = await openBenchSession(singleGemm(GEMM, GEMM, GEMM));
  const times = { whole: [] as number[], alone: [] as number[], gemm: [] as number[] };
  try {
    const feeds = {
      whole: { ...decoderFeeds(shape, layout, CACHED, ROWS), ...(whole.inputNames.includes(TOP_K_INPUT) ? { [TOP_K_INPUT]: new ort.Tensor("int64", BigInt64Array.from([50n]), [1]) } : {}) },
      alone: Object.fromEntries(only.widths.map((k) => [`x${k}`, cosines(ROWS * k, [1, ROWS, k])])),
      gemm: { a: cosines(GEMM * GEMM, [GEMM, GEMM]) },
    };
    const sessions = { whole, alone, gemm };
    const sides = ["whole", "alone", "gemm"] as const;
    for (let round = 0; round < rounds; round++) {
      for (const side of round % 2 === 0 ? sides : [...sides].reverse()) times[side].push(...(await timeRuns(sessions[side], feeds[side], side === "gemm" ? GEMM_RUNS : RUNS)));
      log(`  prefill round ${round + 1}: whole ${fmt(median(times.whole.slice(-RUNS)), 0)} ms, int8 MatMuls alone ${fmt(median(times.alone.slice(-RUNS)), 0)} ms, ${GEMM}³ GEMM ${fmt(median(times.gemm.slice(-GEMM_RUNS)), 1)} ms`);
    }
  } finally {
    await whole.release();
    await alone.release();
    await gemm.release();
  }
  const prefillMacs = only.multiplyAddsPerRow * ROWS;
  const gemmMacs = GEMM ** 3;
  // The best run says what the hardware allows (a VM's neighbours only ever slow a run); the median what a run takes.
  const best = (values: number[]) => Math.min(...values);
  const rate = (macs: number, ms: number) => macs / ms / 1e6; // G multiply-adds a second
  const peak = rate(gemmMacs, best(times.gemm));
  const floorMs = prefillMacs / peak / 1e6;
  const machine = machineInfo();
  const row = (what: string, t: number[], macs: number) =>
    `| ${what} | ${fmt(median(t), 0)} | ${fmt(best(t), 0)} | ${fmt(macs / 1e9, 1)} | ${fmt(rate(macs, median(t)), 0)} | ${fmt(rate(macs, best(t)), 0)} |`;
  const json = {
    cachedPositions: CACHED,
    rows: ROWS,
    int8MatMuls: only.matMuls,
    prefillMultiplyAdds: prefillMacs,
    gemmSize: GEMM,
    ms: Object.fromEntries(Object.entries(times).map(([side, t]) => [side, { median: median(t), best: best(t) }])),
    peakGMacPerS: peak,
    floorMs,
    rounds,
    runsPerRound: RUNS,
  };
  const lines = [
    `The codec voice's first-span prefill (NeuTTS-shaped q4 LM, ${ROWS} new tokens after ${CACHED} cached: the TTS table's 321-token first span ` +
      `with the prompt's head in the prefix cache) on its int8 prefill session as the engine builds it, against the same prefill's ` +
      `${only.matMuls} int8 MatMuls alone (every other node removed; same weights, shapes and kernel) and one ${GEMM}×${GEMM}×${GEMM} ` +
      `DynamicQuantizeMatMul (onnxruntime's integer GEMM at its best here); ${machine.nproc} threads, ${machine.cpuModel}, ${machine.cpuFlags || "no flags read"}; ` +
      `${rounds} rounds of ${RUNS} runs a side (the GEMM ${GEMM_RUNS}), interleaved, order alternating. The best run is what the hardware allows, the median what a run took:`,
    "",
    "| what | median ms | best ms | int8 multiply-adds (G) | G multiply-adds/s, median | G multiply-adds/s, best |",
    "|---|---:|---:|---:|---:|---:|",
    row("the prefill, whole", times.whole, prefillMacs),
    row("its int8 MatMuls alone", times.alone, prefillMacs),
    row(`one ${GEMM}³ GEMM`, times.gemm, gemmMacs),
    "",
    `The int8 MatMuls are ${fmt((100 * median(times.alone)) / median(times.whole), 0)}% of the prefill (medians); at their best they run at ` +
      `${fmt(rate(prefillMacs, best(times.alone)) / peak, 2)}× the single GEMM's best rate, which would take them ${fmt(floorMs, 0)} ms. ` +
      `First audio is this prefill, then the first chunk's LM steps (part "kernel" has a step; first_frames_per_chunk and the codec's ` +
      `lookforward say how many), then the codec decoder.`,
  ];
  return { json, markdown: lines.join("\n") };
}
