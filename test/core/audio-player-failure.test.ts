/**
 * A sink that fails while playing (a player process that could not open its device, issue
 * 19.3): the stream it cut short is an error, never "started" or "drained"; its drain says
 * "failed"; the rest of it is dropped quietly; the next stream tries the sink again.
 */
import { strict as assert } from "assert";
import { Subject } from "rxjs";
import { ManualClock } from "../../src/core/audio/clock";
import { Player, type PlayerEvent } from "../../src/core/audio/player";
import type { AudioSink } from "../../src/core/audio/sink";
import { statusTextOf, withStatusText, deviceFailureText } from "../../src/core/status-text";

const tick = () => new Promise((r) => setImmediate(r));

/** Like SpeakerSink: a device that opens after the first write and may fail just after. */
class FailingSink implements AudioSink {
  readonly name = "failing";
  readonly sampleRate = 16000;
  readonly startConfirmMs = 250;
  readonly failures = new Subject<Error>();
  readonly failures$ = this.failures.asObservable();
  written: string[] = [];
  ended: string[] = [];
  write(samples: Float32Array, _rate: number, streamId: string): void {
    this.written.push(`${streamId}:${samples.length}`);
  }
  endStream(streamId: string): void {
    this.ended.push(streamId);
  }
  async close(): Promise<void> {}
}

function setup() {
  const clock = new ManualClock();
  const sink = new FailingSink();
  const player = new Player(sink, { clock, leadMs: 200 });
  const events: PlayerEvent[] = [];
  player.events$.subscribe((e) => events.push(e));
  return { clock, sink, player, events };
}

describe("audio player: a sink that fails while playing", () => {
  it("the stream is an error, not started, not drained; its drain resolves failed", async () => {
    const { clock, sink, player, events } = setup();
    player.enqueue(new Float32Array(16000), 16000, "s1"); // 1 s
    let result: string | undefined;
    player.drain("s1").then((r) => (result = r));
    clock.advance(30);
    sink.failures.next(withStatusText(new Error("aplay exited unexpectedly (code 1): aplay: main:831: audio open error: Unknown PCM default"), "no audio device"));
    await tick();
    assert.equal(result, "failed");
    assert.deepEqual(events.map((e) => e.type), ["error"]);
    const error = events[0] as Extract<PlayerEvent, { type: "error" }>;
    assert.equal(error.streamId, "s1");
    assert.match(error.error.message, /Unknown PCM default/);
    assert.equal(statusTextOf(error.error), "no audio device");
    // Nothing later turns it into a success: no started after the confirm time, no drained.
    clock.advance(2000);
    await tick();
    assert.deepEqual(events.map((e) => e.type), ["error"]);
    assert.deepEqual(sink.ended, ["s1"], "the sink is told the stream is over, so the next one retries it");
    assert.equal(clock.pendingTimers, 0);
  });

  it("audio still arriving for the failed stream is dropped quietly until its end; the next stream plays", async () => {
    const { clock, sink, player, events } = setup();
    player.enqueue(new Float32Array(1600), 16000, "t1");
    clock.advance(10);
    sink.failures.next(new Error("pw-play exited unexpectedly (code 1)"));
    const writes = sink.written.length;
    player.enqueue(new Float32Array(1600), 16000, "t1");
    player.enqueue(new Float32Array(1600), 16000, "t1");
    assert.equal(sink.written.length, writes, "nothing more of t1 reaches the sink");
    assert.equal(await player.drain("t1"), "failed");
    assert.equal(events.filter((e) => e.type === "error").length, 1, "one error for the stream, not one per chunk");
    // The same id later is a new stream, played normally.
    player.enqueue(new Float32Array(1600), 16000, "t1");
    const drained = player.drain("t1");
    clock.advance(300);
    await tick();
    assert.equal(await drained, "drained");
    assert.deepEqual(events.map((e) => e.type), ["error", "started", "drained"]);
  });

  it("a stream that plays past the sink's confirm time is started, then drained, as before", async () => {
    const { clock, player, events } = setup();
    player.enqueue(new Float32Array(8000), 16000, "ok");
    const drained = player.drain("ok");
    clock.advance(249);
    assert.equal(events.length, 0, "not started before the sink's confirm time");
    clock.advance(1);
    assert.deepEqual(events, [{ type: "started", streamId: "ok" }]);
    clock.advance(300);
    assert.equal(await drained, "drained");
    assert.deepEqual(events.map((e) => e.type), ["started", "drained"]);
  });

  it("short status texts: the error's own, else its first clause cut to fit", () => {
    assert.equal(statusTextOf(withStatusText(new Error("long reason with everything"), "no audio device")), "no audio device");
    assert.equal(statusTextOf(new Error("offline: model not cached at /x/y/z")), "offline");
    const cut = statusTextOf(new Error("a very long message without any clause break that goes on and on"));
    assert.ok(cut.length <= 32 && cut.endsWith("…"), cut);
    assert.equal(deviceFailureText("player", null, "aplay: main:831: audio open error: Unknown PCM default"), "no audio device");
    assert.equal(deviceFailureText("player", "SIGFPE", "play FAIL formats: can't open output file `default': Unknown PCM default"), "no audio device");
    assert.equal(deviceFailureText("player", "SIGFPE", ""), "audio player crashed (SIGFPE)");
    assert.equal(deviceFailureText("recorder", null, "arecord: main:850: audio open error: No such file or directory"), "no microphone");
  });
});
