/**
 * The parts of the browser satellite that need no browser: the microphone frame gate (size,
 * rate, format), the late-listener buffer, and the microphone worklet's resampler (run here
 * with a stand-in AudioWorkletGlobalScope).
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import * as vm from "vm";
import { MicFrameError, MicRateGate } from "../../src/core/browser/mic-limits";
import { PlaybackBuffer } from "../../src/core/browser/playback-buffer";
import { repoRoot } from "../helpers/paths";

function frame(n: number, value = 0.1): Buffer {
  return Buffer.from(new Float32Array(n).fill(value).buffer);
}

describe("browser: microphone frame gate", () => {
  it("takes float32 frames up to the size limit at up to 1.5× real time, with a 2 s burst", () => {
    let now = 0;
    const gate = new MicRateGate({ maxFrameSamples: 8000, burstSeconds: 2, maxRealtimeFactor: 1.5 }, () => now);
    // The burst: 2 s at once.
    for (let i = 0; i < 100; i++) assert.equal(gate.check(frame(320)).length, 320);
    assert.throws(() => gate.check(frame(320)), /faster than real time/);
    // Real time goes on: 20 ms of audio every 20 ms is always accepted.
    for (let i = 0; i < 500; i++) {
      now += 20;
      gate.check(frame(320));
    }
    const samples = gate.check(frame(4, -0.5).subarray(0, 16));
    assert.deepEqual([...samples], [-0.5, -0.5, -0.5, -0.5]);
  });

  it("refuses a frame that is too large, not float32, or holds NaN, saying which", () => {
    const gate = new MicRateGate();
    const cases: [Buffer, RegExp][] = [
      [frame(8001), /8001 samples is over the limit of 8000 \(0\.50 s at 16 kHz\)/],
      [Buffer.alloc(10), /10 bytes is not float32 samples/],
      [Buffer.alloc(0), /0 bytes/],
      [frame(4, NaN), /NaN or infinite/],
    ];
    for (const [bytes, message] of cases) {
      assert.throws(() => gate.check(bytes), (err: Error) => err instanceof MicFrameError && message.test(err.message));
    }
  });
});

describe("browser: late-listener buffer", () => {
  it("keeps each open stream from its start, forgets it at its end, and bounds it", () => {
    const buffer = new PlaybackBuffer(1);
    buffer.append("a", new Float32Array(100), 100);
    buffer.addText("a", "hello", 0, 100);
    buffer.append("b", new Float32Array(50), 100);
    assert.deepEqual(buffer.openStreams().map((s) => [s.id, s.samples]), [["a", 100], ["b", 50]]);
    buffer.end("a");
    assert.deepEqual(buffer.openStreams().map((s) => s.id), ["b"]);
    // Past 1 s (100 samples at 100 Hz) the oldest chunks go; what is kept starts at a chunk.
    for (let i = 0; i < 5; i++) buffer.append("b", new Float32Array(50), 100);
    const b = buffer.get("b")!;
    assert.equal(b.samples - b.trimmed, 100);
    assert.equal(b.trimmed, 200);
    buffer.clear();
    assert.equal(buffer.openStreams().length, 0);
    assert.throws(() => new PlaybackBuffer(0), /positive number of seconds/);
  });
});

describe("browser: the microphone worklet's resampler", () => {
  /** Runs assets/browser/mic-worklet.js with a stand-in AudioWorkletGlobalScope at `rate`. */
  function micWorklet(rate: number) {
    const posted: Float32Array[] = [];
    let Processor: (new () => { port: { postMessage(d: Float32Array): void }; process(inputs: Float32Array[][]): boolean }) | undefined;
    class AudioWorkletProcessor {
      port = { postMessage: (d: Float32Array) => posted.push(d), onmessage: null };
    }
    const context = vm.createContext({
      sampleRate: rate,
      AudioWorkletProcessor,
      registerProcessor: (_name: string, cls: typeof Processor) => (Processor = cls),
      Float32Array,
      Math,
    });
    vm.runInContext(fs.readFileSync(path.join(repoRoot(), "assets", "browser", "mic-worklet.js"), "utf8"), context);
    const processor = new Processor!();
    return {
      posted,
      feed(samples: Float32Array) {
        for (let i = 0; i < samples.length; i += 128) processor.process([[samples.subarray(i, i + 128)]]);
      },
    };
  }

  const tone = (freq: number, rate: number, seconds: number) => Float32Array.from({ length: Math.round(rate * seconds) }, (_, i) => 0.5 * Math.sin((2 * Math.PI * freq * i) / rate));
  const rms = (x: Float32Array) => Math.sqrt(x.reduce((a, v) => a + v * v, 0) / x.length);

  for (const rate of [48000, 44100, 16000]) {
    it(`${rate} Hz in: 20 ms frames at 16 kHz; a 1 kHz tone keeps its level, a 12 kHz one (above 8 kHz) is filtered out`, () => {
      const w = micWorklet(rate);
      w.feed(tone(1000, rate, 1));
      assert.ok(w.posted.length >= 48 && w.posted.length <= 50, `${w.posted.length} frames for 1 s`);
      assert.ok(w.posted.every((f) => f.length === 320));
      const out = new Float32Array(w.posted.length * 320);
      w.posted.forEach((f, i) => out.set(f, i * 320));
      const middle = out.subarray(1600, 14400);
      assert.ok(Math.abs(rms(middle) - 0.5 / Math.SQRT2) < 0.01, `1 kHz RMS ${rms(middle).toFixed(4)}`);
      // Zero crossings: 1 kHz = 2000 per second.
      let crossings = 0;
      for (let i = 1; i < middle.length; i++) if (middle[i - 1] < 0 !== middle[i] < 0) crossings++;
      assert.ok(Math.abs(crossings / (middle.length / 16000) - 2000) < 10, `${crossings} zero crossings`);
      if (rate !== 16000) {
        const high = micWorklet(rate);
        high.feed(tone(12000, rate, 1));
        const h = new Float32Array(high.posted.length * 320);
        high.posted.forEach((f, i) => h.set(f, i * 320));
        assert.ok(rms(h.subarray(1600, 14400)) < 0.005, `12 kHz leaks through at RMS ${rms(h.subarray(1600, 14400)).toFixed(4)} (would alias to 4 kHz)`);
      }
    });
  }
});
