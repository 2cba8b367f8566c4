import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as ort from "onnxruntime-node";
import { onnx } from "onnx-proto";
import { matMulNBitsOnly, matMulsOnly } from "../../bench/llm/matmul-only-graph";
import { openBenchSession as open } from "../../bench/llm/session-runs";
import { lastLogitsModel } from "../../src/core/onnx/decoder/last-logits-graph";
import { dequantize4bit, quantize4bit } from "../../src/core/onnx-builder/quantize-4bit";
import { GraphBuilder, DataType } from "../../src/core/onnx-builder/graph";
import { randomDecoderOnlyWeights, writeDecoderOnlyModel } from "../../src/core/onnx-builder/transformer";
import { SMALL_DECODER } from "../core/decoder-support";

describe("bench: a decoder run's MatMuls of one kernel alone (parts kernel and prefill)", function () {
  this.timeout(60_000);
  let dir: string;
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "matmul-only-"))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("keeps every MatMulNBits of the engine's graph (fused, speech-only head) and nothing that reads an activation", async () => {
    const config = SMALL_DECODER;
    const file = writeDecoderOnlyModel(path.join(dir, "q4"), config, randomDecoderOnlyWeights(config, 5), { weightFormat: "q4" });
    const rewritten = lastLogitsModel(file, { matMulNBitsAccuracyLevel: 4, fuseSiblingMatMuls: true, appendOnlyCache: true, logitRows: [1, 2, 3] });
    assert.ok(rewritten?.keptRows);
    const only = matMulNBitsOnly(rewritten.bytes);
    const kept = onnx.ModelProto.decode(only.bytes).graph!.node!;
    const inEngine = onnx.ModelProto.decode(rewritten.bytes).graph!.node!.filter((n) => n.opType === "MatMulNBits").length;
    assert.equal(only.matMuls, inEngine);
    assert.equal(only.matMuls, 4 * config.numLayers + 1, "fused q/k/v, o, fused gate/up, down a layer; the head");
    assert.deepEqual([...only.widths].sort((a, b) => a - b), [...new Set([config.hiddenSize, config.numHeads * config.headDim, config.intermediateSize])].sort((a, b) => a - b));
    // The others compute from constants only (the fused weight stacks, the head's kept rows), so onnxruntime folds them at load.
    const constant = new Set(onnx.ModelProto.decode(only.bytes).graph!.initializer!.map((t) => t.name!));
    for (const n of kept.filter((n) => n.opType !== "MatMulNBits")) {
      for (const i of n.input ?? []) assert.ok(i === "" || constant.has(i), `${n.opType} ${n.name} reads ${i}, which is not a constant`);
      for (const o of n.output ?? []) constant.add(o);
    }
    assert.ok(kept.some((n) => n.opType === "Concat"), "the fused stacks are kept");

    const session = await open(only.bytes, rewritten.externalDataFolder);
    try {
      const feeds: Record<string, ort.Tensor> = {};
      for (const k of only.widths) feeds[`x${k}`] = new ort.Tensor("float32", Float32Array.from({ length: k }, (_, i) => Math.cos(i)), [1, 1, k]);
      const out = await session.run(feeds);
      assert.equal(Object.keys(out).length, only.matMuls);
      const head = Object.values(out).find((t) => t.dims[2] === 3);
      assert.ok(head, "the head's product has the three kept rows");
      for (const t of Object.values(out)) assert.ok((t.data as Float32Array).every(Number.isFinite));
    } finally {
      await session.release();
    }
  });

  it("keeps a prefill's int8 MatMuls (not the 4-bit head), reads [1, rows, K] and counts their multiply-adds", async () => {
    const config = SMALL_DECODER;
    const file = writeDecoderOnlyModel(path.join(dir, "q4-int8"), config, randomDecoderOnlyWeights(config, 6), { weightFormat: "q4" });
    const rewritten = lastLogitsModel(file, { matMulNBitsAccuracyLevel: 4, fuseSiblingMatMuls: true, appendOnlyCache: true, int8MatMuls: true });
    assert.ok(rewritten);
    const rows = 5;
    const only = matMulsOnly(rewritten.bytes, "DynamicQuantizeMatMul", { rows });
    const graph = onnx.ModelProto.decode(only.bytes).graph!;
    assert.equal(only.matMuls, 7 * config.numLayers, "q, k, v, o, gate, up, down a layer (the int8 form is not fused); the head stays 4-bit and is not kept");
    assert.equal(graph.node!.filter((n) => n.opType === "MatMulNBits").length, 0);
    const { hiddenSize: h, numHeads, numKvHeads, headDim: d, intermediateSize: m } = config;
    const perLayer = h * numHeads * d + 2 * h * numKvHeads * d + numHeads * d * h + 2 * h * m + m * h;
    assert.equal(only.multiplyAddsPerRow, perLayer * config.numLayers);
    const session = await open(only.bytes, rewritten.externalDataFolder);
    try {
      const feeds: Record<string, ort.Tensor> = {};
      for (const k of only.widths) feeds[`x${k}`] = new ort.Tensor("float32", Float32Array.from({ length: rows * k }, (_, i) => Math.cos(i)), [1, rows, k]);
      const out = Object.values(await session.run(feeds));
      assert.equal(out.length, only.matMuls);
      for (const t of out) {
        assert.equal(t.dims[1], rows);
        assert.ok((t.data as Float32Array).every(Number.isFinite));
      }
      // With firstValuesOnly each output is its product's first value, in the same order.
      const sliced = matMulsOnly(rewritten.bytes, "DynamicQuantizeMatMul", { rows, firstValuesOnly: true });
      const small = await open(sliced.bytes, rewritten.externalDataFolder);
      try {
        const firsts = Object.values(await small.run(feeds));
        assert.deepEqual(firsts.map((t) => t.dims), out.map(() => [1, 1, 1]));
        assert.deepEqual(firsts.map((t) => (t.data as Float32Array)[0]), out.map((t) => (t.data as Float32Array)[0]));
      } finally {
        await small.release();
      }
    } finally {
      await session.release();
    }
  });

  it("a kept MatMulNBits computes what it did in the graph: the product of its input with its 4-bit weight", async () => {
    const [n, k] = [6, 64];
    const w = Float32Array.from({ length: n * k }, (_, i) => Math.sin(i * 1.3) * 0.2);
    const q = quantize4bit(w, n, k, 32, true);
    const g = new GraphBuilder("one");
    const x = g.input("h", DataType.FLOAT, [1, 1, k]);
    const normed = g.op("Mul", [x, g.initializer("two", new Float32Array([2]), [1])]);
    const y = g.op("MatMulNBits", [normed, g.initializer("B", q.packed, [n, q.blocks, 16]), g.initializer("s", q.scales, [n * q.blocks])], { K: k, N: n, bits: 4, block_size: 32, accuracy_level: 0 }, { domain: "com.microsoft" });
    g.output("y", DataType.FLOAT, [1, 1, n], g.op("Relu", [y]));
    const only = matMulNBitsOnly(g.toBytes({ extraOpsets: { "com.microsoft": 1 } }));
    assert.deepEqual(only.widths, [k]);
    const session = await open(only.bytes);
    try {
      const input = Float32Array.from({ length: k }, (_, i) => Math.cos(i * 0.7));
      const out = Object.values(await session.run({ [`x${k}`]: new ort.Tensor("float32", input, [1, 1, k]) }))[0].data as Float32Array;
      const deq = dequantize4bit(q);
      for (let r = 0; r < n; r++) {
        let dot = 0;
        for (let c = 0; c < k; c++) dot += deq[r * k + c] * input[c];
        assert.ok(Math.abs(out[r] - dot) < 1e-4, `row ${r}: ${out[r]} against ${dot} (the Mul before it and the Relu after it are gone)`);
      }
    } finally {
      await session.release();
    }
  });
});
