import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import * as ort from "onnxruntime-node";
import { onnx } from "onnx-proto";
import { lastValueFrom, toArray } from "rxjs";
import { fixtureDir } from "../helpers/fixtures";
import { lastLogitsModel, type LastLogitsModel } from "../../src/core/onnx/decoder/last-logits-graph";
import { fuseRmsNorms } from "../../src/core/onnx/decoder/fuse-rms-norms";
import { sessionOptions } from "../../src/core/onnx/session-factory";
import { KvCacheDecoder } from "../../src/core/onnx/decoder/kv-cache-decoder";
import { readModelShape } from "../../src/core/onnx/decoder/model-config";
import { loadLlm } from "../../src/core/llm/engines/onnx/loader";
import type { OnnxLlmEngine } from "../../src/core/llm/engines/onnx/onnx-llm-engine";
import { localLoadContext } from "../../src/core/registry";
import { loadTts } from "../../src/core/tts/loader";
import { stepDecodersAlike } from "./decoder-support";

async function open(model: LastLogitsModel): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(model.bytes, {
    ...sessionOptions(["cpu"], {}),
    extra: { session: { model_external_initializers_file_folder_path: model.externalDataFolder } },
  });
}

const opCount = (bytes: Uint8Array, op: string) => onnx.ModelProto.decode(bytes).graph!.node!.filter((n) => n.opType === op).length;

const T = onnx.TensorProto.DataType;
const floatInit = (name: string, values: number[], dims: number[]) => onnx.TensorProto.create({ name, dataType: T.FLOAT, dims, floatData: values });

/** x [1, 4] → an exporter-style RMSNorm (Pow, Div) → y, and optionally a second reader of its mean. */
function exporterNorm(extraReader: boolean): onnx.ModelProto {
  const node = (opType: string, input: string[], output: string, attribute: onnx.IAttributeProto[] = []) => onnx.NodeProto.create({ opType, input, output: [output], attribute });
  const nodes = [
    node("Pow", ["x", "two"], "sq"),
    node("ReduceMean", ["sq"], "mean", [onnx.AttributeProto.create({ name: "axes", type: onnx.AttributeProto.AttributeType.INTS, ints: [-1] })]),
    node("Add", ["mean", "eps"], "var"),
    node("Sqrt", ["var"], "rms"),
    node("Div", ["x", "rms"], "normed"),
    node("Mul", ["w", "normed"], "y"),
  ];
  const outputs = ["y"];
  if (extraReader) {
    nodes.push(node("Identity", ["mean"], "mean_out"));
    outputs.push("mean_out");
  }
  const info = (name: string, dims: number[]) => onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType: T.FLOAT, shape: { dim: dims.map((d) => ({ dimValue: d })) } } } });
  return onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: "", version: 17 }],
    graph: {
      name: "norm",
      node: nodes,
      initializer: [floatInit("two", [2], []), floatInit("eps", [1e-5], []), floatInit("w", [0.5, 1, 1.5, 2], [4])],
      input: [info("x", [1, 4])],
      output: outputs.map((o) => info(o, o === "y" ? [1, 4] : [1, 1])),
    },
  });
}

describe("RMSNorms fused into SimplifiedLayerNormalization", function () {
  this.timeout(60_000);

  for (const file of ["model.onnx", "model_q4.onnx"]) {
    it(`tiny-llm ${file}: every norm (input, post-attention, q and k per head, final) becomes one node, ε constants gone, and a prompt and 40 steps give the file's logits`, async () => {
      const dir = await fixtureDir("tiny-llm");
      const shape = readModelShape(JSON.parse(fs.readFileSync(path.join(dir, "config.json"), "utf8")));
      const onnxFile = path.join(dir, "onnx", file);
      const options = { appendOnlyCache: true, appendOnlyLayout: "heads" as const, pastInPlaceAttention: true, topLogits: true };
      const plain = lastLogitsModel(onnxFile, options)!;
      const fused = lastLogitsModel(onnxFile, { ...options, fuseRmsNorms: true })!;
      assert.equal(plain.rmsNorms, 0, "not asked");
      const norms = opCount(plain.bytes, "ReduceMean");
      assert.equal(norms, 4 * shape.numLayers + 1);
      assert.equal(fused.rmsNorms, norms);
      assert.equal(opCount(fused.bytes, "SimplifiedLayerNormalization"), norms);
      for (const op of ["ReduceMean", "Sqrt", "Reciprocal"]) assert.equal(opCount(fused.bytes, op), 0, op);
      const graph = onnx.ModelProto.decode(fused.bytes).graph!;
      const read = new Set(graph.node!.flatMap((n) => n.input ?? []));
      assert.deepEqual(graph.initializer!.filter((t) => !read.has(t.name ?? "")).map((t) => t.name), [], "no initializer left unread");
      const a = await open(plain);
      const b = await open(fused);
      try {
        const da = new KvCacheDecoder(a, shape);
        const db = new KvCacheDecoder(b, shape);
        const prompt = [5, 17, 42, 99, 3, 8, 21, 34];
        await stepDecodersAlike(da, db, await da.prefill(prompt), await db.prefill(prompt), 40, file.includes("q4") ? 1e-4 : 1e-5);
        da.dispose();
        db.dispose();
      } finally {
        await a.release();
        await b.release();
      }
    });
  }

  it("fuses the exporters' spelling too (Pow, Div, the weight first) and leaves a norm alone when a step of it has another reader", async () => {
    const model = exporterNorm(false);
    assert.equal(fuseRmsNorms(model.graph!), 1);
    assert.deepEqual(model.graph!.node!.map((n) => n.opType), ["SimplifiedLayerNormalization"]);
    assert.deepEqual(model.graph!.initializer!.map((t) => t.name), ["w"]);
    const x = new ort.Tensor("float32", Float32Array.from([1, -2, 3, 0.5]), [1, 4]);
    const run = async (m: onnx.ModelProto) => {
      const session = await ort.InferenceSession.create(onnx.ModelProto.encode(m).finish());
      try {
        return (await session.run({ x })).y.data as Float32Array;
      } finally {
        await session.release();
      }
    };
    const expected = await run(exporterNorm(false));
    const got = await run(model);
    got.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) <= 1e-6, `${i}: ${v} against ${expected[i]}`));

    const shared = exporterNorm(true);
    const before = onnx.ModelProto.encode(shared).finish();
    assert.equal(fuseRmsNorms(shared.graph!), 0);
    assert.deepEqual(onnx.ModelProto.encode(shared).finish(), before, "not a byte changed");
  });

  it("the codec TTS's speech LM fuses them by default, the LLM only with fuse_rms_norms: true (same greedy text either way); a bad value names the key", async () => {
    const graphsOf = async (kind: "llm" | "tts", dir: string, config: Record<string, unknown>) => {
      const graphs: Uint8Array[] = [];
      const ctx = localLoadContext(kind, { enginesPath: dir, config: { worker_thread: false, ...config } });
      const create = ctx.createSession.bind(ctx);
      ctx.createSession = async (file, rewritten) => {
        if (rewritten) graphs.push(rewritten.bytes);
        return create(file, rewritten);
      };
      const engine = kind === "llm" ? ((await loadLlm(ctx)) as OnnxLlmEngine) : await loadTts(ctx);
      return { engine, fused: graphs.map((g) => opCount(g, "SimplifiedLayerNormalization")) };
    };
    const llmDir = await fixtureDir("tiny-llm");
    const text = async (engine: OnnxLlmEngine) =>
      (await lastValueFrom(engine.generate({ prompt: "The weather today", raw: true, temperature: 0, max_new_tokens: 40, ignore_eos: true }).pipe(toArray())))
        .map((c) => c.delta ?? "")
        .join("");
    const byDefault = await graphsOf("llm", llmDir, { prefix_cache_mb: 0 });
    const on = await graphsOf("llm", llmDir, { prefix_cache_mb: 0, fuse_rms_norms: true });
    const codec = await graphsOf("tts", await fixtureDir("tiny-codec-tts"), {});
    const codecOff = await graphsOf("tts", await fixtureDir("tiny-codec-tts"), { fuse_rms_norms: false });
    try {
      assert.deepEqual(byDefault.fused, [0], "the LLM keeps the file's norms by default");
      assert.ok(on.fused.length === 1 && on.fused[0] > 0);
      assert.equal(await text(byDefault.engine as OnnxLlmEngine), await text(on.engine as OnnxLlmEngine));
      assert.ok(codec.fused.length > 0 && codec.fused.every((n) => n > 0), `codec sessions: ${codec.fused}`);
      assert.ok(codecOff.fused.every((n) => n === 0));
    } finally {
      for (const loaded of [byDefault, on, codec, codecOff]) await loaded.engine.dispose();
    }
    await assert.rejects(graphsOf("llm", llmDir, { fuse_rms_norms: 1 }), (err: Error) => err.message === `the config of model ${llmDir}: fuse_rms_norms must be true or false, got 1`);
});
});
