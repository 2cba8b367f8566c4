/**
 * `voice-stream asr --model <repo id>` downloads through the same path as the nodes and the
 * llm command (issue 14 point 3): files from the hub (HF_ENDPOINT) into the cache, then the
 * same transcript from the cache offline as from the local folder.
 */
import { strict as assert } from "assert";
import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { fixtureDir } from "../helpers/fixtures";
import { startHubServer } from "../helpers/hub-server";
import { repoRoot, sharedDir } from "../helpers/paths";

function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const options = { encoding: "utf8" as const, env: { ...process.env, ...env }, timeout: 120000 };
    execFile(process.execPath, [path.join(repoRoot(), "bin", "voice-stream.js"), "asr", ...args], options, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const finalText = (stdout: string) => (JSON.parse(stdout.trim().split("\n").pop()!) as { kind: string; text: string });

describe("cli: voice-stream asr from a hub repo id", function () {
  this.timeout(180000);

  it("downloads into the cache (HF_ENDPOINT), then runs from the cache offline, as from the folder", async () => {
    const model = await fixtureDir("tiny-whisper");
    const server = await startHubServer({ repos: { "test-org/tiny-whisper": model } });
    const cache = fs.mkdtempSync(path.join(os.tmpdir(), "vs-cli-asr-cache-"));
    const rest = ["--input", sharedDir("audio", "count_16k.wav"), "--language", "en", "--partial-interval-ms", "0", "--json"];
    try {
      const local = await cli(["--model", model, ...rest]);
      assert.equal(local.code, 0, local.stderr);
      const online = await cli(["--model", "test-org/tiny-whisper", ...rest], { HF_ENDPOINT: server.url, VOICE_STREAM_CACHE: cache });
      assert.equal(online.code, 0, online.stderr);
      assert.ok(server.requests.some((r) => r.url.includes("/resolve/")), "files came from the hub");
      assert.equal(finalText(online.stdout).kind, "final");
      assert.equal(finalText(online.stdout).text, finalText(local.stdout).text);
      await server.close();
      const offline = await cli(["--model", "test-org/tiny-whisper", ...rest], { HF_HUB_OFFLINE: "1", VOICE_STREAM_CACHE: cache });
      assert.equal(offline.code, 0, offline.stderr);
      assert.equal(finalText(offline.stdout).text, finalText(local.stdout).text);
    } finally {
      await server.close().catch(() => undefined);
      fs.rmSync(cache, { recursive: true, force: true });
    }
  });
});
