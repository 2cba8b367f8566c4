/**
 * A pause found late (the VAD behind the audio, as when audio is sent faster than it runs — the
 * soak's first 1-hour turn left it minutes behind) still cuts the buffer where the pause was,
 * not where the buffer has got to by the time the VAD reports it.
 */
import { strict as assert } from "assert";
import { WhisperStreamer, type PassInfo } from "../../src/core/asr/streamer";
import { Parrot } from "../helpers/parrot-transcriber";
import type { PauseDetector } from "../../src/core/asr/engine";

/** Answers each push only when the test says so, in order: a detector that has fallen behind. */
class LateDetector implements PauseDetector {
  readonly answers: ((events: { type: string }[]) => void)[] = [];
  push(): Promise<{ type: string }[]> {
    return new Promise((resolve) => this.answers.push(resolve));
  }
}

const tick = () => new Promise((r) => setTimeout(r, 5));

describe("asr: streamer flushes at a late pause", () => {
  it("a pause reported after more audio arrived cuts at the frame that completed it", async () => {
    const detector = new LateDetector();
    const passes: PassInfo[] = [];
    const streamer = new WhisperStreamer(new Parrot(), { partial_interval_ms: 60000, pauseDetector: detector, onPass: (p) => passes.push(p) });
    streamer.send(new Float32Array(16000)); // 1 s that ends in a pause
    streamer.send(new Float32Array(32000)); // 2 s more before the detector gets there
    await tick();
    detector.answers[0]([{ type: "speech_end" }]);
    detector.answers[1]([]);
    await tick();
    await streamer.finish();
    const flushes = passes.filter((p) => p.kind === "flush").map((p) => p.buffer_seconds);
    assert.deepEqual(flushes, [1], "the flush pass decodes the 1 s up to the pause, not the 3 s sent by then");
    const final = passes.filter((p) => p.kind === "final").map((p) => p.buffer_seconds);
    assert.deepEqual(final, [2], "the 2 s after the pause are the next buffer's");
  });

  it("a pause reported in time still settles everything sent (unchanged behaviour)", async () => {
    const detector = new LateDetector();
    const passes: PassInfo[] = [];
    const streamer = new WhisperStreamer(new Parrot(), { partial_interval_ms: 60000, pauseDetector: detector, onPass: (p) => passes.push(p) });
    streamer.send(new Float32Array(16000));
    await tick();
    detector.answers[0]([{ type: "speech_end" }]);
    await tick();
    streamer.send(new Float32Array(8000));
    detector.answers[1]([]);
    await streamer.finish();
    assert.deepEqual(passes.filter((p) => p.kind === "flush").map((p) => p.buffer_seconds), [1]);
    assert.deepEqual(passes.filter((p) => p.kind === "final").map((p) => p.buffer_seconds), [0.5]);
  });

  it("a pause in audio the window overflow has already cut away flushes nothing", async () => {
    const detector = new LateDetector();
    const passes: PassInfo[] = [];
    const narrow = Object.assign(new Parrot(), { windowSeconds: 2 });
    const streamer = new WhisperStreamer(narrow, { partial_interval_ms: 0, pauseDetector: detector, onPass: (p) => passes.push(p) });
    streamer.send(new Float32Array(16000)); // 1 s that ends in a pause
    streamer.send(new Float32Array(48000)); // 3 s more: the 2 s window overflows and the buffer is cut to its last 2 s
    for (let i = 0; i < 100 && !passes.some((p) => p.kind === "partial" && p.buffer_seconds === 2); i++) await tick();
    assert.ok(passes.some((p) => p.kind === "partial" && p.buffer_seconds === 2), "a partial pass cut the buffer to the window");
    detector.answers[0]([{ type: "speech_end" }]); // the pause at 1 s, now before the buffer's start
    detector.answers[1]([]);
    await tick();
    await streamer.finish();
    assert.deepEqual(passes.filter((p) => p.kind === "flush").map((p) => p.buffer_seconds), [], "no flush of audio after the pause");
  });
});
