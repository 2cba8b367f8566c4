/**
 * Every fault of an OpenAI-compatible server (issue 15 point 6): each a clear error that names
 * the server and what to check, never the key; chunks already sent stay sent.
 */
import { strict as assert } from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import type { LlmChunk, LlmEngine } from "../../../src/core/types";
import { RemoteServerError } from "../../../src/core/openai/errors";
import { MODELS, startOpenAiTestServer, type OpenAiTestServer } from "../../helpers/openai-test-server";
import { collect, remoteLlm } from "./support";

const KEY = "sk-secret-never-shown";

async function failure(engine: LlmEngine, prompt = "hello") {
  const result = await collect(engine.generate({ prompt }));
  assert.ok(result.error, "the stream errored");
  assert.ok(!result.error!.message.includes(KEY), "the key is not in the message");
  return { error: result.error as RemoteServerError, chunks: result.chunks };
}

function haveOpenssl(): boolean {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

describe("openai remote faults", function () {
  let server: OpenAiTestServer;
  const engines: LlmEngine[] = [];
  const llm = async (url: string, config: Record<string, unknown>, apiKey = KEY) => {
    const e = await remoteLlm(url, config, apiKey);
    engines.push(e);
    return e;
  };
  beforeEach(async () => {
    server = await startOpenAiTestServer();
  });
  afterEach(async () => {
    for (const e of engines.splice(0)) await e.dispose();
    await server.close();
  });

  it("connection refused names the URL and says to check the server is running", async () => {
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const { error } = await failure(await llm(`http://127.0.0.1:${port}/v1`, { model: "m" }));
    assert.equal(error.fault, "refused");
    assert.match(error.message, new RegExp(`http://127.0.0.1:${port}/v1/chat/completions refused the connection: is the server running`));
  });

  it("unknown host names the host", async () => {
    const { error } = await failure(await llm("http://no-such-host.invalid:8000/v1", { model: "m" }));
    assert.equal(error.fault, "unknown-host");
    assert.match(error.message, /unknown host 'no-such-host.invalid'/);
  });

  it("401 says to check the API key (and never shows it)", async () => {
    await server.close();
    server = await startOpenAiTestServer({ apiKey: "the-right-key" });
    const { error } = await failure(await llm(server.url, { model: MODELS.llm }));
    assert.equal(error.fault, "auth");
    assert.equal(error.status, 401);
    assert.match(error.message, /answered 401 \(unauthorized\): Incorrect API key provided\. Check the API key: the voice-model's API key credential, or VOICE_STREAM_API_KEY/);
    assert.equal(server.requests[0].authorization, `Bearer ${KEY}`);
  });

  it("404 on the model name lists the server's models", async () => {
    const { error } = await failure(await llm(server.url, { model: "gpt-nonexistent" }));
    assert.equal(error.fault, "not-found");
    assert.match(error.message, /answered 404 \(not found\): The model 'gpt-nonexistent' does not exist: check the model 'gpt-nonexistent'/);
    assert.match(error.message, /The server has: test-llm, no-usage,/);
  });

  it("429 and 5xx carry the server's message", async () => {
    const limited = await failure(await llm(server.url, { model: MODELS.rateLimited }));
    assert.equal(limited.error.fault, "rate-limited");
    assert.match(limited.error.message, /answered 429 \(too many requests\): Rate limit reached for requests; try again in 20s/);
    const down = await failure(await llm(server.url, { model: MODELS.serverError }));
    assert.equal(down.error.fault, "server-error");
    assert.match(down.error.message, /answered 503 \(server error\): The engine is currently overloaded/);
  });

  it("a server closing mid-stream: the deltas already sent stay, then an error naming it", async () => {
    const { error, chunks } = await failure(await llm(server.url, { model: MODELS.dieMidStream }), "one two three four five six");
    assert.equal(chunks.length, 3);
    assert.ok(chunks.every((c) => !c.is_final && (c as LlmChunk).delta !== ""));
    assert.equal(error.fault, "closed-mid-stream");
    assert.match(error.message, new RegExp(`${server.url}/chat/completions closed the connection mid-stream`));
  });

  it("a malformed SSE data line is a clear error after the good deltas", async () => {
    const { error, chunks } = await failure(await llm(server.url, { model: MODELS.malformed }), "one two three four");
    assert.equal(chunks.length, 2);
    assert.equal(error.fault, "malformed");
    assert.match(error.message, /sent an event whose data is not JSON: .*oops.*is this an OpenAI-compatible server\?/);
  });

  it("idle timeout: a server that stops sending mid-stream, and one that never answers", async () => {
    const stalled = await failure(await llm(server.url, { model: MODELS.stall, idle_timeout_ms: 150 }), "one two three");
    assert.equal(stalled.chunks.length, 1);
    assert.equal(stalled.error.fault, "idle-timeout");
    assert.match(stalled.error.message, /sent nothing for 150 ms mid-stream.*idle_timeout_ms/);
    const silent = await failure(await llm(server.url, { model: MODELS.silent, idle_timeout_ms: 150 }));
    assert.equal(silent.error.fault, "idle-timeout");
    assert.match(silent.error.message, /sent nothing for 150 ms before answering/);
    assert.equal((await server.clientClosed("/v1/chat/completions")).closedByClient, true);
  });

  it("connect timeout: a peer that accepts TCP but never completes the TLS handshake", async () => {
    const mute = net.createServer(() => undefined);
    await new Promise<void>((r) => mute.listen(0, "127.0.0.1", r));
    const port = (mute.address() as net.AddressInfo).port;
    try {
      const { error } = await failure(await llm(`https://127.0.0.1:${port}/v1`, { model: "m", connect_timeout_ms: 150 }));
      assert.equal(error.fault, "connect-timeout");
      assert.match(error.message, new RegExp(`https://127.0.0.1:${port}/v1/chat/completions did not accept the connection within 150 ms`));
    } finally {
      mute.close();
    }
  });

  it("bad timeout settings fail at load with the setting's name", async () => {
    await assert.rejects(remoteLlm(server.url, { idle_timeout_ms: -1 }), /idle_timeout_ms must be a number of milliseconds above 0/);
    await assert.rejects(remoteLlm(server.url, { ca_file: "/no/such/ca.pem" }), /cannot read the CA file '\/no\/such\/ca.pem' \(ENOENT\)/);
    await assert.rejects(remoteLlm("http://", {}), /is not a valid URL/);
    const keyInUrl = remoteLlm("http://me:sk-in-url@127.0.0.1:1/v1", {});
    await assert.rejects(keyInUrl, (err: Error) => /^http:\/\/\*\*\*@127.0.0.1:1\/v1: put the API key in the voice-model's Token \/ API key credential/.test(err.message) && !err.message.includes("sk-in-url"));
  });

  describe("TLS", function () {
    let dir: string;
    before(function () {
      if (!haveOpenssl()) {
        if (process.env.CI) throw new Error("openssl is needed for the TLS tests (apt-get install openssl)");
        console.log("      skipped: the TLS tests need openssl (apt-get install openssl)");
        this.skip();
      }
      dir = fs.mkdtempSync(path.join(os.tmpdir(), "vs-openai-tls-"));
      execFileSync("openssl", [
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
        "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
        "-keyout", path.join(dir, "key.pem"), "-out", path.join(dir, "cert.pem"),
      ], { stdio: "ignore" });
    });
    after(() => dir && fs.rmSync(dir, { recursive: true, force: true }));

    it("an untrusted certificate is a TLS failure that points at the CA file option; trusting its CA file works", async () => {
      await server.close();
      server = await startOpenAiTestServer({ tls: { key: fs.readFileSync(path.join(dir, "key.pem")), cert: fs.readFileSync(path.join(dir, "cert.pem")) } });
      const { error } = await failure(await llm(server.url, { model: MODELS.llm }));
      assert.equal(error.fault, "tls");
      assert.match(error.message, /TLS failure \(DEPTH_ZERO_SELF_SIGNED_CERT\).*set the CA file \(config ca_file\)/);
      const trusted = await llm(server.url, { model: MODELS.llm, ca_file: path.join(dir, "cert.pem") });
      const ok = await collect(trusted.generate({ prompt: "secure" }));
      assert.equal(ok.error, undefined);
      assert.equal(ok.chunks[ok.chunks.length - 1].is_final, true);
    });
  });
});
