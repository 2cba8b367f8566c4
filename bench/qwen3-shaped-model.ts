/**
 * The Qwen3-0.6B-shaped benchmark model: the real dimensions (hidden 1024, 28 layers, 16 query
 * / 8 KV heads of 128, MLP 3072, vocabulary 151936, tied embeddings, q/k norm) with seeded
 * random weights from the project's decoder builder, in the onnx-community layout
 * (onnx/model.onnx + model.onnx_data, onnx/model_q4.onnx). Its tokenizer is the tiny-llm byte-level
 * BPE padded with filler tokens to the full 151936-token vocabulary, so both engines load
 * the very same files. Generated once into bench/out/ (about 3.5 GB), one variant per process
 * so the peak memory stays near one copy of the weights.
 *
 *   node dist/bench/qwen3-shaped-model.js <dir> fp32|q4
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { randomDecoderOnlyWeights, writeDecoderOnlyModel, type DecoderOnlyConfig } from "../src/core/onnx-builder/transformer";
import { write as writeTinyLlm } from "../fixtures/tiny-llm";

export const QWEN3_06B_SHAPE: DecoderOnlyConfig = {
  vocabSize: 151936,
  hiddenSize: 1024,
  numLayers: 28,
  numHeads: 16,
  numKvHeads: 8,
  headDim: 128,
  intermediateSize: 3072,
  rmsNormEps: 1e-6,
  ropeTheta: 1_000_000,
  qkNorm: true,
  tieWordEmbeddings: true,
};

export const QWEN3_SEED = 6_000_000;

export type WeightVariant = "fp32" | "q4";

export const variantFile = (variant: WeightVariant): string => (variant === "q4" ? "model_q4.onnx" : "model.onnx");

/**
 * The file that marks a complete copy of `variant`. The q4 variant has symmetric blocks without zero
 * points, as transformers.js's conversion script writes q4 (and llama.cpp's Q4_0 is); a copy from
 * before (with zero points, marked `.complete-q4`) is rewritten.
 */
export const variantMarker = (variant: WeightVariant): string => (variant === "q4" ? ".complete-q4-symmetric" : `.complete-${variant}`);

/** Whether `dir` already holds a complete copy of `variant`. */
export function hasVariant(dir: string, variant: WeightVariant): boolean {
  return fs.existsSync(path.join(dir, variantMarker(variant)));
}

/** config.json, tokenizer files and generation_config.json (cheap; written with every variant). */
export async function writeMetadata(dir: string): Promise<void> {
  const tiny = fs.mkdtempSync(path.join(os.tmpdir(), "bench-tiny-llm-"));
  try {
    await writeTinyLlm(tiny);
    const read = (name: string) => JSON.parse(fs.readFileSync(path.join(tiny, name), "utf8"));
    const tokenizer = read("tokenizer.json");
    const vocab = tokenizer.model.vocab as Record<string, number>;
    const bpeSize = Object.keys(vocab).length;
    const added = tokenizer.added_tokens as { id: number; content: string }[];
    // Fillers between the learned vocabulary and the added tokens; the added tokens move to
    // the top of the 151936 ids, as Qwen3's specials sit at the top of its vocabulary.
    const firstAdded = QWEN3_06B_SHAPE.vocabSize - added.length;
    for (let id = bpeSize; id < firstAdded; id++) vocab[`<|filler_${id}|>`] = id;
    const remap = new Map<number, number>();
    added.forEach((token, i) => {
      remap.set(token.id, firstAdded + i);
      token.id = firstAdded + i;
    });
    const mapId = (id: number) => remap.get(id) ?? id;

    const tokenizerConfig = read("tokenizer_config.json");
    tokenizerConfig.added_tokens_decoder = Object.fromEntries(
      Object.entries(tokenizerConfig.added_tokens_decoder as Record<string, unknown>).map(([id, entry]) => [String(mapId(Number(id))), entry]),
    );
    const config = read("config.json");
    const generation = read("generation_config.json");
    const mapIds = (value: number | number[]) => (Array.isArray(value) ? value.map(mapId) : mapId(value));
    for (const json of [config, generation]) {
      for (const key of ["bos_token_id", "eos_token_id", "pad_token_id"]) if (key in json) json[key] = mapIds(json[key]);
    }
    const c = QWEN3_06B_SHAPE;
    Object.assign(config, {
      head_dim: c.headDim,
      hidden_size: c.hiddenSize,
      intermediate_size: c.intermediateSize,
      max_position_embeddings: 40960,
      max_window_layers: c.numLayers,
      num_attention_heads: c.numHeads,
      num_hidden_layers: c.numLayers,
      num_key_value_heads: c.numKvHeads,
      rope_theta: c.ropeTheta,
      vocab_size: c.vocabSize,
    });
    tokenizerConfig.model_max_length = 40960;

    fs.mkdirSync(dir, { recursive: true });
    const write = (name: string, value: unknown) => fs.writeFileSync(path.join(dir, name), JSON.stringify(value) + "\n");
    write("tokenizer.json", tokenizer);
    write("tokenizer_config.json", tokenizerConfig);
    write("config.json", config);
    write("generation_config.json", generation);
  } finally {
    fs.rmSync(tiny, { recursive: true, force: true });
  }
}

/** Writes one weight variant (minutes: ~600M random weights, then MatMul layout or 4-bit blocks). */
export async function writeVariant(dir: string, variant: WeightVariant): Promise<void> {
  await writeMetadata(dir);
  // A small embedding spread, as in tiny-llm, so greedy decoding does not just echo its input.
  const weights = randomDecoderOnlyWeights(QWEN3_06B_SHAPE, QWEN3_SEED, { embeddingStd: 0.1 });
  writeDecoderOnlyModel(dir, QWEN3_06B_SHAPE, weights, { weightFormat: variant, q4Symmetric: true });
  fs.writeFileSync(path.join(dir, variantMarker(variant)), new Date().toISOString() + "\n");
}

if (require.main === module) {
  const [dir, variant] = process.argv.slice(2);
  if (!dir || (variant !== "fp32" && variant !== "q4")) {
    process.stderr.write("usage: node dist/bench/qwen3-shaped-model.js <dir> fp32|q4\n");
    process.exit(2);
  }
  const started = Date.now();
  writeVariant(path.resolve(dir), variant).then(
    () => process.stdout.write(`wrote ${variant} into ${dir} in ${((Date.now() - started) / 1000).toFixed(0)} s\n`),
    (err) => {
      process.stderr.write(`qwen3-shaped-model: ${(err as Error).stack}\n`);
      process.exit(1);
    },
  );
}
