/**
 * Fault corpus for audio-out (the null sink: paced and discarded, so no system player is
 * needed): the bad chunks and controls users send. Each reaches the Catch node as a clear
 * error (or is ignored where nothing is wrong), nothing crashes, and the node plays the next
 * valid stream to its end.
 */
import { strict as assert } from "assert";
import { expectCaught, expectNoMoreErrors, helper, loadHarness, nodeModule, waitFor, watchCrashes, type Harness } from "./faults-support";

const MODULES = [nodeModule("audio-out")];

async function load(settings: Record<string, unknown> = {}): Promise<Harness> {
  return loadHarness(MODULES, { id: "n_out", type: "audio-out", sink: "null", bufferMs: "20", ...settings }, 1);
}

const events = (h: Harness, id: string) => h.outputs[0].filter((m) => m.stream_id === id).map((m) => m.event);

/** The node still plays: a short valid stream ends with "drained". */
async function playsNext(h: Harness, id = "ok"): Promise<void> {
  h.node.receive({ payload: new Float32Array(800).fill(0.1), sample_rate: 16000, stream_id: id });
  h.node.receive({ payload: new Float32Array(0), sample_rate: 16000, is_final: true, stream_id: id });
  await waitFor(() => events(h, id).includes("drained"), `'drained' for stream ${id}`);
}

describe("faults: audio-out", function () {
  this.timeout(60000);
  watchCrashes();

  it("wrong payload types: text, an object, a boolean, null without is_final — each a clear error; then it plays", async () => {
    const h = await load();
    await expectCaught(h, { payload: "beep", stream_id: "a" }, /msg\.payload must be audio: a Float32Array, an Int16Array, a Buffer of 16-bit little-endian PCM or an array of numbers \(got a string\)/);
    await expectCaught(h, { payload: { samples: [] }, stream_id: "a" }, /msg\.payload must be audio/);
    await expectCaught(h, { payload: false, stream_id: "a" }, /msg\.payload must be audio/);
    await expectCaught(h, { payload: null, stream_id: "a" }, /msg\.payload must be audio: .*\(got null\)/);
    await playsNext(h);
    await expectNoMoreErrors(h, 4);
  });

  it("NaN / Infinity samples and odd-length Buffers are errors; the stream plays on after them", async () => {
    const h = await load();
    await expectCaught(h, { payload: Float32Array.of(0, Number.NaN), stream_id: "n" }, /msg\.payload holds NaN or infinite samples; the audio is broken upstream/);
    await expectCaught(h, { payload: [Number.NEGATIVE_INFINITY], stream_id: "n" }, /NaN or infinite samples/);
    await expectCaught(h, { payload: Buffer.alloc(5), stream_id: "n" }, /msg\.payload is a Buffer of 5 bytes; 16-bit little-endian PCM needs an even number of bytes/);
    await playsNext(h, "n");
    await expectNoMoreErrors(h, 3);
  });

  it("bad sample rates are errors that show the value as sent (NaN is NaN, not null)", async () => {
    const h = await load();
    await expectCaught(h, { payload: new Float32Array(10), sample_rate: 0, stream_id: "r" }, /msg\.sample_rate must be a whole number of Hz \(e\.g\. 16000 or 24000\), got 0$/);
    await expectCaught(h, { payload: new Float32Array(10), sample_rate: Number.NaN, stream_id: "r" }, /got NaN$/);
    await expectCaught(h, { payload: new Float32Array(10), sample_rate: "fast", stream_id: "r" }, /got "fast"$/);
    await expectCaught(h, { payload: new Float32Array(10), sample_rate: 22050.5, stream_id: "r" }, /got 22050\.5$/);
    await playsNext(h);
    await expectNoMoreErrors(h, 4);
  });

  it("empty audio and pause/resume twice raise nothing; cancel for a stream not playing answers 'stopped' once", async () => {
    const h = await load();
    h.node.receive({ payload: new Float32Array(0), stream_id: "e" });
    h.node.receive({ pause: true });
    h.node.receive({ pause: true });
    h.node.receive({ resume: true });
    h.node.receive({ resume: true });
    h.node.receive({ cancel: true, stream_id: "nope" });
    await waitFor(() => events(h, "nope").length > 0, "the stopped event");
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(events(h, "nope"), ["stopped"]);
    await playsNext(h);
    await expectNoMoreErrors(h, 0);
  });

  it("impossible node settings (volume, buffer, sample rate, sink) reach Catch on every input", async () => {
    for (const [settings, expected] of [
      [{ volume: "loud" }, /audio-out: volume "loud" is not valid/],
      [{ bufferMs: "-5" }, /audio-out: buffer "-5" is not valid/],
      [{ sampleRate: "12" }, /audio-out: sample rate "12" is not valid/],
      [{ sink: "radio" }, /audio-out: unknown sink "radio"; choose speaker, file, browser or null/],
    ] as const) {
      const h = await load(settings);
      await expectCaught(h, { payload: new Float32Array(10), stream_id: "x" }, expected);
      await helper.unload();
    }
  });
});
