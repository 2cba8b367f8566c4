/** The CLI against a local OpenAI-compatible server (issue 15 acceptance): llm, tts and asr over http. */
import { strict as assert } from "assert";
import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { encodeWav } from "../../src/core/audio/wav";
import { builtInReply, builtInTranscript, MODELS, startOpenAiTestServer, type OpenAiTestServer } from "../helpers/openai-test-server";
import { repoRoot } from "../helpers/paths";

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: Record<string, string> = {}): Promise<Result> {
  return new Promise((resolve) => {
    const options = { encoding: "utf8" as const, env: { ...process.env, ...env } };
    execFile(process.execPath, [path.join(repoRoot(), "bin", "voice-stream.js"), ...args], options, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const lines = (stdout: string) => stdout.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);

describe("cli: remote engines over an OpenAI-compatible server", function () {
  let server: OpenAiTestServer;
  let dir: string;
  before(async () => {
    server = await startOpenAiTestServer({ apiKey: "sk-cli-key" });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "vs-cli-remote-"));
  });
  after(async () => {
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const env = { VOICE_STREAM_API_KEY: "sk-cli-key" };

  it("llm --model URL --server-model NAME --json streams the deltas, the key from VOICE_STREAM_API_KEY", async () => {
    const r = await cli(["llm", "--model", server.url, "--server-model", MODELS.llm, "--prompt", "hi there", "--json"], env);
    assert.equal(r.code, 0, r.stderr);
    const chunks = lines(r.stdout);
    const expected = builtInReply({ messages: [{ role: "user", content: "hi there" }] });
    assert.deepEqual(chunks.slice(0, -1).map((c) => c.delta), expected);
    assert.equal(chunks[chunks.length - 1].is_final, true);
    assert.equal(chunks[chunks.length - 1].text, expected.join(""));
    assert.ok(!r.stdout.includes("sk-cli-key") && !r.stderr.includes("sk-cli-key"));
  });

  it("llm: a server dying mid-stream ends the command non-zero with a message naming it", async () => {
    const r = await cli(["llm", "--model", server.url, "--server-model", MODELS.dieMidStream, "--prompt", "a b c d e f", "--json"], env);
    assert.equal(r.code, 1);
    assert.equal(lines(r.stdout).length, 3, "the deltas before the cut were printed");
    assert.match(r.stderr, new RegExp(`voice-stream llm: ${server.url}/chat/completions closed the connection mid-stream`));
  });

  it("llm: a wrong key is a 401 naming VOICE_STREAM_API_KEY", async () => {
    const r = await cli(["llm", "--model", server.url, "--server-model", MODELS.llm, "--prompt", "x"], { VOICE_STREAM_API_KEY: "wrong" });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /answered 401.*VOICE_STREAM_API_KEY/);
  });

  it("tts --model URL writes the streamed speech", async () => {
    const out = path.join(dir, "out.wav");
    const r = await cli(["tts", "--model", server.url, "--server-model", MODELS.tts, "--voice", "nova", "--text", "Hello there.", "--json", "--out", out], env);
    assert.equal(r.code, 0, r.stderr);
    const chunks = lines(r.stdout);
    assert.equal(chunks[chunks.length - 1].is_final, true);
    assert.equal(chunks.reduce((n, c) => n + Number(c.samples), 0), 12 * 240);
    assert.ok(fs.statSync(out).size > 44 + 12 * 240 * 2 - 1);
  });

  it("asr --model URL transcribes the file", async () => {
    const input = path.join(dir, "in.wav");
    fs.writeFileSync(input, encodeWav(new Float32Array(16000), 16000));
    const r = await cli(["asr", "--model", server.url, "--server-model", MODELS.asr, "--input", input, "--json"], env);
    assert.equal(r.code, 0, r.stderr);
    const events = lines(r.stdout);
    assert.equal(events[events.length - 1].kind, "final");
    assert.equal(events[events.length - 1].text, builtInTranscript(16000, 16000));
  });
});
