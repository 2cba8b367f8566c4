import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { onnx } from "onnx-proto";
import { lastLogitsModel } from "../../src/core/onnx/decoder/last-logits-graph";
import { KvCacheDecoder } from "../../src/core/onnx/decoder/kv-cache-decoder";
import { loadLlm } from "../../src/core/llm/engines/onnx/loader";
import { localLoadContext } from "../../src/core/registry";
import { randomDecoderOnlyWeights, writeDecoderOnlyModel, type DecoderOnlyConfig } from "../../src/core/onnx-builder/transformer";
import { fixtureDir } from "../helpers/fixtures";
import { SMALL_DECODER, openRewritten } from "./decoder-support";

const config: DecoderOnlyConfig = SMALL_DECODER;

const matMulNBits = (bytes: Uint8Array) => (onnx.ModelProto.decode(bytes).graph!.node ?? []).filter((n) => n.opType === "MatMulNBits").length;

async function logitsAlong(file: string, options: Parameters<typeof lastLogitsModel>[1]): Promise<{ rows: Float32Array[]; nodes: number }> {
  const model = lastLogitsModel(file, options);
  assert.ok(model);
  const session = await openRewritten(model);
  const decoder = new KvCacheDecoder(session, config);
  try {
    const rows = [(await decoder.prefill([3, 14, 15, 92, 65]).then((r) => r.slice()))];
    for (const id of [35, 89, 79, 32]) rows.push((await decoder.step(id)).slice());
    return { rows, nodes: matMulNBits(model.bytes) };
  } finally {
    decoder.dispose();
    await session.release();
  }
}

describe("fused sibling 4-bit MatMuls (q/k/v and gate/up, one MatMulNBits each)", function () {
  this.timeout(60_000);
  let dir: string;
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "fuse-matmuls-"))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  for (const level of [0, 4]) {
    it(`accuracy level ${level}: 7 MatMulNBits a layer become 4, and the logits are bit for bit the same`, async () => {
      const file = writeDecoderOnlyModel(path.join(dir, `q4-${level}`), config, randomDecoderOnlyWeights(config, 3), { weightFormat: "q4" });
      const plain = await logitsAlong(file, { matMulNBitsAccuracyLevel: level });
      const fused = await logitsAlong(file, { matMulNBitsAccuracyLevel: level, fuseSiblingMatMuls: true });
      assert.equal(plain.nodes, 7 * config.numLayers + 1);
      assert.equal(fused.nodes, 4 * config.numLayers + 1, "q/k/v → 1, o, gate/up → 1, down; the lm_head alone");
      fused.rows.forEach((row, i) => assert.deepEqual(row, plain.rows[i], `position ${i}`));
    });
  }

  it("leaves float MatMuls alone", async () => {
    const file = writeDecoderOnlyModel(path.join(dir, "fp32"), config, randomDecoderOnlyWeights(config, 3));
    const model = lastLogitsModel(file, { fuseSiblingMatMuls: true });
    const matMuls = (onnx.ModelProto.decode(model!.bytes).graph!.node ?? []).filter((n) => n.opType === "MatMul" && !n.input![1].includes("Transpose")).length;
    assert.ok(matMuls >= 7 * config.numLayers, `${matMuls} MatMuls`);
  });

  it("fuse_matmuls must be true or false (an error naming the model, not a silent fallback)", async () => {
    await assert.rejects(
      loadLlm(localLoadContext("llm", { enginesPath: await fixtureDir("tiny-llm"), config: { fuse_matmuls: "no", worker_thread: false } })),
      /fuse_matmuls must be true or false, got "no"/,
    );
  });
});
