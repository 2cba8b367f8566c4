import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import * as ort from "onnxruntime-node";
import { fixtureDir } from "../helpers/fixtures";
import { lastLogitsModel } from "../../src/core/onnx/decoder/last-logits-graph";
import { sessionOptions } from "../../src/core/onnx/session-factory";
import { KvCacheDecoder } from "../../src/core/onnx/decoder/kv-cache-decoder";
import { readModelShape } from "../../src/core/onnx/decoder/model-config";
import { NEW_CACHE_PREFIX } from "../../src/core/onnx/decoder/append-only-cache";
import { loadEngine } from "./llm-support";
import { loadLlm } from "../../src/core/llm/engines/onnx/loader";
import { localLoadContext } from "../../src/core/registry";

describe("llm append-only KV cache (position-major cache, new rows only)", () => {
  for (const file of ["model.onnx", "model_q4.onnx"]) {
    it(`tiny-llm ${file}: prefill + 70 steps (past the first buffer growth) give the same logits as the file's own cache layout`, async () => {
      const dir = await fixtureDir("tiny-llm");
      const shape = readModelShape(JSON.parse(fs.readFileSync(path.join(dir, "config.json"), "utf8")));
      const onnxFile = path.join(dir, "onnx", file);
      const rewritten = lastLogitsModel(onnxFile, { appendOnlyCache: true })!;
      const appendOnly = await ort.InferenceSession.create(rewritten.bytes, {
        ...sessionOptions(["cpu"], {}),
        extra: { session: { model_external_initializers_file_folder_path: rewritten.externalDataFolder } },
      });
      const plain = await ort.InferenceSession.create(onnxFile);
      try {
        assert.ok(appendOnly.outputNames.includes(`${NEW_CACHE_PREFIX}0.key`));
        assert.ok(!appendOnly.outputNames.some((n) => n.startsWith("present.")), "the whole-cache outputs are gone");
        const a = new KvCacheDecoder(plain, shape);
        const b = new KvCacheDecoder(appendOnly, shape);
        let la = await a.prefill([5, 17, 42, 99, 3]);
        let lb = await b.prefill([5, 17, 42, 99, 3]);
        // Past the decoder's first 64-position buffer too, so growth is exercised.
        for (let step = 0; step < 70; step++) {
          const tolerance = file.includes("q4") ? 1e-4 : 1e-6;
          const diff = la.reduce((m, v, i) => Math.max(m, Math.abs(v - lb[i])), 0);
          assert.ok(diff <= tolerance, `step ${step}: max |Δ| ${diff}`);
          const next = (step * 37 + 11) % la.length;
          la = await a.step(next);
          lb = await b.step(next);
        }
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
    const fromLoader = await (async () => {
      // tiny-llm's cache is too small for the loader to choose the append-only form itself: force it.
      const ctx = localLoadContext("llm", { enginesPath: dir, config: { append_only_cache: true, worker_thread: false } });
      const create = ctx.createSession.bind(ctx);
      ctx.createSession = async (file, rewritten) => {
        const session = await create(file, rewritten);
        outputs = session.outputNames;
        return session;
      };
      return loadLlm(ctx);
    })();
    try {
      assert.ok(outputs.some((n) => n.startsWith(NEW_CACHE_PREFIX)), `session outputs: ${outputs.join(", ")}`);
      const text = async (e: typeof engine) =>
        new Promise<string>((resolve, reject) =>
          e.generate({ prompt: "The weather today", raw: true, temperature: 0, max_new_tokens: 40, ignore_eos: true }).subscribe({
            next: (c) => c.is_final && resolve(String(c.text)),
            error: reject,
          }),
        );
      const expected = await text(plainEngine);
      assert.equal(await text(fromLoader), expected);
      assert.equal(await text(engine), expected);
      assert.ok(!engineOutputs.some((n) => n.startsWith(NEW_CACHE_PREFIX)), "by default a cache this small keeps the file's layout");
    } finally {
      await engine.dispose();
      await plainEngine.dispose();
      await fromLoader.dispose();
    }
  });
});
