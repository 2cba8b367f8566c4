import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as ort from "onnxruntime-node";
import { onnx } from "onnx-proto";
import { fuseRmsNorms } from "../../src/core/onnx/decoder/fuse-rms-norm";
import { lastLogitsModel } from "../../src/core/onnx/decoder/last-logits-graph";
import { KvCacheDecoder } from "../../src/core/onnx/decoder/kv-cache-decoder";
import { loadLlm } from "../../src/core/llm/engines/onnx/loader";
import { localLoadContext } from "../../src/core/registry";
import { DataType, GraphBuilder } from "../../src/core/onnx-builder/graph";
import { randomDecoderOnlyWeights, writeDecoderOnlyModel, type DecoderOnlyConfig } from "../../src/core/onnx-builder/transformer";
import { fixtureDir } from "../helpers/fixtures";
import { SMALL_DECODER, openRewritten } from "./decoder-support";

const config: DecoderOnlyConfig = SMALL_DECODER;
const opCount = (bytes: Uint8Array, op: string) => (onnx.ModelProto.decode(bytes).graph!.node ?? []).filter((n) => n.opType === op).length;

async function logitsAlong(file: string, options: Parameters<typeof lastLogitsModel>[1]): Promise<{ rows: Float32Array[]; bytes: Uint8Array }> {
  const model = lastLogitsModel(file, options);
  assert.ok(model);
  const session = await openRewritten(model);
  const decoder = new KvCacheDecoder(session, config);
  try {
    const rows = [await decoder.prefill([3, 14, 15, 92, 65]).then((r) => r.slice())];
    for (const id of [35, 89, 79, 32]) rows.push((await decoder.step(id)).slice());
    return { rows, bytes: model.bytes };
  } finally {
    decoder.dispose();
    await session.release();
  }
}

const worst = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

/** One RMSNorm over [1, 3, 8] as an export may write it: Pow or Mul for the square, Div or Reciprocal + Mul. */
function oneNorm(square: "Pow" | "Mul", divide: "Div" | "Reciprocal", extraReader = false): GraphBuilder {
  const g = new GraphBuilder("norm");
  const x = g.input("x", DataType.FLOAT, [1, 3, 8]);
  const sq = square === "Pow" ? g.op("Pow", [x, g.constFloat([2], [])]) : g.op("Mul", [x, x]);
  const mean = g.op("ReduceMean", [sq], { axes: [-1], keepdims: 1 });
  const root = g.op("Sqrt", [g.op("Add", [mean, g.constFloat([1e-6], [])])]);
  const scaled = divide === "Div" ? g.op("Div", [x, root]) : g.op("Mul", [x, g.op("Reciprocal", [root])]);
  g.output("y", DataType.FLOAT, [1, 3, 8], g.op("Mul", [scaled, g.constFloat(Float32Array.from({ length: 8 }, (_, i) => 0.5 + i / 8), [8], "weight")]));
  if (extraReader) g.output("mean", DataType.FLOAT, [1, 3, 1], g.op("Identity", [mean]));
  return g;
}

describe("RMSNorms fused into SimplifiedLayerNormalization", function () {
  this.timeout(60_000);
  let dir: string;
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "fuse-rms-"))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  for (const [square, divide] of [["Pow", "Div"], ["Mul", "Reciprocal"], ["Pow", "Reciprocal"]] as const) {
    it(`${square} for the square, ${divide}: one SimplifiedLayerNormalization node, the same values to float rounding`, async () => {
      const bytes = oneNorm(square, divide).toBytes();
      const model = onnx.ModelProto.decode(bytes);
      assert.equal(fuseRmsNorms(model.graph!), 1);
      // (GraphBuilder names the output through an Identity.)
      assert.deepEqual(model.graph!.node!.map((n) => n.opType), ["SimplifiedLayerNormalization", "Identity"]);
      assert.deepEqual(model.graph!.initializer!.map((t) => (t.dims ?? []).map(Number)), [[8]], "only the weight is left (eps and the exponent dropped)");
      const x = new ort.Tensor("float32", Float32Array.from({ length: 24 }, (_, i) => Math.sin(i * 1.7) * (i + 1)), [1, 3, 8]);
      const plain = await ort.InferenceSession.create(bytes);
      const fused = await ort.InferenceSession.create(onnx.ModelProto.encode(model).finish());
      const expected = (await plain.run({ x })).y.data as Float32Array;
      const got = (await fused.run({ x })).y.data as Float32Array;
      assert.ok(worst(expected, got) < 1e-5, `largest difference ${worst(expected, got)}`);
      await plain.release();
      await fused.release();
    });
  }

  it("leaves a norm alone when an intermediate has another reader", () => {
    const model = onnx.ModelProto.decode(oneNorm("Mul", "Reciprocal", true).toBytes());
    const before = model.graph!.node!.length;
    assert.equal(fuseRmsNorms(model.graph!), 0);
    assert.equal(model.graph!.node!.length, before);
  });

  for (const level of [0, 4]) {
    it(`a Qwen3-shaped q4 decoder (accuracy level ${level}): every norm fused (2 a layer, q_norm and k_norm, the final one), the logits alike along a decode`, async () => {
      const file = writeDecoderOnlyModel(path.join(dir, `q4-${level}`), config, randomDecoderOnlyWeights(config, 3), { weightFormat: "q4" });
      const options = { matMulNBitsAccuracyLevel: level, fuseSiblingMatMuls: true, appendOnlyCache: true, appendOnlyLayout: "heads" as const, pastInPlaceAttention: true, topLogits: true };
      const plain = await logitsAlong(file, options);
      const fused = await logitsAlong(file, { ...options, fuseRmsNorms: true });
      assert.equal(opCount(plain.bytes, "SimplifiedLayerNormalization"), 0);
      assert.equal(opCount(fused.bytes, "SimplifiedLayerNormalization"), 4 * config.numLayers + 1);
      assert.equal(opCount(fused.bytes, "ReduceMean"), 0);
      // Exact float path: float rounding only. Int8 activations: a norm's output rounded another way
      // may land in another int8 step; still far below the logits' spread.
      const tolerance = level === 0 ? 1e-4 : 0.05;
      fused.rows.forEach((row, i) => assert.ok(worst(row, plain.rows[i]) < tolerance, `position ${i}: ${worst(row, plain.rows[i])}`));
    });
  }

  it("fuse_rms_norm must be true or false (an error naming the model)", async () => {
    await assert.rejects(
      loadLlm(localLoadContext("llm", { enginesPath: await fixtureDir("tiny-llm"), config: { fuse_rms_norm: "yes", worker_thread: false } })),
      /the config of model .*: fuse_rms_norm must be true or false, got "yes"/,
    );
  });
});
