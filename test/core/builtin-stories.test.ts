/**
 * The built-in offline LLM (Model "stories260K"): converted from the package's assets into
 * the cache once, then loaded like any local model folder, and it writes what llama2.c's
 * run.c writes for the same prompt (greedy) — the examples' offline fallback for an LLM.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { lastValueFrom, toArray } from "rxjs";
import { resolveModelSource } from "../../src/core/hub";
import { LocalModelSource } from "../../src/core/hub/local-source";
import { loadModel } from "../../src/core/registry";
import type { LlmEngine, LlmStreamChunk } from "../../src/core/types";
import { STORIES_REFERENCE } from "./llm-support";

describe("built-in stories260K LLM", function () {
  this.timeout(60000);
  const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), "vs-builtin-stories-"));
  after(() => fs.rmSync(cacheDir, { recursive: true, force: true }));

  it("'stories260K' resolves to a converted folder in the cache, converted once", async () => {
    const source = resolveModelSource("llm", { enginesPath: "stories260K" }, { cacheDir });
    assert.ok(source instanceof LocalModelSource);
    const model = await source.file("onnx/model.onnx");
    assert.ok(model.startsWith(path.join(cacheDir, "builtin", "stories260K")), model);
    const made = fs.statSync(model).mtimeMs;
    const again = await resolveModelSource("llm", { enginesPath: "STORIES260K" }, { cacheDir }).file("onnx/model.onnx");
    assert.equal(again, model);
    assert.equal(fs.statSync(again).mtimeMs, made, "not converted a second time");
  });

  it("loads and tells the story llama2.c's run.c tells for 'Once upon a time' (greedy)", async () => {
    const llm = (await loadModel("llm", { enginesPath: "stories260K" }, { cacheDir })) as LlmEngine;
    try {
      const chunks = (await lastValueFrom(llm.generate({ prompt: "Once upon a time", raw: true, temperature: 0, max_new_tokens: 20 }).pipe(toArray()))) as LlmStreamChunk[];
      const text = chunks.map((c) => c.delta ?? "").join("");
      const reference = fs.readFileSync(path.join(STORIES_REFERENCE, "once_upon_a_time.txt"), "utf8");
      assert.ok(text.trim().length > 10, text);
      assert.ok(reference.replace(/\s+/g, " ").includes(text.trim().replace(/\s+/g, " ")), `run.c wrote:\n${reference}\nwe wrote:\n${text}`);
    } finally {
      await llm.dispose();
    }
  });
});
