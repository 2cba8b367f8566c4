import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as ort from "onnxruntime-node";
import { HubModelSource, type DownloadProgress } from "../../src/core/hub";
import { DataType, GraphBuilder } from "../../src/core/onnx-builder/graph";
import { startHubServer, type HubServer } from "../helpers/hub-server";

const REPO = "test-org/tiny-model";
const TOKEN = "hf_test_token_123";

/** A repo folder: tokenizer.json, config.json, onnx/model.onnx with 256 KiB of external data, onnx/model_q4.onnx. */
function writeRepo(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vs-hub-repo-"));
  fs.writeFileSync(path.join(dir, "tokenizer.json"), JSON.stringify({ version: "1.0", model: { type: "BPE" } }));
  fs.writeFileSync(path.join(dir, "config.json"), JSON.stringify({ model_type: "test" }));
  fs.mkdirSync(path.join(dir, "onnx"));
  const g = new GraphBuilder("add");
  g.input("x", DataType.FLOAT, [65536]);
  const bias = Float32Array.from({ length: 65536 }, (_, i) => (i % 97) / 7);
  g.output("y", DataType.FLOAT, [65536], g.op("Add", ["x", g.initializer("bias", bias, [65536])]));
  g.save(path.join(dir, "onnx", "model.onnx"), { externalDataThreshold: 1024 });
  fs.writeFileSync(path.join(dir, "onnx", "model_q4.onnx"), Buffer.alloc(4096, 7));
  return dir;
}

function sameBytes(a: string, b: string): boolean {
  return fs.readFileSync(a).equals(fs.readFileSync(b));
}

describe("hub download (local hub server)", () => {
  let repoDir: string;
  let server: HubServer;
  let cacheDir: string;

  before(() => {
    repoDir = writeRepo();
  });
  beforeEach(async () => {
    server = await startHubServer({ repos: { [REPO]: repoDir } });
    cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), "vs-hub-cache-"));
  });
  afterEach(async () => {
    await server.close();
  });

  const source = (extra: Partial<ConstructorParameters<typeof HubModelSource>[0]> = {}) =>
    new HubModelSource({ repo: REPO, cacheDir, hubUrl: server.url, ...extra });

  it("lists the repo's files through the tree API", async () => {
    const files = await source().list();
    assert.deepEqual(files, ["config.json", "onnx/model.onnx", "onnx/model.onnx_data", "onnx/model_q4.onnx", "tokenizer.json"]);
    assert.ok(server.requests.some((r) => r.url.startsWith(`/api/models/${REPO}/tree/main`) && r.url.includes("recursive=true")));
  });

  it("downloads x.onnx with its x.onnx_data into the cache, reporting progress; onnxruntime runs it", async () => {
    const events: DownloadProgress[] = [];
    const src = source({ onProgress: (p) => events.push(p) });
    const file = await src.file("onnx/model.onnx");
    assert.equal(file, path.join(cacheDir, "test-org", "tiny-model", "main", "onnx", "model.onnx"));
    assert.ok(sameBytes(file, path.join(repoDir, "onnx", "model.onnx")));
    assert.ok(sameBytes(`${file}_data`, path.join(repoDir, "onnx", "model.onnx_data")), "external data fetched beside the graph");
    const dataSize = fs.statSync(path.join(repoDir, "onnx", "model.onnx_data")).size;
    const graphSize = fs.statSync(path.join(repoDir, "onnx", "model.onnx")).size;
    const last = events[events.length - 1];
    assert.equal(last.bytes_total, dataSize + graphSize);
    assert.equal(last.bytes_done, last.bytes_total);
    assert.equal(last.fraction, 1);
    const dataEvents = events.filter((e) => e.file === "onnx/model.onnx_data");
    assert.ok(dataEvents.length >= 2, "start and end of the data file reported");
    for (let i = 1; i < events.length; i++) assert.ok(events[i].bytes_done >= events[i - 1].bytes_done, "overall bytes never go back");
    assert.deepEqual(fs.readdirSync(path.dirname(file)).sort(), ["model.onnx", "model.onnx_data"], "no .part leftovers");

    const session = await ort.InferenceSession.create(file);
    const out = await session.run({ x: new ort.Tensor("float32", new Float32Array(65536), [65536]) });
    assert.ok(Math.abs((out.y.data as Float32Array)[8] - 8 / 7) < 1e-6);
    await session.release();

    // Cached now: a second source fetches nothing.
    const before = server.requests.length;
    await source().file("onnx/model.onnx");
    const newRequests = server.requests.slice(before).filter((r) => r.url.includes("/resolve/"));
    assert.equal(newRequests.length, 0);
  });

  it("an interrupted transfer leaves no complete-looking file; the next attempt resumes with a Range request", async () => {
    const rel = "onnx/model.onnx_data";
    const total = fs.statSync(path.join(repoDir, rel)).size;
    server.cutNext(rel, 100_000);
    const target = path.join(cacheDir, "test-org", "tiny-model", "main", rel);
    await assert.rejects(source().file("onnx/model.onnx"), (err: Error) => {
      assert.match(err.message, /download of 'onnx\/model\.onnx_data' of model 'test-org\/tiny-model' was cut off after \d+ of 262144 bytes/);
      assert.match(err.message, /try again/);
      return true;
    });
    assert.equal(fs.existsSync(target), false, "no file under the final name");
    const kept = fs.statSync(`${target}.part`).size;
    assert.ok(kept > 0 && kept < total, `partial file kept (${kept} of ${total})`);

    const file = await source().file("onnx/model.onnx");
    assert.ok(sameBytes(`${file}_data`, path.join(repoDir, rel)), "resumed file is byte-identical");
    const ranges = server.requests.filter((r) => r.url.endsWith(rel) && r.range && r.range !== "bytes=0-0").map((r) => r.range);
    assert.ok(ranges.includes(`bytes=${kept}-${total - 1}`), `resume asked for the rest: ${ranges.join(", ")}`);
    assert.equal(fs.existsSync(`${target}.part`), false);
  });

  it("a changed remote file restarts a partial download cleanly instead of resuming", async () => {
    const rel = "config.json";
    const target = path.join(cacheDir, "test-org", "tiny-model", "main", rel);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(`${target}.part`, "{garbage from an older version");
    fs.writeFileSync(`${target}.part.json`, JSON.stringify({ etag: '"old"', size: 999 }));
    const file = await source().file(rel);
    assert.ok(sameBytes(file, path.join(repoDir, rel)));
  });

  it("a missing file is a clear 404 error naming the file and the repo", async () => {
    await assert.rejects(source().file("onnx/model_fp16.onnx"), /model 'test-org\/tiny-model' has no file 'onnx\/model_fp16\.onnx' on the Hugging Face hub \(HTTP 404\)/);
    server.hide("tokenizer.json");
    await assert.rejects(source().file("tokenizer.json"), /has no file 'tokenizer\.json'/);
    await assert.rejects(new HubModelSource({ repo: "nobody/none", cacheDir, hubUrl: server.url }).list(), /model 'nobody\/none' was not found on the Hugging Face hub \(revision 'main', HTTP 404\)/);
  });

  it("without the right token: a clear 401 error that mentions HF_TOKEN; with it the download works", async () => {
    await server.close();
    server = await startHubServer({ repos: { [REPO]: repoDir }, token: TOKEN });
    await assert.rejects(source().file("config.json"), (err: Error) => {
      assert.match(err.message, /refused access to 'config\.json' of model 'test-org\/tiny-model' \(HTTP 401\)/);
      assert.match(err.message, /set HF_TOKEN/);
      return true;
    });
    await assert.rejects(source({ token: "hf_wrong" }).list(), /HTTP 401.*the token given \(HF_TOKEN or the voice-model node's token\) has no access/);
    await assert.rejects(source({ token: "not-a-token" }).list(), /token is not valid.*must start with 'hf_'/);
    const file = await source({ token: TOKEN }).file("config.json");
    assert.ok(sameBytes(file, path.join(repoDir, "config.json")));
    assert.ok(server.requests.filter((r) => r.url.includes("/resolve/")).every((r) => r.authorization === undefined || r.authorization === `Bearer ${TOKEN}` || r.authorization === "Bearer hf_wrong"));
  });

  it("offline without a cache: an error naming the missing file and the repo, no network", async () => {
    const offline = source({ offline: true });
    await assert.rejects(offline.file("tokenizer.json"), /offline mode: 'tokenizer\.json' of model 'test-org\/tiny-model' is not in the cache/);
    await assert.rejects(offline.list(), /offline mode: model 'test-org\/tiny-model' is not in the cache .*voice-stream download test-org\/tiny-model/);
    assert.equal(server.requests.length, 0);
  });

  it("offline with a cache: files and listing come from the cache, no network", async () => {
    await source().file("onnx/model.onnx");
    await source().file("tokenizer.json");
    const before = server.requests.length;
    const offline = source({ offline: true });
    assert.ok(sameBytes(await offline.file("onnx/model.onnx"), path.join(repoDir, "onnx", "model.onnx")));
    assert.deepEqual(await offline.list(), ["onnx/model.onnx", "onnx/model.onnx_data", "tokenizer.json"]);
    assert.equal(await offline.has("onnx/model_q4.onnx"), false);
    await assert.rejects(offline.file("onnx/model_q4.onnx"), /offline mode: 'onnx\/model_q4\.onnx' of model 'test-org\/tiny-model' is not in the cache/);
    assert.equal(server.requests.length, before);
  });

  it("revisions get their own cache folder and are asked for by name", async () => {
    const file = await source({ revision: "v1.0" }).file("config.json");
    assert.equal(file, path.join(cacheDir, "test-org", "tiny-model", "v1.0", "config.json"));
    assert.ok(server.requests.some((r) => r.url === `/${REPO}/resolve/v1.0/config.json`));
  });

  it("with the hub out of reach, a cached model loads from the cache with a warning; an uncached one fails clearly", async () => {
    await source().file("tokenizer.json");
    await server.close();
    const warnings: string[] = [];
    const unreachable = source({ warn: (m) => warnings.push(m) });
    assert.deepEqual(await unreachable.list(), ["tokenizer.json"]);
    assert.equal(await unreachable.file("tokenizer.json"), path.join(cacheDir, "test-org", "tiny-model", "main", "tokenizer.json"));
    assert.match(warnings[0], /the Hugging Face hub is not reachable .*using the cached files of model 'test-org\/tiny-model'/);
    await assert.rejects(source({ cacheDir: fs.mkdtempSync(path.join(os.tmpdir(), "vs-empty-cache-")) }).list(), /could not reach the Hugging Face hub at http:\/\/127\.0\.0\.1:\d+ for model 'test-org\/tiny-model'.*check the network connection/);
    server = await startHubServer({ repos: { [REPO]: repoDir } });
  });
});
