/**
 * Part "inplace" of `npm run bench`: the decode step with the past attended where it lies
 * (src/core/onnx/decoder/past-in-place-attention.ts) against the Concat form, in both append-only
 * cache layouts, for the Qwen3-0.6B-shaped LLM and the NeuTTS-shaped codec LM (q4, int8
 * activations, fused MatMuls, the codec's speech-only head: as the engine loads them). Each
 * variant decodes through a KvCacheDecoder after prompts of two lengths; rounds interleave the
 * variants (order rotating) in one process, so the ratios are same-run ratios.
 */
import * as fs from "fs";
import * as path from "path";
import * as ort from "onnxruntime-node";
import { lastLogitsModel, type LastLogitsOptions } from "../../src/core/onnx/decoder/last-logits-graph";
import { readModelShape } from "../../src/core/onnx/decoder/model-config";
import { sessionOptions } from "../../src/core/onnx/session-factory";
import { CPU_DEFAULT_Q4_ACCURACY_LEVEL } from "../../src/core/onnx/decoder/decoder-session";
import { KvCacheDecoder, type KvCacheShape } from "../../src/core/onnx/decoder/kv-cache-decoder";
import type { BenchOptions } from "../options";
import { fmt, median } from "../stats";
import { prepareQwen3 } from "../llm/llm-section";
import { prepareNeutts } from "./speech-synthesis";
import { codecRows } from "./kernel-bound";

/** Steps decoded after each prompt; the last TIMED of them are timed. */
const STEPS = 48;
const TIMED = 24;

const VARIANTS: { label: string; options: LastLogitsOptions }[] = [
  { label: "position-major, Concat", options: { appendOnlyLayout: "positions" } },
  { label: "position-major, in place", options: { appendOnlyLayout: "positions", pastInPlaceAttention: true } },
  { label: "heads-major, Concat", options: { appendOnlyLayout: "heads" } },
  { label: "heads-major, in place (the default)", options: { appendOnlyLayout: "heads", pastInPlaceAttention: true } },
];

interface Model {
  label: string;
  file: string;
  shape: KvCacheShape;
  prompts: number[];
  logitRows?: number[];
}

async function measure(model: Model, rounds: number, log: (line: string) => void) {
  const sessions: ort.InferenceSession[] = [];
  try {
    for (const v of VARIANTS) {
      const rewritten = lastLogitsModel(model.file, {
        matMulNBitsAccuracyLevel: CPU_DEFAULT_Q4_ACCURACY_LEVEL,
        fuseSiblingMatMuls: true,
        appendOnlyCache: true,
        logitRows: model.logitRows,
        ...v.options,
      });
      if (!rewritten || (v.options.pastInPlaceAttention && rewritten.pastInPlaceLayers !== model.shape.numLayers)) {
        throw new Error(`${model.file}: the ${v.label} form did not apply`);
      }
      sessions.push(
        await ort.InferenceSession.create(rewritten.bytes, {
          ...sessionOptions(["cpu"], {}),
          extra: { session: { model_external_initializers_file_folder_path: rewritten.externalDataFolder } },
        }),
      );
    }
    const times = model.prompts.map(() => VARIANTS.map(() => [] as number[]));
    for (let round = 0; round < rounds; round++) {
      for (let p = 0; p < model.prompts.length; p++) {
        const ids = Array.from({ length: model.prompts[p] }, (_, i) => 100 + ((i * 37) % 5000));
        for (let k = 0; k < VARIANTS.length; k++) {
          const v = (k + round) % VARIANTS.length;
          const decoder = new KvCacheDecoder(sessions[v], model.shape);
          await decoder.prefill(ids);
          for (let s = 0; s < STEPS; s++) {
            const t0 = performance.now();
            await decoder.step(100 + s);
            if (s >= STEPS - TIMED) times[p][v].push(performance.now() - t0);
          }
          decoder.dispose();
        }
      }
      log(`  ${model.label} round ${round + 1}: ` + model.prompts.map((n, p) => `${n}+: ` + VARIANTS.map((_, v) => fmt(median(times[p][v].slice(-TIMED)), 1)).join("/")).join(", ") + " ms");
    }
    return times;
  } finally {
    await Promise.all(sessions.map((s) => s.release()));
  }
}

export async function pastInPlacePart(options: BenchOptions, log: (line: string) => void): Promise<{ json: unknown; markdown: string }> {
  if (options.quick) return { json: { skipped: "--quick" }, markdown: "Skipped with --quick (it needs the Qwen3- and NeuTTS-shaped q4 models)." };
  const rounds = Math.max(options.runs, 3);
  const qwenDir = prepareQwen3(options.outDir, "q4", log);
  const neutts = prepareNeutts(options, "q4", log).dir;
  const models: Model[] = [
    {
      label: "Qwen3-0.6B-shaped q4 (LLM)",
      file: path.join(qwenDir, "onnx", "model_q4.onnx"),
      shape: readModelShape(JSON.parse(fs.readFileSync(path.join(qwenDir, "config.json"), "utf8"))),
      prompts: [32, 464],
    },
    {
      label: "NeuTTS-shaped q4 (codec LM)",
      file: path.join(neutts, "backbone", "onnx", "model_q4.onnx"),
      shape: readModelShape(JSON.parse(fs.readFileSync(path.join(neutts, "backbone", "config.json"), "utf8")), "backbone/config.json"),
      // A span's prompt (text + the voice's 250 reference codes), and a short one.
      prompts: [32, 321],
      logitRows: await codecRows(neutts),
    },
  ];
  const lines = [
    `A decode step through the engine's KvCacheDecoder (q4, int8 activations, fused MatMuls, append-only cache), ${TIMED} timed steps of ${STEPS} after each prompt, ` +
      `${rounds} rounds with the four forms interleaved (order rotating) in one process. Medians, ms (cached positions: the prompt plus ${STEPS - TIMED}–${STEPS}):`,
    "",
    `| model | cached positions | ${VARIANTS.map((v) => v.label).join(" | ")} | default ÷ heads-major Concat | default ÷ position-major Concat |`,
    `|---|---:|${VARIANTS.map(() => "---:").join("|")}|---:|---:|`,
  ];
  const json = [];
  for (const model of models) {
    const times = await measure(model, rounds, log);
    for (let p = 0; p < model.prompts.length; p++) {
      const med = times[p].map((t) => median(t));
      lines.push(`| ${model.label} | ${model.prompts[p] + STEPS - TIMED}–${model.prompts[p] + STEPS} | ${med.map((m) => fmt(m, 1)).join(" | ")} | ${fmt(med[3] / med[2], 2)}× | ${fmt(med[3] / med[0], 2)}× |`);
      json.push({ model: model.label, prompt: model.prompts[p], medianStepMs: Object.fromEntries(VARIANTS.map((v, i) => [v.label, med[i]])), samples: times[p][0].length });
    }
  }
  return { json, markdown: lines.join("\n") };
}
