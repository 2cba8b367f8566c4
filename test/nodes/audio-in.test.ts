import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { readWavFile } from "../../src/core/audio/wav";
import { findExecutable } from "../../src/core/audio/system-tools";
import { needTool } from "../helpers/system-tools";
import { repoRoot, sharedDir } from "../helpers/paths";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const helper = require("node-red-node-test-helper");
helper.init(require.resolve("node-red"));

const NODES = path.join(repoRoot(), "dist", "src", "nodes");
// eslint-disable-next-line @typescript-eslint/no-require-imports
const audioInNode = require(path.join(NODES, "audio-in.js"));
// eslint-disable-next-line @typescript-eslint/no-require-imports
const catchNode = require("@node-red/nodes/core/common/25-catch.js");

type Msg = Record<string, unknown> & { payload?: unknown };
const HELLO = sharedDir("audio", "hello_16k.wav");

async function load(settings: Record<string, unknown>) {
  const flow = [
    { id: "n_in", type: "audio-in", wires: [["n_frames"]], ...settings },
    { id: "n_frames", type: "helper" },
    { id: "n_catch", type: "catch", scope: ["n_in"], wires: [["n_caught"]] },
    { id: "n_caught", type: "helper" },
  ];
  await helper.load([audioInNode, catchNode], flow);
  const frames: Msg[] = [];
  const errors: Msg[] = [];
  helper.getNode("n_frames").on("input", (m: Msg) => frames.push(m));
  helper.getNode("n_caught").on("input", (m: Msg) => errors.push(m));
  return { input: helper.getNode("n_in"), frames, errors };
}

const waitFor = async (check: () => boolean, ms = 15000) => {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 5));
  }
};
const message = (m: Msg) => String((m.error as { message: string }).message);

describe("audio-in node", function () {
  this.timeout(30000);
  afterEach(async () => {
    await helper.unload();
  });

  it("plays hello_16k.wav as fast as possible: 20 ms frames that concatenate to the file, then one is_final", async () => {
    const { input, frames } = await load({ source: "file", path: HELLO, realtime: false });
    input.receive({ payload: "start", topic: "mic 1" });
    await waitFor(() => frames.some((f) => f.is_final === true));
    const wav = await readWavFile(HELLO);
    const data = frames.filter((f) => !f.is_final);
    const finals = frames.filter((f) => f.is_final === true);
    assert.equal(finals.length, 1);
    assert.equal(frames[frames.length - 1], finals[0]);
    assert.equal((finals[0].payload as Float32Array).length, 0);
    const id = frames[0].stream_id;
    assert.ok(typeof id === "string" && id !== "");
    for (const [i, f] of frames.entries()) {
      assert.equal(f.stream_id, id);
      assert.equal(f.sample_rate, 16000);
      assert.equal(f.topic, "mic 1");
      assert.deepEqual(f.parts, f.is_final ? { id, index: i, count: i + 1 } : { id, index: i });
      assert.ok(f.payload instanceof Float32Array);
    }
    for (const f of data.slice(0, -1)) assert.equal((f.payload as Float32Array).length, 320);
    const joined = new Float32Array(data.reduce((n, f) => n + (f.payload as Float32Array).length, 0));
    let at = 0;
    for (const f of data) {
      joined.set(f.payload as Float32Array, at);
      at += (f.payload as Float32Array).length;
    }
    assert.deepEqual(joined, wav.samples);
    assert.equal(finals[0].audio_seconds, wav.samples.length / 16000);
  });

  it("frame size option and msg.start/msg.stop; a stop ends a real-time playback early with one is_final", async () => {
    const { input, frames } = await load({ source: "file", path: HELLO, realtime: true, frameMs: "50" });
    input.receive({ start: true, stream_id: "turn-7" });
    await waitFor(() => frames.length >= 3);
    input.receive({ stop: true });
    await waitFor(() => frames.some((f) => f.is_final === true));
    await new Promise((r) => setTimeout(r, 200));
    const wav = await readWavFile(HELLO);
    const data = frames.filter((f) => !f.is_final);
    assert.ok(data.length * 800 < wav.samples.length, "the whole file went out despite the stop");
    for (const f of data) assert.equal((f.payload as Float32Array).length, 800);
    assert.equal(frames.filter((f) => f.is_final).length, 1);
    assert.ok(frames.every((f) => f.stream_id === "turn-7"));
    assert.equal(frames[frames.length - 1].is_final, true);
  });

  it("microphone through arecord (ALSA null device) until stop, then is_final", async function () {
    needTool(this, "arecord");
    const { input, frames, errors } = await load({ source: "microphone", recorder: "arecord", device: "null" });
    input.receive({ payload: "start" });
    await waitFor(() => frames.length >= 5);
    input.receive({ payload: "stop" });
    await waitFor(() => frames.some((f) => f.is_final === true));
    const data = frames.filter((f) => !f.is_final);
    // ALSA's null capture hands out whatever its buffer holds: check the framing, not the values.
    assert.ok(data.every((f) => (f.payload as Float32Array).length === 320 && (f.payload as Float32Array).every((v) => v >= -1 && v < 1)));
    assert.ok(data.every((f) => f.sample_rate === 16000 && f.stream_id === frames[0].stream_id));
    assert.equal(frames.filter((f) => f.is_final).length, 1);
    assert.equal(errors.length, 0);
  });

  it("a recorder that dies (no capture device): red 'no microphone', the whole reason to Catch, the turn ends with is_final", async () => {
    // A real process standing in for arecord on a machine without a microphone.
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), "vs-dead-recorder-"));
    fs.writeFileSync(path.join(bin, "arecord"), '#!/bin/sh\necho "arecord: main:850: audio open error: No such file or directory" >&2\nexit 1\n', { mode: 0o755 });
    const pathBefore = process.env.PATH;
    process.env.PATH = `${bin}${path.delimiter}${pathBefore}`;
    try {
      const { input, frames, errors } = await load({ source: "microphone", recorder: "arecord" });
      const statuses: { fill?: string; text?: string }[] = [];
      const node = input as unknown as { status: (s: { fill?: string; text?: string }) => void };
      const status = node.status.bind(input);
      node.status = (st) => (statuses.push(st), status(st));
      input.receive({ payload: "start" });
      await waitFor(() => errors.length === 1 && frames.some((f) => f.is_final === true));
      assert.match(message(errors[0]), /arecord stopped recording unexpectedly \(code 1\): arecord: main:850: audio open error: No such file or directory/);
      assert.deepEqual(statuses[statuses.length - 1], { fill: "red", shape: "ring", text: "no microphone" });
    } finally {
      process.env.PATH = pathBefore;
      fs.rmSync(bin, { recursive: true, force: true });
    }
  });

  it("start when the flow starts (autoStart) plays the file without a start msg", async () => {
    const { frames } = await load({ source: "file", path: HELLO, realtime: false, autoStart: true });
    await waitFor(() => frames.some((f) => f.is_final === true));
    const wav = await readWavFile(HELLO);
    const total = frames.reduce((n, f) => n + (f.payload as Float32Array).length, 0);
    assert.equal(total, wav.samples.length);
    assert.equal(frames.filter((f) => f.is_final).length, 1);
  });

  it("clear errors: recorder not installed, missing file, unknown command", async () => {
    const { input, frames, errors } = await load({ source: "microphone", recorder: "parec" });
    if (!findExecutable("parec")) {
      input.receive({ payload: "start" });
      await waitFor(() => errors.length === 1);
      assert.match(message(errors[0]), /recorder parec is not installed: sudo apt-get install pulseaudio-utils/);
    }
    await helper.unload();
    const file = await load({ source: "file", path: "/nonexistent/x.wav" });
    file.input.receive({ payload: "start" });
    await waitFor(() => file.errors.length === 1 && file.frames.length === 1);
    assert.match(message(file.errors[0]), /ENOENT/);
    assert.equal(file.frames[0].is_final, true);
    file.input.receive({ payload: 42 });
    await waitFor(() => file.errors.length === 2);
    assert.match(message(file.errors[1]), /send msg.payload "start" or "stop"/);
    assert.equal(frames.length, 0);
  });
});
