import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as ort from "onnxruntime-node";
// ESM-only type declarations: loaded with import() from this CommonJS test.
type Tokenizer = import("@huggingface/tokenizers", { with: { "resolution-mode": "import" } }).Tokenizer;
import { fixtureDir } from "../helpers/fixtures";
import { write } from "../../fixtures/tiny-llm";
import { assertOnnxCommunityNames } from "./decoder-support";

const readJson = (dir: string, file: string) => JSON.parse(fs.readFileSync(path.join(dir, file), "utf8"));

/** Every file under `dir`, relative, sorted. */
function listFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => fs.statSync(path.join(dir, f)).isFile())
    .sort();
}

interface Config {
  num_hidden_layers: number;
  num_key_value_heads: number;
  head_dim: number;
  vocab_size: number;
}

/**
 * Test oracle: plain greedy decoding on onnxruntime with the KV cache (prefill, then one token
 * per step), stopping after an eos id or `maxNew` tokens. Returns prompt + generated ids.
 */
async function greedyWithOrt(
  session: ort.InferenceSession,
  config: Config,
  prompt: number[],
  maxNew: number,
  eos: number[],
): Promise<number[]> {
  const ids = [...prompt];
  let past: Record<string, ort.Tensor> = {};
  for (let i = 0; i < config.num_hidden_layers; i++) {
    for (const kind of ["key", "value"]) {
      past[`past_key_values.${i}.${kind}`] = new ort.Tensor("float32", new Float32Array(0), [
        1,
        config.num_key_value_heads,
        0,
        config.head_dim,
      ]);
    }
  }
  let feed = prompt;
  for (let step = 0; step < maxNew; step++) {
    const start = ids.length - feed.length;
    const int64 = (values: number[]) => new ort.Tensor("int64", BigInt64Array.from(values.map(BigInt)), [1, values.length]);
    const out = await session.run({
      input_ids: int64(feed),
      attention_mask: int64(ids.map(() => 1)),
      position_ids: int64(feed.map((_, i) => start + i)),
      ...past,
    });
    const logits = out.logits.data as Float32Array;
    const V = config.vocab_size;
    let best = 0;
    for (let v = 1; v < V; v++) if (logits[(feed.length - 1) * V + v] > logits[(feed.length - 1) * V + best]) best = v;
    ids.push(best);
    if (eos.includes(best)) break;
    past = {};
    for (const [name, t] of Object.entries(out)) {
      if (name.startsWith("present.")) past[name.replace("present.", "past_key_values.")] = t;
    }
    feed = [best];
  }
  return ids;
}

describe("fixture tiny-llm", function () {
  let dir: string;
  let tokenizer: Tokenizer;

  before(async () => {
    dir = await fixtureDir("tiny-llm");
    const { Tokenizer } = await import("@huggingface/tokenizers");
    tokenizer = new Tokenizer(readJson(dir, "tokenizer.json"), readJson(dir, "tokenizer_config.json"));
  });

  it("has the onnx-community Qwen3 file layout, under 5 MB", () => {
    const files = listFiles(dir).filter((f) => f !== ".complete");
    assert.deepEqual(files, [
      "config.json",
      "generation_config.json",
      path.join("onnx", "model.onnx"),
      path.join("onnx", "model_q4.onnx"),
      "tokenizer.json",
      "tokenizer_config.json",
    ]);
    const total = files.reduce((n, f) => n + fs.statSync(path.join(dir, f)).size, 0);
    assert.ok(total < 5 * 1024 * 1024, `${total} bytes`);
  });

  it("is deterministic: writing it again gives identical files", async () => {
    const again = fs.mkdtempSync(path.join(os.tmpdir(), "vs-tiny-llm-"));
    await write(again);
    for (const f of listFiles(again)) {
      assert.ok(fs.readFileSync(path.join(again, f)).equals(fs.readFileSync(path.join(dir, f))), `${f} differs`);
    }
    fs.rmSync(again, { recursive: true, force: true });
  });

  it("config.json and generation_config.json describe the graph and the special tokens", () => {
    const config = readJson(dir, "config.json");
    assert.equal(config.model_type, "qwen3");
    assert.deepEqual(config.architectures, ["Qwen3ForCausalLM"]);
    assert.equal(config.num_attention_heads * config.head_dim, 64);
    assert.equal(config.tie_word_embeddings, true);
    const tokenizerJson = readJson(dir, "tokenizer.json");
    const added: { id: number; content: string }[] = tokenizerJson.added_tokens;
    assert.equal(config.vocab_size, Object.keys(tokenizerJson.model.vocab).length + added.length);
    const idOf = (content: string) => added.find((t) => t.content === content)!.id;
    assert.equal(config.eos_token_id, idOf("<|im_end|>"));
    const generation = readJson(dir, "generation_config.json");
    assert.deepEqual(generation.eos_token_id, [idOf("<|im_end|>"), idOf("<|endoftext|>")]);
    assert.equal(generation.pad_token_id, idOf("<|endoftext|>"));
    for (const key of ["do_sample", "temperature", "top_k", "top_p"]) assert.ok(key in generation, key);
    const tokenizerConfig = readJson(dir, "tokenizer_config.json");
    assert.equal(tokenizerConfig.eos_token, "<|im_end|>");
    assert.equal(tokenizerConfig.pad_token, "<|endoftext|>");
    assert.equal(tokenizerConfig.added_tokens_decoder[String(idOf("<think>"))].content, "<think>");
  });

  it("onnx/model.onnx has the exact onnx-community input and output names, types and shapes", async () => {
    const config = readJson(dir, "config.json");
    const session = await ort.InferenceSession.create(path.join(dir, "onnx", "model.onnx"));
    assert.equal(config.num_hidden_layers, 2);
    assertOnnxCommunityNames(session, 2);
    const meta = (list: readonly ort.InferenceSession.ValueMetadata[]) =>
      Object.fromEntries(list.map((m) => [m.name, m.isTensor ? [m.type, [...m.shape]] : null]));
    const inputs = meta(session.inputMetadata);
    const outputs = meta(session.outputMetadata);
    assert.deepEqual(inputs.input_ids, ["int64", ["batch_size", "sequence_length"]]);
    assert.deepEqual(inputs.attention_mask, ["int64", ["batch_size", "total_sequence_length"]]);
    assert.deepEqual(inputs.position_ids, ["int64", ["batch_size", "sequence_length"]]);
    assert.deepEqual(inputs["past_key_values.1.value"], ["float32", ["batch_size", 2, "past_sequence_length", 16]]);
    assert.deepEqual(outputs.logits, ["float32", ["batch_size", "sequence_length", config.vocab_size]]);
    assert.deepEqual(outputs["present.0.key"], ["float32", ["batch_size", 2, "total_sequence_length", 16]]);
  });

  it("onnx/model_q4.onnx (MatMulNBits) has the same I/O and logits close to fp32", async () => {
    const config = readJson(dir, "config.json");
    const fp32 = await ort.InferenceSession.create(path.join(dir, "onnx", "model.onnx"));
    const q4 = await ort.InferenceSession.create(path.join(dir, "onnx", "model_q4.onnx"));
    assert.deepEqual(q4.inputNames, fp32.inputNames);
    assert.deepEqual(q4.outputNames, fp32.outputNames);
    const prompt: number[] = tokenizer.encode("The morning train was late again").ids;
    const logits = async (session: ort.InferenceSession) => {
      const int64 = (v: number[]) => new ort.Tensor("int64", BigInt64Array.from(v.map(BigInt)), [1, v.length]);
      const feeds: Record<string, ort.Tensor> = {
        input_ids: int64(prompt),
        attention_mask: int64(prompt.map(() => 1)),
        position_ids: int64(prompt.map((_, i) => i)),
      };
      for (const name of session.inputNames.filter((n) => n.startsWith("past_key_values."))) {
        feeds[name] = new ort.Tensor("float32", new Float32Array(0), [1, config.num_key_value_heads, 0, config.head_dim]);
      }
      return (await session.run(feeds)).logits.data as Float32Array;
    };
    const a = await logits(fp32);
    const b = await logits(q4);
    assert.equal(b.length, prompt.length * config.vocab_size);
    // 4-bit rounding moves logits a little, far less than their spread across the vocabulary.
    const spread = Math.max(...a) - Math.min(...a);
    const worst = a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
    console.log(`      q4 vs fp32 max |logit diff| ${worst.toFixed(4)} (fp32 logit range ${spread.toFixed(3)})`);
    assert.ok(worst > 0 && worst < spread / 4, `diff ${worst}, spread ${spread}`);
  });

  it("tokenizer.json round-trips text with emoji and CJK through byte-level tokens", () => {
    for (const text of [
      "The morning train was late again.",
      "Hello 👋 world! 日本語のテキスト, café, naïve — ok?",
      "emoji 😀🎉 and 🇩🇪 flags",
      "  leading spaces\n\ttabs and\r\nnewlines  ",
    ]) {
      const { ids } = tokenizer.encode(text);
      assert.equal(tokenizer.decode(ids), text);
    }
    // One 4-byte emoji = four single-byte tokens, none of which decodes to valid text alone.
    const { ids, tokens } = tokenizer.encode("😀");
    assert.equal(ids.length, 4);
    assert.ok(tokens.every((t: string) => [...t].length === 1));
    assert.ok(tokenizer.decode(ids.slice(0, 2)).includes("\ufffd"));
    // Learned merges make common words shorter than their byte count.
    assert.ok(tokenizer.encode(" morning").ids.length === 1);
  });

  it("special tokens are single ids; decode can skip them but keeps <think> tags", () => {
    const text = "<|im_start|>assistant\n<think>\nhmm\n</think>\n\nHi<|im_end|>";
    const { ids, tokens } = tokenizer.encode(text);
    for (const special of ["<|im_start|>", "<think>", "</think>", "<|im_end|>"]) {
      assert.equal(tokens.filter((t: string) => t === special).length, 1, special);
    }
    assert.equal(tokenizer.decode(ids), text);
    assert.equal(tokenizer.decode(ids, { skip_special_tokens: true }), "assistant\n<think>\nhmm\n</think>\n\nHi");
  });

  it("the chat template renders ChatML with add_generation_prompt and enable_thinking", async () => {
    const { Template } = await import("@huggingface/jinja");
    const template = new Template(readJson(dir, "tokenizer_config.json").chat_template);
    const messages = [
      { role: "system", content: "Be brief." },
      { role: "user", content: "Hi" },
      { role: "assistant", content: "Hello." },
      { role: "user", content: "Weather?" },
    ];
    const turns =
      "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n" +
      "<|im_start|>assistant\nHello.<|im_end|>\n<|im_start|>user\nWeather?<|im_end|>\n";
    assert.equal(template.render({ messages }), turns);
    assert.equal(template.render({ messages, add_generation_prompt: true }), turns + "<|im_start|>assistant\n");
    assert.equal(
      template.render({ messages, add_generation_prompt: true, enable_thinking: true }),
      turns + "<|im_start|>assistant\n",
    );
    assert.equal(
      template.render({ messages, add_generation_prompt: true, enable_thinking: false }),
      turns + "<|im_start|>assistant\n<think>\n\n</think>\n\n",
    );
    assert.throws(() => template.render({ messages: [{ role: "tool", content: "x" }] }), /unsupported chat role: tool/);
  });

  // Dev-only proof that the layout is the real one: transformers.js loads the directory as a
  // Qwen3 model and its greedy generate() equals our own greedy loop on onnxruntime.
  for (const [dtype, file] of [
    ["fp32", "model.onnx"],
    ["q4", "model_q4.onnx"],
  ] as const) {
    it(`loads in transformers.js (AutoTokenizer + AutoModelForCausalLM, dtype ${dtype}) whose greedy generate matches onnxruntime on onnx/${file}`, async () => {
      const { env, AutoTokenizer, AutoModelForCausalLM } = await import("@huggingface/transformers");
      env.allowRemoteModels = false;
      env.allowLocalModels = true;
      env.localModelPath = path.dirname(dir) + path.sep;
      const modelId = path.basename(dir);
      const hfTokenizer = await AutoTokenizer.from_pretrained(modelId);
      const model = await AutoModelForCausalLM.from_pretrained(modelId, { dtype });
      try {
        // enable_thinking is a template variable: transformers.js passes extra options through to the template.
        const templateOptions = { tokenize: false as const, add_generation_prompt: true, enable_thinking: false };
        const prompt = hfTokenizer.apply_chat_template(
          [{ role: "user", content: "Tell me about the river." }],
          templateOptions,
        ) as string;
        assert.ok(prompt.endsWith("<|im_start|>assistant\n<think>\n\n</think>\n\n"));
        const inputs = hfTokenizer(prompt);
        const promptIds = (inputs.input_ids.tolist() as bigint[][])[0].map(Number);
        assert.deepEqual(promptIds, tokenizer.encode(prompt).ids, "transformers.js and tokenizers.js agree");
        const maxNew = 24;
        const generated = await model.generate({ ...inputs, max_new_tokens: maxNew, do_sample: false });
        const hfIds = (generated as { tolist(): bigint[][] }).tolist()[0].map(Number);

        const config = readJson(dir, "config.json");
        const eos = readJson(dir, "generation_config.json").eos_token_id;
        const session = await ort.InferenceSession.create(path.join(dir, "onnx", file));
        const ortIds = await greedyWithOrt(session, config, promptIds, maxNew, eos);
        assert.deepEqual(hfIds, ortIds);
        assert.ok(new Set(ortIds.slice(promptIds.length)).size > 3, "the random model does not just repeat one token");
      } finally {
        await model.dispose();
      }
    });
  }
});
