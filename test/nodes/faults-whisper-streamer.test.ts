/**
 * Fault corpus for whisper-streamer: the bad frames and controls users send. Each reaches the
 * Catch node as a clear error (or is ignored where nothing is wrong), nothing crashes, and the
 * node transcribes the next valid turn.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { fixtureDir } from "../helpers/fixtures";
import { synthSpeech } from "../core/asr-audio";
import { expectCaught, expectNoMoreErrors, helper, loadHarness, nodeModule, waitFor, watchCrashes, type Harness } from "./faults-support";

const MODULES = [nodeModule("voice-model"), nodeModule("whisper-streamer")];

async function load(enginesPath?: string, settings: Record<string, unknown> = {}, modelSettings: Record<string, unknown> = {}): Promise<Harness> {
  const dir = enginesPath ?? (await fixtureDir("tiny-whisper"));
  const model = { id: "n_model", type: "voice-model", name: "asr model", kind: "asr", enginesPath: dir, revision: "main", config: "{}", ...modelSettings };
  return loadHarness(MODULES, { id: "n_asr", type: "whisper-streamer", model: "n_model", language: "en", partialIntervalMs: "0", ...settings }, 2, [model]);
}

const finalOf = (h: Harness, id: string) => h.outputs[1].find((m) => m.stream_id === id);

/** The node still transcribes: a valid turn gives a final with words. */
async function transcribesNext(h: Harness, id = "ok"): Promise<void> {
  h.node.receive({ payload: synthSpeech(2, 8), stream_id: id });
  h.node.receive({ finish: true, stream_id: id });
  await waitFor(() => finalOf(h, id) !== undefined, `the final of turn ${id}`);
  const final = finalOf(h, id)!;
  assert.equal(final.kind, "final");
  assert.ok(String(final.payload).split(" ").length >= 2, `words in '${final.payload}'`);
  assert.deepEqual(final.dropped, [], "the final says what was dropped: nothing");
}

describe("faults: whisper-streamer", function () {
  this.timeout(90000);
  watchCrashes();

  it("wrong payload types: text, an object, a boolean, an array holding text — each a clear error; then it transcribes", async () => {
    const h = await load();
    await expectCaught(h, { payload: "hello", stream_id: "a" }, /msg\.payload must be audio: a Float32Array, an Int16Array, a Buffer of 16-bit little-endian PCM or an array of numbers \(got a string\)/);
    await expectCaught(h, { payload: { samples: [1] }, stream_id: "a" }, /msg\.payload must be audio/);
    await expectCaught(h, { payload: true, stream_id: "a" }, /msg\.payload must be audio/);
    await expectCaught(h, { payload: [0.1, "x"], stream_id: "a" }, /msg\.payload must be an array of numbers; item 1 is/);
    await transcribesNext(h);
    await expectNoMoreErrors(h, 4);
  });

  it("NaN and Infinity samples are errors naming the sample; the frame is dropped and the turn goes on", async () => {
    const h = await load();
    const nan = new Float32Array(320);
    nan[17] = Number.NaN;
    await expectCaught(h, { payload: nan, stream_id: "n" }, /audio frame sample 17 is NaN; samples must be finite numbers \(the frame was dropped\)/);
    await expectCaught(h, { payload: [0, Number.POSITIVE_INFINITY], stream_id: "n" }, /audio frame sample 1 is Infinity/);
    await transcribesNext(h, "n");
    await expectNoMoreErrors(h, 2);
  });

  it("an odd-length Buffer is an error (16-bit PCM needs whole samples)", async () => {
    const h = await load();
    await expectCaught(h, { payload: Buffer.alloc(641), stream_id: "o" }, /msg\.payload is a Buffer of 641 bytes; 16-bit little-endian PCM needs an even number of bytes/);
    await transcribesNext(h);
  });

  it("bad sample rates (0, negative, fractional, text) are errors", async () => {
    const h = await load();
    for (const rate of [0, -16000, 44100.5, "fast"]) {
      await expectCaught(h, { payload: new Float32Array(320), sample_rate: rate, stream_id: "r" }, /msg\.sample_rate must be a positive whole number of samples per second/);
    }
    await transcribesNext(h);
  });

  it("empty audio and controls for unknown turns open nothing and raise nothing", async () => {
    const h = await load();
    h.node.receive({ payload: new Float32Array(0), stream_id: "e" });
    h.node.receive({ payload: [], stream_id: "e" });
    h.node.receive({ flush: true, stream_id: "nope" });
    h.node.receive({ finish: true, stream_id: "nope" });
    h.node.receive({ cancel: true, stream_id: "nope" });
    h.node.receive({ is_final: true, stream_id: "nope2" });
    await transcribesNext(h);
    await expectNoMoreErrors(h, 0);
    assert.equal(h.outputs[0].concat(h.outputs[1]).filter((m) => m.stream_id !== "ok").length, 0, "nothing came out for turns that never opened");
  });

  it("duplicated and out-of-order controls: flush before audio, two cancels → one cancelled final", async () => {
    const h = await load();
    h.node.receive({ flush: true, stream_id: "c" });
    h.node.receive({ payload: synthSpeech(1, 3), stream_id: "c" });
    h.node.receive({ flush: true, stream_id: "c" });
    h.node.receive({ flush: true, stream_id: "c" });
    h.node.receive({ cancel: true, stream_id: "c" });
    h.node.receive({ cancel: true, stream_id: "c" });
    await waitFor(() => finalOf(h, "c") !== undefined, "the cancelled final");
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(h.outputs[1].filter((m) => m.stream_id === "c").length, 1);
    assert.equal(finalOf(h, "c")!.kind, "cancelled");
    await transcribesNext(h);
    await expectNoMoreErrors(h, 0);
  });

  it("an unknown language on the node is an error listing the languages", async () => {
    const h = await load(undefined, { language: "xx" });
    await expectCaught(h, { payload: synthSpeech(0.5, 1), stream_id: "l" }, /language 'xx' is not one this model knows; use one of en, zh, de, es, ru, ko, fr, ja or "auto"/);
  });

  it("guard settings in the voice-model's config reach the streams; a bad one is a load error naming it", async () => {
    let h = await load(undefined, {}, { config: JSON.stringify({ logprob_threshold: null }) });
    h.node.receive({ payload: new Float32Array(24000), stream_id: "g" });
    h.node.receive({ flush: true, stream_id: "g" });
    h.node.receive({ payload: synthSpeech(2, 8), stream_id: "g" });
    h.node.receive({ finish: true, stream_id: "g" });
    await waitFor(() => finalOf(h, "g") !== undefined, "the final");
    const dropped = finalOf(h, "g")!.dropped as { reason: string; audio_seconds: number }[];
    assert.equal(dropped.length, 1, JSON.stringify(dropped));
    assert.match(dropped[0].reason, /^no speech/);
    assert.equal(dropped[0].audio_seconds, 1.5);
    await helper.unload();
    h = await load(undefined, {}, { config: JSON.stringify({ no_speech_threshold: "high" }) });
    await expectCaught(h, { payload: synthSpeech(0.5, 1), stream_id: "b" }, /the asr model's config: no_speech_threshold must be a number, or null to turn that guard off/);
  });

  describe("damaged model folders", () => {
    const made: string[] = [];
    after(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

    async function damaged(file: string, content: Buffer | string): Promise<string> {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vs-faults-asr-"));
      made.push(dir);
      fs.cpSync(await fixtureDir("tiny-whisper"), dir, { recursive: true });
      fs.writeFileSync(path.join(dir, file), content);
      return dir;
    }

    for (const file of ["preprocessor_config.json", "generation_config.json", "tokenizer.json"]) {
      it(`a corrupt ${file} reaches Catch naming the file, the model and the fix`, async () => {
        const dir = await damaged(file, "{ not json");
        const h = await load(dir);
        await expectCaught(h, { payload: synthSpeech(0.5, 1), stream_id: "a" }, new RegExp(`'${file.replace(/\./g, "\\.")}' of model '.+' is not valid JSON .*replace it with a good copy`));
      });
    }

    it("a truncated encoder (.onnx cut in half) reaches Catch naming the file", async () => {
      const bytes = fs.readFileSync(path.join(await fixtureDir("tiny-whisper"), "onnx", "encoder_model.onnx"));
      const dir = await damaged("onnx/encoder_model.onnx", bytes.subarray(0, Math.floor(bytes.length / 2)));
      const h = await load(dir);
      await expectCaught(h, { payload: synthSpeech(0.5, 1), stream_id: "a" }, /ONNX model file .*encoder_model\.onnx.* could not be loaded .*truncated or corrupt/);
    });
  });
});
