import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import * as ort from "onnxruntime-node";
import { fixtureDir } from "../helpers/fixtures";
import { KvCacheDecoder } from "../../src/core/onnx/decoder/kv-cache-decoder";
import { readModelShape, type LlmModelShape } from "../../src/core/onnx/decoder/model-config";

/** Records every run's feeds and outputs. */
function recording(session: ort.InferenceSession) {
  const calls: { feeds: Record<string, ort.Tensor>; outputs: ort.InferenceSession.OnnxValueMapType }[] = [];
  const run = session.run.bind(session);
  const proxy = new Proxy(session, {
    get: (target, key, receiver) =>
      key === "run"
        ? async (feeds: Record<string, ort.Tensor>) => {
            const outputs = await run(feeds);
            calls.push({ feeds, outputs });
            return outputs;
          }
        : Reflect.get(target, key, receiver),
  });
  return { session: proxy, calls };
}

const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

describe("llm KV-cache decoder on tiny-llm", () => {
  let session: ort.InferenceSession;
  let shape: LlmModelShape;

  before(async () => {
    const dir = await fixtureDir("tiny-llm");
    session = await ort.InferenceSession.create(path.join(dir, "onnx", "model.onnx"));
    shape = readModelShape(JSON.parse(fs.readFileSync(path.join(dir, "config.json"), "utf8")));
  });

  after(async () => session?.release());

  it("starts from empty [1, kv_heads, 0, head_dim] caches and hands present.* back as past_key_values.* without copying", async () => {
    const { session: spy, calls } = recording(session);
    const decoder = new KvCacheDecoder(spy, shape);
    await decoder.prefill([5, 6, 7]);
    await decoder.step(8);
    await decoder.step(9);
    assert.equal(decoder.length, 5);
    const first = calls[0].feeds;
    for (let layer = 0; layer < shape.numLayers; layer++) {
      for (const kind of ["key", "value"]) {
        assert.deepEqual(first[`past_key_values.${layer}.${kind}`].dims, [1, shape.numKvHeads, 0, shape.headDim]);
        for (let call = 1; call < calls.length; call++) {
          // The very tensor object the previous run returned, not a copy of it.
          assert.equal(calls[call].feeds[`past_key_values.${layer}.${kind}`], calls[call - 1].outputs[`present.${layer}.${kind}`]);
        }
      }
    }
    assert.deepEqual(Array.from(calls[2].feeds.position_ids.data as BigInt64Array).map(Number), [4]);
    assert.deepEqual(calls[2].feeds.attention_mask.dims, [1, 5]);
    decoder.dispose();
  });

  it("step-by-step logits equal one prefill of the whole sequence", async () => {
    const ids = [3, 17, 42, 99, 8, 150, 21];
    const whole = new KvCacheDecoder(session, shape);
    const expected = (await whole.prefill(ids)).slice();
    const stepwise = new KvCacheDecoder(session, shape);
    await stepwise.prefill(ids.slice(0, 2));
    let logits: Float32Array | undefined;
    for (const id of ids.slice(2)) logits = await stepwise.step(id);
    assert.ok(maxDiff(logits!, expected) < 1e-4, `max diff ${maxDiff(logits!, expected)}`);
    // Chunked prefill on top of a cache too.
    const chunked = new KvCacheDecoder(session, shape);
    await chunked.prefill(ids.slice(0, 3));
    assert.ok(maxDiff(await chunked.prefill(ids.slice(3)), expected) < 1e-4);
    // reset() starts over at position 0.
    chunked.reset();
    assert.equal(chunked.length, 0);
    assert.ok(maxDiff(await chunked.prefill(ids), expected) < 1e-6);
    for (const d of [whole, stepwise, chunked]) d.dispose();
  });

  it("feeds an all-ones mask and the right positions past the mask buffer's growth, with the logits of one prefill", async () => {
    const { session: spy, calls } = recording(session);
    const ids = Array.from({ length: 300 }, (_, i) => (i * 37 + 11) % 200);
    const stepwise = new KvCacheDecoder(spy, shape);
    await stepwise.prefill(ids.slice(0, 250));
    let logits: Float32Array | undefined;
    for (const id of ids.slice(250)) logits = await stepwise.step(id);
    for (const [n, call] of calls.entries()) {
      const positions = n === 0 ? 250 : 250 + n;
      const mask = call.feeds.attention_mask;
      assert.deepEqual(mask.dims, [1, positions]);
      assert.ok((mask.data as BigInt64Array).every((v) => v === 1n), `call ${n}: the mask is all ones`);
      const expectedPositions = n === 0 ? Array.from({ length: 250 }, (_, i) => i) : [positions - 1];
      assert.deepEqual(Array.from(call.feeds.position_ids.data as BigInt64Array).map(Number), expectedPositions);
    }
    const whole = new KvCacheDecoder(session, shape);
    const expected = await whole.prefill(ids);
    assert.ok(maxDiff(logits!, expected) < 1e-4, `max diff ${maxDiff(logits!, expected)}`);
    for (const d of [stepwise, whole]) d.dispose();
  });

  it("keeps two sequences' caches apart on one session", async () => {
    const a = new KvCacheDecoder(session, shape);
    const b = new KvCacheDecoder(session, shape);
    await a.prefill([1, 2, 3]);
    await b.prefill([40, 41]);
    const aNext = (await a.step(4)).slice();
    await b.step(42);
    const alone = new KvCacheDecoder(session, shape);
    assert.ok(maxDiff(aNext, (await alone.prefill([1, 2, 3, 4])).slice()) < 1e-4);
    for (const d of [a, b, alone]) d.dispose();
  });

  it("rejects a config whose layer count does not match the graph, and use after dispose", async () => {
    assert.throws(() => new KvCacheDecoder(session, { ...shape, numLayers: shape.numLayers + 1 }), /past_key_values inputs but config.json says/);
    const decoder = new KvCacheDecoder(session, shape);
    decoder.dispose();
    await assert.rejects(decoder.step(1), /disposed/);
  });
});
