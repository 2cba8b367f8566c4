/**
 * The two sides of the ASR one-shot comparison, on one model directory and one set of
 * settings (greedy, language, task, timestamps, the cap on new tokens), each timed from audio
 * samples to text and returning the generated token ids so the bench can check that both
 * did the same work:
 *  - ours: WhisperModel.decode (what AsrEngine.transcribe() runs);
 *  - transformers.js: AutoProcessor (log-mel features) + WhisperForConditionalGeneration
 *    .generate() + tokenizer decode, as test/core/asr-transformers.test.ts drives it. (Its
 *    `pipeline("automatic-speech-recognition")` wraps the same calls, but hides the token ids.)
 */
import * as path from "path";
import type { WhisperEngine } from "../../src/core/asr/engines/whisper/whisper-engine";

export interface OneShotSettings {
  language: string;
  task: "transcribe" | "translate";
  timestamps: boolean;
  maxNewTokens: number;
}

export interface OneShotResult {
  /** Generated ids after the forced prefix, without the closing <|endoftext|>. */
  tokens: number[];
  text: string;
}

export interface OneShotSide {
  transcribe(audio: Float32Array): Promise<OneShotResult>;
  dispose(): Promise<void>;
}

export function oursOneShot(engine: WhisperEngine, settings: OneShotSettings): OneShotSide {
  return {
    async transcribe(audio) {
      const result = await engine.model.decode(audio, {
        language: settings.language,
        task: settings.task,
        timestamps: settings.timestamps,
        maxNewTokens: settings.maxNewTokens,
      });
      return { tokens: result.tokens, text: result.text };
    },
    dispose: () => engine.dispose(),
  };
}

interface TheirTokenizer {
  decode(ids: number[], options: { skip_special_tokens: boolean }): string;
}

/**
 * `intraOpNumThreads`: what our sessions use (one per core). transformers.js leaves it unset by
 * default, which onnxruntime-node ran like one thread here (see bench/NOTES.md), so the bench
 * passes ours to compare the engines rather than their thread counts.
 */
export async function theirsOneShot(dir: string, settings: OneShotSettings, forcedPrefix: number[], eot: number, intraOpNumThreads: number): Promise<OneShotSide> {
  const { env, AutoProcessor, WhisperForConditionalGeneration } = await import("@huggingface/transformers");
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = path.dirname(dir) + path.sep;
  const id = path.basename(dir);
  const processor = await AutoProcessor.from_pretrained(id);
  const model = await WhisperForConditionalGeneration.from_pretrained(id, { dtype: "fp32", session_options: { intraOpNumThreads } } as never);
  const tokenizer = (processor as unknown as { tokenizer: TheirTokenizer }).tokenizer;
  return {
    async transcribe(audio) {
      const { input_features } = await processor(audio);
      const out = await model.generate({
        input_features,
        language: settings.language,
        task: settings.task,
        return_timestamps: settings.timestamps,
        max_new_tokens: settings.maxNewTokens,
      } as never);
      const ids = (out as unknown as { tolist(): bigint[][] }).tolist()[0].map(Number);
      const prefix = ids.slice(0, forcedPrefix.length);
      if (prefix.join() !== forcedPrefix.join()) {
        throw new Error(`transformers.js started with tokens [${prefix}] where [${forcedPrefix}] (start, language, task) was expected; its settings differ from ours`);
      }
      const tokens = ids.slice(forcedPrefix.length);
      if (tokens[tokens.length - 1] === eot) tokens.pop();
      return { tokens, text: tokenizer.decode(tokens, { skip_special_tokens: true }).trim() };
    },
    dispose: async () => {
      await model.dispose();
    },
  };
}

/** "same 7 tokens", or where the two sequences part. */
export function compareTokens(ours: number[], theirs: number[]): { same: boolean; note: string } {
  const n = Math.min(ours.length, theirs.length);
  let at = 0;
  while (at < n && ours[at] === theirs[at]) at++;
  if (at === ours.length && at === theirs.length) return { same: true, note: `same ${ours.length} tokens` };
  if (at === n) return { same: false, note: `ours ${ours.length} tokens, transformers.js ${theirs.length}; equal for the first ${n}` };
  return { same: false, note: `differ from token ${at}: ours ${ours[at]}, transformers.js ${theirs[at]} (ours ${ours.length} tokens, theirs ${theirs.length})` };
}
