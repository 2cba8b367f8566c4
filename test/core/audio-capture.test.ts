import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { chooseRecorder, FrameSplitter, microphoneFrames, wavFileFrames } from "../../src/core/audio/capture";
import { ManualClock } from "../../src/core/audio/clock";
import { resample } from "../../src/core/audio/resample";
import { writeWavFile } from "../../src/core/audio/wav";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "vs-capture-"));

describe("audio capture sources", () => {
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it("FrameSplitter cuts any chunking into whole frames and a shorter rest", () => {
    const s = new FrameSplitter(4);
    const input = Float32Array.from({ length: 15 }, (_, i) => i);
    const frames = [...s.push(input.subarray(0, 3)), ...s.push(input.subarray(3, 4)), ...s.push(input.subarray(4, 13)), ...s.push(input.subarray(13))];
    assert.deepEqual(frames.map((f) => [...f]), [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]);
    assert.deepEqual([...s.flush()!], [12, 13, 14]);
    assert.equal(s.flush(), undefined);
    assert.throws(() => new FrameSplitter(0), /positive whole number/);
  });

  it("a WAV file in real time: frames go out at the audio's pace on the clock", async () => {
    const file = path.join(tmp, "tone.wav");
    const tone = Float32Array.from({ length: 1600 }, (_, i) => 0.5 * Math.sin(i * 0.2));
    await writeWavFile(file, tone, 16000);
    const clock = new ManualClock();
    const got: Float32Array[] = [];
    let completed = false;
    wavFileFrames(file, { frameSize: 320, realtime: true, clock }).subscribe({ next: (f) => got.push(f), complete: () => (completed = true) });
    for (let i = 0; i < 50 && got.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    assert.equal(got.length, 1); // the first frame at once
    clock.advance(19);
    assert.equal(got.length, 1);
    clock.advance(1);
    assert.equal(got.length, 2);
    clock.advance(60);
    assert.equal(got.length, 5);
    assert.equal(completed, true);
    const joined = new Float32Array(1600);
    got.forEach((f, i) => joined.set(f, i * 320));
    for (let i = 0; i < 1600; i++) assert.ok(Math.abs(joined[i] - tone[i]) <= 0.5 / 32768 + 1e-7);
  });

  it("a 48 kHz WAV is resampled to 16 kHz frames; unsubscribing stops it", async () => {
    const file = path.join(tmp, "hi.wav");
    const tone = Float32Array.from({ length: 4800 }, (_, i) => 0.3 * Math.sin(i * 0.05));
    await writeWavFile(file, tone, 48000);
    const frames: Float32Array[] = [];
    await new Promise<void>((resolve, reject) => wavFileFrames(file, { frameSize: 320 }).subscribe({ next: (f) => frames.push(f), complete: resolve, error: reject }));
    const total = frames.reduce((n, f) => n + f.length, 0);
    const expected = resample(Float32Array.from(tone, (v) => Math.round(v * 32768) / 32768), 48000, 16000);
    assert.equal(total, expected.length);
    assert.equal(total, 1600);
    let at = 0;
    for (const f of frames) for (const v of f) assert.ok(Math.abs(v - expected[at++]) < 1e-6);
    const clock = new ManualClock();
    const got: Float32Array[] = [];
    const sub = wavFileFrames(file, { frameSize: 160, realtime: true, clock }).subscribe((f) => got.push(f));
    for (let i = 0; i < 50 && got.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    sub.unsubscribe();
    clock.advance(1000);
    assert.equal(got.length, 1);
    assert.equal(clock.pendingTimers, 0);
  });

  it("a microphone's recorder runs in the launcher's helper, not in this process: its s16le output becomes frames, its last stderr line names why it stopped", async () => {
    // A stand-in for arecord: three samples (1000, -1000, 32767) in two writes, then it stops, naming its parent.
    const bin = fs.mkdtempSync(path.join(tmp, "bin-"));
    const fake = path.join(bin, "arecord");
    fs.writeFileSync(fake, `#!/bin/sh\nprintf '\\350\\003\\030'; sleep 0.05; printf '\\374\\377\\177'; sleep 0.05; echo "parent $PPID" >&2; exit 1\n`);
    fs.chmodSync(fake, 0o755);
    const frames: Float32Array[] = [];
    const err = await new Promise<Error>((resolve) =>
      microphoneFrames({ recorder: "arecord", frameSize: 1, envPath: bin }).subscribe({ next: (f) => frames.push(f), error: resolve, complete: () => resolve(new Error("completed")) }),
    );
    assert.deepEqual(frames.map((f) => Math.round(f[0] * 32768)), [1000, -1000, 32767]);
    const parent = Number(/parent (\d+)/.exec(err.message)?.[1]);
    assert.match(err.message, /^arecord stopped recording unexpectedly \(code 1\): parent \d+$/);
    assert.ok(parent > 0 && parent !== process.pid, `the recorder's parent ${parent} is the helper, not ${process.pid}`);
  });

  it("recorder choice: clear errors when none or the chosen one is missing", () => {
    const empty = fs.mkdtempSync(path.join(tmp, "path-"));
    assert.throws(() => chooseRecorder("auto", empty), /no audio recorder found \(looked for arecord, parec, sox\).*apt-get install alsa-utils/);
    assert.throws(() => chooseRecorder("parec", empty), /recorder parec is not installed: sudo apt-get install pulseaudio-utils/);
    assert.throws(() => chooseRecorder("mic"), /unknown recorder "mic"/);
  });
});
