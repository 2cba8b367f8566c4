/**
 * Fault corpus for audio-in (file source, so no recorder is needed): the bad commands and
 * files users send. Each reaches the Catch node as a clear error (or is ignored where nothing
 * is wrong), nothing crashes, and the node plays the next valid file to its end.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { sharedDir } from "../helpers/paths";
import { expectCaught, expectNoMoreErrors, helper, loadHarness, nodeModule, waitFor, watchCrashes, type Harness } from "./faults-support";

const MODULES = [nodeModule("audio-in")];
const HELLO = sharedDir("audio", "hello_16k.wav");

async function load(settings: Record<string, unknown> = {}): Promise<Harness> {
  return loadHarness(MODULES, { id: "n_in", type: "audio-in", source: "file", path: HELLO, realtime: false, ...settings }, 1);
}

const finals = (h: Harness) => h.outputs[0].filter((m) => m.is_final === true);

/** The node still plays: a start gives frames and one final. */
async function playsNext(h: Harness): Promise<void> {
  const before = finals(h).length;
  h.node.receive({ payload: "start", filename: HELLO });
  await waitFor(() => finals(h).length === before + 1, "the final of the next capture");
  const last = finals(h)[before];
  assert.ok((last.audio_seconds as number) > 0.5, `played ${last.audio_seconds} s`);
}

describe("faults: audio-in", function () {
  this.timeout(60000);
  watchCrashes();
  const made: string[] = [];
  after(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
  const tempFile = (name: string, content: Buffer | string) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vs-faults-in-"));
    made.push(dir);
    const file = path.join(dir, name);
    fs.writeFileSync(file, content);
    return file;
  };

  it("commands that are neither start nor stop (a number, other text, an object) are clear errors; then it plays", async () => {
    const h = await load();
    await expectCaught(h, { payload: 42 }, /audio-in: send msg\.payload "start" or "stop" \(or msg\.start \/ msg\.stop = true\); got 42/);
    await expectCaught(h, { payload: "play" }, /got "play"/);
    await expectCaught(h, { payload: { start: true } }, /got \{"start":true\}/);
    await playsNext(h);
    await expectNoMoreErrors(h, 3);
  });

  it("a msg.filename that is not a string is an error, not silently the node's own file", async () => {
    const h = await load();
    await expectCaught(h, { payload: "start", filename: 7 }, /audio-in: msg\.filename must be the path of a WAV file \(a string\), got number/);
    await playsNext(h);
  });

  it("a missing file, a file that is not a WAV and an empty file are errors naming the file; each capture still ends with one final", async () => {
    const h = await load();
    const missing = path.join(os.tmpdir(), "vs-no-such-file.wav");
    await expectCaught(h, { payload: "start", filename: missing }, new RegExp(missing.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")));
    await waitFor(() => finals(h).length === 1, "the final of the failed capture");
    const text = tempFile("notes.wav", "these are not samples");
    await expectCaught(h, { payload: "start", filename: text }, /RIFF|WAV/);
    const empty = tempFile("empty.wav", Buffer.alloc(0));
    await expectCaught(h, { payload: "start", filename: empty }, /RIFF|WAV|empty/);
    await waitFor(() => finals(h).length === 3, "one final per failed capture");
    await playsNext(h);
  });

  it("a truncated WAV (its data cut off) plays the samples it has, then ends", async () => {
    const bytes = fs.readFileSync(HELLO);
    const cut = tempFile("cut.wav", bytes.subarray(0, 44 + 16000)); // header + 0.5 s of 16-bit samples
    const h = await load();
    h.node.receive({ payload: "start", filename: cut });
    await waitFor(() => finals(h).length === 1, "the final");
    assert.equal(finals(h)[0].audio_seconds, 0.5);
    await playsNext(h);
    await expectNoMoreErrors(h, 0);
  });

  it("duplicated and out-of-order controls: stop before start, two starts, two stops — one capture, one final", async () => {
    const h = await load({ realtime: true });
    h.node.receive({ payload: "stop" });
    h.node.receive({ payload: "start" });
    h.node.receive({ payload: "start" });
    await waitFor(() => h.outputs[0].length > 2, "some frames");
    h.node.receive({ stop: true });
    h.node.receive({ stop: true });
    await waitFor(() => finals(h).length === 1, "the final");
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(finals(h).length, 1);
    assert.equal(new Set(h.outputs[0].map((m) => m.stream_id)).size, 1, "one capture");
    await expectNoMoreErrors(h, 0);
  });

  it("an impossible frame size reaches Catch on start", async () => {
    for (const frameMs of ["0", "abc", "5000"]) {
      const h = await load({ frameMs });
      await expectCaught(h, { payload: "start" }, /audio-in: frame size must be 5 to 1000 ms/);
      await helper.unload();
    }
  });
});
