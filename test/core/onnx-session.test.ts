import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as ort from "onnxruntime-node";
import { LocalModelSource } from "../../src/core/hub";
import { createLoadContext, createSessionFactory, selectVariant, sessionSettingsFor } from "../../src/core/onnx";
import { DataType, GraphBuilder } from "../../src/core/onnx-builder/graph";

function tinyModel(file: string, scale = 2): void {
  const g = new GraphBuilder("scale");
  g.input("x", DataType.FLOAT, [3]);
  g.output("y", DataType.FLOAT, [3], g.op("Mul", ["x", g.constFloat([scale, scale, scale], [3])]));
  fs.mkdirSync(path.dirname(file), { recursive: true });
  g.save(file);
}

async function run(session: ort.InferenceSession): Promise<number[]> {
  const out = await session.run({ x: new ort.Tensor("float32", Float32Array.from([1, 2, 3]), [3]) });
  return Array.from(out.y.data as Float32Array);
}

describe("onnx variants", () => {
  const files = ["config.json", "onnx/model.onnx", "onnx/model_fp16.onnx", "onnx/model_q4.onnx", "onnx/model_quantized.onnx", "onnx/model_q4f16.onnx"];

  it("maps dtypes to the hub's file names", () => {
    assert.equal(selectVariant(files, "model", "fp32"), "onnx/model.onnx");
    assert.equal(selectVariant(files, "model", "fp16"), "onnx/model_fp16.onnx");
    assert.equal(selectVariant(files, "model", "q4"), "onnx/model_q4.onnx");
    assert.equal(selectVariant(files, "model", "q4f16"), "onnx/model_q4f16.onnx");
    assert.equal(selectVariant(files, "model", "quantized"), "onnx/model_quantized.onnx");
    assert.equal(selectVariant(["onnx/model_int8.onnx"], "model", "int8"), "onnx/model_int8.onnx");
    assert.equal(selectVariant(["onnx/model_uint8.onnx"], "model", "uint8"), "onnx/model_uint8.onnx");
    assert.equal(selectVariant(["onnx/model_bnb4.onnx"], "model", "bnb4"), "onnx/model_bnb4.onnx");
    assert.equal(selectVariant(["encoder_model_q4.onnx"], "encoder_model", "q4", ""), "encoder_model_q4.onnx");
  });

  it("without a dtype prefers fp32, then the others", () => {
    assert.equal(selectVariant(files, "model", undefined), "onnx/model.onnx");
    assert.equal(selectVariant(["onnx/model_q4.onnx", "onnx/model_fp16.onnx"], "model", undefined), "onnx/model_fp16.onnx");
    assert.equal(selectVariant(["onnx/model_q4.onnx"], "model", undefined), "onnx/model_q4.onnx");
  });

  it("a missing variant is an error listing the variants present", () => {
    assert.throws(() => selectVariant(files, "model", "int8", "onnx", "me/repo"), /model 'me\/repo' has no onnx\/model_int8\.onnx \(variant 'int8'\); variants present for onnx\/model: fp32, fp16, q4, q4f16, quantized/);
    assert.throws(() => selectVariant(["tokenizer.json"], "model", undefined, "onnx", "me/repo"), /has no onnx\/model\.onnx/);
    assert.throws(() => selectVariant(files, "model", "q3"), /unknown ONNX variant \(dtype\) 'q3'; expected one of: fp32, fp16/);
  });
});

describe("onnx session factory", () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "vs-onnx-"));
    tinyModel(path.join(dir, "onnx", "model.onnx"), 2);
    tinyModel(path.join(dir, "onnx", "model_q4.onnx"), 4);
  });

  it("loads the variant the dtype selects, on cpu", async () => {
    const source = new LocalModelSource(dir);
    const ctx = createLoadContext({ enginesPath: dir, config: { dtype: "q4" } }, source);
    const session = await ctx.createSession(await ctx.onnxFile("model"));
    assert.deepEqual(await run(session), [4, 8, 12]);
    await session.release();
    const plain = createLoadContext({ enginesPath: dir }, source);
    const fp32 = await plain.createSession(await plain.onnxFile("model"));
    assert.deepEqual(await run(fp32), [2, 4, 6]);
    await fp32.release();
    await assert.rejects(createLoadContext({ enginesPath: dir, config: { dtype: "fp16" } }, source).onnxFile("model"), /variants present for onnx\/model: fp32, q4/);
  });

  it("takes thread settings", async () => {
    const create = createSessionFactory({ intraOpNumThreads: 1, interOpNumThreads: 1 });
    const session = await create(path.join(dir, "onnx", "model.onnx"));
    assert.deepEqual(await run(session), [2, 4, 6]);
    await session.release();
  });

  it("cuda falls back to cpu with a warning where it is not available", async function () {
    const backends = ort.listSupportedBackends?.() ?? [];
    if (backends.some((b) => b.name === "cuda" && b.bundled)) this.skip();
    const warnings: string[] = [];
    const create = createSessionFactory({ executionProviders: ["cuda"], warn: (m) => warnings.push(m) });
    const session = await create(path.join(dir, "onnx", "model.onnx"));
    assert.deepEqual(await run(session), [2, 4, 6]);
    await session.release();
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /execution provider cuda is not available here .*running on cpu/);
  });

  it("a missing file is an error naming it", async () => {
    await assert.rejects(createSessionFactory()(path.join(dir, "onnx", "nope.onnx")), /ONNX model file '.*nope\.onnx' does not exist; expected an \.onnx file/);
  });

  it("a truncated file is an error naming it and saying it may be truncated", async () => {
    const whole = fs.readFileSync(path.join(dir, "onnx", "model.onnx"));
    const file = path.join(dir, "truncated.onnx");
    fs.writeFileSync(file, whole.subarray(0, Math.floor(whole.length / 2)));
    await assert.rejects(createSessionFactory()(file), (err: Error) => {
      assert.match(err.message, /ONNX model file '.*truncated\.onnx' could not be loaded \(/);
      assert.match(err.message, /expected a complete ONNX model — it may be truncated or corrupt/);
      return true;
    });
  });

  it("garbage, an empty file and a Git LFS pointer are errors saying what was expected", async () => {
    const garbage = path.join(dir, "garbage.onnx");
    fs.writeFileSync(garbage, "<html><body>Bad gateway</body></html>");
    await assert.rejects(createSessionFactory()(garbage), /ONNX model file '.*garbage\.onnx' is not an ONNX model \(it does not start with an ONNX ModelProto header\)/);
    const random = path.join(dir, "random.onnx");
    fs.writeFileSync(random, Buffer.concat([Buffer.from([0x08, 0x07]), Buffer.from(Array.from({ length: 500 }, (_, i) => (i * 37 + 11) & 0xff))]));
    await assert.rejects(createSessionFactory()(random), /ONNX model file '.*random\.onnx' could not be loaded .* truncated or corrupt/);
    const empty = path.join(dir, "empty.onnx");
    fs.writeFileSync(empty, "");
    await assert.rejects(createSessionFactory()(empty), /'.*empty\.onnx' is empty \(0 bytes\); expected an ONNX model/);
    const pointer = path.join(dir, "pointer.onnx");
    fs.writeFileSync(pointer, "version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 123\n");
    await assert.rejects(createSessionFactory()(pointer), /is a Git LFS pointer, not the model/);
  });

  it("a spec's config carries the provider and thread counts; bad values are clear errors", () => {
    const s = sessionSettingsFor({ enginesPath: "x", config: { execution_provider: "cuda", intra_op_num_threads: 2, inter_op_num_threads: "1" } }, { intraOpNumThreads: 8 });
    assert.deepEqual(s.executionProviders, ["cuda"]);
    assert.equal(s.intraOpNumThreads, 2);
    assert.equal(s.interOpNumThreads, 1);
    assert.equal(sessionSettingsFor({ enginesPath: "x" }, { intraOpNumThreads: 8 }).intraOpNumThreads, 8);
    assert.throws(() => sessionSettingsFor({ enginesPath: "x", config: { execution_provider: "tpu" } }), /config\.execution_provider 'tpu' is not supported; expected cpu or cuda/);
    assert.throws(() => sessionSettingsFor({ enginesPath: "x", config: { intra_op_num_threads: 0 } }), /config\.intra_op_num_threads must be a whole number of threads \(1 or more\), got 0/);
  });
});
