import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { convertLlama2c } from "../../src/core/llm/llama2c/convert";
import type { OnnxLlmEngine } from "../../src/core/llm/engines/onnx/onnx-llm-engine";
import type { LlmChunk } from "../../src/core/types";
import { STORIES, STORIES_PROMPTS, STORIES_REFERENCE as REFERENCE, collect, finalOf, loadEngine, readReferenceIds } from "./llm-support";

const PROMPTS = STORIES_PROMPTS;

describe("llm engine on stories260K (converted from llama2.c)", function () {
  let outDir: string;
  let engine: OnnxLlmEngine;

  before(async () => {
    outDir = fs.mkdtempSync(path.join(os.tmpdir(), "vs-llm-stories-"));
    convertLlama2c(path.join(STORIES, "stories260K.bin"), path.join(STORIES, "tok512.bin"), outDir);
    engine = await loadEngine(outDir);
  });

  after(async () => {
    await engine?.dispose();
    fs.rmSync(outDir, { recursive: true, force: true });
  });

  it("has no chat template, so prompts go in raw with BOS", () => {
    assert.equal(engine.tokenizer.hasChatTemplate, false);
    assert.deepEqual(engine.tokenizer.encodePrompt({ prompt: PROMPTS.once_upon_a_time }), readReferenceIds("once_upon_a_time").prompt);
  });

  for (const name of Object.keys(PROMPTS)) {
    it(`greedy generation reproduces run.c's '${name}' ids and text`, async () => {
      const { prompt, generated } = readReferenceIds(name);
      const chunks = await collect(
        engine.generate({ prompt: PROMPTS[name], temperature: 0, max_new_tokens: generated.length }),
      );
      const final = finalOf(chunks) as LlmChunk;
      assert.deepEqual(chunks.flatMap((c) => c.token_ids ?? []), generated);
      assert.equal(final.prompt_tokens, prompt.length);
      assert.equal(final.generated_tokens, generated.length);
      // run.c printed the prompt, the continuation, then a newline.
      const printed = fs.readFileSync(path.join(REFERENCE, `${name}.txt`), "utf8");
      assert.equal(PROMPTS[name] + final.text + "\n", printed);
      assert.equal(chunks.map((c) => c.delta).join(""), final.text);
      console.log(
        `      stories260K '${name}': ${final.generated_tokens} tokens, ${final.tokens_per_second!.toFixed(0)} tok/s, ` +
          `first token after ${(final.time_to_first_token! * 1000).toFixed(1)} ms, ${final.total_seconds!.toFixed(3)} s in all`,
      );
    });
  }

  it("stops at BOS (the converted model's eos) like run.c when given room", async () => {
    const chunks = await collect(engine.generate({ prompt: "Once upon a time", temperature: 0, max_new_tokens: 500 }));
    const final = finalOf(chunks) as LlmChunk;
    // Either run.c's stop token or the 512 positions the model was trained for.
    assert.ok(final.finish_reason === "stop" || final.prompt_tokens! + final.generated_tokens! === 512, JSON.stringify(final));
    assert.ok(!chunks.flatMap((c) => c.token_ids).includes(1));
    const { generated } = readReferenceIds("once_upon_a_time");
    assert.deepEqual(chunks.flatMap((c) => c.token_ids).slice(0, generated.length), generated);
  });
});
