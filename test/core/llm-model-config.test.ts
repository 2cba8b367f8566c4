import { strict as assert } from "assert";
import { readGenerationDefaults, readModelShape } from "../../src/core/onnx/decoder/model-config";
import { resolveLlmRequest } from "../../src/core/llm/llm-request";

describe("llm model config", () => {
  it("reads the KV shape, deriving head_dim from hidden_size / heads when absent", () => {
    assert.deepEqual(
      readModelShape({ num_hidden_layers: 5, num_attention_heads: 8, num_key_value_heads: 4, hidden_size: 64, vocab_size: 512, max_position_embeddings: 512 }),
      { numLayers: 5, numKvHeads: 4, headDim: 8, vocabSize: 512, maxPositions: 512 },
    );
    // Qwen3: explicit head_dim that is not hidden/heads; kv heads default to heads.
    const qwen = readModelShape({ num_hidden_layers: 28, num_attention_heads: 16, num_key_value_heads: 8, hidden_size: 1024, head_dim: 128 });
    assert.equal(qwen.headDim, 128);
    assert.equal(readModelShape({ num_hidden_layers: 2, num_attention_heads: 4, hidden_size: 32 }).numKvHeads, 4);
    // Nested text_config (multimodal exports).
    assert.equal(readModelShape({ text_config: { num_hidden_layers: 3, num_attention_heads: 2, hidden_size: 8 } }).numLayers, 3);
  });

  it("names what is missing", () => {
    assert.throws(() => readModelShape({ num_attention_heads: 2, hidden_size: 8 }), /num_hidden_layers/);
    assert.throws(() => readModelShape({ num_hidden_layers: 2, hidden_size: 8 }), /num_attention_heads/);
    assert.throws(() => readModelShape({ num_hidden_layers: 2, num_attention_heads: 3, hidden_size: 8 }), /not a multiple/);
  });

  it("takes eos ids from generation_config.json (a list or one id), else config.json", () => {
    assert.deepEqual(readGenerationDefaults({ eos_token_id: 5 }, { eos_token_id: [151645, 151643] }).eosIds, [151645, 151643]);
    assert.deepEqual(readGenerationDefaults({ eos_token_id: 2 }, { eos_token_id: 1 }).eosIds, [1]);
    assert.deepEqual(readGenerationDefaults({ eos_token_id: 2 }, undefined).eosIds, [2]);
    assert.deepEqual(readGenerationDefaults(undefined, {}).eosIds, []);
    const d = readGenerationDefaults({}, { do_sample: true, temperature: 0.6, top_k: 20, top_p: 0.95 });
    assert.deepEqual([d.doSample, d.temperature, d.topK, d.topP], [true, 0.6, 20, 0.95]);
  });

  it("requests take the model's sampling defaults unless they set their own", () => {
    const sampling = readGenerationDefaults({}, { do_sample: true, temperature: 0.6, top_k: 20, top_p: 0.95 });
    const r = resolveLlmRequest({ prompt: "hi", seed: 3 }, sampling);
    assert.deepEqual([r.temperature, r.top_k, r.top_p, r.max_new_tokens, r.seed], [0.6, 20, 0.95, 256, 3]);
    assert.equal(resolveLlmRequest({ prompt: "hi", temperature: 0 }, sampling).temperature, 0);
    // A model without do_sample decodes greedily by default.
    assert.equal(resolveLlmRequest({ prompt: "hi" }, readGenerationDefaults({}, {})).temperature, 0);
  });
});
