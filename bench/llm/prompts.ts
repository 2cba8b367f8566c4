/**
 * Fixed pseudo-random prompts that encode to an exact token count with the model's own
 * tokenizer.json, so both engines prefill the same ids. Text is drawn from ASCII symbols that
 * no merge of the benchmark tokenizers joins, then trimmed/extended until the count is exact.
 */
import * as fs from "fs";
import * as path from "path";
import { SeededRandom } from "../../src/core/onnx-builder/random";

const SYMBOLS = "#$%&*+/<=>@[]^_`{|}~";
const WORDS = ["the", "cat", "sat", "on", "a", "mat", "and", "then", "ran", "to", "park", "with", "dog", "happy", "sun"];

export async function exactPrompt(modelDir: string, tokens: number, seed: number): Promise<string> {
  const { Tokenizer } = await import("@huggingface/tokenizers");
  const read = (name: string) => JSON.parse(fs.readFileSync(path.join(modelDir, name), "utf8"));
  const configFile = path.join(modelDir, "tokenizer_config.json");
  const tokenizer = new Tokenizer(read("tokenizer.json"), fs.existsSync(configFile) ? read("tokenizer_config.json") : {});
  const count = (text: string) => tokenizer.encode(text, { add_special_tokens: true }).ids.length;
  const rng = new SeededRandom(seed);
  // Two alphabets: symbols (byte-level BPE: one token each) and words (SentencePiece-style vocabularies).
  for (const draw of [() => SYMBOLS[rng.int(SYMBOLS.length)], () => " " + WORDS[rng.int(WORDS.length)]]) {
    let pieces: string[] = [];
    for (let attempt = 0; attempt < 4 * tokens + 50; attempt++) {
      const n = count(pieces.join(""));
      if (n === tokens) return pieces.join("");
      if (n < tokens) pieces.push(draw());
      else pieces = pieces.slice(0, -1);
      if (n > tokens && pieces.length === 0) break;
    }
  }
  throw new Error(`could not build a prompt of exactly ${tokens} tokens for ${modelDir}`);
}
