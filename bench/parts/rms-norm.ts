/**
 * Part "rmsnorm" of `npm run bench`: the decode step with each RMSNorm as one
 * SimplifiedLayerNormalization (src/core/onnx/decoder/fuse-rms-norm.ts, the default) against the
 * export's seven ops a norm (config fuse_rms_norm false), for the Qwen3-0.6B-shaped LLM and the
 * NeuTTS-shaped codec LM, otherwise as the engine loads them (decode-step-ab.ts).
 */
import { decodeStepModels, measureSteps, STEPS, TIMED, type StepVariant } from "./decode-step-ab";
import type { BenchOptions } from "../options";
import { fmt, median } from "../stats";

const VARIANTS: StepVariant[] = [
  { label: "norms as exported (fuse_rms_norm false)", options: { appendOnlyLayout: "heads", pastInPlaceAttention: true, fuseRmsNorms: false } },
  { label: "norms fused (the default)", options: { appendOnlyLayout: "heads", pastInPlaceAttention: true } },
];

export async function rmsNormPart(options: BenchOptions, log: (line: string) => void): Promise<{ json: unknown; markdown: string }> {
  if (options.quick) return { json: { skipped: "--quick" }, markdown: "Skipped with --quick (it needs the Qwen3- and NeuTTS-shaped q4 models)." };
  const rounds = Math.max(options.runs, 3);
  const models = await decodeStepModels(options, log);
  const lines = [
    `A decode step through the engine's KvCacheDecoder (q4, int8 activations, fused MatMuls, heads-major cache attended in place), ${TIMED} timed steps of ${STEPS} after each prompt, ` +
      `${rounds} rounds with the two forms interleaved (order rotating) in one process. Medians, ms (cached positions: the prompt plus ${STEPS - TIMED}–${STEPS}):`,
    "",
    `| model | cached positions | ${VARIANTS.map((v) => v.label).join(" | ")} | fused ÷ as exported |`,
    "|---|---:|---:|---:|---:|",
  ];
  const json = [];
  for (const model of models) {
    const times = await measureSteps(model, VARIANTS, rounds, log);
    for (let p = 0; p < model.prompts.length; p++) {
      const med = times[p].map((t) => median(t));
      lines.push(`| ${model.label} | ${model.prompts[p] + STEPS - TIMED}–${model.prompts[p] + STEPS} | ${med.map((m) => fmt(m, 1)).join(" | ")} | ${fmt(med[1] / med[0], 3)}× |`);
      json.push({ model: model.label, prompt: model.prompts[p], medianStepMs: Object.fromEntries(VARIANTS.map((v, i) => [v.label, med[i]])), samples: times[p][0].length });
    }
  }
  return { json, markdown: lines.join("\n") };
}
