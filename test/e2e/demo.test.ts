/**
 * The offline demo ("Tell me a story") in a real Node-RED 4, started as `npm start` starts it:
 * the demo flow is copied into a fresh user dir, the inject is clicked through the admin API,
 * and the WAV that audio-out writes must be real speech of plausible length.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { NodeRedProcess } from "../helpers/node-red-process";
import { decodeWav } from "../../src/core/audio/wav";

const INJECT = "d3m0000000000003";


describe("e2e: offline demo 'Tell me a story' in Node-RED 4", function () {
  this.timeout(180000);
  let red: NodeRedProcess;

  before(async () => {
    red = await NodeRedProcess.start({ demo: true, env: { HF_ENDPOINT: "http://127.0.0.1:9" } });
  });
  after(async () => {
    await red?.stop();
  });

  it("deploys the demo flow from a fresh user dir with all nodes known and no warnings", async () => {
    const res = await red.request("GET", "/flows");
    const flows = res.json as { id: string; type: string }[];
    const types = new Set(flows.map((n) => n.type));
    for (const t of ["llm-stream", "tts-streamer", "audio-out", "voice-model", "inject", "comment"]) assert.ok(types.has(t), `demo flow has a ${t} node`);
    assert.doesNotMatch(red.log(), /Waiting for missing types/);
    assert.deepEqual(red.problems().filter((l) => !/unencrypted credentials|Projects disabled/.test(l)), []);
  });

  it("tells a story: the WAV is real speech of plausible length", async () => {
    const res = await red.request("POST", `/inject/${INJECT}`);
    assert.equal(res.status, 200, res.text);
    const storyDir = path.join(red.userDir, "stories");
    // Both audio-outs (browser page, WAV file) send {event: "drained"} once the stream has been played out.
    await red.waitFor(() => red.debug.filter((d) => /drained/.test(String(d.msg))).length >= 2 && fs.existsSync(storyDir), 150000, "the story WAV to be drained");
    const errors = red.debug.filter((d) => d.level === 20);
    assert.deepEqual(errors, [], "no node reported an error");
    const files = fs.readdirSync(storyDir).filter((f) => f.endsWith(".wav"));
    assert.equal(files.length, 1, `one story WAV in ${storyDir}`);
    const wav = decodeWav(fs.readFileSync(path.join(storyDir, files[0])));
    const seconds = wav.samples.length / wav.sampleRate;
    // 200 tokens of TinyStories text spoken by espeak-ng: tens of seconds, never a blip.
    assert.ok(seconds > 3 && seconds < 120, `story lasts ${seconds.toFixed(1)} s`);
    let sum = 0;
    for (const s of wav.samples) sum += s * s;
    const rms = Math.sqrt(sum / wav.samples.length);
    assert.ok(rms > 0.02, `RMS ${rms.toFixed(4)} is speech, not silence`);
    // Speech has pauses between words, but most 20 ms windows carry voice.
    const win = Math.round(wav.sampleRate * 0.02);
    let voiced = 0;
    let windows = 0;
    for (let i = 0; i + win <= wav.samples.length; i += win, windows++) {
      let e = 0;
      for (let j = i; j < i + win; j++) e += wav.samples[j] * wav.samples[j];
      if (Math.sqrt(e / win) > 0.01) voiced++;
    }
    console.log(`      story WAV: ${seconds.toFixed(1)} s at ${wav.sampleRate} Hz, RMS ${rms.toFixed(3)}, ${((100 * voiced) / windows).toFixed(0)}% of 20 ms windows voiced`);
    assert.ok(voiced / windows > 0.4, `${voiced} of ${windows} windows voiced`);
    assert.ok(voiced / windows < 0.99, "it has the pauses of speech, not a constant tone");
    const story = red.debug.find((d) => d.property === "text" || /Once upon a time|little dog/.test(String(d.msg)));
    assert.ok(story, "the whole story text reached the debug sidebar");
  });
});
