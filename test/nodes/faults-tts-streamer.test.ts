/**
 * Fault corpus for tts-streamer: the bad inputs users send. Each reaches the Catch node as a
 * clear error (or is ignored where nothing is wrong), nothing crashes, and the node speaks
 * the next valid message.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { fixtureDir } from "../helpers/fixtures";
import { expectCaught, expectNoMoreErrors, helper, loadHarness, megabyteText, nodeModule, waitFor, watchCrashes, type Harness, type Msg } from "./faults-support";

const MODULES = [nodeModule("voice-model"), nodeModule("tts-streamer")];

async function load(enginesPath?: string, settings: Record<string, unknown> = {}, modelSettings: Record<string, unknown> = {}): Promise<Harness> {
  const dir = enginesPath ?? (await fixtureDir("tiny-codec-tts"));
  const model = { id: "n_model", type: "voice-model", name: "tts model", kind: "tts", enginesPath: dir, revision: "main", config: "{}", ...modelSettings };
  return loadHarness(MODULES, { id: "n_tts", type: "tts-streamer", model: "n_model", ...settings }, 1, [model]);
}

const finals = (h: Harness, id: string) => h.outputs[0].filter((m) => m.stream_id === id && m.is_final === true);
const audioSamples = (h: Harness, id: string) =>
  h.outputs[0].filter((m) => m.stream_id === id && !m.is_final).reduce((n, m) => n + (m.payload as Float32Array).length, 0);

/** The node still speaks: a short valid text gives audio and one final. */
async function speaksNext(h: Harness, id = "ok"): Promise<void> {
  h.node.receive({ payload: "Still working.", stream_id: id, seed: 1 });
  await waitFor(() => finals(h, id).length === 1, `the final of stream ${id}`);
  assert.ok(audioSamples(h, id) > 0, "the valid message was spoken");
}

describe("faults: tts-streamer", function () {
  this.timeout(90000);
  watchCrashes();

  it("wrong payload types: a number, an object, a Buffer, null, an array — each a clear error; then it speaks", async () => {
    const h = await load();
    for (const [payload, name] of [[42, "number"], [{ text: "hi" }, "object"], [Buffer.from("hi"), "a Buffer"], [null, "null"], [["hi"], "an array"]] as const) {
      await expectCaught(h, { payload, stream_id: `bad-${name}` }, new RegExp(`msg\\.payload must be the text to speak \\(a string\\), got ${name}`));
    }
    await speaksNext(h);
    await expectNoMoreErrors(h, 5);
  });

  it("wrong types in the controls: msg.voice and msg.seed that are not a string / a number are errors, not silently ignored", async () => {
    const h = await load();
    await expectCaught(h, { payload: "Hi.", voice: 7, stream_id: "v" }, /msg\.voice must be a voice name \(a string\), got number/);
    await expectCaught(h, { payload: "Hi.", seed: "lucky", stream_id: "s" }, /msg\.seed must be a finite number, got string/);
    await expectCaught(h, { payload: "Hi.", seed: Number.NaN, stream_id: "s2" }, /msg\.seed must be a finite number, got NaN/);
    await expectCaught(h, { payload: "Hi.", seed: Number.POSITIVE_INFINITY, stream_id: "s3" }, /msg\.seed must be a finite number, got Infinity/);
    await speaksNext(h);
    await expectNoMoreErrors(h, 4);
  });

  it("an unknown voice (msg.voice) is an error listing the voices; the node speaks the next message", async () => {
    const h = await load();
    await expectCaught(h, { payload: "Hi.", voice: "nobody", stream_id: "v" }, /unknown voice 'nobody'; this model has: dave, jo/);
    await speaksNext(h);
  });

  it("an unknown voice set on the node or on the voice-model is an error listing the voices", async () => {
    let h = await load(undefined, { voice: "nobody" });
    await expectCaught(h, { payload: "Hi.", stream_id: "a" }, /unknown voice 'nobody'; this model has: dave, jo/);
    await helper.unload();
    h = await load(undefined, {}, { voice: "nobody" });
    await expectCaught(h, { payload: "Hi.", stream_id: "a" }, /voice 'nobody' set on the voice-model is not a voice of model '.+'; it has: dave, jo/);
  });

  it("empty text gives one final with no audio and no error", async () => {
    const h = await load();
    h.node.receive({ payload: "", stream_id: "empty" });
    await waitFor(() => finals(h, "empty").length === 1, "the empty stream's final");
    assert.equal(audioSamples(h, "empty"), 0);
    await speaksNext(h);
    await expectNoMoreErrors(h, 0);
  });

  it("a 1 MB text streams audio (span by span) and cancels at once; the node speaks the next message", async () => {
    const h = await load();
    h.node.receive({ payload: megabyteText(), stream_id: "big", seed: 2 });
    await waitFor(() => audioSamples(h, "big") > 0, "the first audio of the 1 MB text", 60000);
    h.node.receive({ cancel: true, stream_id: "big" });
    await waitFor(() => finals(h, "big").length === 1, "the cancelled final");
    assert.equal(finals(h, "big")[0].kind, "cancelled");
    await speaksNext(h);
    await expectNoMoreErrors(h, 0);
  });

  it("controls for unknown streams (cancel, flush) do nothing and raise nothing; duplicated cancels give one cancelled final", async () => {
    const h = await load();
    h.node.receive({ cancel: true, stream_id: "nope" });
    h.node.receive({ flush: true, stream_id: "nope" });
    h.node.receive({ kind: "cancelled", is_final: true, stream_id: "nope" });
    h.node.receive({ payload: "One two three four five six.", is_final: false, stream_id: "d", seed: 1 });
    h.node.receive({ cancel: true, stream_id: "d" });
    h.node.receive({ cancel: true, stream_id: "d" });
    await waitFor(() => finals(h, "d").length === 1, "the cancelled final");
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(finals(h, "d").length, 1, "one cancelled final for two cancels");
    assert.equal(h.outputs[0].filter((m) => m.stream_id === "nope").length, 0);
    await speaksNext(h);
    await expectNoMoreErrors(h, 0);
  });

  it("impossible settings (msg-level sample rate on the node) are reported per message; the node keeps working", async () => {
    const h = await load(undefined, { sampleRateOut: "12" });
    await expectCaught(h, { payload: "Hi.", stream_id: "r" }, /sample_rate_out must be a whole number of Hz between 8000 and 192000, got 12/);
    await expectCaught(h, { payload: "Hi.", stream_id: "r2" }, /sample_rate_out must be a whole number/);
  });

  describe("damaged model folders", () => {
    const made: string[] = [];
    after(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

    async function damaged(fixture: string, file: string, content: Buffer | string): Promise<string> {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vs-faults-tts-"));
      made.push(dir);
      fs.cpSync(await fixtureDir(fixture), dir, { recursive: true });
      fs.writeFileSync(path.join(dir, file), content);
      return dir;
    }

    it("a corrupt tts_config.json reaches Catch naming the file, the model and the fix — for every message", async () => {
      const dir = await damaged("tiny-codec-tts", "tts_config.json", '{"engine": "codec",');
      const h = await load(dir);
      const expected = new RegExp(`'tts_config\\.json' of model '${dir.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}' is not valid JSON .*replace it with a good copy`);
      await expectCaught(h, { payload: "Hi.", stream_id: "a" }, expected);
      await expectCaught(h, { payload: "Hi again.", stream_id: "b" }, expected);
    });

    it("a truncated codec decoder (.onnx cut in half) reaches Catch naming the file", async () => {
      const source = path.join(await fixtureDir("tiny-codec-tts"), "codec", "decoder.onnx");
      const bytes = fs.readFileSync(source);
      const dir = await damaged("tiny-codec-tts", "codec/decoder.onnx", bytes.subarray(0, Math.floor(bytes.length / 2)));
      const h = await load(dir);
      await expectCaught(h, { payload: "Hi.", stream_id: "a" }, /ONNX model file .*decoder\.onnx.* could not be loaded .*truncated or corrupt/);
    });

    it("a truncated piper .onnx.json reaches Catch naming the file", async () => {
      const file = "en_US-tiny-medium.onnx.json";
      const text = fs.readFileSync(path.join(await fixtureDir("tiny-piper"), file), "utf8");
      const dir = await damaged("tiny-piper", file, text.slice(0, Math.floor(text.length / 2)));
      const h = await load(dir);
      await expectCaught(h, { payload: "Hi.", stream_id: "a" }, /'en_US-tiny-medium\.onnx\.json' of model '.+' is not valid JSON/);
    });
  });
});

export type { Msg };
