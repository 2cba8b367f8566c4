/**
 * Part "inplace" of `npm run bench`: the decode step with the past attended where it lies
 * (src/core/onnx/decoder/past-in-place-attention.ts) against the Concat form, in both append-only
 * cache layouts, for the Qwen3-0.6B-shaped LLM and the NeuTTS-shaped codec LM (q4, int8
 * activations, fused MatMuls, the codec's speech-only head: as the engine loads them). Each
 * variant decodes through a KvCacheDecoder after prompts of two lengths; rounds interleave the
 * variants (order rotating) in one process, so the ratios are same-run ratios.
 */
import { decodeStepModels, measureSteps, STEPS, TIMED, type StepVariant } from "./decode-step-ab";
import type { BenchOptions } from "../options";
import { fmt, median } from "../stats";

const VARIANTS: StepVariant[] = [
  { label: "position-major, Concat", options: { appendOnlyLayout: "positions" } },
  { label: "position-major, in place", options: { appendOnlyLayout: "positions", pastInPlaceAttention: true } },
  { label: "heads-major, Concat", options: { appendOnlyLayout: "heads" } },
  { label: "heads-major, in place (the default)", options: { appendOnlyLayout: "heads", pastInPlaceAttention: true } },
];

export async function pastInPlacePart(options: BenchOptions, log: (line: string) => void): Promise<{ json: unknown; markdown: string }> {
  if (options.quick) return { json: { skipped: "--quick" }, markdown: "Skipped with --quick (it needs the Qwen3- and NeuTTS-shaped q4 models)." };
  const rounds = Math.max(options.runs, 3);
  const models = await decodeStepModels(options, log);
  const lines = [
    `A decode step through the engine's KvCacheDecoder (q4, int8 activations, fused MatMuls, append-only cache), ${TIMED} timed steps of ${STEPS} after each prompt, ` +
      `${rounds} rounds with the four forms interleaved (order rotating) in one process. Medians, ms (cached positions: the prompt plus ${STEPS - TIMED}–${STEPS}):`,
    "",
    `| model | cached positions | ${VARIANTS.map((v) => v.label).join(" | ")} | default ÷ heads-major Concat | default ÷ position-major Concat |`,
    `|---|---:|${VARIANTS.map(() => "---:").join("|")}|---:|---:|`,
  ];
  const json = [];
  for (const model of models) {
    const times = await measureSteps(model, VARIANTS, rounds, log);
    for (let p = 0; p < model.prompts.length; p++) {
      const med = times[p].map((t) => median(t));
      lines.push(`| ${model.label} | ${model.prompts[p] + STEPS - TIMED}–${model.prompts[p] + STEPS} | ${med.map((m) => fmt(m, 1)).join(" | ")} | ${fmt(med[3] / med[2], 2)}× | ${fmt(med[3] / med[0], 2)}× |`);
      json.push({ model: model.label, prompt: model.prompts[p], medianStepMs: Object.fromEntries(VARIANTS.map((v, i) => [v.label, med[i]])), samples: times[p][0].length });
    }
  }
  return { json, markdown: lines.join("\n") };
}
