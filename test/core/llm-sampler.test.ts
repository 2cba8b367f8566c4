import { strict as assert } from "assert";
import { Sampler, SeededPrng, argmax } from "../../src/core/onnx/decoder/sampler";

/** Logits with a clear order: id i has logit scale * sin(i) (deterministic, no ties). */
function logitsRow(vocab: number, scale = 3): Float32Array {
  return Float32Array.from({ length: vocab }, (_, i) => scale * Math.sin(i * 1.7 + 0.3));
}

function draws(sampler: Sampler, logits: Float32Array, n: number): number[] {
  return Array.from({ length: n }, () => sampler.next(logits));
}

describe("llm sampler", () => {
  it("is greedy (argmax, lowest id on ties) at temperature 0", () => {
    const logits = logitsRow(100);
    const sampler = new Sampler({ temperature: 0, seed: 1, topK: 5, topP: 0.5 });
    assert.deepEqual(draws(sampler, logits, 5), new Array(5).fill(argmax(logits)));
    assert.equal(argmax(Float32Array.from([1, 3, 3, 2])), 1);
  });

  it("gives the same tokens for the same seed and different ones for another seed", () => {
    const logits = logitsRow(200, 1);
    const a = draws(new Sampler({ temperature: 1, seed: 42 }), logits, 50);
    const b = draws(new Sampler({ temperature: 1, seed: 42 }), logits, 50);
    const c = draws(new Sampler({ temperature: 1, seed: 43 }), logits, 50);
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
  });

  it("PRNG is uniform enough and in [0, 1)", () => {
    const prng = new SeededPrng(7);
    const buckets = new Array(10).fill(0);
    for (let i = 0; i < 20000; i++) {
      const x = prng.next();
      assert.ok(x >= 0 && x < 1);
      buckets[Math.floor(x * 10)]++;
    }
    for (const count of buckets) assert.ok(Math.abs(count - 2000) < 200, `bucket ${count}`);
  });

  it("top-k keeps only the k best tokens", () => {
    const logits = logitsRow(300, 0.5);
    const best = Array.from(logits.keys()).sort((a, b) => logits[b] - logits[a]).slice(0, 7);
    const seen = new Set(draws(new Sampler({ temperature: 2, topK: 7, seed: 3 }), logits, 2000));
    assert.deepEqual([...seen].sort((a, b) => a - b), [...best].sort((a, b) => a - b));
  });

  it("top-p keeps the smallest set reaching the mass", () => {
    // Probabilities 0.5, 0.3, 0.15, 0.05: top_p 0.75 keeps the first two (0.8 ≥ 0.75).
    const logits = Float32Array.from([0.05, 0.5, 0.15, 0.3].map(Math.log));
    const seen = new Set(draws(new Sampler({ temperature: 1, topP: 0.75, seed: 9 }), logits, 2000));
    assert.deepEqual([...seen].sort(), [1, 3]);
    // A tiny top_p is greedy.
    assert.deepEqual(new Set(draws(new Sampler({ temperature: 1, topP: 1e-6, seed: 9 }), logits, 200)), new Set([1]));
  });

  it("top-p over a large vocabulary keeps exactly the nucleus a full sort gives", () => {
    const prng = new SeededPrng(21);
    const vocab = 5000;
    const logits = Float32Array.from({ length: vocab }, () => 6 * prng.next() - 3);
    for (let i = 0; i < 8; i++) logits[i * 611] += 5;
    const temperature = 0.8;
    const topP = 0.6;
    // Reference: sort everything, keep the smallest prefix reaching top_p.
    const order = Array.from(logits.keys()).sort((a, b) => logits[b] - logits[a] || a - b);
    const weights = order.map((id) => Math.exp(logits[id] / temperature));
    const total = weights.reduce((a, b) => a + b, 0);
    let mass = 0;
    const nucleus = new Set<number>();
    for (let i = 0; i < order.length && mass < topP; i++) {
      mass += weights[i] / total;
      nucleus.add(order[i]);
    }
    const seen = new Set(draws(new Sampler({ temperature, topP, seed: 4 }), logits, 20000));
    for (const id of seen) assert.ok(nucleus.has(id), `token ${id} is outside the nucleus`);
    // Every nucleus token above 0.1% probability shows up in 20000 draws.
    for (const id of nucleus) if (Math.exp(logits[id] / temperature) / total > 0.001) assert.ok(seen.has(id), `token ${id} never drawn`);
  });

  it("samples in proportion to softmax(logits / temperature)", () => {
    const logits = Float32Array.from([0, Math.log(2), Math.log(5)]);
    for (const temperature of [1, 2]) {
      const counts = [0, 0, 0];
      for (const id of draws(new Sampler({ temperature, seed: 11 }), logits, 30000)) counts[id]++;
      const weights = [1, 2, 5].map((w) => w ** (1 / temperature));
      const total = weights.reduce((a, b) => a + b, 0);
      counts.forEach((c, i) => assert.ok(Math.abs(c / 30000 - weights[i] / total) < 0.015, `T=${temperature} id ${i}: ${c}`));
    }
  });

  it("repetition penalty lowers tokens already in the context", () => {
    const logits = Float32Array.from([2.0, 1.9, -1, -1.05]);
    assert.equal(new Sampler({ temperature: 0, seed: 0 }).next(logits, [0]), 0);
    assert.equal(new Sampler({ temperature: 0, seed: 0, repetitionPenalty: 1.2 }).next(logits, [0]), 1);
    // Negative logits are multiplied, so the penalty pushes them further down.
    const negative = Float32Array.from([-5, -1, -1.1]);
    assert.equal(new Sampler({ temperature: 0, seed: 0, repetitionPenalty: 1.3 }).next(negative, [1]), 2);
    // The caller's logits are untouched.
    assert.equal(logits[0], 2.0);
  });

  it("rejects bad settings with a message naming them", () => {
    assert.throws(() => new Sampler({ temperature: -1, seed: 0 }), /temperature/);
    assert.throws(() => new Sampler({ temperature: 1, topP: 0, seed: 0 }), /top_p/);
    assert.throws(() => new Sampler({ temperature: 1, topK: 1.5, seed: 0 }), /top_k/);
    assert.throws(() => new Sampler({ temperature: 1, repetitionPenalty: 0, seed: 0 }), /repetition_penalty/);
  });
});
