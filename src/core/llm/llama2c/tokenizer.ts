/**
 * llama2.c's tokenizer (`tokenizer.bin`, e.g. tok512.bin) and its translation into a Hugging Face
 * `tokenizer.json` that encodes and decodes exactly as run.c does:
 *
 *  run.c encode                                   tokenizer.json
 *  [BOS]                                          post_processor TemplateProcessing "<s> $A"
 *  dummy-prefix " " when the text is non-empty    normalizer Prepend " " (skips empty text)
 *  one piece per UTF-8 code point, else bytes     BPE with byte_fallback (<0xXX> = byte + 3)
 *  merge the pair whose join scores highest       BPE merges ranked by the joined piece's score
 *  decode: <0xXX> → byte, strip the space after   decoder ByteFallback → Fuse → Strip one leading " "
 *  BOS
 */
import { Llama2cInputError } from "./errors";

export interface Llama2cVocabEntry {
  piece: string;
  score: number;
}

export interface Llama2cTokenizer {
  maxTokenLength: number;
  vocab: Llama2cVocabEntry[];
}

/** run.c's fixed special ids. */
export const LLAMA2C_UNK = 0;
export const LLAMA2C_BOS = 1;
export const LLAMA2C_EOS = 2;
/** Hugging Face names for ids 0–2 (llama2.c stores them as "<unk>", "\n<s>\n", "\n</s>\n"). */
const SPECIAL_NAMES = ["<unk>", "<s>", "</s>"];

/** Reads `tokenizer.bin`; `vocabSize` comes from the model header (the file does not store it). */
export function readLlama2cTokenizer(bytes: Uint8Array, vocabSize: number): Llama2cTokenizer {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const decoder = new TextDecoder("utf-8", { fatal: true });
  const fail = (why: string): never => {
    throw new Llama2cInputError(`not a llama2.c tokenizer for a ${vocabSize}-token model: ${why}`);
  };
  if (bytes.byteLength < 4) fail("file too short");
  const maxTokenLength = view.getInt32(0, true);
  if (maxTokenLength <= 0 || maxTokenLength > 1024) fail(`implausible max_token_length ${maxTokenLength}`);
  const vocab: Llama2cVocabEntry[] = [];
  let offset = 4;
  for (let id = 0; id < vocabSize; id++) {
    if (offset + 8 > bytes.byteLength) fail(`the file ends at token ${id}`);
    const score = view.getFloat32(offset, true);
    const length = view.getInt32(offset + 4, true);
    offset += 8;
    if (length >= 0 && length <= maxTokenLength && offset + length > bytes.byteLength) fail(`the file ends inside token ${id}`);
    if (length < 0 || length > maxTokenLength || !Number.isFinite(score)) {
      fail(`token ${id} has a bad record (length ${length}, score ${score})`);
    }
    let piece = "";
    try {
      piece = decoder.decode(bytes.subarray(offset, offset + length));
    } catch {
      fail(`token ${id} is not valid UTF-8`);
    }
    offset += length;
    vocab.push({ piece, score });
  }
  if (offset !== bytes.byteLength) fail(`${bytes.byteLength - offset} bytes left after ${vocabSize} tokens`);
  return { maxTokenLength, vocab };
}

/** The HF token string for an id: special names for 0–2, otherwise the piece itself. */
function tokenString(tok: Llama2cTokenizer, id: number): string {
  return id < SPECIAL_NAMES.length ? SPECIAL_NAMES[id] : tok.vocab[id].piece;
}

/**
 * Every pair (a, b) of vocabulary pieces whose join is also a piece, ranked as run.c would pick
 * them: higher score of the joined piece first (ties: lower joined id, then shorter left part).
 */
export function llama2cMerges(tok: Llama2cTokenizer): [string, string][] {
  const idOf = new Map<string, number>();
  tok.vocab.forEach((_, id) => {
    if (id >= SPECIAL_NAMES.length) idOf.set(tok.vocab[id].piece, id);
  });
  const merges: { pair: [string, string]; score: number; id: number; split: number }[] = [];
  tok.vocab.forEach(({ piece, score }, id) => {
    if (id < SPECIAL_NAMES.length) return;
    const chars = Array.from(piece);
    for (let split = 1; split < chars.length; split++) {
      const left = chars.slice(0, split).join("");
      const right = chars.slice(split).join("");
      if (idOf.has(left) && idOf.has(right)) merges.push({ pair: [left, right], score, id, split });
    }
  });
  merges.sort((a, b) => b.score - a.score || a.id - b.id || a.split - b.split);
  return merges.map((m) => m.pair);
}

/** `tokenizer.json` (Hugging Face tokenizers format) reproducing run.c's encode and decode. */
export function llama2cTokenizerJson(tok: Llama2cTokenizer): Record<string, unknown> {
  const vocab: Record<string, number> = {};
  tok.vocab.forEach((_, id) => {
    const token = tokenString(tok, id);
    // A duplicate piece keeps its first id, as run.c's sorted lookup would find one of them.
    if (!(token in vocab)) vocab[token] = id;
  });
  const special = (id: number) => ({
    id,
    content: SPECIAL_NAMES[id],
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  });
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: [special(LLAMA2C_UNK), special(LLAMA2C_BOS), special(LLAMA2C_EOS)],
    normalizer: { type: "Prepend", prepend: " " },
    pre_tokenizer: null,
    post_processor: {
      type: "TemplateProcessing",
      single: [{ SpecialToken: { id: "<s>", type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } }],
      pair: [
        { SpecialToken: { id: "<s>", type_id: 0 } },
        { Sequence: { id: "A", type_id: 0 } },
        { SpecialToken: { id: "<s>", type_id: 1 } },
        { Sequence: { id: "B", type_id: 1 } },
      ],
      special_tokens: { "<s>": { id: "<s>", ids: [LLAMA2C_BOS], tokens: ["<s>"] } },
    },
    decoder: {
      type: "Sequence",
      decoders: [
        { type: "ByteFallback" },
        { type: "Fuse" },
        { type: "Strip", content: " ", start: 1, stop: 0 },
      ],
    },
    model: {
      type: "BPE",
      dropout: null,
      unk_token: "<unk>",
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: true,
      byte_fallback: true,
      ignore_merges: false,
      vocab,
      merges: llama2cMerges(tok),
    },
  };
}

/** `tokenizer_config.json`: BOS added, no chat template (a base story model). */
export function llama2cTokenizerConfig(maxLength: number): Record<string, unknown> {
  const entry = (content: string) => ({
    content,
    lstrip: false,
    normalized: false,
    rstrip: false,
    single_word: false,
    special: true,
  });
  return {
    add_bos_token: true,
    add_eos_token: false,
    added_tokens_decoder: { "0": entry("<unk>"), "1": entry("<s>"), "2": entry("</s>") },
    bos_token: "<s>",
    eos_token: "</s>",
    unk_token: "<unk>",
    pad_token: null,
    clean_up_tokenization_spaces: false,
    legacy: true,
    model_max_length: maxLength,
    tokenizer_class: "LlamaTokenizer",
  };
}
