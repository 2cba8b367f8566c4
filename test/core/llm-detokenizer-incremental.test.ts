import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { StreamingDetokenizer } from "../../src/core/llm/engines/onnx/streaming-detokenizer";
import { LlmTokenizer } from "../../src/core/llm/engines/onnx/llm-tokenizer";
import { convertLlama2c } from "../../src/core/llm/llama2c/convert";
import { fixtureDir } from "../helpers/fixtures";
import { STORIES } from "./llm-support";

/** Wraps `decode`, recording how many ids each call decoded. */
function counting(decode: (ids: number[]) => string) {
  const sizes: number[] = [];
  return { sizes, decode: (ids: number[]) => (sizes.push(ids.length), decode(ids)) };
}

function streamAll(detok: StreamingDetokenizer, ids: number[]): string[] {
  const deltas = ids.map((id) => detok.push(id).delta);
  deltas.push(detok.flush().delta);
  return deltas;
}

const LONG_TEXT = [
  "Once upon a time, a little girl named Lily found a shiny stone by the river. 😀 She was very happy.",
  "Her friend Tom said: \"Let's show it to Mom!\" 日本語もすこし。 They ran home, naïve and smiling 🎉👍🏽.",
  "The end of the story is happy: everyone found the way home and slept well through the night.",
].join(" ").repeat(3);

describe("llm streaming detokenizer: cost per token stays flat", () => {
  it("byte-level BPE (tiny-llm): deltas add up to the full decode, and each push decodes at most ~20 ids however long the answer", async () => {
    const dir = await fixtureDir("tiny-llm");
    const read = (f: string) => JSON.parse(fs.readFileSync(path.join(dir, f), "utf8"));
    const tokenizer = await LlmTokenizer.create(read("tokenizer.json"), read("tokenizer_config.json"));
    const ids = tokenizer.encode(LONG_TEXT, false);
    assert.ok(ids.length > 200, `${ids.length} ids`);
    const { sizes, decode } = counting((x) => tokenizer.decode(x));
    const detok = new StreamingDetokenizer(decode, tokenizer.encode("Hello", false));
    const deltas = streamAll(detok, ids);
    // Every decode during streaming; the last one is flush()'s full decode.
    const perPush = sizes.slice(0, -1);
    for (const delta of deltas) assert.ok(!delta.includes("\uFFFD"), JSON.stringify(delta));
    assert.equal(deltas.join(""), tokenizer.decode(ids));
    assert.equal(deltas.join(""), detok.decodeGenerated());
    assert.ok(Math.max(...perPush.slice(40)) <= 4 + 2 * 16, `largest decode during streaming: ${Math.max(...perPush)} ids`);
  });

  it("SentencePiece-style decoder (converted stories260K): the leading space of each continuation survives the windowing", async () => {
    const outDir = fs.mkdtempSync(path.join(os.tmpdir(), "detok-stories-"));
    try {
      convertLlama2c(path.join(STORIES, "stories260K.bin"), path.join(STORIES, "tok512.bin"), outDir);
      const tokenizer = await LlmTokenizer.create(JSON.parse(fs.readFileSync(path.join(outDir, "tokenizer.json"), "utf8")));
      const text = "Once upon a time, there was a little girl named Lily. She liked to play in the park with her dog Max. ".repeat(6);
      const ids = tokenizer.encode(text, false);
      assert.ok(ids.length > 100, `${ids.length} ids`);
      const detok = new StreamingDetokenizer((x) => tokenizer.decode(x), tokenizer.encode("Hello", true));
      const deltas = streamAll(detok, ids);
      // The full decode behind the prompt anchor: the continuation keeps its leading space.
      assert.equal(deltas.join(""), detok.decodeGenerated());
      assert.equal(deltas.join(""), " " + tokenizer.decode(ids));
    } finally {
      fs.rmSync(outDir, { recursive: true, force: true });
    }
  });
});
