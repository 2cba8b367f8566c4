import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ManualClock } from "../../src/core/audio/clock";
import { Player, type PlayerEvent } from "../../src/core/audio/player";
import { FileSink, expandPathTemplate } from "../../src/core/audio/sinks/file-sink";
import { NullSink } from "../../src/core/audio/sinks/null-sink";
import { readWavFile } from "../../src/core/audio/wav";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "vs-player-"));
const tick = () => new Promise((r) => setImmediate(r));

function ramp(n: number, seed = 0): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.sin((i + seed) * 0.05) * 0.6;
  return out;
}

/** A drain promise whose settlement the test can read synchronously (after a tick). */
function watch<T>(p: Promise<T>): { value?: T } {
  const box: { value?: T } = {};
  p.then((v) => (box.value = v));
  return box;
}

function setup(sink: NullSink | FileSink, leadMs = 200) {
  const clock = new ManualClock();
  const player = new Player(sink, { clock, leadMs });
  const events: PlayerEvent[] = [];
  player.events$.subscribe((e) => events.push(e));
  return { clock, player, events };
}

describe("audio player", () => {
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it("null sink: drain resolves only once the queued audio's duration has elapsed on the clock", async () => {
    const sink = new NullSink();
    const { clock, player, events } = setup(sink);
    player.enqueue(ramp(8000), 16000, "s1");
    player.enqueue(ramp(8000), 16000, "s1"); // 1 s in all
    const drained = watch(player.drain("s1"));
    assert.deepEqual(events, [{ type: "started", streamId: "s1" }]);
    // Written ahead of playback by the lead only.
    assert.equal(sink.samplesWritten, 3200);
    clock.advance(500);
    await tick();
    assert.equal(drained.value, undefined);
    assert.ok(sink.samplesWritten >= 8000 && sink.samplesWritten <= 11200, `written ${sink.samplesWritten}`);
    assert.ok(Math.abs(player.bufferedSeconds() - 0.5) < 1e-9);
    clock.advance(499);
    await tick();
    assert.equal(drained.value, undefined);
    assert.equal(sink.samplesWritten, 16000);
    clock.advance(1);
    await tick();
    assert.equal(drained.value, "drained");
    assert.deepEqual(events.map((e) => e.type), ["started", "drained"]);
    assert.equal(clock.pendingTimers, 0);
  });

  it("stop drops the queue: silence now, pending drains resolve 'stopped', a stopped event", async () => {
    const sink = new NullSink();
    const { clock, player, events } = setup(sink);
    player.enqueue(ramp(32000), 16000, "s2");
    const drained = watch(player.drain("s2"));
    clock.advance(300);
    const before = sink.samplesWritten;
    player.stop();
    await tick();
    assert.equal(drained.value, "stopped");
    assert.equal(player.bufferedSeconds(), 0);
    clock.advance(5000);
    assert.equal(sink.samplesWritten, before);
    assert.ok(before < 32000 * 0.3);
    assert.deepEqual(events.map((e) => e.type), ["started", "stopped"]);
    assert.equal(events[1].type === "stopped" && events[1].streamId, "s2");
    // The player plays the next stream as usual.
    player.enqueue(ramp(1600), 16000, "s3");
    const next = watch(player.drain("s3"));
    clock.advance(100);
    await tick();
    assert.equal(next.value, "drained");
  });

  it("file sink: one WAV per stream equal to the samples sent, completed on drain; drain waits for the clock", async () => {
    const sink = new FileSink(path.join(tmp, "out-{stream_id}.wav"));
    const { clock, player } = setup(sink);
    const chunks = [ramp(2400, 0), ramp(1, 2400), ramp(4801, 2401), ramp(999, 7202)];
    for (const c of chunks) player.enqueue(c, 24000, "a/b");
    const drained = watch(player.drain("a/b"));
    clock.advance(Math.floor((8201 / 24000) * 1000));
    await tick();
    assert.equal(drained.value, undefined);
    clock.advance(1);
    await tick();
    assert.equal(drained.value, "drained");
    assert.equal(sink.files.length, 1);
    assert.equal(sink.files[0].path, path.join(tmp, "out-a_b.wav"));
    const wav = await readWavFile(sink.files[0].path);
    assert.equal(wav.sampleRate, 24000);
    const sent = ramp(8201);
    assert.equal(wav.samples.length, sent.length);
    for (let i = 0; i < sent.length; i++) assert.ok(Math.abs(wav.samples[i] - sent[i]) <= 0.5 / 32768 + 1e-7, `sample ${i}`);
  });

  it("file sink: a stopped stream's WAV is complete up to what was written", async () => {
    const sink = new FileSink(path.join(tmp, "stop-{stream_id}.wav"));
    const { clock, player } = setup(sink);
    player.enqueue(ramp(16000), 16000, "x");
    clock.advance(250);
    player.stop();
    const wav = await readWavFile(sink.files[0].path);
    assert.ok(wav.samples.length > 0 && wav.samples.length < 16000);
    const sent = ramp(wav.samples.length);
    for (let i = 0; i < sent.length; i++) assert.ok(Math.abs(wav.samples[i] - sent[i]) <= 0.5 / 32768 + 1e-7);
  });

  it("pause holds (time line and writes stop) and resume continues without loss", async () => {
    const sink = new FileSink(path.join(tmp, "pause-{stream_id}.wav"));
    const { clock, player, events } = setup(sink);
    player.enqueue(ramp(16000), 16000, "p");
    const drained = watch(player.drain("p"));
    clock.advance(300);
    player.pause();
    const buffered = player.bufferedSeconds();
    clock.advance(10000);
    await tick();
    assert.equal(drained.value, undefined);
    assert.equal(player.bufferedSeconds(), buffered);
    assert.ok(Math.abs(buffered - 0.7) < 1e-9);
    player.resume();
    clock.advance(699);
    await tick();
    assert.equal(drained.value, undefined);
    clock.advance(1);
    await tick();
    assert.equal(drained.value, "drained");
    assert.ok(!events.some((e) => e.type === "underrun"));
    const wav = await readWavFile(sink.files[0].path);
    const sent = ramp(16000);
    assert.equal(wav.samples.length, 16000);
    for (let i = 0; i < sent.length; i++) assert.ok(Math.abs(wav.samples[i] - sent[i]) <= 0.5 / 32768 + 1e-7);
  });

  it("reports an underrun when a stream runs dry, once per gap, and plays on", async () => {
    const sink = new NullSink();
    const { clock, player, events } = setup(sink);
    player.enqueue(ramp(1600), 16000, "u");
    clock.advance(99);
    assert.ok(!events.some((e) => e.type === "underrun"));
    clock.advance(1);
    clock.advance(500);
    assert.deepEqual(events.map((e) => e.type), ["started", "underrun"]);
    player.enqueue(ramp(1600), 16000, "u");
    const drained = watch(player.drain("u"));
    clock.advance(100);
    await tick();
    assert.equal(drained.value, "drained");
    assert.deepEqual(events.map((e) => e.type), ["started", "underrun", "drained"]);
    assert.equal(sink.samplesWritten, 3200);
  });

  it("resamples each stream to a fixed-rate sink with the right duration", async () => {
    const sink = new NullSink(48000);
    const { clock, player } = setup(sink);
    for (let i = 0; i < 10; i++) player.enqueue(ramp(1600, i * 1600), 16000, "r"); // 1 s
    const drained = watch(player.drain("r"));
    clock.advance(990);
    await tick();
    assert.equal(drained.value, undefined);
    clock.advance(10);
    await tick();
    assert.equal(drained.value, "drained");
    assert.equal(sink.samplesWritten, 48000);
  });

  it("volume scales samples; path templates expand {stream_id} and {time}", async () => {
    const sink = new FileSink(path.join(tmp, "vol-{stream_id}.wav"));
    const clock = new ManualClock();
    const player = new Player(sink, { clock, volume: 0.5 });
    player.enqueue(Float32Array.from([0.5, -0.5]), 8000, "v");
    const d = watch(player.drain("v"));
    clock.advance(1);
    await tick();
    assert.equal(d.value, "drained");
    assert.deepEqual([...(await readWavFile(sink.files[0].path)).samples], [0.25, -0.25]);
    assert.equal(expandPathTemplate("/x/{stream_id}-{time}.wav", "id 1", new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 6))), "/x/id_1-2026-01-02T03-04-05-006Z.wav");
  });
});
