/**
 * The NeuTTS-shaped model's speech-token LM (backbone/) as a plain causal LM: our LLM engine
 * against transformers.js' AutoModelForCausalLM on the very same q4 file, with the LLM part's
 * interleaved worker harness (bench/llm/llm-bench.ts). It shows what the backbone decodes at
 * outside the TTS loop, and what the codec engine's own loop costs on top.
 */
import * as path from "path";
import { runLlmCase, type LlmCaseResult } from "../llm/llm-bench";
import { exactPrompt } from "../llm/prompts";
import { fmt } from "../stats";
import { peerCpu } from "../llm/llm-section";

/** About the first span's prompt in the TTS rows (250 reference frames + its text). */
export const BACKBONE_PROMPT_TOKENS = 320;
const NEW_TOKENS = 32;

export async function runCodecBackboneCase(modelDir: string, runs: number, warmup: number, log: (line: string) => void): Promise<LlmCaseResult> {
  const backbone = path.join(modelDir, "backbone");
  return runLlmCase(
    {
      label: "NeuTTS-shaped backbone q4",
      modelDir: backbone,
      dtype: "q4",
      weightBytesPerToken: 0,
      prompts: [{ name: "p320", text: await exactPrompt(backbone, BACKBONE_PROMPT_TOKENS, BACKBONE_PROMPT_TOKENS), tokens: BACKBONE_PROMPT_TOKENS, newTokens: NEW_TOKENS }],
      decodePrompt: "p320",
    },
    runs,
    warmup,
    log,
  );
}

/** The comparison table; `codecDecodeFps` / `codecFirstFrameMs` are the codec engine's q4 row from the TTS table. */
export function codecBackboneMarkdown(r: LlmCaseResult, codecDecodeFps?: number, codecFirstFrameMs?: number): string {
  const ttft = (side: typeof r.ours) => side.ttftMs.p320;
  return [
    `The q4 backbone alone as a causal LM (greedy, ${NEW_TOKENS} new tokens after a ${BACKBONE_PROMPT_TOKENS}-token prompt, EOS ignored; ` +
      "each side in its own worker process, ABBA order, as in the LLM section; transformers.js loads `backbone/` with AutoModelForCausalLM):",
    "",
    "| | codec engine (TTS row above) | our LLM engine | transformers.js |",
    "|---|---:|---:|---:|",
    `| decode tokens (frames)/s | ${fmt(codecDecodeFps, 1)} | ${fmt(r.ours.decodeTokensPerSecond, 1)} | ${fmt(r.theirs.decodeTokensPerSecond, 1)} |`,
    `| prompt → first token (ms) | ${fmt(codecFirstFrameMs, 0)} | ${fmt(ttft(r.ours), 0)} | ${fmt(ttft(r.theirs), 0)} |`,
    `| decode step, of which outside session.run (ms) | | ${fmt(r.ours.decodeStepMs, 1)}, ${fmt(r.ours.overheadMs, 2)} | ${fmt(r.theirs.decodeStepMs, 1)}, ${fmt(r.theirs.overheadMs, 2)} |`,
    `| load (s), peak RSS (MiB) | | ${fmt(r.ours.loadMs / 1000, 1)}, ${fmt(r.ours.peakRssMiB, 0)} | ${fmt(r.theirs.loadMs / 1000, 1)}, ${fmt(r.theirs.peakRssMiB, 0)} |`,
    `| the other worker's CPU during this side's turns, median / max (% of one core) | | ${peerCpu(r.ours)} | ${peerCpu(r.theirs)} |`,
  ].join("\n");
}
