import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ggufTokenizerFrom, quantizeQ4_0, toHalf, writeQwen3Gguf } from "../../bench/gguf-writer";
import { LlamaCppRunner } from "../../bench/llm/llama-cpp";
import { WEIGHT_SEED, tinyLlmConfig } from "../../fixtures/tiny-llm";
import { loadLlm } from "../../src/core/llm/engines/onnx/loader";
import { localLoadContext } from "../../src/core/registry";
import { randomDecoderOnlyWeights } from "../../src/core/onnx-builder/transformer";
import { fixtureDir } from "../helpers/fixtures";
import { collect } from "../core/llm-support";

function fromHalf(h: number): number {
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  const sign = h & 0x8000 ? -1 : 1;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

describe("bench: GGUF writer (llama.cpp on our weights)", function () {
  it("converts to IEEE half with round-to-nearest-even", () => {
    assert.equal(toHalf(1), 0x3c00);
    assert.equal(toHalf(-2), 0xc000);
    assert.equal(toHalf(65504), 0x7bff);
    assert.equal(toHalf(1e6), 0x7c00, "overflow is infinity");
    assert.equal(toHalf(2 ** -24), 0x0001, "smallest subnormal");
    assert.equal(toHalf(1 + 2 ** -11), 0x3c00, "a tie rounds to even");
    assert.equal(toHalf(1 + 3 * 2 ** -11), 0x3c02);
  });

  it("Q4_0 blocks dequantize to within half a step of every value (clipped to the block's range, as Q4_0 is)", () => {
    const data = Float32Array.from({ length: 256 }, (_, i) => Math.sin(i * 1.7) * (1 + (i % 32)) * 0.01);
    const blocks = quantizeQ4_0(data);
    assert.equal(blocks.length, (256 / 32) * 18);
    for (let b = 0; b < 8; b++) {
      const d = fromHalf(blocks.readUInt16LE(b * 18));
      for (let j = 0; j < 32; j++) {
        const byte = blocks[b * 18 + 2 + (j % 16)];
        const q = j < 16 ? byte & 0x0f : byte >> 4;
        // Codes 0..15 stand for -8d..7d: the largest magnitude is exact, the other side tops out at 7|d|.
        const lo = Math.min(-8 * d, 7 * d);
        const hi = Math.max(-8 * d, 7 * d);
        const x = Math.min(hi, Math.max(lo, data[b * 32 + j]));
        assert.ok(Math.abs((q - 8) * d - x) <= Math.abs(d) * 0.5 + 1e-3 * Math.abs(x) + 1e-7, `block ${b} value ${j}: ${(q - 8) * d} vs ${x}`);
      }
    }
  });

  it("llama.cpp on the F32 GGUF of tiny-llm's weights decodes the same greedy ids as our ONNX engine", async () => {
    const dir = await fixtureDir("tiny-llm");
    const config = tinyLlmConfig();
    const weights = randomDecoderOnlyWeights(config, WEIGHT_SEED, { embeddingStd: 0.1 });
    const generation = JSON.parse(fs.readFileSync(path.join(dir, "generation_config.json"), "utf8"));
    const eos = Array.isArray(generation.eos_token_id) ? generation.eos_token_id[0] : generation.eos_token_id;
    const tokenizer = ggufTokenizerFrom(JSON.parse(fs.readFileSync(path.join(dir, "tokenizer.json"), "utf8")), config.vocabSize, eos);
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "gguf-"));
    const file = path.join(tmp, "tiny-llm-f32.gguf");
    writeQwen3Gguf(file, config, weights, tokenizer, "F32", 512);

    const engine = await loadLlm(localLoadContext("llm", { enginesPath: dir }));
    const runner = await LlamaCppRunner.open(file, 2, 512);
    try {
      const request = { prompt: "The little robot looked at the garden and said", temperature: 0, ignore_eos: true, max_new_tokens: 24 };
      const promptIds = engine.tokenizer.encodePrompt(request);
      const ours = (await collect(engine.generate(request))).flatMap((c) => c.token_ids ?? []);
      const theirs = await runner.generate(promptIds, 24);
      assert.equal(ours.length, 24);
      assert.deepEqual(theirs.ids, ours);
    } finally {
      await runner.dispose();
      await engine.dispose();
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
