import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { EmptyModelSource, HubModelSource, LocalModelSource, isHubRepoId, resolveCacheDir, resolveModelSource } from "../../src/core/hub";

describe("hub model sources", () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.homedir(), ".vs-local-model-"));
    fs.mkdirSync(path.join(dir, "onnx"));
    fs.writeFileSync(path.join(dir, "onnx", "model.onnx"), "x");
    fs.writeFileSync(path.join(dir, "config.json"), "{}");
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("tells repo ids from folders", () => {
    assert.equal(isHubRepoId("onnx-community/Qwen3-0.6B-ONNX"), true);
    assert.equal(isHubRepoId("./models/x"), false);
    assert.equal(isHubRepoId("/abs/path"), false);
    assert.equal(isHubRepoId("~/models"), false);
    assert.equal(isHubRepoId("a/b/c"), false);
    assert.equal(resolveModelSource("llm", { enginesPath: "onnx-community/Qwen3-0.6B-ONNX" }, { cacheDir: dir }) instanceof HubModelSource, true);
  });

  it("a local folder: absolute, relative and ~ paths; files are path joins with a clear error", async () => {
    const viaHome = "~/" + path.basename(dir);
    const relative = path.relative(process.cwd(), dir);
    for (const p of [dir, viaHome, relative]) {
      const source = resolveModelSource("llm", { enginesPath: p });
      assert.ok(source instanceof LocalModelSource);
      assert.equal(await source.file("config.json"), path.join(dir, "config.json"));
      assert.deepEqual(await source.list(), ["config.json", "onnx/model.onnx"]);
      assert.equal(await source.has("tokenizer.json"), false);
    }
    await assert.rejects(new LocalModelSource(dir).file("tokenizer.json"), new RegExp(`model '${dir.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}' has no tokenizer\\.json; expected a Hugging Face ONNX layout with onnx/model\\.onnx`));
  });

  it("a missing folder is an error saying what the engines path may be", () => {
    assert.throws(() => resolveModelSource("llm", { enginesPath: "/no/such/model-dir" }), /model directory '\/no\/such\/model-dir' does not exist; set the engines path to a Hugging Face repo id \(owner\/name\) or to a local folder/);
  });

  it("espeak and the built-in VAD need no files", async () => {
    const espeak = resolveModelSource("tts", { enginesPath: "espeak" });
    assert.ok(espeak instanceof EmptyModelSource);
    assert.deepEqual(await espeak.list(), []);
    assert.ok(resolveModelSource("tts", { enginesPath: "", config: { engine: "espeak" } }) instanceof EmptyModelSource);
    assert.ok(resolveModelSource("vad", { enginesPath: "silero" }) instanceof EmptyModelSource);
  });

  it("the cache folder: VOICE_STREAM_CACHE, else the caller's default, else ~/.cache/voice-stream", () => {
    const saved = process.env.VOICE_STREAM_CACHE;
    try {
      delete process.env.VOICE_STREAM_CACHE;
      assert.equal(resolveCacheDir(), path.join(os.homedir(), ".cache", "voice-stream"));
      assert.equal(resolveCacheDir("/data/.node-red/voice-stream-cache"), "/data/.node-red/voice-stream-cache");
      const fromEnv = path.join(os.tmpdir(), "vs-cache-env");
      process.env.VOICE_STREAM_CACHE = fromEnv;
      assert.equal(resolveCacheDir("/data/.node-red/voice-stream-cache"), fromEnv);
    } finally {
      if (saved === undefined) delete process.env.VOICE_STREAM_CACHE;
      else process.env.VOICE_STREAM_CACHE = saved;
    }
  });
});
