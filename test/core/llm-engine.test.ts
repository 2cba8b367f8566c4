import { strict as assert } from "assert";
import { Subject, take } from "rxjs";
import { fixtureDir } from "../helpers/fixtures";
import { OnnxLlmEngine } from "../../src/core/llm/engines/onnx/onnx-llm-engine";
import type { LlmChunk, LlmRequest, LlmStreamChunk } from "../../src/core/types";
import { PREFILL_SLICE } from "../../src/core/llm/engines/onnx/generation-run";
import { KvCacheDecoder } from "../../src/core/onnx/decoder/kv-cache-decoder";
import { loadLlm } from "../../src/core/llm/engines/onnx/loader";
import { argmax } from "../../src/core/onnx/decoder/sampler";
import { localLoadContext } from "../../src/core/registry";
import { RunCounter, collect, finalOf, loadEngine, scriptedSession, sessionOf } from "./llm-support";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const waitFor = async (check: () => boolean, ms = 2000) => {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error("timed out");
    await sleep(5);
  }
};

function checkStreamShape(chunks: LlmStreamChunk[]): void {
  assert.ok(chunks.length > 0);
  assert.equal(chunks.filter((c) => c.is_final).length, 1, "exactly one final chunk");
  assert.ok(finalOf(chunks).is_final, "the final chunk is last");
  chunks.forEach((c, i) => assert.equal(c.index, i, "indices count up from 0"));
}

const textOf = (chunks: LlmStreamChunk[]) => chunks.map((c) => c.delta ?? "").join("");
const idsOf = (chunks: LlmStreamChunk[]) => chunks.flatMap((c) => c.token_ids ?? []);

describe("llm engine on tiny-llm", function () {
  let dir: string;
  let engine: OnnxLlmEngine;

  before(async () => {
    dir = await fixtureDir("tiny-llm");
    engine = await loadEngine(dir);
  });

  after(async () => engine?.dispose());

  it("streams deltas that add up to the final text and to the full decode of the generated ids", async () => {
    const chunks = await collect(engine.generate({ prompt: "Tell me about the river.", max_new_tokens: 40, temperature: 0.8, seed: 7 }));
    checkStreamShape(chunks);
    const final = finalOf(chunks) as LlmChunk;
    assert.equal(final.kind, "text");
    assert.equal(final.text, textOf(chunks));
    assert.equal(textOf(chunks), engine.tokenizer.decode(idsOf(chunks)));
    assert.equal(final.generated_tokens, idsOf(chunks).length);
    // The prompt's length is the templated prompt's, not the user text's.
    const promptIds = engine.tokenizer.encodePrompt({ prompt: "Tell me about the river." });
    assert.equal(final.prompt_tokens, promptIds.length);
    for (const c of chunks.slice(0, -1)) {
      assert.equal(c.kind, "text");
      assert.notEqual(c.delta, "", "non-final chunks carry text");
      assert.equal(c.text, undefined);
    }
    assert.ok(final.finish_reason === "length" || final.finish_reason === "stop");
    if (final.finish_reason === "length") assert.equal(final.generated_tokens, 40);
    for (const key of ["time_to_first_token", "total_seconds", "tokens_per_second"] as const) {
      assert.equal(typeof final[key], "number", key);
      assert.ok(final[key]! >= 0, key);
    }
    assert.ok(final.total_seconds! >= final.time_to_first_token!);
    console.log(
      `      tiny-llm: ${final.generated_tokens} tokens, ${final.tokens_per_second!.toFixed(0)} tok/s, ` +
        `first token after ${(final.time_to_first_token! * 1000).toFixed(1)} ms`,
    );
  });

  it("gives the same output for the same seed and another for a different seed", async () => {
    const request: LlmRequest = { prompt: "Good morning", max_new_tokens: 30, temperature: 1, top_k: 50, seed: 1234 };
    const a = await collect(engine.generate(request));
    const b = await collect(engine.generate(request));
    const c = await collect(engine.generate({ ...request, seed: 4321 }));
    assert.deepEqual(idsOf(a), idsOf(b));
    assert.equal(textOf(a), textOf(b));
    assert.notDeepEqual(idsOf(a), idsOf(c));
  });

  it("decodes greedily at temperature 0 whatever the seed", async () => {
    const a = await collect(engine.generate({ prompt: "Hello", max_new_tokens: 20, temperature: 0, seed: 1 }));
    const b = await collect(engine.generate({ prompt: "Hello", max_new_tokens: 20, temperature: 0, seed: 2 }));
    assert.deepEqual(idsOf(a), idsOf(b));
  });

  it("runs 20 concurrent streams that each equal their solo run, interleaved rather than queued", async () => {
    const requests: LlmRequest[] = Array.from({ length: 20 }, (_, i) => ({
      prompt: i % 2 ? `Question number ${i}: where is the station?` : [{ role: "user", content: `Say something about bread ${i}` }],
      max_new_tokens: 12 + (i % 5),
      temperature: 0.9,
      top_p: 0.95,
      seed: 1000 + i,
    }));
    const solo: LlmStreamChunk[][] = [];
    for (const request of requests) solo.push(await collect(engine.generate(request)));

    const events: string[] = [];
    const together = await Promise.all(
      requests.map(async (request, i) => {
        const chunks: LlmStreamChunk[] = [];
        await new Promise<void>((resolve, reject) =>
          engine.generate(request).subscribe({
            next: (c) => {
              chunks.push(c);
              events.push(`${i}:${c.is_final ? "final" : c.index}`);
            },
            error: reject,
            complete: resolve,
          }),
        );
        return chunks;
      }),
    );
    together.forEach((chunks, i) => {
      checkStreamShape(chunks);
      assert.deepEqual(idsOf(chunks), idsOf(solo[i]), `stream ${i} ids`);
      assert.equal(textOf(chunks), textOf(solo[i]), `stream ${i} text`);
    });
    // Interleaved: the last stream produced text before the first one finished.
    const firstFinal = events.indexOf("0:final");
    const lastStart = events.findIndex((e) => e.startsWith("19:"));
    assert.ok(lastStart < firstFinal, `stream 19 started at event ${lastStart}, stream 0 ended at ${firstFinal}`);
    assert.equal(engine.activeStreams, 0);
  });

  it("feeds a prompt longer than one prefill slice in slices, with the same tokens as one whole prefill", async () => {
    const counter = new RunCounter();
    const local = await loadEngine(dir, counter.wrap);
    try {
      const prompt = "The morning train was late again, so Mara walked along the river. ".repeat(40);
      const promptIds = local.tokenizer.encodePrompt({ prompt });
      assert.ok(promptIds.length > 2 * PREFILL_SLICE, `${promptIds.length} prompt tokens`);
      const chunks = await collect(local.generate({ prompt, temperature: 0, max_new_tokens: 12 }));
      assert.equal(counter.runs, Math.ceil(promptIds.length / PREFILL_SLICE) + 11, "prefill slices, then one run per further token");
      // Reference: the whole prompt in one call, then greedy steps.
      const whole = new KvCacheDecoder(sessionOf(local), local.shape);
      let logits = await whole.prefill(promptIds);
      const expected: number[] = [];
      for (let i = 0; i < 12; i++) {
        expected.push(argmax(logits));
        logits = await whole.step(expected[i]);
      }
      whole.dispose();
      assert.deepEqual(idsOf(chunks), expected);
    } finally {
      await local.dispose();
    }
  });

  it("is cold: nothing runs before subscribe", async () => {
    const counter = new RunCounter();
    const local = await loadEngine(dir, counter.wrap);
    try {
      const stream = local.generate({ prompt: "Hello", max_new_tokens: 5, seed: 1 });
      await sleep(20);
      assert.equal(counter.runs, 0);
      const chunks = await collect(stream);
      checkStreamShape(chunks);
      assert.ok(counter.runs > 0);
    } finally {
      await local.dispose();
    }
  });

  it("cancel$ ends the stream with exactly one cancelled chunk, stops within one step, and the model stays usable", async () => {
    const counter = new RunCounter();
    const local = await loadEngine(dir, counter.wrap);
    try {
      const request: LlmRequest = { prompt: "Tell me a long story", max_new_tokens: 200, temperature: 0.9, seed: 99 };
      const cancel$ = new Subject<void>();
      const chunks: LlmStreamChunk[] = [];
      let runsAtCancel = -1;
      let completed = false;
      local.generate(request, { cancel$ }).subscribe({
        next: (c) => {
          chunks.push(c);
          if (chunks.length === 3) {
            runsAtCancel = counter.runs;
            cancel$.next();
          }
        },
        complete: () => (completed = true),
      });
      while (!completed) await sleep(5);
      await sleep(50);
      assert.equal(chunks.length, 4, "three text chunks, then the cancelled chunk, then nothing");
      const final = finalOf(chunks);
      assert.deepEqual([final.kind, final.is_final, final.finish_reason], ["cancelled", true, "cancelled"]);
      assert.equal(chunks.filter((c) => c.is_final).length, 1);
      assert.equal(final.index, 3);
      assert.equal(final.text, textOf(chunks.slice(0, 3)));
      assert.equal(final.generated_tokens, idsOf(chunks.slice(0, 3)).length);
      assert.equal(typeof final.time_to_first_token, "number");
      assert.equal(typeof final.total_seconds, "number");
      assert.ok(counter.runs - runsAtCancel <= 1, `${counter.runs - runsAtCancel} runs after cancel`);
      assert.equal(local.activeStreams, 0);

      const again = await collect(local.generate(request));
      const solo = await collect(engine.generate(request));
      assert.deepEqual(idsOf(again), idsOf(solo));
      assert.ok(idsOf(again).slice(0, idsOf(chunks).length).every((id, i) => id === idsOf(chunks)[i]), "cancelled prefix is the run's prefix");
    } finally {
      await local.dispose();
    }
  });

  it("unsubscribing stops the generation within one step", async () => {
    const counter = new RunCounter();
    const local = await loadEngine(dir, counter.wrap);
    try {
      const got: LlmStreamChunk[] = [];
      await new Promise<void>((resolve) =>
        local.generate({ prompt: "Tell me a long story", max_new_tokens: 200, seed: 5 }).pipe(take(2)).subscribe({
          next: (c) => got.push(c),
          complete: resolve,
        }),
      );
      const runsAtUnsubscribe = counter.runs;
      await sleep(100);
      assert.equal(got.length, 2);
      assert.ok(counter.runs - runsAtUnsubscribe <= 1);
      assert.equal(local.activeStreams, 0);
      await waitFor(() => OnnxLlmEngine.liveGenerations === 0);
    } finally {
      await local.dispose();
    }
  });

  it("cancelling one of several concurrent streams leaves the others intact", async () => {
    const requests: LlmRequest[] = [0, 1, 2].map((i) => ({ prompt: `Story ${i}`, max_new_tokens: 25, temperature: 0.7, seed: 50 + i }));
    const solo = await Promise.all(requests.map((r) => collect(engine.generate(r))));
    const cancel$ = new Subject<void>();
    const runs = requests.map((r, i) => collect(engine.generate(r, i === 1 ? { cancel$ } : {})));
    await sleep(5);
    cancel$.next();
    const results = await Promise.all(runs);
    assert.equal(finalOf(results[1]).kind, "cancelled");
    assert.deepEqual(idsOf(results[0]), idsOf(solo[0]));
    assert.deepEqual(idsOf(results[2]), idsOf(solo[2]));
  });

  it("renders the chat template with a system prompt, messages and thinking off by default", async () => {
    const off = engine.tokenizer.chat.render({ prompt: "Hi", system: "Be brief." });
    assert.equal(off, "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n");
    const on = engine.tokenizer.chat.render({ prompt: [{ role: "user", content: "Hi" }], enable_thinking: true });
    assert.equal(on, "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
    // The messages' own system prompt wins over `system`.
    const own = engine.tokenizer.chat.render({
      prompt: [
        { role: "system", content: "Mine." },
        { role: "user", content: "Hi" },
      ],
      system: "Other.",
    });
    assert.ok(own.startsWith("<|im_start|>system\nMine.<|im_end|>") && !own.includes("Other."));
    assert.equal(engine.tokenizer.chat.render({ prompt: "Hi", raw: true }), "Hi");
    const ids = engine.tokenizer.encodePrompt({ prompt: "Hi" });
    assert.equal(ids[0], engine.tokenizer.tokenId("<|im_start|>"), "special tokens in the template encode as themselves");
  });

  it("rejects bad requests with clear errors", async () => {
    const bad: [unknown, RegExp][] = [
      [{ prompt: "" }, /prompt is empty/],
      [{ prompt: "   " }, /prompt is empty/],
      [{ prompt: 42 }, /string or an array/],
      [{ prompt: [] }, /message list is empty/],
      [{ prompt: [{ role: "user" }] }, /message 0 must be/],
      [{ prompt: "hi", temperature: -1 }, /temperature must be/],
      [{ prompt: "hi", max_new_tokens: 0 }, /max_new_tokens must be/],
      [{ prompt: "hi", top_p: 1.5 }, /top_p must be/],
      [{ prompt: "hi", top_k: "5" }, /top_k must be/],
      [{ prompt: "hi", seed: 1.5 }, /seed must be/],
      [{ prompt: "hi", stop_sequences: "x" }, /stop_sequences must be/],
      [{ prompt: [{ role: "tool", content: "x" }] }, /chat template failed/],
    ];
    for (const [request, message] of bad) {
      await assert.rejects(collect(engine.generate(request as LlmRequest)), message, JSON.stringify(request));
    }
    // Still usable afterwards.
    checkStreamShape(await collect(engine.generate({ prompt: "hi", max_new_tokens: 3 })));
  });

  it("ends open streams with an error when disposed and refuses new ones", async () => {
    const local = await loadEngine(dir);
    const pending = collect(local.generate({ prompt: "A long one", max_new_tokens: 500, seed: 3 }));
    await sleep(5);
    const failed = assert.rejects(pending, /unloaded while generating/);
    await local.dispose();
    await failed;
    await assert.rejects(collect(local.generate({ prompt: "hi" })), /was unloaded/);
  });
});

describe("llm engine on tiny-llm's 4-bit variant", () => {
  it("loads onnx/model_q4.onnx for dtype q4 and streams with the same guarantees", async () => {
    const engine = await loadLlm(localLoadContext("llm", { enginesPath: await fixtureDir("tiny-llm"), config: { dtype: "q4" } }));
    try {
      const chunks = await collect(engine.generate({ prompt: "Hello", temperature: 0, max_new_tokens: 16 }));
      checkStreamShape(chunks);
      assert.equal(textOf(chunks), engine.tokenizer.decode(idsOf(chunks)));
      assert.equal(finalOf(chunks).generated_tokens, idsOf(chunks).length);
    } finally {
      await engine.dispose();
    }
  });
});

describe("llm engine with scripted tiny-llm output", function () {
  let dir: string;

  before(async () => {
    dir = await fixtureDir("tiny-llm");
  });

  /** An engine whose greedy output is `text` (as the tokenizer encodes it), then <|im_end|>. */
  async function saying(text: string): Promise<{ engine: OnnxLlmEngine; ids: number[] }> {
    const plain = await loadEngine(dir);
    const ids = plain.tokenizer.encode(text, false);
    const eos = plain.tokenizer.tokenId("<|im_end|>")!;
    await plain.dispose();
    return { engine: await loadEngine(dir, scriptedSession(ids, eos)), ids };
  }

  it("streams emoji and CJK split over several byte tokens with no U+FFFD in any delta", async () => {
    const text = "Hi 😀! 日本語のテキスト 🎉👍🏽 café";
    const { engine, ids } = await saying(text);
    try {
      // Check the premise: some character really is spread over several tokens.
      const pieces = ids.map((id) => engine.tokenizer.decode([id]));
      assert.ok(pieces.some((p) => p.includes("\uFFFD")), "the text has characters split across tokens");
      const chunks = await collect(engine.generate({ prompt: "Say it", temperature: 0 }));
      checkStreamShape(chunks);
      for (const c of chunks) assert.ok(!(c.delta ?? "").includes("\uFFFD"), JSON.stringify(c.delta));
      assert.equal(textOf(chunks), text);
      assert.deepEqual(idsOf(chunks), ids);
      const final = finalOf(chunks);
      assert.equal(final.finish_reason, "stop", "stopped at <|im_end|>");
      assert.equal(final.generated_tokens, ids.length, "EOS is not a generated token");
      assert.ok(!idsOf(chunks).includes(engine.tokenizer.tokenId("<|im_end|>")!));
    } finally {
      await engine.dispose();
    }
  });

  it("stops at a stop sequence without emitting it", async () => {
    const { engine } = await saying("The answer is four. User: and then more text");
    try {
      const chunks = await collect(engine.generate({ prompt: "q", temperature: 0, stop_sequences: ["User:"] }));
      checkStreamShape(chunks);
      assert.equal(textOf(chunks), "The answer is four. ");
      assert.equal(finalOf(chunks).text, "The answer is four. ");
      assert.equal(finalOf(chunks).finish_reason, "stop");
      for (const c of chunks) assert.ok(!(c.delta ?? "").includes("User"));
    } finally {
      await engine.dispose();
    }
  });

  it("a stop-sequence prefix that does not complete is emitted at the end", async () => {
    const { engine } = await saying("Count: 1, 2, Us");
    try {
      const chunks = await collect(engine.generate({ prompt: "q", temperature: 0, stop_sequences: ["User:"] }));
      assert.equal(textOf(chunks), "Count: 1, 2, Us");
      assert.equal(finalOf(chunks).finish_reason, "stop");
    } finally {
      await engine.dispose();
    }
  });

  it("stops with 'length' at max_new_tokens", async () => {
    const { engine, ids } = await saying("one two three four five six seven eight nine ten");
    try {
      const chunks = await collect(engine.generate({ prompt: "q", temperature: 0, max_new_tokens: 4 }));
      assert.deepEqual(idsOf(chunks), ids.slice(0, 4));
      assert.equal(finalOf(chunks).finish_reason, "length");
      assert.equal(finalOf(chunks).generated_tokens, 4);
    } finally {
      await engine.dispose();
    }
  });
});
