/**
 * The Qwen3-0.6B-shaped bench model as GGUF files for llama.cpp: the same seeded weights and
 * tokenizer that qwen3-shaped-model.ts writes as ONNX, in F32 and Q4_0 (gguf-writer.ts). One
 * variant per process, so the peak memory stays near one copy of the weights.
 *
 *   node dist/bench/qwen3-shaped-gguf.js <dir> F32|Q4_0
 */
import * as fs from "fs";
import * as path from "path";
import { randomDecoderOnlyWeights } from "../src/core/onnx-builder/transformer";
import { ggufTokenizerFrom, writeQwen3Gguf, type GgufTensorType } from "./gguf-writer";
import { QWEN3_06B_SHAPE, QWEN3_SEED, writeMetadata } from "./qwen3-shaped-model";

export const ggufFile = (dir: string, type: GgufTensorType): string => path.join(dir, `model-${type.toLowerCase()}.gguf`);

export function hasGguf(dir: string, type: GgufTensorType): boolean {
  return fs.existsSync(path.join(dir, `.complete-gguf-${type}`));
}

export async function writeGguf(dir: string, type: GgufTensorType): Promise<void> {
  if (!fs.existsSync(path.join(dir, "tokenizer.json"))) await writeMetadata(dir);
  const read = (name: string) => JSON.parse(fs.readFileSync(path.join(dir, name), "utf8"));
  const generation = read("generation_config.json");
  const eos = Array.isArray(generation.eos_token_id) ? generation.eos_token_id[0] : generation.eos_token_id;
  const tokenizer = ggufTokenizerFrom(read("tokenizer.json"), QWEN3_06B_SHAPE.vocabSize, eos);
  // The very weights of the ONNX files: same builder, same seed, same options.
  const weights = randomDecoderOnlyWeights(QWEN3_06B_SHAPE, QWEN3_SEED, { embeddingStd: 0.1 });
  writeQwen3Gguf(ggufFile(dir, type), QWEN3_06B_SHAPE, weights, tokenizer, type);
  fs.writeFileSync(path.join(dir, `.complete-gguf-${type}`), new Date().toISOString() + "\n");
}

if (require.main === module) {
  const [dir, type] = process.argv.slice(2);
  if (!dir || (type !== "F32" && type !== "Q4_0")) {
    process.stderr.write("usage: node dist/bench/qwen3-shaped-gguf.js <dir> F32|Q4_0\n");
    process.exit(2);
  }
  const started = Date.now();
  writeGguf(path.resolve(dir), type).then(
    () => process.stdout.write(`wrote ${type} GGUF into ${dir} in ${((Date.now() - started) / 1000).toFixed(0)} s\n`),
    (err) => {
      process.stderr.write(`qwen3-shaped-gguf: ${(err as Error).stack}\n`);
      process.exit(1);
    },
  );
}
