import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as ort from "onnxruntime-node";
import { fixtureDir } from "../helpers/fixtures";
import { onnx } from "onnx-proto";
import { CPU_DEFAULT_Q4_ACCURACY_LEVEL } from "../../src/core/onnx/decoder/decoder-session";
import { lastLogitsModel } from "../../src/core/onnx/decoder/last-logits-graph";
import { loadLlm } from "../../src/core/llm/engines/onnx/loader";
import { localLoadContext } from "../../src/core/registry";
import { DataType, GraphBuilder } from "../../src/core/onnx-builder/graph";
import {
  randomDecoderOnlyWeights,
  writeDecoderOnlyModel,
  type DecoderOnlyConfig,
} from "../../src/core/onnx-builder/transformer";
import { SMALL_DECODER, openRewritten } from "./decoder-support";

const config: DecoderOnlyConfig = SMALL_DECODER;

function prefillFeeds(ids: number[], c: DecoderOnlyConfig): Record<string, ort.Tensor> {
  const n = ids.length;
  const feeds: Record<string, ort.Tensor> = {
    input_ids: new ort.Tensor("int64", BigInt64Array.from(ids, BigInt), [1, n]),
    attention_mask: new ort.Tensor("int64", new BigInt64Array(n).fill(1n), [1, n]),
    position_ids: new ort.Tensor("int64", BigInt64Array.from(ids, (_, i) => BigInt(i)), [1, n]),
  };
  for (let i = 0; i < c.numLayers; i++) {
    for (const kind of ["key", "value"]) {
      feeds[`past_key_values.${i}.${kind}`] = new ort.Tensor("float32", new Float32Array(0), [1, c.numKvHeads, 0, c.headDim]);
    }
  }
  return feeds;
}

const openLastLogits = (file: string) => {
  const model = lastLogitsModel(file);
  assert.ok(model, "the decoder graph is recognised");
  return openRewritten(model);
};

const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

describe("llm last-position logits graph", () => {
  let tmp: string;
  before(() => (tmp = fs.mkdtempSync(path.join(os.tmpdir(), "last-logits-"))));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  const cases: { name: string; weightFormat: "fp32" | "q4"; externalDataAbove?: number; tolerance: number }[] = [
    { name: "fp32, weights inline", weightFormat: "fp32", tolerance: 0 },
    // A 1-byte threshold puts every initializer in model.onnx_data, as big hub exports do.
    { name: "fp32, weights as external data", weightFormat: "fp32", externalDataAbove: 1, tolerance: 0 },
    // MatMulNBits picks another kernel for one row than for seven: rounding differs slightly.
    { name: "4-bit MatMulNBits", weightFormat: "q4", tolerance: 1e-4 },
  ];
  for (const c of cases) {
    it(`${c.name}: logits [1, 1, vocab] equal the original's last row; present caches identical`, async () => {
      const dir = path.join(tmp, c.name.replace(/\W+/g, "-"));
      const file = writeDecoderOnlyModel(dir, config, randomDecoderOnlyWeights(config, 7, { embeddingStd: 0.5 }), {
        weightFormat: c.weightFormat,
        externalDataAbove: c.externalDataAbove,
      });
      if (c.externalDataAbove) assert.ok(fs.existsSync(`${file}_data`), "the fixture really uses external data");
      const original = await ort.InferenceSession.create(file);
      const rewritten = await openLastLogits(file);
      try {
        const ids = [5, 17, 42, 99, 3, 250, 7];
        const a = await original.run(prefillFeeds(ids, config));
        const b = await rewritten.run(prefillFeeds(ids, config));
        assert.deepEqual(a.logits.dims, [1, ids.length, config.vocabSize]);
        assert.deepEqual(b.logits.dims, [1, 1, config.vocabSize]);
        const lastRow = (a.logits.data as Float32Array).subarray((ids.length - 1) * config.vocabSize);
        assert.ok(maxDiff(lastRow, b.logits.data as Float32Array) <= c.tolerance, `max |Δ| ${maxDiff(lastRow, b.logits.data as Float32Array)}`);
        for (let i = 0; i < config.numLayers; i++) {
          for (const kind of ["key", "value"]) {
            const name = `present.${i}.${kind}`;
            assert.deepEqual(b[name].dims, a[name].dims);
            assert.equal(maxDiff(a[name].data as Float32Array, b[name].data as Float32Array), 0, name);
          }
        }
      } finally {
        await original.release();
        await rewritten.release();
      }
    });
  }

  it("reads the graph without the weights: the rewrite is small beside the file", async () => {
    const file = path.join(await fixtureDir("tiny-llm"), "onnx", "model_q4.onnx");
    const model = lastLogitsModel(file)!;
    assert.ok(model.bytes.byteLength < fs.statSync(file).size / 2, `${model.bytes.byteLength} vs ${fs.statSync(file).size}`);
    assert.equal(model.externalDataFolder, path.dirname(file));
  });

  it("opt-in accuracy level: every MatMulNBits gets it; int8 activations keep the logits close to the float ones", async () => {
    const dir = path.join(tmp, "accuracy");
    const file = writeDecoderOnlyModel(dir, config, randomDecoderOnlyWeights(config, 11, { embeddingStd: 0.5 }), { weightFormat: "q4" });
    const plain = lastLogitsModel(file)!;
    const int8 = lastLogitsModel(file, { matMulNBitsAccuracyLevel: 4 })!;
    const nodes = onnx.ModelProto.decode(int8.bytes).graph!.node!.filter((n) => n.opType === "MatMulNBits");
    assert.ok(nodes.length >= 7 * config.numLayers);
    for (const n of nodes) assert.equal(Number(n.attribute!.find((a) => a.name === "accuracy_level")?.i), 4, n.name!);
    const a = await openRewritten(plain);
    const b = await openRewritten(int8);
    try {
      const ids = [5, 17, 42, 99];
      const la = (await a.run(prefillFeeds(ids, config))).logits.data as Float32Array;
      const lb = (await b.run(prefillFeeds(ids, config))).logits.data as Float32Array;
      const scale = la.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      const diff = maxDiff(la, lb);
      assert.ok(diff > 0, "int8 activations do change the numbers (the option is real)");
      assert.ok(diff < 0.1 * scale, `max |Δ| ${diff} against logit scale ${scale}`);
    } finally {
      await a.release();
      await b.release();
    }
  });

  it("loadLlm rejects a bad config.q4_accuracy_level with a message saying what to use", async () => {
    const dir = await fixtureDir("tiny-llm");
    await assert.rejects(loadLlm(localLoadContext("llm", { enginesPath: dir, config: { dtype: "q4", q4_accuracy_level: 9 } })), /q4_accuracy_level must be a whole number from 0 to 4/);
    const engine = await loadLlm(localLoadContext("llm", { enginesPath: dir, config: { dtype: "q4", q4_accuracy_level: 4 } }));
    await engine.dispose();
  });

  it("a q4 model on the CPU gets int8 activations (level 4) by default; q4_accuracy_level 0 is the exact path", async () => {
    const dir = await fixtureDir("tiny-llm");
    const levelsWith = async (config: Record<string, unknown>) => {
      // In this thread, so the wrapper sees the rewritten graph.
      const ctx = localLoadContext("llm", { enginesPath: dir, config: { dtype: "q4", worker_thread: false, ...config } });
      let levels: number[] | undefined;
      const create = ctx.createSession.bind(ctx);
      ctx.createSession = async (file, rewritten) => {
        levels = rewritten
          ? onnx.ModelProto.decode(rewritten.bytes).graph!.node!.filter((n) => n.opType === "MatMulNBits").map((n) => Number(n.attribute!.find((a) => a.name === "accuracy_level")?.i ?? -1))
          : undefined;
        return create(file, rewritten);
      };
      const engine = await loadLlm(ctx);
      await engine.dispose();
      return levels;
    };
    const byDefault = await levelsWith({});
    assert.ok(byDefault && byDefault.length > 0 && byDefault.every((l) => l === CPU_DEFAULT_Q4_ACCURACY_LEVEL), `default levels ${byDefault}`);
    assert.equal(CPU_DEFAULT_Q4_ACCURACY_LEVEL, 4);
    const exact = await levelsWith({ q4_accuracy_level: 0 });
    assert.ok(exact && exact.length > 0 && exact.every((l) => l === 0), `exact levels ${exact}`);
  });

  it("leaves graphs whose logits do not come from a MatMul alone (undefined: load the file as it is)", () => {
    const g = new GraphBuilder("not_a_decoder");
    g.input("x", DataType.FLOAT, [1, "s", 4]);
    g.output("logits", DataType.FLOAT, [1, "s", 4], g.op("Add", ["x", "x"]));
    const file = path.join(tmp, "add.onnx");
    g.save(file);
    assert.equal(lastLogitsModel(file), undefined);
  });

  it("leaves graphs where the hidden state also feeds another node", () => {
    const g = new GraphBuilder("shared_hidden");
    g.input("x", DataType.FLOAT, [1, "s", 4]);
    const w = g.initializer("w", new Float32Array(16).fill(0.5), [4, 4]);
    g.output("logits", DataType.FLOAT, [1, "s", 4], g.op("MatMul", ["x", w]));
    g.output("echo", DataType.FLOAT, [1, "s", 4], g.op("Relu", ["x"]));
    const file = path.join(tmp, "shared.onnx");
    g.save(file);
    assert.equal(lastLogitsModel(file), undefined);
  });
});
