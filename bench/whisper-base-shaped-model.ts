/**
 * The whisper-base-shaped benchmark model: whisper-base's real dimensions (d_model 512, 6
 * encoder + 6 decoder layers, 8 heads, FFN 2048, 80 mel bins, 1500 encoder / 448 decoder
 * positions, vocabulary 51865 with Whisper's special tokens at their real ids: <|endoftext|>
 * 50257, <|startoftranscript|> 50258, 99 languages, <|notimestamps|> 50363, timestamps from
 * 50364) with seeded random weights, written by the tiny-whisper fixture's own writer in the
 * Optimum layout (onnx/encoder_model.onnx, onnx/decoder_model_merged.onnx with
 * use_cache_branch, and their 8-bit _quantized files, config.json, generation_config.json, preprocessor_config.json,
 * tokenizer.json). It keeps the writer's hand-wired alignment path, so it "speaks" one word
 * per 0.5 s of speech and then ends with <|endoftext|>, like the tiny fixture, while every
 * matrix multiply has base's size. Generated once into bench/out/ (about 300 MB, ~15 s), and
 * again whenever the writer's compiled code changes (its hash is kept in `.complete`).
 *
 *   node dist/bench/whisper-base-shaped-model.js <dir>
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { write as writeWhisper, type WhisperShape } from "../fixtures/tiny-whisper";

/** Whisper's 99 language codes in token order (multilingual v1/v2 vocabularies). */
const WHISPER_LANGUAGES = (
  "en zh de es ru ko fr ja pt tr pl ca nl ar sv it id hi fi vi he uk el ms cs ro da hu ta no th ur hr bg lt la mi ml cy sk te fa lv bn " +
  "sr az sl kn et mk br eu is hy ne mn bs kk sq sw gl mr pa si km sn yo so af oc ka be tg sd gu am yi lo uz fo ht ps tk nn mt sa lb my " +
  "bo tl mg as tt haw ln ha ba jw su"
).split(" ");

export const WHISPER_BASE_SHAPE: WhisperShape = {
  name: "whisper-base-shaped",
  dModel: 512,
  heads: 8,
  ffn: 2048,
  encoderLayers: 6,
  decoderLayers: 6,
  nMels: 80,
  sourcePositions: 1500,
  targetPositions: 448,
  languages: WHISPER_LANGUAGES,
  textVocabSize: 50257,
};

const README =
  "# whisper-base-shaped\n\nA seeded random-weight Whisper with whisper-base's dimensions in the onnx-community layout, written by\n" +
  "node-red-contrib-voice-stream's benchmark (bench/whisper-base-shaped-model.ts). Its text is arbitrary words, one per 0.5 s of speech.\n";

/** The compiled code that decides the files' bytes (this file, the writer, the graph builder). */
const WRITER_FILES = [
  __filename,
  path.join(__dirname, "../fixtures/tiny-whisper.js"),
  path.join(__dirname, "../fixtures/bpe-tokenizer.js"),
  path.join(__dirname, "../src/core/onnx-builder/graph.js"),
  path.join(__dirname, "../src/core/onnx-builder/random.js"),
  path.join(__dirname, "../src/core/onnx-builder/quantize-8bit.js"),
];

/** A hash of the writer's compiled code: a model written by other code is written again (also the bench's tiny-whisper). */
export function writerHash(): string {
  const hash = crypto.createHash("sha256");
  for (const file of WRITER_FILES) hash.update(fs.readFileSync(file));
  return hash.digest("hex").slice(0, 16);
}

/** Whether `dir` holds a complete copy written by the current writer code. */
export function hasWhisperBaseShaped(dir: string): boolean {
  const marker = path.join(dir, ".complete");
  return fs.existsSync(marker) && fs.readFileSync(marker, "utf8").trim() === writerHash();
}

/** Writes the model into `dir` (written beside it, then renamed: a half-written model is never reused). */
export async function writeWhisperBaseShaped(dir: string): Promise<void> {
  const temp = `${dir}.tmp-${process.pid}`;
  fs.rmSync(temp, { recursive: true, force: true });
  // With the hub's 8-bit files too (dtype "q8"), as onnx-community/whisper-base has them.
  await writeWhisper(temp, { shape: WHISPER_BASE_SHAPE, readme: README, quantized: true });
  fs.writeFileSync(path.join(temp, ".complete"), writerHash() + "\n");
  fs.rmSync(dir, { recursive: true, force: true });
  fs.renameSync(temp, dir);
}

if (require.main === module) {
  const [dir] = process.argv.slice(2);
  if (!dir) {
    process.stderr.write("usage: node dist/bench/whisper-base-shaped-model.js <dir>\n");
    process.exit(2);
  }
  const started = Date.now();
  writeWhisperBaseShaped(path.resolve(dir)).then(
    () => process.stdout.write(`wrote ${dir} in ${((Date.now() - started) / 1000).toFixed(0)} s\n`),
    (err) => {
      process.stderr.write(`whisper-base-shaped-model: ${(err as Error).stack}\n`);
      process.exit(1);
    },
  );
}
