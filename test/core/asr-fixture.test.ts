import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import * as os from "os";
import * as ort from "onnxruntime-node";
import { fixtureDir } from "../helpers/fixtures";
import { write } from "../../fixtures/tiny-whisper";
import { loadWhisperModel } from "../../src/core/asr/engines/whisper/load-whisper";
import { localLoadContext } from "../../src/core/registry";
import { synthSpeech } from "./asr-audio";

describe("asr: tiny-whisper fixture", () => {
  let dir: string;
  before(async () => {
    dir = await fixtureDir("tiny-whisper");
  });

  it("has every file of the onnx-community layout, under 5 MB", () => {
    const files = ["onnx/encoder_model.onnx", "onnx/decoder_model_merged.onnx", "config.json", "generation_config.json", "preprocessor_config.json", "tokenizer.json", "tokenizer_config.json"];
    let total = 0;
    for (const f of files) {
      assert.ok(fs.existsSync(path.join(dir, f)), f);
      total += fs.statSync(path.join(dir, f)).size;
    }
    assert.ok(total < 5 * 1024 * 1024, `${total} bytes`);
    const config = JSON.parse(fs.readFileSync(path.join(dir, "config.json"), "utf8"));
    assert.equal(config.model_type, "whisper");
    for (const key of ["d_model", "decoder_layers", "encoder_layers", "decoder_attention_heads", "vocab_size", "num_mel_bins", "max_source_positions", "max_target_positions", "decoder_start_token_id"]) {
      assert.equal(typeof config[key], "number", key);
    }
    const generation = JSON.parse(fs.readFileSync(path.join(dir, "generation_config.json"), "utf8"));
    for (const key of ["forced_decoder_ids", "suppress_tokens", "begin_suppress_tokens", "lang_to_id", "task_to_id", "no_timestamps_token_id", "is_multilingual"]) {
      assert.ok(key in generation, key);
    }
    const tokenizer = JSON.parse(fs.readFileSync(path.join(dir, "tokenizer.json"), "utf8"));
    const added = new Map<string, number>(tokenizer.added_tokens.map((t: { content: string; id: number }) => [t.content, t.id]));
    for (const t of ["<|endoftext|>", "<|startoftranscript|>", "<|en|>", "<|transcribe|>", "<|translate|>", "<|notimestamps|>", "<|0.00|>", "<|30.00|>"]) assert.ok(added.has(t), t);
    assert.equal(added.get("<|0.00|>"), generation.no_timestamps_token_id + 1, "timestamps follow <|notimestamps|>");
    assert.equal(added.get("<|30.00|>"), config.vocab_size - 1);
  });

  it("is deterministic: writing it twice gives identical files", async () => {
    const again = fs.mkdtempSync(path.join(os.tmpdir(), "tiny-whisper-"));
    try {
      await write(again);
      for (const f of ["onnx/encoder_model.onnx", "onnx/decoder_model_merged.onnx", "tokenizer.json"]) {
        assert.ok(fs.readFileSync(path.join(dir, f)).equals(fs.readFileSync(path.join(again, f))), f);
      }
    } finally {
      fs.rmSync(again, { recursive: true, force: true });
    }
  });

  it("loads in onnxruntime-node with Optimum's exact input/output names and shapes", async () => {
    const config = JSON.parse(fs.readFileSync(path.join(dir, "config.json"), "utf8"));
    const { d_model: d, decoder_layers: layers, decoder_attention_heads: heads, vocab_size: vocab, num_mel_bins: mels } = config;
    const encoder = await ort.InferenceSession.create(path.join(dir, "onnx/encoder_model.onnx"));
    assert.deepEqual(encoder.inputNames, ["input_features"]);
    assert.deepEqual(encoder.outputNames, ["last_hidden_state"]);
    const enc = await encoder.run({ input_features: new ort.Tensor("float32", new Float32Array(mels * 3000).fill(-0.5), [1, mels, 3000]) });
    assert.deepEqual(enc.last_hidden_state.dims, [1, 1500, d]);

    const decoder = await ort.InferenceSession.create(path.join(dir, "onnx/decoder_model_merged.onnx"));
    const cacheNames = (prefix: string) => Array.from({ length: layers }, (_, i) => ["decoder.key", "decoder.value", "encoder.key", "encoder.value"].map((p) => `${prefix}.${i}.${p}`)).flat();
    assert.deepEqual(decoder.inputNames, ["input_ids", "encoder_hidden_states", ...cacheNames("past_key_values"), "use_cache_branch"]);
    assert.deepEqual(decoder.outputNames, ["logits", ...cacheNames("present")]);

    const hd = d / heads;
    const empty = new ort.Tensor("float32", new Float32Array(0), [1, heads, 0, hd]);
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor("int64", BigInt64Array.from([1n, 2n, 3n]), [1, 3]),
      encoder_hidden_states: enc.last_hidden_state,
      use_cache_branch: new ort.Tensor("bool", [false], [1]),
    };
    for (const name of cacheNames("past_key_values")) feeds[name] = empty;
    const first = await decoder.run(feeds);
    assert.deepEqual(first.logits.dims, [1, 3, vocab]);
    assert.deepEqual(first["present.0.decoder.key"].dims, [1, heads, 3, hd]);
    assert.deepEqual(first["present.0.encoder.key"].dims, [1, heads, 1500, hd]);

    // With the cache: one more token gives the same logits as the full sequence without it.
    const withCache: Record<string, ort.Tensor> = { ...feeds, input_ids: new ort.Tensor("int64", BigInt64Array.from([4n]), [1, 1]), use_cache_branch: new ort.Tensor("bool", [true], [1]) };
    for (const name of cacheNames("past_key_values")) withCache[name] = first[name.replace("past_key_values", "present")];
    const step = await decoder.run(withCache);
    assert.deepEqual(step.logits.dims, [1, 1, vocab]);
    assert.deepEqual(step["present.1.decoder.value"].dims, [1, heads, 4, hd]);
    const full = await decoder.run({ ...feeds, input_ids: new ort.Tensor("int64", BigInt64Array.from([1n, 2n, 3n, 4n]), [1, 4]) });
    const a = (step.logits.data as Float32Array);
    const b = (full.logits.data as Float32Array).subarray(3 * vocab);
    let worst = 0;
    for (let i = 0; i < vocab; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
    assert.ok(worst < 1e-3, `cached vs full logits differ by ${worst}`);
  });

  it("transcribes speech into ordinary words that end with <|endoftext|>, and grows with the audio", async () => {
    const model = await loadWhisperModel(localLoadContext("asr", { enginesPath: dir }));
    const audio = synthSpeech(4, 7);
    const short = await model.decode(audio.subarray(0, 2 * 16000), { language: "en" });
    const long = await model.decode(audio, { language: "en" });
    assert.ok(short.text.split(" ").length >= 3, short.text);
    assert.ok(long.text.startsWith(short.text.split(" ").slice(0, -1).join(" ")), `${short.text} / ${long.text}`);
    assert.ok(long.text.split(" ").length > short.text.split(" ").length);
    assert.equal(long.rejected, undefined);
    assert.ok(long.tokens.length < 100, "EOT ended the decode");
    const silence = await model.decode(new Float32Array(16000), { language: "en" });
    assert.equal(silence.text, "");
    assert.ok(silence.no_speech_prob > 0.6, `no-speech probability ${silence.no_speech_prob}`);
  });

  it("its 8-bit files (dtype q8: onnxruntime's MatMulInteger form, as the hub's _quantized files) load by dtype and give the same words", async () => {
    const q8 = fs.mkdtempSync(path.join(os.tmpdir(), "tiny-whisper-q8-"));
    try {
      await write(q8, { quantized: true });
      for (const f of ["onnx/encoder_model_quantized.onnx", "onnx/decoder_model_merged_quantized.onnx"]) assert.ok(fs.existsSync(path.join(q8, f)), f);
      const encoder = await ort.InferenceSession.create(path.join(q8, "onnx/encoder_model_quantized.onnx"));
      assert.deepEqual(encoder.inputNames, ["input_features"]);
      // The fp32 files are the same model: byte for byte what the plain writer gives.
      assert.ok(fs.readFileSync(path.join(q8, "onnx/encoder_model.onnx")).equals(fs.readFileSync(path.join(dir, "onnx/encoder_model.onnx"))));
      const full = await loadWhisperModel(localLoadContext("asr", { enginesPath: q8 }));
      const eight = await loadWhisperModel(localLoadContext("asr", { enginesPath: q8, config: { dtype: "q8" } }));
      for (const seed of [7, 11, 13]) {
        const audio = synthSpeech(3, seed);
        const a = await full.decode(audio, { language: "en" });
        const b = await eight.decode(audio, { language: "en" });
        assert.ok(a.text.length > 0);
        assert.equal(b.text, a.text, `seed ${seed}`);
      }
      await assert.rejects(loadWhisperModel(localLoadContext("asr", { enginesPath: dir, config: { dtype: "q8" } })), /has no onnx\/encoder_model_quantized\.onnx \(variant 'q8'\); variants present for onnx\/encoder_model: fp32/);
    } finally {
      fs.rmSync(q8, { recursive: true, force: true });
    }
  });

  it("works the same through the split decoder (decoder_model + decoder_with_past_model)", async () => {
    const split = fs.mkdtempSync(path.join(os.tmpdir(), "tiny-whisper-split-"));
    try {
      await write(split, { noMerged: true });
      assert.ok(!fs.existsSync(path.join(split, "onnx/decoder_model_merged.onnx")));
      const merged = await loadWhisperModel(localLoadContext("asr", { enginesPath: dir }));
      const separate = await loadWhisperModel(localLoadContext("asr", { enginesPath: split }));
      const audio = synthSpeech(3, 11);
      const a = await merged.decode(audio, { language: "auto" });
      const b = await separate.decode(audio, { language: "auto" });
      assert.deepEqual(b.tokens, a.tokens);
      assert.ok(a.text.length > 0);
    } finally {
      fs.rmSync(split, { recursive: true, force: true });
    }
  });
});
