import { strict as assert } from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { readWavFile } from "../../src/core/audio/wav";
import { findExecutable } from "../../src/core/audio/system-tools";
import { needTool } from "../helpers/system-tools";
import { repoRoot } from "../helpers/paths";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const helper = require("node-red-node-test-helper");
helper.init(require.resolve("node-red"));

const NODES = path.join(repoRoot(), "dist", "src", "nodes");
// eslint-disable-next-line @typescript-eslint/no-require-imports
const audioOutNode = require(path.join(NODES, "audio-out.js"));
// eslint-disable-next-line @typescript-eslint/no-require-imports
const catchNode = require("@node-red/nodes/core/common/25-catch.js");

type Msg = Record<string, unknown>;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "vs-audio-out-"));

async function load(settings: Record<string, unknown>) {
  const flow = [
    { id: "n_out", type: "audio-out", wires: [["n_events"]], ...settings },
    { id: "n_events", type: "helper" },
    { id: "n_catch", type: "catch", scope: ["n_out"], wires: [["n_caught"]] },
    { id: "n_caught", type: "helper" },
  ];
  await helper.load([audioOutNode, catchNode], flow);
  const events: Msg[] = [];
  const errors: Msg[] = [];
  helper.getNode("n_events").on("input", (m: Msg) => events.push(m));
  helper.getNode("n_caught").on("input", (m: Msg) => errors.push(m));
  return { out: helper.getNode("n_out"), events, errors };
}

const waitFor = async (check: () => boolean, ms = 10000) => {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 5));
  }
};
const sine = (n: number, k = 0.05) => new Float32Array(n).map((_, i) => 0.4 * Math.sin(i * k));

describe("audio-out node", function () {
  this.timeout(30000);
  afterEach(async () => {
    await helper.unload();
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it("null sink: started, then drained once the stream's audio has played", async () => {
    const { out, events } = await load({ sink: "null" });
    const statuses: { text?: string; fill?: string }[] = [];
    const status = out.status.bind(out);
    out.status = (s: { text?: string }) => {
      statuses.push(s);
      status(s);
    };
    const t0 = Date.now();
    out.receive({ payload: sine(1600), sample_rate: 16000, stream_id: "s1", is_final: false });
    out.receive({ payload: sine(1600), sample_rate: 16000, stream_id: "s1", is_final: false });
    out.receive({ payload: new Float32Array(0), sample_rate: 16000, stream_id: "s1", is_final: true });
    await waitFor(() => events.some((e) => e.event === "drained"));
    assert.ok(Date.now() - t0 >= 195, "drained before 0.2 s of audio could play");
    assert.deepEqual(events.map((e) => [e.event, e.stream_id]), [["started", "s1"], ["drained", "s1"]]);
    assert.ok(statuses.some((st) => /^playing · 0\.[1-2] s buffered$/.test(st.text ?? "")), JSON.stringify(statuses));
    assert.equal(statuses[statuses.length - 1].text, "drained");
  });

  it("file sink: one WAV per stream equal to what was sent (every payload form)", async () => {
    const { out, events } = await load({ sink: "file", path: path.join(tmp, "{stream_id}.wav") });
    const a = sine(800);
    const ints = Int16Array.from({ length: 400 }, (_, i) => Math.round(8000 * Math.sin(i * 0.1)));
    const bytes = Buffer.from(Int16Array.from({ length: 300 }, (_, i) => (i % 50) * 100).buffer);
    const nums = [0.1, -0.2, 0.3];
    out.receive({ payload: a, sample_rate: 24000, stream_id: "f1", is_final: false });
    out.receive({ payload: ints, sample_rate: 24000, stream_id: "f1", is_final: false });
    out.receive({ payload: bytes, sample_rate: 24000, stream_id: "f1", is_final: false });
    out.receive({ payload: nums, sample_rate: 24000, stream_id: "f1", is_final: true });
    await waitFor(() => events.some((e) => e.event === "drained"));
    const wav = await readWavFile(path.join(tmp, "f1.wav"));
    assert.equal(wav.sampleRate, 24000);
    const expected = [...a, ...[...ints].map((v) => v / 32768), ...[...new Int16Array(bytes.buffer, bytes.byteOffset, 300)].map((v) => v / 32768), ...nums];
    assert.equal(wav.samples.length, expected.length);
    for (let i = 0; i < expected.length; i++) assert.ok(Math.abs(wav.samples[i] - expected[i]) <= 0.5 / 32768 + 1e-7, `sample ${i}`);
  });

  it("file sink: a relative path is under the Node-RED user directory, not the process's working directory", async () => {
    const userDir = fs.mkdtempSync(path.join(tmp, "user-"));
    helper.settings({ userDir });
    try {
      const { out, events } = await load({ sink: "file", path: path.join("recordings", "{stream_id}.wav") });
      out.receive({ payload: sine(400), sample_rate: 16000, stream_id: "rel", is_final: true });
      await waitFor(() => events.some((e) => e.event === "drained"));
      const wav = await readWavFile(path.join(userDir, "recordings", "rel.wav"));
      assert.equal(wav.samples.length, 400);
      assert.ok(!fs.existsSync(path.join(process.cwd(), "recordings", "rel.wav")));
    } finally {
      helper.settings({});
    }
  });

  it("cancel silences at once and emits stopped; a cancelled chunk does the same", async () => {
    const { out, events } = await load({ sink: "null" });
    out.receive({ payload: sine(32000), sample_rate: 16000, stream_id: "c1" });
    await waitFor(() => events.length === 1);
    out.receive({ cancel: true, stream_id: "c1" });
    await waitFor(() => events.some((e) => e.event === "stopped"));
    assert.deepEqual(events.map((e) => [e.event, e.stream_id]), [["started", "c1"], ["stopped", "c1"]]);
    out.receive({ payload: sine(32000), sample_rate: 16000, stream_id: "c2" });
    out.receive({ kind: "cancelled", is_final: true, payload: new Float32Array(0), stream_id: "c2" });
    await waitFor(() => events.filter((e) => e.event === "stopped").length === 2);
    assert.equal(events[3].stream_id, "c2");
    assert.ok(!events.some((e) => e.event === "drained"));
    // A cancel for a stream with nothing queued (e.g. tts cancelled before its first audio) still answers.
    out.receive({ kind: "cancelled", is_final: true, stream_id: "c3" });
    await waitFor(() => events.some((e) => e.event === "stopped" && e.stream_id === "c3"));
    assert.equal(events.filter((e) => e.event === "stopped").length, 3);
  });

  it("pause holds playback and resume continues to the drain", async () => {
    const { out, events } = await load({ sink: "null" });
    out.receive({ payload: sine(4800), sample_rate: 16000, stream_id: "p1", is_final: true });
    out.receive({ pause: true });
    await new Promise((r) => setTimeout(r, 600));
    assert.deepEqual(events.map((e) => e.event), ["started"]);
    out.receive({ resume: true });
    await waitFor(() => events.some((e) => e.event === "drained"));
  });

  it("hold: a stream whose msgs carry hold waits unplayed until release, then plays all of it in order (file sink)", async () => {
    const file = path.join(tmp, "held-{stream_id}.wav");
    const { out, events } = await load({ sink: "file", path: file });
    const a = sine(800, 0.05);
    const b = sine(600, 0.11);
    out.receive({ payload: a, sample_rate: 24000, stream_id: "h1", hold: true });
    out.receive({ payload: b, sample_rate: 24000, stream_id: "h1", hold: true });
    out.receive({ payload: new Float32Array(0), sample_rate: 24000, stream_id: "h1", hold: true, is_final: true });
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(events.length, 0, "a held stream made an event before its release");
    assert.ok(!fs.existsSync(file.replace("{stream_id}", "h1")), "a held stream was written before its release");
    out.receive({ release: true, stream_id: "h1" });
    // Msgs of the released stream that still carry hold play at once.
    await waitFor(() => events.some((e) => e.event === "drained"));
    assert.deepEqual(events.map((e) => [e.event, e.stream_id]), [["started", "h1"], ["drained", "h1"]]);
    const wav = await readWavFile(file.replace("{stream_id}", "h1"));
    assert.equal(wav.samples.length, a.length + b.length);
    for (const [i, v] of [...a, ...b].entries()) assert.ok(Math.abs(wav.samples[i] - v) < 1 / 16384, `sample ${i}`);
  });

  it("hold: a release before the audio lets it play at once; a cancel of a held stream drops it and leaves the playing one alone", async () => {
    const { out, events } = await load({ sink: "null" });
    out.receive({ release: true, stream_id: "early" });
    out.receive({ payload: sine(2400), sample_rate: 24000, stream_id: "early", hold: true });
    await waitFor(() => events.some((e) => e.event === "started" && e.stream_id === "early"));
    // A held stream beside it, then cancelled (a cancelled chunk, as tts-streamer sends it).
    out.receive({ payload: sine(2400), sample_rate: 24000, stream_id: "spec", hold: true });
    out.receive({ kind: "cancelled", is_final: true, stream_id: "spec", hold: true, payload: new Float32Array(0) });
    await waitFor(() => events.some((e) => e.event === "stopped" && e.stream_id === "spec"));
    out.receive({ payload: new Float32Array(0), sample_rate: 24000, stream_id: "early", is_final: true, hold: true });
    await waitFor(() => events.some((e) => e.event === "drained" && e.stream_id === "early"));
    assert.deepEqual(events.map((e) => [e.event, e.stream_id]), [["started", "early"], ["stopped", "spec"], ["drained", "early"]]);
    // The dropped stream never plays, even when released later.
    out.receive({ release: true, stream_id: "spec" });
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(events.filter((e) => e.stream_id === "spec").length, 1);
  });

  it("hold: a cancel without stream_id (barge-in) drops the held streams too; they never play", async () => {
    const { out, events } = await load({ sink: "null" });
    out.receive({ payload: sine(2400), sample_rate: 24000, stream_id: "playing" });
    out.receive({ payload: sine(2400), sample_rate: 24000, stream_id: "held", hold: true });
    await waitFor(() => events.some((e) => e.event === "started"));
    out.receive({ cancel: true });
    await waitFor(() => events.some((e) => e.event === "stopped" && e.stream_id === "playing"));
    out.receive({ release: true, stream_id: "held" });
    await new Promise((r) => setTimeout(r, 150));
    assert.deepEqual(events.filter((e) => e.stream_id === "held").map((e) => e.event), ["stopped"]);
    assert.equal(events.filter((e) => e.event === "started").length, 1);
  });

  it("hold: a hold nobody releases or cancels is dropped after its timeout, with a stopped event and an error a Catch node sees", async () => {
    process.env.VOICE_STREAM_HOLD_TIMEOUT_MS = "300";
    try {
      const { out, events, errors } = await load({ sink: "null" });
      out.receive({ payload: sine(2400), sample_rate: 24000, stream_id: "lost", hold: true });
      out.receive({ payload: sine(2400), sample_rate: 24000, stream_id: "lost", hold: true, is_final: true });
      out.receive({ payload: sine(2400), sample_rate: 24000, stream_id: "kept", hold: true });
      await new Promise((r) => setTimeout(r, 150));
      out.receive({ release: true, stream_id: "kept" });
      await waitFor(() => events.some((e) => e.event === "stopped" && e.stream_id === "lost"), 3000);
      assert.equal(errors.length, 1);
      assert.match(String((errors[0].error as { message: string }).message), /held stream 'lost' got no msg\.release \(nor a cancel\) within 0\.3 s: its audio was dropped unplayed/);
      // The released one played; the dropped one never does, even when released late.
      out.receive({ release: true, stream_id: "lost" });
      await new Promise((r) => setTimeout(r, 400));
      assert.ok(events.some((e) => e.event === "started" && e.stream_id === "kept"));
      assert.ok(!events.some((e) => e.event === "started" && e.stream_id === "lost"));
      assert.ok(!events.some((e) => e.event === "stopped" && e.stream_id === "kept"), "the released stream outlived the timeout");
    } finally {
      delete process.env.VOICE_STREAM_HOLD_TIMEOUT_MS;
    }
  });

  it("bad payloads and sample rates are errors a Catch node sees; playback goes on", async () => {
    const { out, events, errors } = await load({ sink: "null" });
    out.receive({ payload: "hello" });
    out.receive({ payload: Buffer.alloc(3) });
    out.receive({ payload: Float32Array.from([0, NaN]) });
    out.receive({ payload: sine(160), sample_rate: "fast" });
    await waitFor(() => errors.length === 4);
    assert.match(String((errors[0].error as { message: string }).message), /msg\.payload must be audio/);
    assert.match(String((errors[1].error as { message: string }).message), /even number of bytes/);
    assert.match(String((errors[2].error as { message: string }).message), /NaN/);
    assert.match(String((errors[3].error as { message: string }).message), /msg\.sample_rate must be a whole number/);
    out.receive({ payload: sine(160), sample_rate: 16000, is_final: true });
    await waitFor(() => events.some((e) => e.event === "drained" && e.stream_id === "default"));
  });

  it("speaker sink with real aplay on the null device plays and drains", async function () {
    needTool(this, "aplay");
    const { out, events, errors } = await load({ sink: "speaker", player: "aplay", device: "null", sampleRate: "16000" });
    out.receive({ payload: sine(3200), sample_rate: 16000, stream_id: "sp", is_final: true });
    await waitFor(() => events.some((e) => e.event === "drained"));
    assert.deepEqual(events.map((e) => e.event), ["started", "drained"]);
    assert.equal(errors.length, 0);
  });

  it("closing the flow kills the player process", async function () {
    needTool(this, "aplay");
    // aplay processes started by this process or its descendants (the player is started through
    // the process launcher's helper, so its parent is the helper).
    const children = () => {
      const rows = execFileSync("ps", ["-e", "-o", "pid=,ppid=,comm="], { encoding: "utf8" })
        .split("\n")
        .map((l) => l.trim().split(/\s+/))
        .filter((r) => r.length >= 3)
        .map(([pid, ppid, comm]) => ({ pid: Number(pid), ppid: Number(ppid), comm }));
      const mine = new Set([process.pid]);
      for (let grew = true; grew; ) {
        grew = false;
        for (const r of rows) if (mine.has(r.ppid) && !mine.has(r.pid)) (mine.add(r.pid), (grew = true));
      }
      return rows.filter((r) => mine.has(r.pid) && r.comm === "aplay").map((r) => r.pid);
    };
    const before = new Set(children());
    const { out, events } = await load({ sink: "speaker", player: "aplay", device: "null", sampleRate: "16000" });
    out.receive({ payload: sine(32000), sample_rate: 16000, stream_id: "long" });
    await waitFor(() => events.length === 1);
    const mine = children().filter((pid) => !before.has(pid));
    assert.equal(mine.length, 1);
    await helper.unload();
    await waitFor(() => !children().includes(mine[0]));
  });

  it("a player that dies (no audio device): red 'no audio device', the whole reason to Catch, an error event, never started or drained", async () => {
    // A real process standing in for aplay on a machine without a sound card: it prints what
    // aplay prints there and exits 1 (issue 19.3: it used to end green "drained").
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), "vs-dead-player-"));
    fs.writeFileSync(path.join(bin, "aplay"), '#!/bin/sh\necho "aplay: main:831: audio open error: Unknown PCM default" >&2\nexit 1\n', { mode: 0o755 });
    const pathBefore = process.env.PATH;
    process.env.PATH = `${bin}${path.delimiter}${pathBefore}`;
    try {
      const { out, events, errors } = await load({ sink: "speaker", player: "aplay", sampleRate: "16000" });
      const statuses: { fill?: string; text?: string }[] = [];
      const node = out as unknown as { status: (s: { fill?: string; text?: string }) => void };
      const status = node.status.bind(out);
      node.status = (s) => (statuses.push(s), status(s));
      out.receive({ payload: sine(8000), sample_rate: 16000, stream_id: "say", is_final: true });
      await waitFor(() => errors.length === 1 && events.length === 1);
      assert.match(String((errors[0].error as { message: string }).message), /aplay exited unexpectedly \(code 1\): aplay: main:831: audio open error: Unknown PCM default/);
      assert.equal(errors[0].stream_id, "say");
      assert.deepEqual([events[0].event, events[0].stream_id], ["error", "say"]);
      assert.deepEqual(statuses[statuses.length - 1], { fill: "red", shape: "ring", text: "no audio device" });
      // Longer than the audio would have played: still no started / drained, still red.
      await new Promise((r) => setTimeout(r, 800));
      assert.deepEqual(events.map((e) => e.event), ["error"]);
      assert.equal(statuses[statuses.length - 1].fill, "red");
    } finally {
      process.env.PATH = pathBefore;
      fs.rmSync(bin, { recursive: true, force: true });
    }
  });

  const missing = ["pw-play", "paplay", "ffplay"].find((p) => !findExecutable(p));
  (missing ? it : it.skip)(`a player that is not installed gives a clear error on input (${missing})`, async () => {
    const { out, errors } = await load({ sink: "speaker", player: missing });
    out.receive({ payload: sine(160), sample_rate: 16000 });
    await waitFor(() => errors.length === 1);
    assert.match(String((errors[0].error as { message: string }).message), new RegExp(`${missing} is not installed: sudo apt-get install`));
  });
});
