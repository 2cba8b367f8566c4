import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as ort from "onnxruntime-node";
import { DataType, GraphBuilder } from "../../src/core/onnx-builder/graph";

describe("onnx-builder GraphBuilder", () => {
  it("writes a model onnxruntime runs, with constants and attributes", async () => {
    const g = new GraphBuilder("affine");
    g.input("x", DataType.FLOAT, ["n", 2]);
    const w = g.constFloat([1, 2, 3, 4], [2, 2]);
    const y = g.op("MatMul", ["x", w]);
    const s = g.op("Softmax", [y], { axis: -1 });
    g.output("y", DataType.FLOAT, ["n", 2], s);
    const session = await ort.InferenceSession.create(g.toBytes());
    const out = await session.run({ x: new ort.Tensor("float32", Float32Array.from([1, 0, 0, 1]), [2, 2]) });
    const data = out.y.data as Float32Array;
    // row 0 = softmax([1, 2]), row 1 = softmax([3, 4])
    const e = Math.exp(1);
    assert.ok(Math.abs(data[0] - 1 / (1 + e)) < 1e-6);
    assert.ok(Math.abs(data[3] - e / (1 + e)) < 1e-6);
    assert.deepEqual(session.inputNames, ["x"]);
    assert.deepEqual(session.outputNames, ["y"]);
  });

  it("moves large initializers to external data that onnxruntime reads back", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vs-builder-"));
    const g = new GraphBuilder("ext");
    g.input("x", DataType.FLOAT, [4]);
    const big = Float32Array.from({ length: 4 }, (_, i) => i + 1);
    const b = g.initializer("bias", big, [4]);
    g.output("y", DataType.FLOAT, [4], g.op("Add", ["x", b]));
    const file = path.join(dir, "model.onnx");
    g.save(file, { externalDataThreshold: 8 });
    assert.ok(fs.existsSync(`${file}_data`), "external data file written");
    const session = await ort.InferenceSession.create(file);
    const out = await session.run({ x: new ort.Tensor("float32", new Float32Array(4), [4]) });
    assert.deepEqual(Array.from(out.y.data as Float32Array), [1, 2, 3, 4]);
  });
});
