import { strict as assert } from "assert";
import { fixtureDir } from "../helpers/fixtures";
import { loadLlm } from "../../src/core/llm/engines/onnx/loader";
import { localLoadContext } from "../../src/core/registry";
import { KvCacheDecoder } from "../../src/core/onnx/decoder/kv-cache-decoder";
import { MIN_PREFIX_TOKENS, PrefixCache } from "../../src/core/onnx/decoder/prefix-cache";
import type { LlmRequest, LlmStreamChunk } from "../../src/core/types";
import type * as ort from "onnxruntime-node";
import { collect, finalOf, sessionOf } from "./llm-support";

/** Counts the positions fed to the session (input_ids' length per run). */
class FedPositions {
  positions = 0;
  readonly wrap = (session: ort.InferenceSession): ort.InferenceSession => {
    const run = session.run.bind(session);
    return new Proxy(session, {
      get: (target, key, receiver) =>
        key === "run"
          ? (feeds: ort.InferenceSession.FeedsType, ...rest: unknown[]) => {
              this.positions += (feeds.input_ids as ort.Tensor).dims[1];
              return (run as (...a: unknown[]) => unknown)(feeds, ...rest);
            }
          : Reflect.get(target, key, receiver),
    });
  };
}

const idsOf = (chunks: LlmStreamChunk[]) => chunks.flatMap((c) => c.token_ids ?? []);
const system = "You are a calm home assistant. Answer in one short sentence, name the room, and never invent devices. ".repeat(3);
const turn = (question: string): LlmRequest => ({ system, prompt: question, temperature: 0, max_new_tokens: 10 });


const LAYOUTS = [
  { name: "the file's present outputs", config: { append_only_cache: false } },
  { name: "append-only, position-major", config: { append_only_cache: true, heads_major_cache: false } },
  { name: "append-only, heads-major with spare positions", config: { append_only_cache: true, heads_major_cache: true } },
];

for (const layout of LAYOUTS) {
  describe(`llm prefix KV cache (${layout.name})`, function () {
    let dir: string;
    before(async () => {
      dir = await fixtureDir("tiny-llm");
    });

    it("a second prompt with the same system prompt prefills only its new tokens and gives the tokens of a cold engine", async () => {
      const counter = new FedPositions();
      // In this thread, so the wrapper sees the session's runs.
      const ctx = localLoadContext("llm", { enginesPath: dir, config: { ...layout.config, worker_thread: false } });
      const create = ctx.createSession.bind(ctx);
      ctx.createSession = async (file, rewritten) => counter.wrap(await create(file, rewritten));
      const warm = await loadLlm(ctx);
      const cold = await loadLlm(localLoadContext("llm", { enginesPath: dir, config: { ...layout.config, prefix_cache_mb: 0 } }));
      try {
        const first = await collect(warm.generate(turn("Is the kitchen light on?")));
        assert.equal(finalOf(first).cached_prompt_tokens, 0, "nothing cached before the first prompt");

        // Count the positions the second prompt's runs feed: a seeded decoder feeds only the tail.
        const fedBefore = counter.positions;
        const second = await collect(warm.generate(turn("Turn off the hall heater.")));
        const fin = finalOf(second);
        const promptIds = warm.tokenizer.encodePrompt({ system, prompt: "Turn off the hall heater." });
        const systemIds = warm.tokenizer.encodePrompt({ system, prompt: "Is the kitchen light on?" });
        let shared = 0;
        while (promptIds[shared] === systemIds[shared]) shared++;
        assert.ok(shared >= MIN_PREFIX_TOKENS, `${shared} shared tokens`);
        assert.equal(fin.cached_prompt_tokens, shared, "the whole shared prefix came from the cache");
        assert.equal(fin.prompt_tokens, promptIds.length);
        const generatedSteps = fin.generated_tokens! - (fin.finish_reason === "length" ? 1 : 0);
        assert.equal(counter.positions - fedBefore, promptIds.length - shared + generatedSteps, "fed: the new prompt tokens, then one per decode step");

        const reference = await collect(cold.generate(turn("Turn off the hall heater.")));
        assert.equal(finalOf(reference).cached_prompt_tokens, 0, "prefix_cache_mb: 0 turns the cache off");
        assert.deepEqual(idsOf(second), idsOf(reference), "same greedy tokens as a cold engine");
        assert.equal(fin.text, finalOf(reference).text);
      } finally {
        await warm.dispose();
        await cold.dispose();
      }
    });

    it("seeded logits match a whole prefill within float tolerance", async () => {
      const engine = await loadLlm(localLoadContext("llm", { enginesPath: dir, config: { ...layout.config, worker_thread: false } }));
      try {
        const ids = engine.tokenizer.encodePrompt({ system, prompt: "What is the weather?" });
        const whole = new KvCacheDecoder(sessionOf(engine), engine.shape);
        const expected = Float32Array.from(await whole.prefill(ids));
        const source = new KvCacheDecoder(sessionOf(engine), engine.shape);
        await source.prefill(ids.slice(0, 20));
        const seeded = new KvCacheDecoder(sessionOf(engine), engine.shape);
        seeded.seed(source.snapshot(20));
        assert.equal(seeded.length, 20);
        const got = await seeded.prefill(ids.slice(20));
        let worst = 0;
        for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(expected[i] - got[i]));
        assert.ok(worst < 1e-3, `largest logit difference ${worst}`);
        for (const d of [whole, source, seeded]) d.dispose();
      } finally {
        await engine.dispose();
      }
    });
  });
}

describe("PrefixCache", () => {
  const snap = (positions: number, floats = 4) => ({ positions, appendOnly: true, heads: 1, arrays: [new Float32Array(positions * floats)] });
  const range = (n: number, from = 0) => Array.from({ length: n }, (_, i) => i + from);

  it("finds the longest shared prefix and always leaves one token to feed", () => {
    const cache = new PrefixCache();
    cache.store(range(20), snap(20));
    assert.equal(cache.lookup(range(30))?.positions, 20);
    assert.equal(cache.lookup(range(20))?.positions, 19, "the same prompt again feeds its last token");
    assert.equal(cache.lookup([...range(12), 99])?.positions, 12);
    assert.equal(cache.lookup([...range(MIN_PREFIX_TOKENS - 1), 99]), undefined, "too short to be worth it");
    assert.equal(cache.lookup(range(12))?.snapshot.arrays[0].length, 11 * 4, "a hit is cut to its positions");
  });

  it("a hit on a heads-major snapshot keeps its arrays (no copy) and says how far apart its heads are", () => {
    const cache = new PrefixCache();
    const arrays = [new Float32Array(2 * 20 * 3)]; // 2 heads × 20 positions × head_dim 3
    cache.store(range(20), { positions: 20, appendOnly: false, heads: 2, arrays });
    const hit = cache.lookup([...range(12), 99])!;
    assert.equal(hit.positions, 12);
    assert.equal(hit.snapshot.arrays[0], arrays[0], "the same array, not a copy");
    assert.equal(hit.snapshot.stride, 20);
  });

  it("replaces an entry a longer sequence extends, and evicts the least recently used past its bounds", () => {
    const cache = new PrefixCache(1000 * 16, 2);
    cache.store(range(20), snap(20));
    cache.store(range(40), snap(40));
    assert.equal(cache.size, 1, "the 20-token entry is part of the 40-token one");
    assert.equal(cache.wants(range(30)), false, "a prefix of a kept sequence adds nothing");
    cache.store(range(20, 500), snap(20));
    cache.lookup(range(30)); // touches the 40-token entry
    cache.store(range(20, 900), snap(20));
    assert.equal(cache.size, 2);
    assert.equal(cache.lookup(range(25, 500)), undefined, "the least recently used entry left");
    assert.equal(cache.lookup(range(41))?.positions, 40);
    assert.ok(cache.heldBytes <= 1000 * 16);
  });
});
