import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { Node, NodeAPI, NodeDef, NodeStatus } from "node-red";
import { sharedRegistry } from "../../src/core/registry";
import type { LoadedModel, ModelKind } from "../../src/core/types";
import { attachModel } from "../../src/nodes/shared/model-client";
import { startHubServer } from "../helpers/hub-server";
import { repoRoot, sharedDir } from "../helpers/paths";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const helper = require("node-red-node-test-helper");
helper.init(require.resolve("node-red"));

const NODES = path.join(repoRoot(), "dist", "src", "nodes");
// eslint-disable-next-line @typescript-eslint/no-require-imports
const voiceModelNode = require(path.join(NODES, "voice-model.js"));

type Msg = Record<string, unknown>;

/**
 * A test-only node that uses a model the way the real nodes do: attachModel in the
 * constructor (recording every status from the start), get() on input, detach() on close.
 */
function modelUserNode(RED: NodeAPI) {
  function ModelUser(this: Node & { statuses: NodeStatus[] }, def: NodeDef & { model?: string; kind?: ModelKind }) {
    RED.nodes.createNode(this, def);
    const node = this;
    node.statuses = [];
    const setStatus = node.status.bind(node);
    node.status = (s: NodeStatus | string) => {
      node.statuses.push(s as NodeStatus);
      setStatus(s);
    };
    const handle = attachModel<LoadedModel>(RED, node, def.model, def.kind ?? "vad");
    node.on("input", (msg: Msg, send: (m: Msg) => void, done: (err?: Error) => void) => {
      handle.get().then(
        (model) => {
          send({ payload: model.kind, model });
          done();
        },
        (err: Error) => done(err),
      );
    });
    node.on("close", (_removed: boolean, done: () => void) => {
      handle.detach().then(() => done());
    });
  }
  RED.nodes.registerType("model-user", ModelUser as unknown as Parameters<NodeAPI["nodes"]["registerType"]>[1]);
}

function vadDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vs-node-vad-"));
  fs.copyFileSync(sharedDir("models", "silero-vad", "silero_vad_v5.onnx"), path.join(dir, "silero_vad_v5.onnx"));
  return dir;
}

function flow(models: Record<string, unknown>[], users: Record<string, unknown>[]) {
  return [
    { id: "tab", type: "tab", label: "voice-model test" },
    ...models.map((m) => ({ type: "voice-model", name: "", kind: "vad", revision: "main", config: "", ...m })),
    ...users.map((u, i) => ({ type: "model-user", z: "tab", x: 100, y: 100 + 60 * i, wires: [["out"]], ...u })),
    { id: "out", type: "helper", z: "tab", x: 300, y: 100, wires: [] },
  ];
}

async function until(check: () => boolean, what: string, ms = 20000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function statusesOf(id: string): NodeStatus[] {
  return helper.getNode(id).statuses as NodeStatus[];
}

function errorLogs(): string[] {
  const log = helper.log();
  return log.args.map((a: [{ level: number; msg: unknown }]) => a[0]).filter((e: { level: number }) => e.level === log.ERROR).map((e: { msg: unknown }) => String(e.msg));
}

describe("voice-model config node", function () {
  this.timeout(60000);
  const savedCache = process.env.VOICE_STREAM_CACHE;
  const savedEndpoint = process.env.HF_ENDPOINT;

  before((done) => {
    process.env.VOICE_STREAM_CACHE = fs.mkdtempSync(path.join(os.tmpdir(), "vs-node-cache-"));
    helper.startServer(done);
  });
  after((done) => {
    if (savedCache === undefined) delete process.env.VOICE_STREAM_CACHE;
    else process.env.VOICE_STREAM_CACHE = savedCache;
    if (savedEndpoint === undefined) delete process.env.HF_ENDPOINT;
    else process.env.HF_ENDPOINT = savedEndpoint;
    helper.stopServer(done);
  });
  afterEach(() => helper.unload());

  it("a local VAD folder: the dependent node goes loading → ready (green dot) and gets the real Silero model", async () => {
    const dir = vadDir();
    await helper.load([voiceModelNode, modelUserNode], flow([{ id: "m", kind: "vad", enginesPath: dir }], [{ id: "u", model: "m", kind: "vad" }]));
    await until(() => statusesOf("u").some((s) => s.text === "ready"), "ready");
    const statuses = statusesOf("u");
    assert.deepEqual(statuses[0], { fill: "yellow", shape: "ring", text: "loading" });
    assert.deepEqual(statuses[statuses.length - 1], { fill: "green", shape: "dot", text: "ready" });
    const out = helper.getNode("out");
    const got = new Promise<Msg>((resolve) => out.on("input", resolve));
    helper.getNode("u").receive({ payload: "go" });
    const msg = await got;
    assert.equal(msg.payload, "vad");
    assert.equal((msg.model as { constructor: { name: string } }).constructor.name, "SileroVadEngine");
  });

  it("two config nodes with the same spec share one instance; redeploying releases it (reference count back to zero)", async () => {
    const dir = vadDir();
    const spec = { enginesPath: dir, revision: "main", config: {} };
    await helper.load(
      [voiceModelNode, modelUserNode],
      flow([{ id: "m1", kind: "vad", enginesPath: dir }, { id: "m2", kind: "vad", enginesPath: dir }], [{ id: "u1", model: "m1" }, { id: "u2", model: "m2" }]),
    );
    await until(() => statusesOf("u1").some((s) => s.text === "ready") && statusesOf("u2").some((s) => s.text === "ready"), "both ready");
    assert.equal(sharedRegistry().refCount("vad", spec), 2);
    const models: unknown[] = [];
    const out = helper.getNode("out");
    const both = new Promise<void>((resolve) => out.on("input", (m: Msg) => models.push(m.model) === 2 && resolve()));
    helper.getNode("u1").receive({});
    helper.getNode("u2").receive({});
    await both;
    assert.equal(models[0], models[1], "one shared model");
    const model = models[0] as { dispose(): Promise<void> };
    let disposed = 0;
    const dispose = model.dispose.bind(model);
    model.dispose = async () => {
      disposed += 1;
      return dispose();
    };
    await helper.unload();
    assert.equal(sharedRegistry().refCount("vad", spec), 0);
    assert.equal(disposed, 1, "the model was disposed once");
  });

  it("a missing directory: red ring with the reason on the node, a node.error log line with the full reason, get() rejects", async () => {
    await helper.load([voiceModelNode, modelUserNode], flow([{ id: "m", name: "my vad", kind: "vad", enginesPath: "/no/such/vad-dir" }], [{ id: "u", model: "m" }]));
    await until(() => statusesOf("u").some((s) => s.fill === "red"), "red status");
    const red = statusesOf("u").find((s) => s.fill === "red")!;
    assert.equal(red.shape, "ring");
    // Short enough for the node (issue 19.3); the whole reason is in the error and the log line.
    assert.equal(red.text, "model folder not found");
    const logged = errorLogs().find((m) => m.includes("/no/such/vad-dir"));
    assert.ok(logged, "an error log line");
    assert.match(logged!, /model 'my vad' \(vad\) failed to load: model directory '\/no\/such\/vad-dir' does not exist; set the engines path to a Hugging Face repo id/);
    const user = helper.getNode("u");
    const failed = new Promise<Error>((resolve) => {
      const orig = user.error.bind(user);
      user.error = (err: Error | string, msg?: Msg) => {
        resolve(err instanceof Error ? err : new Error(String(err)));
        orig(err, msg);
      };
    });
    user.receive({});
    assert.match((await failed).message, /model directory '\/no\/such\/vad-dir' does not exist/);
    await helper.unload();
    assert.equal(sharedRegistry().refCount("vad", { enginesPath: "/no/such/vad-dir" }), 0);
  });

  it("no model set, or a model of another kind: a red ring that says what to choose", async () => {
    const dir = vadDir();
    await helper.load(
      [voiceModelNode, modelUserNode],
      flow([{ id: "m", name: "vad model", kind: "vad", enginesPath: dir }], [{ id: "u1", model: "", kind: "llm" }, { id: "u2", model: "m", kind: "llm" }]),
    );
    assert.deepEqual(statusesOf("u1")[0], { fill: "red", shape: "ring", text: "no llm model set" });
    assert.deepEqual(statusesOf("u2")[0], { fill: "red", shape: "ring", text: "needs a llm model, not vad" });
    const errors: string[] = [];
    for (const id of ["u1", "u2"]) {
      const user = helper.getNode(id);
      const failed = new Promise<void>((resolve) => {
        const orig = user.error.bind(user);
        user.error = (err: Error | string, msg?: Msg) => {
          errors.push(err instanceof Error ? err.message : String(err));
          orig(err, msg);
          resolve();
        };
      });
      user.receive({});
      await failed;
    }
    assert.match(errors[0], /no llm model set: open the node and choose \(or add\) a voice-model config node of kind llm/);
    assert.match(errors[1], /the model 'vad model' is a vad model, but this node needs a llm model; choose a voice-model of kind llm/);
  });

  it("bad extra config JSON is a red ring and an error log line", async () => {
    await helper.load([voiceModelNode, modelUserNode], flow([{ id: "m", kind: "vad", enginesPath: "silero", config: "{nope" }], [{ id: "u", model: "m" }]));
    assert.equal(statusesOf("u")[0].fill, "red");
    assert.match(String(statusesOf("u")[0].text), /extra config is not valid JSON/);
    assert.ok(errorLogs().some((m) => /extra config is not valid JSON/.test(m)));
  });

  it("a hub repo (local hub server via HF_ENDPOINT) shows downloading N% before loading and ready", async () => {
    const repoDir = vadDir();
    const server = await startHubServer({ repos: { "test-org/vad": repoDir } });
    process.env.HF_ENDPOINT = server.url;
    try {
      await helper.load([voiceModelNode, modelUserNode], flow([{ id: "m", kind: "vad", enginesPath: "test-org/vad" }], [{ id: "u", model: "m" }]));
      await until(() => statusesOf("u").some((s) => s.text === "ready"), "ready");
      const texts = statusesOf("u").map((s) => String(s.text));
      const downloading = texts.filter((t) => /^downloading \d+%$/.test(t));
      assert.ok(downloading.length >= 1, texts.join(" | "));
      assert.equal(downloading[downloading.length - 1], "downloading 100%");
      assert.ok(texts.indexOf("downloading 100%") < texts.lastIndexOf("loading"));
      assert.equal(texts[texts.length - 1], "ready");
      assert.ok(fs.existsSync(path.join(process.env.VOICE_STREAM_CACHE!, "test-org", "vad", "main", "silero_vad_v5.onnx")), "downloaded into the cache");
    } finally {
      delete process.env.HF_ENDPOINT;
      await server.close();
    }
  });
});
