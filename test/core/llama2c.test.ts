import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as ort from "onnxruntime-node";
import { STORIES, STORIES_PROMPTS as PROMPTS, STORIES_REFERENCE as REFERENCE, readReferenceIds } from "./llm-support";
import {
  interleavedToHalfSplitRows,
  readLlama2cCheckpoint,
  readLlama2cHeader,
} from "../../src/core/llm/llama2c/checkpoint";
import { readLlama2cTokenizer, type Llama2cTokenizer } from "../../src/core/llm/llama2c/tokenizer";
import { convertLlama2c } from "../../src/core/llm/llama2c/convert";
import { Llama2cInputError } from "../../src/core/llm/llama2c/errors";
import { SeededRandom } from "../../src/core/onnx-builder/random";

type Tokenizer = import("@huggingface/tokenizers", { with: { "resolution-mode": "import" } }).Tokenizer;

const MODEL_BIN = path.join(STORIES, "stories260K.bin");
const TOKENIZER_BIN = path.join(STORIES, "tok512.bin");
/** run.c's `-n 64`: positions in all, prompt included. */
const STEPS = 64;
const BOS = 1;

/** run.c's encode, transcribed as the oracle: dummy prefix, code points or bytes, best-score merges. */
function runcEncode(tok: Llama2cTokenizer, text: string): number[] {
  const lookup = new Map<string, number>();
  tok.vocab.forEach(({ piece }, id) => {
    if (!lookup.has(piece)) lookup.set(piece, id);
  });
  const ids = [BOS];
  if (text !== "") ids.push(lookup.get(" ")!);
  for (const ch of text) {
    const id = lookup.get(ch);
    if (id !== undefined) ids.push(id);
    else for (const b of new TextEncoder().encode(ch)) ids.push(b + 3);
  }
  for (;;) {
    let best = -1e10;
    let bestId = -1;
    let at = -1;
    for (let i = 1; i + 1 < ids.length; i++) {
      const id = lookup.get(tok.vocab[ids[i]].piece + tok.vocab[ids[i + 1]].piece);
      if (id !== undefined && tok.vocab[id].score > best) {
        best = tok.vocab[id].score;
        bestId = id;
        at = i;
      }
    }
    if (at < 0) return ids;
    ids.splice(at, 2, bestId);
  }
}

/** run.c's decode of a whole sequence (BOS first): strip the space after BOS, <0xXX> → byte. */
function runcDecode(tok: Llama2cTokenizer, ids: number[]): string {
  const bytes: number[] = [];
  for (let i = 1; i < ids.length; i++) {
    let piece = tok.vocab[ids[i]].piece;
    if (ids[i - 1] === BOS && piece.startsWith(" ")) piece = piece.slice(1);
    const byte = /^<0x([0-9A-F]{2})>$/.exec(piece);
    if (byte) bytes.push(parseInt(byte[1], 16));
    else bytes.push(...new TextEncoder().encode(piece));
  }
  return new TextDecoder().decode(Uint8Array.from(bytes));
}

interface ModelShape {
  num_hidden_layers: number;
  num_key_value_heads: number;
  head_dim: number;
  vocab_size: number;
}

/** Runs `ids` at positions start.. with the given cache; returns logits rows and the new cache. */
async function forward(
  session: ort.InferenceSession,
  shape: ModelShape,
  ids: number[],
  start: number,
  past?: Record<string, ort.Tensor>,
): Promise<{ logits: Float32Array[]; cache: Record<string, ort.Tensor> }> {
  const int64 = (values: number[]) => new ort.Tensor("int64", BigInt64Array.from(values.map(BigInt)), [1, values.length]);
  const feeds: Record<string, ort.Tensor> = {
    input_ids: int64(ids),
    attention_mask: int64(Array.from({ length: start + ids.length }, () => 1)),
    position_ids: int64(ids.map((_, i) => start + i)),
  };
  for (let i = 0; i < shape.num_hidden_layers; i++) {
    for (const kind of ["key", "value"]) {
      const name = `past_key_values.${i}.${kind}`;
      feeds[name] =
        past?.[name] ??
        new ort.Tensor("float32", new Float32Array(0), [1, shape.num_key_value_heads, 0, shape.head_dim]);
    }
  }
  const out = await session.run(feeds);
  const V = shape.vocab_size;
  const data = out.logits.data as Float32Array;
  const cache: Record<string, ort.Tensor> = {};
  for (const [name, t] of Object.entries(out)) {
    if (name.startsWith("present.")) cache[name.replace("present.", "past_key_values.")] = t;
  }
  return { logits: ids.map((_, r) => data.slice(r * V, (r + 1) * V)), cache };
}

const argmax = (row: Float32Array) => row.reduce((best, v, i) => (v > row[best] ? i : best), 0);

describe("llama2c reader", () => {
  it("reads the stories260K header and weights", () => {
    const bytes = fs.readFileSync(MODEL_BIN);
    assert.deepEqual(readLlama2cHeader(bytes), {
      dim: 64,
      hiddenDim: 172,
      nLayers: 5,
      nHeads: 8,
      nKvHeads: 4,
      vocabSize: 512,
      seqLen: 512,
      sharedClassifier: true,
    });
    const { config, weights } = readLlama2cCheckpoint(bytes);
    assert.equal(config.headDim, 8);
    assert.equal(config.tieWordEmbeddings, true);
    assert.equal(weights.lmHead, undefined);
    assert.equal(weights.layers.length, 5);
    assert.equal(weights.layers[0].kProj.length, 32 * 64);
    // The embedding is the first tensor after the 28-byte header.
    assert.equal(weights.embedTokens[0], bytes.readFloatLE(28));
    assert.equal(weights.finalNorm.length, 64);
  });

  it("permutes interleaved RoPE rows into the half-split order, per head", () => {
    // 2 heads of size 4, in = 1: rows [h0: 0 1 2 3, h1: 4 5 6 7] → [0 2 1 3, 4 6 5 7].
    const rows = Float32Array.from([0, 1, 2, 3, 4, 5, 6, 7]);
    assert.deepEqual(Array.from(interleavedToHalfSplitRows(rows, 2, 4, 1)), [0, 2, 1, 3, 4, 6, 5, 7]);
  });

  it("rejects truncated, swapped and garbled inputs with a clear error", () => {
    const model = fs.readFileSync(MODEL_BIN);
    const tok = fs.readFileSync(TOKENIZER_BIN);
    assert.throws(() => readLlama2cCheckpoint(model.subarray(0, 1000)), (err: Error) => {
      assert.ok(err instanceof Llama2cInputError);
      assert.match(err.message, /implies 1056540 bytes but the file has 1000/);
      return true;
    });
    assert.throws(() => readLlama2cCheckpoint(tok), /not a llama2.c checkpoint|not a complete llama2.c/);
    assert.throws(() => readLlama2cCheckpoint(new Uint8Array(10)), /shorter than the 28-byte header/);
    assert.throws(() => readLlama2cTokenizer(model, 512), Llama2cInputError);
    assert.throws(() => readLlama2cTokenizer(tok.subarray(0, 500), 512), /ends (at|inside) token/);
    assert.throws(() => readLlama2cTokenizer(tok, 256), /bytes left after 256 tokens/);
  });
});

describe("llama2c conversion of stories260K", function () {
  let outDir: string;
  let tokenizer: Tokenizer;
  let llama2cTokenizer: Llama2cTokenizer;
  let session: ort.InferenceSession;
  let shape: ModelShape;

  before(async () => {
    outDir = fs.mkdtempSync(path.join(os.tmpdir(), "vs-llama2c-"));
    convertLlama2c(MODEL_BIN, TOKENIZER_BIN, outDir);
    const json = (f: string) => JSON.parse(fs.readFileSync(path.join(outDir, f), "utf8"));
    const { Tokenizer: HfTokenizer } = await import("@huggingface/tokenizers");
    tokenizer = new HfTokenizer(json("tokenizer.json"), json("tokenizer_config.json"));
    llama2cTokenizer = readLlama2cTokenizer(fs.readFileSync(TOKENIZER_BIN), 512);
    session = await ort.InferenceSession.create(path.join(outDir, "onnx", "model.onnx"));
    shape = json("config.json");
  });

  after(() => fs.rmSync(outDir, { recursive: true, force: true }));

  it("writes the model layout with llama config and run.c's stop token", () => {
    const json = (f: string) => JSON.parse(fs.readFileSync(path.join(outDir, f), "utf8"));
    const config = json("config.json");
    assert.equal(config.model_type, "llama");
    assert.deepEqual(config.architectures, ["LlamaForCausalLM"]);
    assert.deepEqual(
      [config.hidden_size, config.intermediate_size, config.num_hidden_layers, config.num_attention_heads],
      [64, 172, 5, 8],
    );
    assert.deepEqual([config.num_key_value_heads, config.head_dim, config.vocab_size], [4, 8, 512]);
    const generation = json("generation_config.json");
    assert.equal(generation.bos_token_id, 1);
    assert.equal(generation.eos_token_id, 1);
    const tokenizerConfig = json("tokenizer_config.json");
    assert.equal(tokenizerConfig.add_bos_token, true);
    assert.equal(tokenizerConfig.chat_template, undefined);
    assert.deepEqual(session.outputNames.slice(0, 3), ["logits", "present.0.key", "present.0.value"]);
  });

  for (const name of Object.keys(PROMPTS)) {
    it(`tokenizer.json encodes the '${name}' prompt to run.c's ids`, () => {
      const { prompt } = readReferenceIds(name);
      assert.deepEqual(tokenizer.encode(PROMPTS[name]).ids, prompt);
    });
  }

  it("tokenizer.json encodes and decodes like run.c on varied text (merges, spaces, byte fallback)", () => {
    const texts = [
      "",
      "a",
      " ",
      "Hello world",
      "  two leading spaces and trailing  ",
      "The cat sat on the mat. The dog ran!",
      "Lily and Ben went to the park, but it was raining.",
      "line one\nline two\n\nthree",
      "tabs\tand\tmore",
      "Zebra quiz: 12345 + 678 = ?",
      "naïve café — “quotes”",
      "emoji 😀🎉 and 日本語",
      "Once upon a time, there was a little girl named Lily. She loved to play outside.",
    ];
    for (const text of texts) {
      const expected = runcEncode(llama2cTokenizer, text);
      const ids = tokenizer.encode(text).ids;
      assert.deepEqual(ids, expected, JSON.stringify(text));
      assert.equal(tokenizer.decode(ids, { skip_special_tokens: true }), runcDecode(llama2cTokenizer, ids));
      // The dummy-prefix space added by encode is the one decode strips: text round-trips.
      assert.equal(tokenizer.decode(ids, { skip_special_tokens: true }), text);
    }
  });

  it("tokenizer.json matches run.c's encode on 500 seeded random strings of vocabulary pieces and odd characters", () => {
    const rng = new SeededRandom(42);
    const pieces = llama2cTokenizer.vocab.slice(259).map((v) => v.piece);
    const extras = [" ", "  ", "\n", "é", "ü", "😀", "中", "\t", "'", "\"", "-", "<", ">", "0x"];
    let mismatches = 0;
    for (let n = 0; n < 500; n++) {
      let text = "";
      const parts = 1 + rng.int(12);
      for (let i = 0; i < parts; i++) text += rng.next() < 0.8 ? pieces[rng.int(pieces.length)] : extras[rng.int(extras.length)];
      const ids = tokenizer.encode(text).ids;
      if (JSON.stringify(ids) !== JSON.stringify(runcEncode(llama2cTokenizer, text))) mismatches++;
      assert.equal(tokenizer.decode(ids, { skip_special_tokens: true }), text);
    }
    assert.equal(mismatches, 0);
  });

  it("logits at the first 16 positions of 'Once upon a time' match run.c within 1e-4 (prefill and stepwise)", async () => {
    const reference: { pos: number; token: number; logits: number[] }[] = JSON.parse(
      fs.readFileSync(path.join(REFERENCE, "once_upon_a_time.n16.logits.json"), "utf8"),
    );
    assert.equal(reference.length, 16);
    const ids = reference.map((r) => r.token);
    const errorOf = (rows: Float32Array[], from: number) => {
      let worst = 0;
      rows.forEach((row, r) => {
        reference[from + r].logits.forEach((v, i) => (worst = Math.max(worst, Math.abs(row[i] - v))));
      });
      return worst;
    };
    const prefill = await forward(session, shape, ids, 0);
    const prefillError = errorOf(prefill.logits, 0);

    let stepError = 0;
    let cache: Record<string, ort.Tensor> | undefined;
    for (let pos = 0; pos < ids.length; pos++) {
      const step = await forward(session, shape, [ids[pos]], pos, cache);
      stepError = Math.max(stepError, errorOf(step.logits, pos));
      cache = step.cache;
    }

    // Chunked prefill: 5 prompt tokens, then the other 11 in one call on top of the cache.
    const head = await forward(session, shape, ids.slice(0, 5), 0);
    const tail = await forward(session, shape, ids.slice(5), 5, head.cache);
    const chunkError = Math.max(errorOf(head.logits, 0), errorOf(tail.logits, 5));

    console.log(
      `      max |logit − run.c|: prefill ${prefillError.toExponential(2)}, stepwise ${stepError.toExponential(2)}, ` +
        `chunked ${chunkError.toExponential(2)} (reference printed to 6 significant digits)`,
    );
    assert.ok(prefillError < 1e-4, `prefill ${prefillError}`);
    assert.ok(stepError < 1e-4, `stepwise ${stepError}`);
    assert.ok(chunkError < 1e-4, `chunked ${chunkError}`);
  });

  // Dev-only: the converted directory is a layout transformers.js accepts as a Llama model.
  it("runs in transformers.js, whose greedy generate reproduces run.c's ids", async () => {
    const { env, AutoTokenizer, AutoModelForCausalLM } = await import("@huggingface/transformers");
    env.allowRemoteModels = false;
    env.allowLocalModels = true;
    env.localModelPath = path.dirname(outDir) + path.sep;
    const hfTokenizer = await AutoTokenizer.from_pretrained(path.basename(outDir));
    const model = await AutoModelForCausalLM.from_pretrained(path.basename(outDir), { dtype: "fp32" });
    try {
      const { prompt, generated } = readReferenceIds("once_upon_a_time");
      const inputs = hfTokenizer(PROMPTS.once_upon_a_time);
      assert.deepEqual((inputs.input_ids.tolist() as bigint[][])[0].map(Number), prompt);
      const out = await model.generate({ ...inputs, max_new_tokens: generated.length, do_sample: false });
      assert.deepEqual(((out as { tolist(): bigint[][] }).tolist())[0].map(Number), [...prompt, ...generated]);
    } finally {
      await model.dispose();
    }
  });

  for (const name of Object.keys(PROMPTS)) {
    it(`greedy decoding with the KV cache reproduces run.c's '${name}' ids and text`, async () => {
      const { prompt, generated: expected } = readReferenceIds(name);
      // run.c: positions 0..STEPS-1 are fed; the token sampled at the last one is still printed.
      const generated: number[] = [];
      let step = await forward(session, shape, prompt, 0);
      let pos = prompt.length - 1;
      for (;;) {
        const next = argmax(step.logits[step.logits.length - 1]);
        if (next === BOS) break;
        generated.push(next);
        pos++;
        if (pos >= STEPS) break;
        step = await forward(session, shape, [next], pos, step.cache);
      }
      assert.equal(generated.length, expected.length);
      assert.deepEqual(generated, expected);

      const printed = fs.readFileSync(path.join(REFERENCE, `${name}.txt`), "utf8");
      assert.ok(printed.startsWith(PROMPTS[name]));
      // run.c prints a newline after the last token.
      assert.equal(tokenizer.decode([...prompt, ...generated], { skip_special_tokens: true }) + "\n", printed);
    });
  }
});
