import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { firstNonFinite, frameToFloat32, readWavFile, resample, StreamingResampler } from "../../src/core/asr/audio-input";
import { sharedDir } from "../helpers/paths";

const sine = (freq: number, rate: number, seconds: number) => Float32Array.from({ length: Math.round(rate * seconds) }, (_, i) => 0.5 * Math.sin((2 * Math.PI * freq * i) / rate));
const rms = (x: Float32Array, from = 0, to = x.length) => Math.sqrt(x.subarray(from, to).reduce((s, v) => s + v * v, 0) / (to - from));

describe("asr: audio input (frames, resampling, WAV)", () => {
  it("frame payloads: Float32Array as is, Int16Array and s16le Buffer scaled by 1/32768, number[]", () => {
    const f = Float32Array.from([0.5, -0.25]);
    assert.equal(frameToFloat32(f), f);
    assert.deepEqual([...frameToFloat32(Int16Array.from([16384, -32768]))], [0.5, -1]);
    const b = Buffer.alloc(4);
    b.writeInt16LE(8192, 0);
    b.writeInt16LE(-16384, 2);
    assert.deepEqual([...frameToFloat32(b)], [0.25, -0.5]);
    assert.deepEqual([...frameToFloat32([0.5, -0.5])], [0.5, -0.5]);
    assert.throws(() => frameToFloat32(Buffer.from([1, 2, 3])), /even number of bytes/);
    assert.throws(() => frameToFloat32([1, "a"]), /item 1 is string/);
    assert.throws(() => frameToFloat32("audio"), /got string/);
    assert.throws(() => frameToFloat32(new Uint8Array(2)), /got Uint8Array/);
    assert.deepEqual(firstNonFinite(Float32Array.from([0, 1, NaN])), { index: 2, value: NaN });
    assert.equal(firstNonFinite(Float32Array.from([0, 1])), undefined);
  });

  for (const rate of [8000, 22050, 44100, 48000]) {
    it(`resampling ${rate} Hz → 16 kHz keeps a 440 Hz tone, and streaming equals one pass over the whole`, () => {
      const x = sine(440, rate, 1);
      const whole = resample(x, rate, 16000);
      assert.equal(whole.length, 16000);
      const expected = sine(440, 16000, 1);
      let worst = 0;
      for (let i = 100; i < whole.length - 100; i++) worst = Math.max(worst, Math.abs(whole[i] - expected[i]));
      assert.ok(worst < 5e-3, `max error ${worst}`);
      const r = new StreamingResampler(rate, 16000);
      const parts: number[] = [];
      for (let at = 0; at < x.length; at += 333) parts.push(...r.push(x.subarray(at, at + 333)));
      parts.push(...r.end());
      assert.equal(parts.length, whole.length);
      assert.ok(parts.every((v, i) => Math.abs(v - whole[i]) < 1e-6));
    });
  }

  it("downsampling removes what 16 kHz cannot hold (no aliasing of a 12 kHz tone)", () => {
    const y = resample(sine(12000, 48000, 1), 48000, 16000);
    assert.ok(rms(y, 200, y.length - 200) < 0.01, `rms ${rms(y, 200, y.length - 200)}`);
  });

  it("reads 16-bit WAV files (the shared audio) and refuses other files clearly", () => {
    const { samples, sampleRate } = readWavFile(sharedDir("audio", "count_16k.wav"));
    assert.equal(sampleRate, 16000);
    assert.ok(samples.length > 16000 * 2);
    assert.ok(Math.max(...samples.map(Math.abs)) > 0.1);
    assert.throws(() => readWavFile("/no/such.wav"), /does not exist/);
    assert.throws(() => readWavFile(sharedDir("README.md")), /not a WAV file/);
    // stereo float: averaged to mono
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "wav-"));
    const file = path.join(dir, "stereo.wav");
    const data = Buffer.alloc(2 * 2 * 4);
    [0.5, -0.5, 0.25, 0.75].forEach((v, i) => data.writeFloatLE(v, 4 * i));
    const header = Buffer.alloc(44);
    header.write("RIFF", 0, "ascii");
    header.writeUInt32LE(36 + data.length, 4);
    header.write("WAVEfmt ", 8, "ascii");
    header.writeUInt32LE(16, 16);
    header.writeUInt16LE(3, 20);
    header.writeUInt16LE(2, 22);
    header.writeUInt32LE(22050, 24);
    header.writeUInt32LE(22050 * 8, 28);
    header.writeUInt16LE(8, 32);
    header.writeUInt16LE(32, 34);
    header.write("data", 36, "ascii");
    header.writeUInt32LE(data.length, 40);
    fs.writeFileSync(file, Buffer.concat([header, data]));
    const stereo = readWavFile(file);
    assert.equal(stereo.sampleRate, 22050);
    assert.deepEqual([...stereo.samples], [0, 0.5]);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
