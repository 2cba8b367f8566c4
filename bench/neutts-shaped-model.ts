/**
 * The NeuTTS-shaped benchmark model: a codec TTS directory (tiny-codec-tts layout) whose
 * speech-token LM has the dimensions of NeuTTS-Air's Qwen2.5-0.5B backbone (hidden 896,
 * 24 layers, 14 query / 2 KV heads of 64, MLP 4864, q/k/v biases, RMSNorm, RoPE θ 1e6, tied
 * embeddings) over Qwen's 151936 text ids plus 65536 <|speech_i|> tokens (vocabulary 217472),
 * with seeded random weights from the project's decoder builder. The codec decoder is the
 * fixture's toy grain synthesiser with 65536-entry tables (NeuCodec's real decoder cannot be
 * rebuilt here), so the measured time is almost all LM.
 *
 * Every span gets exactly 3 frames per character (min = max frames per char): the LM may not
 * end early (its end token is masked until the budget) and stops at the budget, so every run
 * generates the same number of frames whatever the random weights sample.
 *
 * Generated once into bench/out/ (fp32 ≈ 2.2 GB, q4 ≈ 1.1 GB more), one variant per process
 * so the peak memory stays near one copy of the weights.
 *
 *   node dist/bench/neutts-shaped-model.js <dir> fp32|q4
 */
import * as fs from "fs";
import * as path from "path";
import { writeCodecTts, type CodecTtsModelOptions } from "../fixtures/tiny-codec-tts";
import { variantMarker, type WeightVariant } from "./qwen3-shaped-model";

/** Qwen2's padded text vocabulary (embedding rows), before NeuTTS's speech tokens. */
const QWEN2_TEXT_VOCAB = 151936;
/** NeuCodec: one codebook of 2^16 codes at 50 frames/s. */
const NEUCODEC_CODEBOOK = 65536;
/** Frames per character, for both bounds: a fixed budget (≈ 50 frames/s ÷ ~16 characters/s of speech). */
export const FRAMES_PER_CHAR = 3;

export const NEUTTS_SHAPE = (variant: WeightVariant): CodecTtsModelOptions => ({
  backbone: {
    hiddenSize: 896,
    numLayers: 24,
    numHeads: 14,
    numKvHeads: 2,
    headDim: 64,
    intermediateSize: 4864,
    rmsNormEps: 1e-6,
    ropeTheta: 1_000_000,
    attentionBias: true,
    tieWordEmbeddings: true,
  },
  modelType: "qwen2",
  textVocabSize: QWEN2_TEXT_VOCAB,
  codebookSize: NEUCODEC_CODEBOOK,
  seed: 7_000_000,
  weightFormats: [variant],
  // As transformers.js's conversion script writes q4 (no zero points).
  q4Symmetric: true,
  maxPositions: 32768,
  // A reference clip of 5 s, as NeuTTS voices use a few seconds of speech.
  referenceFrames: 250,
  generation: { temperature: 1.0, top_k: 50, min_frames_per_char: FRAMES_PER_CHAR, max_frames_per_char: FRAMES_PER_CHAR },
});

export const NEUTTS_VOCAB = QWEN2_TEXT_VOCAB + NEUCODEC_CODEBOOK;

/** Whether `dir` already holds a complete copy of `variant`. */
export function hasNeuttsVariant(dir: string, variant: WeightVariant): boolean {
  return fs.existsSync(path.join(dir, variantMarker(variant)));
}

/** Writes one weight variant with the shared files (minutes: ~550M random weights, then MatMul or 4-bit layouts). */
export async function writeNeuttsVariant(dir: string, variant: WeightVariant): Promise<void> {
  await writeCodecTts(dir, NEUTTS_SHAPE(variant));
  fs.writeFileSync(path.join(dir, variantMarker(variant)), new Date().toISOString() + "\n");
}

if (require.main === module) {
  const [dir, variant] = process.argv.slice(2);
  if (!dir || (variant !== "fp32" && variant !== "q4")) {
    process.stderr.write("usage: node dist/bench/neutts-shaped-model.js <dir> fp32|q4\n");
    process.exit(2);
  }
  const started = Date.now();
  writeNeuttsVariant(path.resolve(dir), variant).then(
    () => process.stdout.write(`wrote ${variant} into ${dir} in ${((Date.now() - started) / 1000).toFixed(0)} s\n`),
    (err) => {
      process.stderr.write(`neutts-shaped-model: ${(err as Error).stack}\n`);
      process.exit(1);
    },
  );
}
