import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import * as ort from "onnxruntime-node";
import { onnx } from "onnx-proto";
import { fixtureDir } from "../helpers/fixtures";
import { lastLogitsModel } from "../../src/core/onnx/decoder/last-logits-graph";
import { KvCacheDecoder } from "../../src/core/onnx/decoder/kv-cache-decoder";
import { readModelShape } from "../../src/core/onnx/decoder/model-config";
import { NEW_CACHE_PREFIX, NEW_HEADS_PREFIX, type AppendOnlyLayout } from "../../src/core/onnx/decoder/append-only-cache";
import { loadEngine } from "./llm-support";
import { openRewritten, stepDecodersAlike } from "./decoder-support";
import { loadLlm } from "../../src/core/llm/engines/onnx/loader";
import { localLoadContext } from "../../src/core/registry";

describe("llm append-only KV cache (new rows only; position-major, or heads-major with masked spare positions)", () => {
  const prefixOf: Record<AppendOnlyLayout, string> = { positions: NEW_CACHE_PREFIX, heads: NEW_HEADS_PREFIX };
  for (const [file, layout] of [["model.onnx", "positions"], ["model_q4.onnx", "positions"], ["model.onnx", "heads"], ["model_q4.onnx", "heads"]] as const) {
    it(`tiny-llm ${file}, ${layout} layout: prefill + 70 steps (past several buffer growths) give the same logits as the file's own cache layout`, async () => {
      const dir = await fixtureDir("tiny-llm");
      const shape = readModelShape(JSON.parse(fs.readFileSync(path.join(dir, "config.json"), "utf8")));
      const onnxFile = path.join(dir, "onnx", file);
      const rewritten = lastLogitsModel(onnxFile, { appendOnlyCache: true, appendOnlyLayout: layout })!;
      const appendOnly = await openRewritten(rewritten);
      const plain = await ort.InferenceSession.create(onnxFile);
      try {
        assert.ok(appendOnly.outputNames.includes(`${prefixOf[layout]}0.key`), appendOnly.outputNames.join(", "));
        assert.ok(!appendOnly.outputNames.some((n) => n.startsWith("present.")), "the whole-cache outputs are gone");
        const a = new KvCacheDecoder(plain, shape);
        const b = new KvCacheDecoder(appendOnly, shape);
        const la = await a.prefill([5, 17, 42, 99, 3]);
        const lb = await b.prefill([5, 17, 42, 99, 3]);
        // The heads layout also sums the masked spare positions (weight 0) and puts the new key after them:
        // the same numbers added in another order.
        await stepDecodersAlike(a, b, la, lb, 70, file.includes("q4") ? 1e-4 : layout === "heads" ? 1e-5 : 1e-6);
        assert.equal(b.length, a.length);
        a.dispose();
        b.dispose();
      } finally {
        await plain.release();
        await appendOnly.release();
      }
    });
  }

  it("config.append_only_cache must be true or false: another value is an error naming the model, not silently the size rule", async () => {
    const dir = await fixtureDir("tiny-llm");
    await assert.rejects(
      loadLlm(localLoadContext("llm", { enginesPath: dir, config: { append_only_cache: "yes", worker_thread: false } })),
      (err: Error) => err.message === `the config of model ${dir}: append_only_cache must be true or false, got "yes"`,
    );
  });

  it("heads layout: the graph has no Transpose of the cache, and a snapshot seeds another decoder that goes on exactly alike", async () => {
    const dir = await fixtureDir("tiny-llm");
    const shape = readModelShape(JSON.parse(fs.readFileSync(path.join(dir, "config.json"), "utf8")));
    const onnxFile = path.join(dir, "onnx", "model.onnx");
    const positionsGraph = lastLogitsModel(onnxFile, { appendOnlyCache: true, appendOnlyLayout: "positions" })!;
    const headsGraph = lastLogitsModel(onnxFile, { appendOnlyCache: true, appendOnlyLayout: "heads" })!;
    const transposes = (bytes: Uint8Array) => onnx.ModelProto.decode(bytes).graph!.node!.filter((n) => n.opType === "Transpose").length;
    assert.equal(transposes(positionsGraph.bytes) - transposes(headsGraph.bytes), 4 * shape.numLayers, "two per cache input gone");
    const session = await openRewritten(headsGraph);
    try {
      const a = new KvCacheDecoder(session, shape);
      await a.prefill([5, 17, 42, 99, 3]);
      for (let step = 0; step < 40; step++) await a.step((step * 13 + 7) % 200);
      const snapshot = a.snapshot(30);
      assert.equal(snapshot.appendOnly, false, "heads-major arrays, as the prefix cache's other snapshots");
      const b = new KvCacheDecoder(session, shape);
      b.seed(snapshot);
      // Both go on from position 30 with the same ids: a replays them after its own reset + seed.
      a.reset();
      a.seed(snapshot);
      const ids = [8, 9, 10, 11, 12, 13, 14, 15, 16, 17];
      let la = await a.prefill(ids.slice(0, 4));
      let lb = await b.prefill(ids.slice(0, 4));
      for (const id of ids.slice(4)) {
        assert.deepEqual(la, lb);
        la = await a.step(id);
        lb = await b.step(id);
      }
      assert.deepEqual(la, lb);
      assert.equal(a.length, 40);
      // A fresh sequence on the same decoder starts from nothing (no masked leftovers of the last one).
      const c = new KvCacheDecoder(session, shape);
      a.reset();
      assert.deepEqual(await a.prefill([5, 17, 42]), await c.prefill([5, 17, 42]));
      a.dispose();
      b.dispose();
      c.dispose();
    } finally {
      await session.release();
    }
  });

  it("the loader uses it on request (config.append_only_cache) and the greedy text matches the file's own layout", async () => {
    const dir = await fixtureDir("tiny-llm");
    let outputs: readonly string[] = [];
    let engineOutputs: readonly string[] = [];
    const engine = await (async () => {
      // In this thread, so the wrapper sees the session.
      const ctx = localLoadContext("llm", { enginesPath: dir, config: { worker_thread: false } });
      const create = ctx.createSession.bind(ctx);
      ctx.createSession = async (file, rewritten) => {
        const session = await create(file, rewritten);
        engineOutputs = session.outputNames;
        return session;
      };
      return loadLlm(ctx);
    })();
    const plainEngine = await loadEngine(dir, (s) => s);
    let positionsOutputs: readonly string[] = [];
    const forced = async (config: Record<string, unknown>, seen: (names: readonly string[]) => void) => {
      // tiny-llm's cache is too small for the loader to choose the append-only form itself: force it.
      const ctx = localLoadContext("llm", { enginesPath: dir, config: { append_only_cache: true, worker_thread: false, ...config } });
      const create = ctx.createSession.bind(ctx);
      ctx.createSession = async (file, rewritten) => {
        const session = await create(file, rewritten);
        seen(session.outputNames);
        return session;
      };
      return loadLlm(ctx);
    };
    const fromLoader = await forced({ heads_major_cache: true }, (names) => (outputs = names));
    // Without the past attended in place, the size rule keeps a cache this small position-major.
    const positionsEngine = await forced({ past_in_place_attention: false }, (names) => (positionsOutputs = names));
    try {
      assert.ok(outputs.some((n) => n.startsWith(NEW_HEADS_PREFIX)), `heads-major on request; session outputs: ${outputs.join(", ")}`);
      assert.ok(positionsOutputs.some((n) => n.startsWith(NEW_CACHE_PREFIX)), `a cache this small: position-major rows; session outputs: ${positionsOutputs.join(", ")}`);
      const text = async (e: typeof engine) =>
        new Promise<string>((resolve, reject) =>
          e.generate({ prompt: "The weather today", raw: true, temperature: 0, max_new_tokens: 40, ignore_eos: true }).subscribe({
            next: (c) => c.is_final && resolve(String(c.text)),
            error: reject,
          }),
        );
      const expected = await text(plainEngine);
      assert.equal(await text(fromLoader), expected);
      assert.equal(await text(positionsEngine), expected);
      assert.equal(await text(engine), expected);
      assert.ok(!engineOutputs.some((n) => n.startsWith(NEW_CACHE_PREFIX)), "by default a cache this small keeps the file's layout");
    } finally {
      await engine.dispose();
      await plainEngine.dispose();
      await fromLoader.dispose();
      await positionsEngine.dispose();
    }
  });

  it("config.heads_major_cache must be true or false (an error naming the model)", async () => {
    const dir = await fixtureDir("tiny-llm");
    await assert.rejects(
      loadLlm(localLoadContext("llm", { enginesPath: dir, config: { append_only_cache: true, heads_major_cache: 1, worker_thread: false } })),
      /heads_major_cache must be true or false, got 1/,
    );
  });
});
