import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ModelRegistry, loadModel, modelKey, type ModelState } from "../../src/core/registry";
import type { LoadContext, LoadedModel, ModelKind, VadEngine } from "../../src/core/types";
import { sharedDir } from "../helpers/paths";
import { startHubServer } from "../helpers/hub-server";

class FakeModel implements LoadedModel {
  disposed = 0;
  constructor(readonly kind: ModelKind, readonly ctx: LoadContext) {}
  async dispose(): Promise<void> {
    this.disposed += 1;
  }
}

function deferred<T = void>() {
  let resolve!: (v: T) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe("model registry", () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "vs-registry-"));
    fs.writeFileSync(path.join(dir, "config.json"), "{}");
  });

  function fakeRegistry(options: { gate?: Promise<void>; fail?: () => Error | undefined } = {}) {
    const loads: FakeModel[] = [];
    const loader = async (ctx: LoadContext) => {
      await options.gate;
      const err = options.fail?.();
      if (err) throw err;
      const model = new FakeModel("llm", ctx);
      loads.push(model);
      return model;
    };
    return { registry: new ModelRegistry({ loaders: { llm: loader } }), loads };
  }

  it("keys ignore config key order and blank values but not revision or config", () => {
    const a = modelKey("llm", { enginesPath: "x/y", config: { dtype: "q4", voice: "a" } });
    assert.equal(a, modelKey("llm", { enginesPath: "x/y", revision: "main", config: { voice: "a", dtype: "q4", engine: "" } }));
    assert.notEqual(a, modelKey("llm", { enginesPath: "x/y", revision: "v2", config: { dtype: "q4", voice: "a" } }));
    assert.notEqual(a, modelKey("llm", { enginesPath: "x/y", config: { dtype: "fp32", voice: "a" } }));
    assert.notEqual(a, modelKey("tts", { enginesPath: "x/y", config: { dtype: "q4", voice: "a" } }));
  });

  it("shares one instance per key by reference count; the last release disposes it", async () => {
    const { registry, loads } = fakeRegistry();
    const spec = { enginesPath: dir, config: { dtype: "q4" } };
    const a = registry.startModel("llm", spec);
    const b = registry.startModel("llm", { enginesPath: dir, revision: "main", config: { dtype: "q4" } });
    assert.equal(registry.refCount("llm", spec), 2);
    const [ma, mb] = await Promise.all([a.model, b.model]);
    assert.equal(ma, mb);
    assert.equal(loads.length, 1);
    assert.equal((ma as FakeModel).ctx.source.id, dir);
    assert.equal(a.state.phase, "ready");

    const other = registry.startModel("llm", { enginesPath: dir, config: { dtype: "fp16" } });
    assert.notEqual(await other.model, ma, "another config is another instance");

    await a.release();
    await a.release(); // idempotent
    assert.equal(registry.refCount("llm", spec), 1);
    assert.equal((ma as FakeModel).disposed, 0);
    await registry.stopModel(b);
    assert.equal(registry.refCount("llm", spec), 0);
    assert.equal((ma as FakeModel).disposed, 1);
    await other.release();
    assert.deepEqual(registry.keys(), []);

    const again = registry.startModel("llm", spec);
    assert.notEqual(await again.model, ma, "a fresh load after release to zero");
    assert.equal(loads.length, 3);
    await again.release();
  });

  it("concurrent starts share one load", async () => {
    const gate = deferred();
    const { registry, loads } = fakeRegistry({ gate: gate.promise });
    const leases = [1, 2, 3].map(() => registry.startModel("llm", { enginesPath: dir }));
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(leases[0].state.phase, "loading");
    gate.resolve();
    const models = await Promise.all(leases.map((l) => l.model));
    assert.equal(loads.length, 1);
    assert.ok(models.every((m) => m === models[0]));
    for (const l of leases) await l.release();
    assert.equal(loads[0].disposed, 1);
  });

  it("releasing to zero while loading disposes the model once the load ends", async () => {
    const gate = deferred();
    const { registry, loads } = fakeRegistry({ gate: gate.promise });
    const lease = registry.startModel("llm", { enginesPath: dir });
    const released = lease.release();
    assert.equal(registry.refCount("llm", { enginesPath: dir }), 0);
    gate.resolve();
    await released;
    assert.equal(loads[0].disposed, 1);
  });

  it("a load error rejects every holder, shows in the state, and the next start tries again", async () => {
    let failing = true;
    const { registry, loads } = fakeRegistry({ fail: () => (failing ? new Error("tokenizer.json is broken") : undefined) });
    const states: ModelState[] = [];
    const a = registry.startModel("llm", { enginesPath: dir });
    const b = registry.startModel("llm", { enginesPath: dir });
    a.state$.subscribe((s) => states.push(s));
    await assert.rejects(a.model, /tokenizer\.json is broken/);
    await assert.rejects(b.model, /tokenizer\.json is broken/);
    const last = states[states.length - 1];
    assert.equal(last.phase, "error");
    assert.match((last as { error: Error }).error.message, /tokenizer\.json is broken/);
    failing = false;
    const c = registry.startModel("llm", { enginesPath: dir });
    assert.ok((await c.model) instanceof FakeModel);
    assert.equal(loads.length, 1);
    await Promise.all([a.release(), b.release(), c.release()]);
    assert.equal(loads[0].disposed, 1);
  });

  it("a missing directory is a load error naming it", async () => {
    const { registry } = fakeRegistry();
    const lease = registry.startModel("llm", { enginesPath: "/no/such/dir" });
    await assert.rejects(lease.model, /model directory '\/no\/such\/dir' does not exist/);
    await lease.release();
  });

  it("an unknown kind is refused at once", () => {
    const { registry } = fakeRegistry();
    assert.throws(() => registry.startModel("video" as ModelKind, { enginesPath: dir }), /unknown model kind 'video'; expected llm, tts, asr or vad/);
  });

  it("loads the real Silero VAD from a hub repo: downloading progress, loading, ready", async () => {
    const repoDir = fs.mkdtempSync(path.join(os.tmpdir(), "vs-vad-repo-"));
    fs.copyFileSync(sharedDir("models", "silero-vad", "silero_vad_v5.onnx"), path.join(repoDir, "silero_vad_v5.onnx"));
    const server = await startHubServer({ repos: { "test/silero": repoDir } });
    try {
      const registry = new ModelRegistry({ cacheDir: fs.mkdtempSync(path.join(os.tmpdir(), "vs-vad-cache-")), hubUrl: server.url });
      const states: ModelState[] = [];
      const lease = registry.startModel<VadEngine>("vad", { enginesPath: "test/silero" });
      lease.state$.subscribe((s) => states.push(s));
      const model = await lease.model;
      assert.equal(model.kind, "vad");
      const phases = states.map((s) => s.phase);
      assert.equal(phases[0], "loading");
      assert.ok(phases.includes("downloading"), phases.join(","));
      assert.deepEqual(phases.slice(-2), ["loading", "ready"]);
      const downloads = states.filter((s): s is Extract<ModelState, { phase: "downloading" }> => s.phase === "downloading");
      assert.equal(downloads[downloads.length - 1].fraction, 1);
      await lease.release();
    } finally {
      await server.close();
    }
  });

  it("the espeak tts engine needs no files", async () => {
    const registry = new ModelRegistry();
    const lease = registry.startModel("tts", { enginesPath: "espeak" });
    const model = await lease.model;
    assert.equal(model.kind, "tts");
    await lease.release();
  });

  it("loadModel loads once without sharing (CLI use): the built-in VAD, and a local folder error", async () => {
    const vad = await loadModel("vad", { enginesPath: "silero" });
    assert.equal(vad.kind, "vad");
    await vad.dispose();
    await assert.rejects(loadModel("asr", { enginesPath: "/no/such/whisper" }), /model directory '\/no\/such\/whisper' does not exist/);
  });

  it("releasing a model while it downloads cancels the transfer, keeps the partial file, and a later start resumes it", async () => {
    const repoDir = fs.mkdtempSync(path.join(os.tmpdir(), "vs-vad-repo-"));
    fs.copyFileSync(sharedDir("models", "silero-vad", "silero_vad_v5.onnx"), path.join(repoDir, "silero_vad_v5.onnx"));
    const total = fs.statSync(path.join(repoDir, "silero_vad_v5.onnx")).size;
    const server = await startHubServer({ repos: { "test/silero": repoDir } });
    const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), "vs-vad-cache-"));
    const part = path.join(cacheDir, "test", "silero", "main", "silero_vad_v5.onnx.part");
    try {
      server.stallNext("silero_vad_v5.onnx", 500_000);
      const registry = new ModelRegistry({ cacheDir, hubUrl: server.url });
      const lease = registry.startModel("vad", { enginesPath: "test/silero" });
      const end = Date.now() + 10000;
      while (!(fs.existsSync(part) && fs.statSync(part).size === 500_000)) {
        if (Date.now() > end) throw new Error("the stalled transfer never wrote its first bytes");
        await new Promise((r) => setTimeout(r, 20));
      }
      await lease.release();
      await assert.rejects(lease.model, /download of 'silero_vad_v5\.onnx' of model 'test\/silero' was cancelled/);
      assert.equal(fs.statSync(part).size, 500_000, "partial file kept");
      assert.equal(fs.existsSync(part.replace(/\.part$/, "")), false);

      const again = registry.startModel("vad", { enginesPath: "test/silero" });
      assert.equal((await again.model).kind, "vad");
      assert.ok(server.requests.some((r) => r.range === `bytes=500000-${total - 1}`), "resumed with a Range request");
      await again.release();
    } finally {
      await server.close();
    }
  });
});
