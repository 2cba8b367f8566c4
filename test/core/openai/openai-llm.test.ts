import { strict as assert } from "assert";
import { Subject } from "rxjs";
import { ModelRegistry } from "../../../src/core/registry";
import type { LlmChunk, LlmEngine, LlmStreamChunk } from "../../../src/core/types";
import { builtInReply, MODELS, startOpenAiTestServer, type OpenAiTestServer } from "../../helpers/openai-test-server";
import { collect, remoteLlm } from "./support";

const CHAT = "/v1/chat/completions";

describe("openai llm engine: chat completions over SSE", function () {
  let server: OpenAiTestServer;
  const engines: LlmEngine[] = [];
  const llm = async (model: string, warn?: (m: string) => void) => {
    const engine = await remoteLlm(server.url, { model }, undefined, warn);
    engines.push(engine);
    return engine;
  };

  beforeEach(async () => {
    server = await startOpenAiTestServer();
  });
  afterEach(async () => {
    for (const e of engines.splice(0)) await e.dispose();
    await server.close();
  });

  it("streams the content deltas (not the role-only first delta) and a final with usage counts", async () => {
    const engine = await llm(MODELS.llm);
    const { chunks, error } = await collect(engine.generate({ prompt: "hello there", system: "be brief" }));
    assert.equal(error, undefined);
    const expected = builtInReply({ messages: [{ role: "system", content: "be brief" }, { role: "user", content: "hello there" }] });
    const deltas = chunks.filter((c) => !c.is_final) as LlmChunk[];
    assert.deepEqual(deltas.map((c) => c.delta), expected);
    assert.deepEqual(deltas.map((c) => c.index), expected.map((_, i) => i));
    assert.ok(deltas.every((c) => c.kind === "text" && Array.isArray(c.token_ids)));
    const final = chunks[chunks.length - 1] as LlmChunk & Record<string, unknown>;
    assert.equal(chunks.filter((c) => c.is_final).length, 1);
    assert.equal(final.is_final, true);
    assert.equal(final.text, expected.join(""));
    assert.equal(final.finish_reason, "stop");
    assert.equal(final.token_counts, "usage");
    assert.equal(final.generated_tokens, expected.length);
    assert.equal(final.prompt_tokens, 4); // the server's usage: words of both messages
    assert.equal(typeof final.time_to_first_token, "number");
    assert.ok(final.total_seconds! >= final.time_to_first_token!);
  });

  it("maps the request: messages, system first, max_tokens, temperature, top_p, seed, stop, top_k, stream_options", async () => {
    const engine = await llm(MODELS.llm);
    await collect(
      engine.generate({
        prompt: [{ role: "user", content: "hi" }],
        system: "sys",
        max_new_tokens: 3,
        temperature: 0.5,
        top_p: 0.9,
        top_k: 40,
        seed: 7,
        stop_sequences: ["END", ""],
      }),
    );
    const body = server.requests[0].json!;
    assert.deepEqual(body.messages, [{ role: "system", content: "sys" }, { role: "user", content: "hi" }]);
    assert.equal(body.model, MODELS.llm);
    assert.equal(body.stream, true);
    assert.deepEqual(body.stream_options, { include_usage: true });
    assert.equal(body.max_tokens, 3);
    assert.equal(body.temperature, 0.5);
    assert.equal(body.top_p, 0.9);
    assert.equal(body.top_k, 40);
    assert.equal(body.seed, 7);
    assert.deepEqual(body.stop, ["END"]);
  });

  it("says finish_reason length when max_tokens cut the answer", async () => {
    const engine = await llm(MODELS.llm);
    const { chunks } = await collect(engine.generate({ prompt: "a long prompt with words", max_new_tokens: 2 }));
    const final = chunks[chunks.length - 1] as LlmChunk;
    assert.equal(final.finish_reason, "length");
    assert.equal(final.text, builtInReply({ messages: [{ role: "user", content: "a long prompt with words" }], max_tokens: 2 }).join(""));
  });

  it("counts the deltas when the server sends no usage, and says so", async () => {
    const engine = await llm(MODELS.noUsage);
    const { chunks } = await collect(engine.generate({ prompt: "count me" }));
    const final = chunks[chunks.length - 1] as LlmChunk & Record<string, unknown>;
    assert.equal(final.token_counts, "counted");
    assert.equal(final.generated_tokens, chunks.length - 1);
    assert.equal(final.prompt_tokens, 0);
  });

  it("retries once without stream_options when the server rejects it, and remembers", async () => {
    const engine = await llm(MODELS.rejectStreamOptions);
    const first = await collect(engine.generate({ prompt: "one" }));
    assert.equal(first.error, undefined);
    assert.equal(server.requests.length, 2);
    assert.ok(server.requests[0].json!.stream_options);
    assert.equal(server.requests[1].json!.stream_options, undefined);
    const final = first.chunks[first.chunks.length - 1] as LlmChunk & Record<string, unknown>;
    assert.equal(final.token_counts, "counted");
    await collect(engine.generate({ prompt: "two" }));
    assert.equal(server.requests.length, 3, "no second rejected attempt");
  });

  it("drops top_k with one warning when the server does not take it", async () => {
    const warnings: string[] = [];
    const engine = await llm(MODELS.rejectTopK, (m) => warnings.push(m));
    const a = await collect(engine.generate({ prompt: "one", top_k: 5 }));
    const b = await collect(engine.generate({ prompt: "two", top_k: 5 }));
    assert.equal(a.error, undefined);
    assert.equal(b.error, undefined);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /top_k/);
    assert.deepEqual(server.requests.map((r) => r.json!.top_k), [5, undefined, undefined]);
  });

  it("keeps reasoning_content out of the deltas and puts it on the final as reasoning", async () => {
    const engine = await llm(MODELS.reasoning);
    const { chunks } = await collect(engine.generate({ prompt: "why" }));
    const final = chunks[chunks.length - 1] as LlmChunk & Record<string, unknown>;
    assert.equal(final.reasoning, "Let me think.");
    assert.ok(!chunks.some((c) => String(c.delta ?? "").includes("think")));
    assert.equal(final.text, builtInReply({ messages: [{ role: "user", content: "why" }] }).join(""));
  });

  it("reads a server that ignores stream: true and answers one JSON completion", async () => {
    const engine = await llm(MODELS.noStream);
    const { chunks } = await collect(engine.generate({ prompt: "x" }));
    assert.equal(chunks.length, 2);
    assert.equal(chunks[0].delta, builtInReply({ messages: [{ role: "user", content: "x" }] }).join(""));
    assert.equal((chunks[1] as Record<string, unknown>).token_counts, "usage");
  });

  it("cancel mid-stream: the cancelled final at once, nothing after, and the server sees the connection closed", async () => {
    const engine = await llm(MODELS.slow);
    const cancel$ = new Subject<void>();
    const chunks: LlmStreamChunk[] = [];
    let completed = false;
    engine.generate({ prompt: "one two three four five six seven" }, { cancel$ }).subscribe({
      next: (c) => {
        chunks.push(c);
        if (chunks.length === 2) cancel$.next();
      },
      complete: () => (completed = true),
    });
    const closed = await server.clientClosed(CHAT);
    assert.equal(closed.closedByClient, true);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(completed, true);
    assert.equal(chunks.length, 3);
    const last = chunks[2] as Record<string, unknown>;
    assert.equal(last.kind, "cancelled");
    assert.equal(last.is_final, true);
    assert.equal(last.finish_reason, "cancelled");
    assert.equal(last.text, String(chunks[0].delta) + String(chunks[1].delta));
  });

  it("a server that ignores cancel: nothing reaches the stream after the cancelled final; its writes hit a closed socket", async () => {
    const engine = await llm(MODELS.ignoreCancel);
    const cancel$ = new Subject<void>();
    const chunks: LlmStreamChunk[] = [];
    engine.generate({ prompt: "go" }, { cancel$ }).subscribe({
      next: (c) => {
        chunks.push(c);
        if (chunks.length === 3) cancel$.next();
      },
    });
    await server.clientClosed(CHAT);
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(chunks.length, 4);
    assert.equal(chunks[3].kind, "cancelled");
    assert.ok(server.requests[0].writesAfterClose > 0, "the server kept writing after the client left");
  });

  it("unsubscribing aborts the request too", async () => {
    const engine = await llm(MODELS.slow);
    const subscription = engine.generate({ prompt: "a b c d e f" }).subscribe({
      next: () => subscription.unsubscribe(),
    });
    const closed = await server.clientClosed(CHAT);
    assert.equal(closed.closedByClient, true);
  });

  it("releasing the engine mid-stream errors the open stream (no hang) and closes its connection", async () => {
    const engine = await remoteLlm(server.url, { model: MODELS.slow });
    const result = collect(engine.generate({ prompt: "a b c d e f g h" }));
    await new Promise((r) => setTimeout(r, 50));
    await engine.dispose();
    const { chunks, error } = await result;
    assert.ok(chunks.length >= 1 && !chunks.some((c) => c.is_final));
    assert.match(String(error?.message), /was released while generating/);
    assert.equal((await server.clientClosed(CHAT)).closedByClient, true);
  });

  it("bad input fails before any request, with the local engine's message", async () => {
    const engine = await llm(MODELS.llm);
    const { error } = await collect(engine.generate({ prompt: "" }));
    assert.match(String(error?.message), /prompt is empty/);
    assert.equal(server.requests.length, 0);
  });

  it("through the registry: an http URL loads the remote engine, the credential goes as the bearer token", async () => {
    await server.close();
    server = await startOpenAiTestServer({ apiKey: "sk-test-123" });
    const registry = new ModelRegistry();
    const lease = registry.startModel<LlmEngine>("llm", { enginesPath: `${server.url}/`, config: { model: MODELS.llm } }, { token: "sk-test-123" });
    const engine = await lease.model;
    const { chunks, error } = await collect(engine.generate({ prompt: "auth" }));
    assert.equal(error, undefined);
    assert.ok(chunks.length > 1);
    assert.equal(server.requests[0].authorization, "Bearer sk-test-123");
    await lease.release();
  });

  it("32 concurrent streams through one remote model config each equal their solo run", async () => {
    await server.close();
    server = await startOpenAiTestServer({ tokenDelayMs: 2 });
    const engine = await llm(MODELS.llm);
    const prompts = Array.from({ length: 32 }, (_, i) => `prompt number ${i} with ${"word ".repeat(i % 5)}end`);
    // (the concurrent phase below: none is answered until all 32 are open)
    const textOf = (chunks: LlmStreamChunk[]) => ({ deltas: chunks.filter((c) => !c.is_final).map((c) => c.delta), final: chunks[chunks.length - 1] });
    const solo: ReturnType<typeof textOf>[] = [];
    for (const prompt of prompts) solo.push(textOf((await collect(engine.generate({ prompt, seed: 1 }))).chunks));
    server.holdChatsUntilOpen(32);
    const together = await Promise.all(prompts.map((prompt) => collect(engine.generate({ prompt, seed: 1 }))));
    together.forEach((run, i) => {
      assert.equal(run.error, undefined);
      const got = textOf(run.chunks);
      assert.deepEqual(got.deltas, solo[i].deltas, `stream ${i}`);
      assert.equal(got.final.text, solo[i].final.text);
      assert.equal(got.final.generated_tokens, solo[i].final.generated_tokens);
      assert.equal(got.final.finish_reason, solo[i].final.finish_reason);
    });
  });
});
