import { strict as assert } from "assert";
import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { startHubServer, type HubServer } from "../helpers/hub-server";
import { listFilesUnder } from "../../src/core/hub/local-source";
import { piperVoiceFolder, piperVoicesRepo } from "../helpers/piper-voices-repo";
import { repoRoot } from "../helpers/paths";

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: Record<string, string>): Promise<Result> {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(repoRoot(), "bin", "voice-stream.js"), "download", ...args], { env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe("voice-stream download (local hub server)", function () {
  this.timeout(60000);
  let repoDir: string;
  let server: HubServer;
  let cache: string;

  before(async () => {
    repoDir = fs.mkdtempSync(path.join(os.tmpdir(), "vs-cli-repo-"));
    fs.mkdirSync(path.join(repoDir, "onnx"));
    fs.writeFileSync(path.join(repoDir, "tokenizer.json"), "{}");
    fs.writeFileSync(path.join(repoDir, "onnx", "model.onnx"), Buffer.alloc(300_000, 1));
    fs.writeFileSync(path.join(repoDir, "onnx", "model_q4.onnx"), Buffer.alloc(50_000, 2));
    fs.writeFileSync(path.join(repoDir, "onnx", "model_q4.onnx_data"), Buffer.alloc(70_000, 3));
    server = await startHubServer({ repos: { "org/model": repoDir, "rhasspy/piper-voices": await piperVoicesRepo(["en_US-lessac-medium", "de_DE-thorsten-medium"]) } });
  });
  after(() => server.close());
  beforeEach(() => {
    cache = fs.mkdtempSync(path.join(os.tmpdir(), "vs-cli-cache-"));
  });

  it("downloads every file into the cache with progress lines", async () => {
    const r = await cli(["org/model"], { HF_ENDPOINT: server.url, VOICE_STREAM_CACHE: cache });
    assert.equal(r.code, 0, r.stderr);
    const dir = path.join(cache, "org", "model", "main");
    assert.match(r.stdout, new RegExp(`downloaded 4 files \\(0\\.4 MB\\) of org/model@main into ${dir.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`));
    for (const rel of ["tokenizer.json", "onnx/model.onnx", "onnx/model_q4.onnx", "onnx/model_q4.onnx_data"]) {
      assert.ok(fs.readFileSync(path.join(dir, rel)).equals(fs.readFileSync(path.join(repoDir, rel))), rel);
    }
    assert.match(r.stderr, /onnx\/model\.onnx: 0\.3\/0\.3 MB · total \d+%/);
    assert.match(r.stderr, /total 100% \(0\.4\/0\.4 MB\)/);
  });

  it("--voice fetches one piper voice of a many-voice repo: its graph, config and model card only", async () => {
    const r = await cli(["rhasspy/piper-voices", "--voice", "de_DE-thorsten-medium", "--quiet"], { HF_ENDPOINT: server.url, VOICE_STREAM_CACHE: cache });
    assert.equal(r.code, 0, r.stderr);
    const folder = piperVoiceFolder("de_DE-thorsten-medium");
    const files = listFilesUnder(path.join(cache, "rhasspy", "piper-voices", "main")).sort();
    assert.deepEqual(files, [`${folder}/MODEL_CARD`, `${folder}/de_DE-thorsten-medium.onnx`, `${folder}/de_DE-thorsten-medium.onnx.json`]);
    const missing = await cli(["rhasspy/piper-voices", "--voice", "xx_XX-nobody-low", "--quiet"], { HF_ENDPOINT: server.url, VOICE_STREAM_CACHE: cache });
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /no piper voice 'xx_XX-nobody-low'/);
  });

  it("--dtype fetches only that variant (with its external data) and the other files; --revision picks the folder", async () => {
    const r = await cli(["org/model", "--dtype", "q4", "--revision", "v2", "--quiet"], { HF_ENDPOINT: server.url, VOICE_STREAM_CACHE: cache });
    assert.equal(r.code, 0, r.stderr);
    const dir = path.join(cache, "org", "model", "v2");
    assert.deepEqual(fs.readdirSync(path.join(dir, "onnx")).sort(), ["model_q4.onnx", "model_q4.onnx_data"]);
    assert.ok(fs.existsSync(path.join(dir, "tokenizer.json")));
    assert.equal(r.stderr, "");
  });

  it("clear errors: no repo, a folder path, an unknown dtype, a missing variant, an unknown repo", async () => {
    const env = { HF_ENDPOINT: server.url, VOICE_STREAM_CACHE: cache };
    let r = await cli([], env);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /give exactly one repo id/);
    r = await cli(["./models/x"], env);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /is not a Hugging Face repo id/);
    r = await cli(["org/model", "--dtype", "q3"], env);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--dtype 'q3' is not a known variant/);
    r = await cli(["org/model", "--dtype", "fp16"], env);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /model 'org\/model' has no ONNX files of variant 'fp16'; variants present: fp32, q4/);
    r = await cli(["org/missing"], env);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /model 'org\/missing' was not found on the Hugging Face hub \(revision 'main', HTTP 404\)/);
  });
});
