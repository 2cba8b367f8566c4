/**
 * Fault corpus for llm-stream: the bad prompts, settings and controls users send. Each reaches
 * the Catch node as a clear error (or is ignored where nothing is wrong), nothing crashes, and
 * the node answers the next valid prompt.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { fixtureDir } from "../helpers/fixtures";
import { expectCaught, expectNoMoreErrors, loadHarness, megabyteText, nodeModule, waitFor, watchCrashes, type Harness, type Msg } from "./faults-support";

const MODULES = [nodeModule("voice-model"), nodeModule("llm-stream")];

async function load(enginesPath?: string, settings: Record<string, unknown> = {}): Promise<Harness> {
  const dir = enginesPath ?? (await fixtureDir("tiny-llm"));
  const model = { id: "n_model", type: "voice-model", name: "llm model", kind: "llm", enginesPath: dir, revision: "main", config: "{}" };
  return loadHarness(MODULES, { id: "n_llm", type: "llm-stream", model: "n_model", maxNewTokens: "8", seed: "1", ...settings }, 2, [model]);
}

const summaryOf = (h: Harness, id: string) => h.outputs[1].find((m) => m.stream_id === id);

/** The node still answers: a valid prompt gives chunks and one summary. */
async function answersNext(h: Harness, id = "ok"): Promise<void> {
  h.node.receive({ payload: "Once upon a time", stream_id: id });
  await waitFor(() => summaryOf(h, id) !== undefined, `the summary of stream ${id}`);
  const summary = summaryOf(h, id)!;
  assert.ok(typeof summary.payload === "string" && (summary.generated_tokens as number) > 0, JSON.stringify(summary));
}

describe("faults: llm-stream", function () {
  this.timeout(90000);
  watchCrashes();

  it("wrong prompt types: a number, an object, null, a boolean — each a clear error; then it answers", async () => {
    const h = await load();
    for (const [payload, got] of [[42, "number"], [{ text: "hi" }, "object"], [null, "null"], [true, "boolean"]] as const) {
      await expectCaught(h, { payload, stream_id: "bad" }, new RegExp(`msg\\.payload must be the prompt text or an array of \\{role, content\\} messages, got ${got}`));
    }
    await answersNext(h);
    await expectNoMoreErrors(h, 4);
  });

  it("chat arrays with wrong items (numbers, a message without content, an empty array) are clear errors", async () => {
    const h = await load();
    await expectCaught(h, { payload: [1, 2], stream_id: "c1" }, /message 0 must be an object \{role: string, content: string\}, got 1/);
    await expectCaught(h, { payload: [{ role: "user" }], stream_id: "c2" }, /message 0 must be an object \{role: string, content: string\}, got \{"role":"user"\}/);
    await expectCaught(h, { payload: [{ role: "user", content: "hi" }, { role: "user", content: 5 }], stream_id: "c3" }, /message 1 must be an object \{role: string, content: string\}/);
    await expectCaught(h, { payload: [], stream_id: "c4" }, /the message list is empty: send at least one \{role, content\} message/);
    await answersNext(h);
    await expectNoMoreErrors(h, 4);
  });

  it("NaN, Infinity and text where numbers belong are errors naming the setting", async () => {
    const h = await load();
    // NaN and Infinity are named as they are (JSON would print them as null).
    await expectCaught(h, { payload: "Hi", temperature: Number.NaN, stream_id: "t" }, /temperature must be a number ≥ 0, got NaN$/);
    await expectCaught(h, { payload: "Hi", temperature: "hot", stream_id: "t" }, /temperature must be a number ≥ 0, got "hot"$/);
    await expectCaught(h, { payload: "Hi", max_new_tokens: Number.POSITIVE_INFINITY, stream_id: "m" }, /max_new_tokens must be .*, got Infinity$/);
    await expectCaught(h, { payload: "Hi", top_k: -3, stream_id: "k" }, /top_k must be .*, got -3$/);
    await expectCaught(h, { payload: "Hi", top_p: 7, stream_id: "p" }, /top_p must be .*, got 7$/);
    await expectCaught(h, { payload: "Hi", stop_sequences: "END", stream_id: "s" }, /stop_sequences must be an array of strings, got "END"/);
    await answersNext(h);
    await expectNoMoreErrors(h, 6);
  });

  it("an empty prompt is an error saying to send some text; then it answers", async () => {
    const h = await load();
    await expectCaught(h, { payload: "", stream_id: "e" }, /the prompt is empty: send some text/);
    await expectCaught(h, { payload: "", raw: true, stream_id: "raw" }, /the prompt is empty/);
    await answersNext(h);
    await expectNoMoreErrors(h, 2);
  });

  it("a 1 MB prompt is an error saying it does not fit the context; then it answers", async () => {
    const h = await load();
    await expectCaught(h, { payload: megabyteText(), stream_id: "big" }, /the prompt is \d+ tokens but the model handles at most 2048 positions: shorten it/, 60000);
    await answersNext(h);
  });

  it("controls for unknown streams do nothing; duplicated cancels give one cancelled final", async () => {
    const h = await load(undefined, { maxNewTokens: "400" });
    h.node.receive({ cancel: true, stream_id: "nope" });
    h.node.receive({ payload: "Once upon a time", stream_id: "d", ignore_eos: true });
    await waitFor(() => h.outputs[0].some((m) => m.stream_id === "d"), "the first chunk");
    h.node.receive({ cancel: true, stream_id: "d" });
    h.node.receive({ cancel: true, stream_id: "d" });
    await waitFor(() => summaryOf(h, "d") !== undefined, "the cancelled summary");
    await new Promise((r) => setTimeout(r, 200));
    const finals = h.outputs[0].filter((m) => m.stream_id === "d" && m.is_final === true);
    assert.equal(finals.length, 1);
    assert.equal(finals[0].finish_reason, "cancelled");
    assert.equal(h.outputs[0].concat(h.outputs[1]).filter((m) => m.stream_id === "nope").length, 0);
    await answersNext(h);
    await expectNoMoreErrors(h, 0);
  });

  describe("damaged model folders", () => {
    const made: string[] = [];
    after(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

    async function damaged(file: string, content: Buffer | string): Promise<string> {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vs-faults-llm-"));
      made.push(dir);
      fs.cpSync(await fixtureDir("tiny-llm"), dir, { recursive: true });
      fs.writeFileSync(path.join(dir, file), content);
      return dir;
    }

    for (const file of ["config.json", "generation_config.json", "tokenizer.json"]) {
      it(`a corrupt ${file} reaches Catch naming the file, the model and the fix — for every prompt`, async () => {
        const dir = await damaged(file, '{"a": 1,');
        const h = await load(dir);
        const expected = new RegExp(`'${file.replace(/\./g, "\\.")}' of model '.+' is not valid JSON .*replace it with a good copy`);
        await expectCaught(h, { payload: "Hi", stream_id: "a" } as Msg, expected);
        await expectCaught(h, { payload: "Hi again", stream_id: "b" } as Msg, expected);
      });
    }

    it("a truncated onnx/model.onnx reaches Catch naming the file", async () => {
      const bytes = fs.readFileSync(path.join(await fixtureDir("tiny-llm"), "onnx", "model.onnx"));
      const dir = await damaged("onnx/model.onnx", bytes.subarray(0, Math.floor(bytes.length / 3)));
      const h = await load(dir);
      await expectCaught(h, { payload: "Hi", stream_id: "a" }, /ONNX model file .*model\.onnx.* could not be loaded .*truncated or corrupt/);
    });
  });
});
