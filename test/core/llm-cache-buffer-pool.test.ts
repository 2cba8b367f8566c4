import { strict as assert } from "assert";
import { fixtureDir } from "../helpers/fixtures";
import { CacheBufferPool } from "../../src/core/onnx/decoder/cache-buffer-pool";
import { loadLlm } from "../../src/core/llm/engines/onnx/loader";
import { localLoadContext } from "../../src/core/registry";
import type { LlmEngine } from "../../src/core/types";

const set = (count: number, floats: number) => Array.from({ length: count }, () => new Float32Array(floats));

async function ids(engine: LlmEngine, prompt: string, newTokens: number): Promise<number[]> {
  const out: number[] = [];
  await new Promise<void>((resolve, reject) =>
    engine.generate({ prompt, raw: true, temperature: 0, max_new_tokens: newTokens, ignore_eos: true }).subscribe({
      next: (c) => out.push(...(c.token_ids ?? [])),
      error: reject,
      complete: resolve,
    }),
  );
  return out;
}

describe("llm cache buffer pool (append-only cache buffers reused between sequences)", () => {
  it("gives a set back only to a taker that fits it, once", () => {
    const pool = new CacheBufferPool(1 << 20);
    const a = set(4, 1000);
    pool.give(a);
    assert.equal(pool.heldBytes, 16000);
    assert.equal(pool.take(4, 1001), undefined, "too small");
    assert.equal(pool.take(3, 10), undefined, "another number of cache inputs");
    assert.equal(pool.take(4, 1000), a);
    assert.equal(pool.take(4, 10), undefined, "taken sets are the taker's");
    assert.equal(pool.heldBytes, 0);
  });

  it("stays within its bound: the oldest sets make room, a set larger than the pool is dropped", () => {
    const pool = new CacheBufferPool(40000);
    // 16 KB a set: two fit, the third evicts the oldest.
    const [a, b, c] = [set(2, 2000), set(2, 2000), set(2, 2000)];
    pool.give(a);
    pool.give(b);
    pool.give(c);
    assert.equal(pool.heldBytes, 32000);
    assert.equal(pool.take(2, 1), b, "a, the oldest, made room for c");
    assert.equal(pool.take(2, 1), c);
    assert.equal(pool.take(2, 1), undefined, "a is gone");
    pool.give(set(2, 10000));
    assert.equal(pool.heldBytes, 0, "an 80 KB set is more than the pool holds");
  });

  it("tiny-llm with the append-only cache: sequences that reuse another's buffers give the same tokens as a fresh model", async () => {
    const dir = await fixtureDir("tiny-llm");
    // tiny-llm's cache is below the loader's threshold: force the append-only form.
    const warm = await loadLlm(localLoadContext("llm", { enginesPath: dir, config: { append_only_cache: true } }));
    try {
      const prompts: [string, number][] = [
        ["The weather today is", 150],
        ["Once", 20],
        ["A much longer prompt than the others, so that its prefill alone fills more positions", 90],
      ];
      const expected: number[][] = [];
      for (const [prompt, n] of prompts) {
        const fresh = await loadLlm(localLoadContext("llm", { enginesPath: dir, config: { append_only_cache: true } }));
        try {
          expected.push(await ids(fresh, prompt, n));
        } finally {
          await fresh.dispose();
        }
      }
      // Long, short, long again, in both orders: every later sequence writes into buffers a
      // previous one left behind (stale rows beyond its own length must never be read).
      for (const order of [[0, 1, 2, 0, 1], [2, 1, 0, 2]]) {
        for (const i of order) assert.deepEqual(await ids(warm, prompts[i][0], prompts[i][1]), expected[i], `prompt ${i}`);
      }
      const together = await Promise.all(prompts.map(([p, n]) => ids(warm, p, n)));
      assert.deepEqual(together, expected, "concurrent sequences never share a buffer");
    } finally {
      await warm.dispose();
    }
  });
});
