/**
 * `voice-stream convert-llama2c <model.bin> <tokenizer.bin> <outdir> [--q4]`: turns a llama2.c
 * checkpoint and tokenizer into a model directory the llm loader runs (onnx/model.onnx + HF json).
 */
import * as fs from "fs";
import * as path from "path";
import { parseCommandArgs } from "../args";
import { CliError } from "../cli-error";
import { convertLlama2c } from "../../core/llm/llama2c/convert";
import { Llama2cInputError } from "../../core/llm/llama2c/errors";

const USAGE = "usage: voice-stream convert-llama2c <model.bin> <tokenizer.bin> <outdir> [--q4]";

export async function run(argv: string[]): Promise<number> {
  const options = { help: { type: "boolean", short: "h" }, q4: { type: "boolean" } } as const;
  const { values, positionals } = parseCommandArgs(argv, options, true);
  if (values.help) {
    process.stdout.write(
      `${USAGE}\nwrites <outdir>/onnx/model.onnx, config.json, generation_config.json, tokenizer.json, ` +
        `tokenizer_config.json\n--q4  also write onnx/model_q4.onnx (4-bit MatMulNBits weights)\n`,
    );
    return 0;
  }
  if (positionals.length !== 3) {
    throw new CliError(`expected 3 arguments, got ${positionals.length}; ${USAGE}`);
  }
  const [modelFile, tokenizerFile, outDir] = positionals.map((p) => path.resolve(p));
  if (fs.existsSync(outDir) && !fs.statSync(outDir).isDirectory()) {
    throw new CliError(`output path exists and is not a directory: ${outDir}`);
  }
  try {
    const result = convertLlama2c(modelFile, tokenizerFile, outDir, { q4: values.q4 === true });
    process.stdout.write(
      `wrote ${result.outDir} (llama, ${result.numLayers} layers, hidden ${result.hiddenSize}, vocab ${result.vocabSize})\n`,
    );
    return 0;
  } catch (err) {
    if (err instanceof Llama2cInputError) {
      throw new CliError(`${err.message} (give llama2.c's legacy model .bin first, then its tokenizer .bin)`);
    }
    throw err;
  }
}
