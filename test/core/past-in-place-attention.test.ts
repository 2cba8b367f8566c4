import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import * as ort from "onnxruntime-node";
import { onnx } from "onnx-proto";
import { fixtureDir } from "../helpers/fixtures";
import { lastLogitsModel } from "../../src/core/onnx/decoder/last-logits-graph";
import { pastInPlaceAttention } from "../../src/core/onnx/decoder/past-in-place-attention";
import { appendOnlyLayoutBySize } from "../../src/core/onnx/decoder/decoder-session";
import { KvCacheDecoder } from "../../src/core/onnx/decoder/kv-cache-decoder";
import { readModelShape } from "../../src/core/onnx/decoder/model-config";
import { loadLlm } from "../../src/core/llm/engines/onnx/loader";
import type { OnnxLlmEngine } from "../../src/core/llm/engines/onnx/onnx-llm-engine";
import { localLoadContext } from "../../src/core/registry";
import { stepDecodersAlike, openRewritten } from "./decoder-support";

const PAST = /^past_key_values\.\d+\.(key|value)/;

/** Concat nodes that read the cache (the input itself, or its position-major input's Transpose). */
function cacheConcats(bytes: Uint8Array): number {
  return onnx.ModelProto.decode(bytes).graph!.node!.filter((n) => n.opType === "Concat" && (n.input ?? []).some((i) => PAST.test(i))).length;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  return a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
}

describe("attention over the past in place (no Concat copy of the KV cache per step)", function () {
  this.timeout(60_000);

  for (const [file, layout] of [["model.onnx", "positions"], ["model_q4.onnx", "positions"], ["model.onnx", "heads"], ["model_q4.onnx", "heads"]] as const) {
    it(`tiny-llm ${file}, ${layout}-major cache: no Concat reads the cache, and a prompt, a second prompt chunk and 70 steps give the file's own logits`, async () => {
      const dir = await fixtureDir("tiny-llm");
      const shape = readModelShape(JSON.parse(fs.readFileSync(path.join(dir, "config.json"), "utf8")));
      const onnxFile = path.join(dir, "onnx", file);
      const concatForm = lastLogitsModel(onnxFile, { appendOnlyCache: true, appendOnlyLayout: layout })!;
      const inPlace = lastLogitsModel(onnxFile, { appendOnlyCache: true, appendOnlyLayout: layout, pastInPlaceAttention: true })!;
      assert.equal(concatForm.pastInPlaceLayers, 0, "not asked");
      assert.equal(inPlace.pastInPlaceLayers, shape.numLayers);
      assert.equal(cacheConcats(concatForm.bytes), 2 * shape.numLayers, "the Concat form copies each cache input");
      assert.equal(cacheConcats(inPlace.bytes), 0);
      const plain = await ort.InferenceSession.create(onnxFile);
      const session = await openRewritten(inPlace);
      try {
        assert.deepEqual([...session.inputNames].sort(), [...(await openRewritten(concatForm)).inputNames].sort(), "same inputs as the append-only form");
        const a = new KvCacheDecoder(plain, shape);
        const b = new KvCacheDecoder(session, shape);
        // The first prompt has an empty past (a zero-length split); the second chunk attends over a past and itself.
        let la = await a.prefill([5, 17, 42, 99, 3]);
        let lb = await b.prefill([5, 17, 42, 99, 3]);
        assert.ok(maxAbsDiff(la, lb) <= (file.includes("q4") ? 1e-4 : 1e-5), `first prompt: max |Δ| ${maxAbsDiff(la, lb)}`);
        la = await a.prefill([8, 21, 34, 55, 89, 144, 7, 11, 13, 17, 19, 23]);
        lb = await b.prefill([8, 21, 34, 55, 89, 144, 7, 11, 13, 17, 19, 23]);
        // The same products summed in another order.
        await stepDecodersAlike(a, b, la, lb, 70, file.includes("q4") ? 1e-4 : 1e-5);
        assert.equal(b.length, a.length);
        a.dispose();
        b.dispose();
      } finally {
        await plain.release();
        await session.release();
      }
    });
  }

  it("leaves a graph alone when its past Concat also feeds a present output (no append-only cache) or its opset is below 13", async () => {
    const dir = await fixtureDir("tiny-llm");
    const onnxFile = path.join(dir, "onnx", "model.onnx");
    const withPresent = onnx.ModelProto.decode(lastLogitsModel(onnxFile)!.bytes);
    const before = onnx.ModelProto.encode(withPresent).finish();
    assert.equal(pastInPlaceAttention(withPresent.graph!, 17), 0);
    assert.deepEqual(onnx.ModelProto.encode(withPresent).finish(), before, "not a byte changed");
    const appendOnly = onnx.ModelProto.decode(lastLogitsModel(onnxFile, { appendOnlyCache: true })!.bytes);
    const appendOnlyBefore = onnx.ModelProto.encode(appendOnly).finish();
    assert.equal(pastInPlaceAttention(appendOnly.graph!, 12), 0, "Split takes its sizes as an input from opset 13");
    assert.deepEqual(onnx.ModelProto.encode(appendOnly).finish(), appendOnlyBefore);
    assert.equal(pastInPlaceAttention(appendOnly.graph!, 17), 2, "the same graph at opset 17");
  });

  it("the loader attends in place by default with the append-only cache, heads-major; past_in_place_attention: false keeps the Concat and the old layout rule; same greedy text", async () => {
    const dir = await fixtureDir("tiny-llm");
    const shape = readModelShape(JSON.parse(fs.readFileSync(path.join(dir, "config.json"), "utf8")));
    assert.equal(appendOnlyLayoutBySize(shape), "heads");
    assert.equal(appendOnlyLayoutBySize(shape, false), "positions", "a cache this small, without in-place attention");
    const load = async (config: Record<string, unknown>) => {
      let graph: onnx.ModelProto | undefined;
      // tiny-llm's cache is too small for the loader to choose the append-only form itself: force it.
      const ctx = localLoadContext("llm", { enginesPath: dir, config: { append_only_cache: true, worker_thread: false, prefix_cache_mb: 0, ...config } });
      const create = ctx.createSession.bind(ctx);
      ctx.createSession = async (file, rewritten) => {
        if (rewritten) graph = onnx.ModelProto.decode(rewritten.bytes);
        return create(file, rewritten);
      };
      const engine = (await loadLlm(ctx)) as OnnxLlmEngine;
      return { engine, graph: graph! };
    };
    const text = (engine: OnnxLlmEngine) =>
      new Promise<string>((resolve, reject) =>
        engine.generate({ prompt: "The weather today", raw: true, temperature: 0, max_new_tokens: 40, ignore_eos: true }).subscribe({
          next: (c) => c.is_final && resolve(String(c.text)),
          error: reject,
        }),
      );
    const byDefault = await load({});
    const off = await load({ past_in_place_attention: false });
    try {
      const names = (g: onnx.ModelProto) => g.graph!.node!.map((n) => n.name ?? "");
      const outputs = (g: onnx.ModelProto) => g.graph!.output!.map((o) => o.name ?? "");
      assert.ok(names(byDefault.graph).some((n) => n.startsWith("voice_stream_past_in_place")));
      assert.ok(outputs(byDefault.graph).some((n) => n.startsWith("voice_stream_new_heads.")), outputs(byDefault.graph).join(", "));
      assert.ok(!names(off.graph).some((n) => n.startsWith("voice_stream_past_in_place")));
      assert.ok(outputs(off.graph).some((n) => n.startsWith("voice_stream_new.")), outputs(off.graph).join(", "));
      assert.equal(await text(byDefault.engine), await text(off.engine));
    } finally {
      await byDefault.engine.dispose();
      await off.engine.dispose();
    }
    await assert.rejects(load({ past_in_place_attention: "on" }), (err: Error) => err.message === `the config of model ${dir}: past_in_place_attention must be true or false, got "on"`);
  });
});
