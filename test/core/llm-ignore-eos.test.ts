import { strict as assert } from "assert";
import { fixtureDir } from "../helpers/fixtures";
import { collect, finalOf, loadEngine, scriptedSession } from "./llm-support";

describe("llm ignore_eos (fixed-length generation for benchmarks)", () => {
  it("stops at EOS by default, and with ignore_eos goes on to exactly max_new_tokens", async () => {
    const dir = await fixtureDir("tiny-llm");
    const probe = await loadEngine(dir);
    const eos = probe.tokenizer.tokenId("<|im_end|>")!;
    await probe.dispose();

    // The model is steered to say EOS at every step.
    const stopping = await loadEngine(dir, scriptedSession([], eos));
    const normal = finalOf(await collect(stopping.generate({ prompt: "hello", raw: true, temperature: 0, max_new_tokens: 6 })));
    await stopping.dispose();
    assert.equal(normal.finish_reason, "stop");
    assert.equal(normal.generated_tokens, 0);

    const ignoring = await loadEngine(dir, scriptedSession([], eos));
    const chunks = await collect(ignoring.generate({ prompt: "hello", raw: true, temperature: 0, max_new_tokens: 6, ignore_eos: true }));
    await ignoring.dispose();
    const final = finalOf(chunks);
    assert.equal(final.finish_reason, "length");
    assert.equal(final.generated_tokens, 6);
    assert.deepEqual(chunks.flatMap((c) => c.token_ids ?? []), new Array(6).fill(eos));
  });
});
