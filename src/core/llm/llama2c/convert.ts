/**
 * Converts a llama2.c checkpoint + tokenizer into the project's (onnx-community style) model
 * layout: onnx/model.onnx, config.json (model_type "llama"), generation_config.json,
 * tokenizer.json and tokenizer_config.json, so the normal LLM loader and generation loop run it.
 */
import * as fs from "fs";
import * as path from "path";
import { writeDecoderOnlyModel } from "../../onnx-builder/transformer";
import { readLlama2cCheckpoint } from "./checkpoint";
import { Llama2cInputError } from "./errors";
import {
  LLAMA2C_BOS,
  llama2cTokenizerConfig,
  llama2cTokenizerJson,
  readLlama2cTokenizer,
} from "./tokenizer";

export interface ConvertResult {
  outDir: string;
  files: string[];
  vocabSize: number;
  numLayers: number;
  hiddenSize: number;
}

const writeJson = (file: string, value: unknown) => fs.writeFileSync(file, JSON.stringify(value, null, 2) + "\n");

/** Reads both inputs fully (so a bad file fails before anything is written), then writes `outDir`. */
export interface ConvertOptions {
  /** Also write onnx/model_q4.onnx (4-bit MatMulNBits weights). */
  q4?: boolean;
}

export function convertLlama2c(
  modelFile: string,
  tokenizerFile: string,
  outDir: string,
  options: ConvertOptions = {},
): ConvertResult {
  const checkpoint = readLlama2cCheckpoint(readInput(modelFile, "model"));
  const { header, config } = checkpoint;
  const tokenizer = readLlama2cTokenizer(readInput(tokenizerFile, "tokenizer"), header.vocabSize);

  fs.mkdirSync(outDir, { recursive: true });
  const modelPath = writeDecoderOnlyModel(outDir, config, checkpoint.weights);
  const q4Path = options.q4 ? writeDecoderOnlyModel(outDir, config, checkpoint.weights, { weightFormat: "q4" }) : undefined;

  writeJson(path.join(outDir, "config.json"), {
    architectures: ["LlamaForCausalLM"],
    attention_bias: false,
    attention_dropout: 0.0,
    bos_token_id: LLAMA2C_BOS,
    // run.c stops when it samples BOS (id 1): stories end with a new "<s>", not with "</s>".
    eos_token_id: LLAMA2C_BOS,
    head_dim: config.headDim,
    hidden_act: "silu",
    hidden_size: config.hiddenSize,
    initializer_range: 0.02,
    intermediate_size: config.intermediateSize,
    max_position_embeddings: header.seqLen,
    mlp_bias: false,
    model_type: "llama",
    num_attention_heads: config.numHeads,
    num_hidden_layers: config.numLayers,
    num_key_value_heads: config.numKvHeads,
    pretraining_tp: 1,
    rms_norm_eps: config.rmsNormEps,
    rope_scaling: null,
    rope_theta: config.ropeTheta,
    tie_word_embeddings: config.tieWordEmbeddings ?? false,
    torch_dtype: "float32",
    use_cache: true,
    vocab_size: config.vocabSize,
  });

  writeJson(path.join(outDir, "generation_config.json"), {
    bos_token_id: LLAMA2C_BOS,
    eos_token_id: LLAMA2C_BOS,
    max_length: header.seqLen,
    do_sample: true,
    temperature: 1.0,
    top_p: 0.9,
  });

  writeJson(path.join(outDir, "tokenizer.json"), llama2cTokenizerJson(tokenizer));
  writeJson(path.join(outDir, "tokenizer_config.json"), llama2cTokenizerConfig(header.seqLen));

  const files = ["config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json"].map((f) =>
    path.join(outDir, f),
  );
  files.unshift(modelPath);
  if (q4Path) files.push(q4Path);
  for (const file of [modelPath, q4Path]) if (file && fs.existsSync(`${file}_data`)) files.push(`${file}_data`);
  return { outDir, files, vocabSize: config.vocabSize, numLayers: config.numLayers, hiddenSize: config.hiddenSize };
}

function readInput(file: string, what: string): Uint8Array {
  if (!fs.existsSync(file)) throw new Llama2cInputError(`${what} file not found: ${file}`);
  if (!fs.statSync(file).isFile()) throw new Llama2cInputError(`${what} path is not a file: ${file}`);
  return fs.readFileSync(file);
}
