import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { decodeWav, encodeWav, readWavFile, WavFileWriter, writeWavFile } from "../../src/core/audio/wav";
import { sharedDir } from "../helpers/paths";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "vs-wav-"));

function noise(n: number, seed = 1): Float32Array {
  const out = new Float32Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    out[i] = (x / 2147483648) * 1.6 - 0.8;
  }
  return out;
}

function assertClose(a: Float32Array, b: Float32Array, tol = 0.5 / 32768 + 1e-7) {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= tol, `sample ${i}: ${a[i]} vs ${b[i]}`);
}

/** A WAV with an arbitrary layout, for the decoder. */
function rawWav(format: number, channels: number, rate: number, bits: number, data: Buffer, extra: Buffer[] = []): Buffer {
  const fmt = Buffer.alloc(24);
  fmt.write("fmt ", 0, "ascii");
  fmt.writeUInt32LE(16, 4);
  fmt.writeUInt16LE(format, 8);
  fmt.writeUInt16LE(channels, 10);
  fmt.writeUInt32LE(rate, 12);
  fmt.writeUInt32LE((rate * channels * bits) / 8, 16);
  fmt.writeUInt16LE((channels * bits) / 8, 20);
  fmt.writeUInt16LE(bits, 22);
  const dataHead = Buffer.alloc(8);
  dataHead.write("data", 0, "ascii");
  dataHead.writeUInt32LE(data.length, 4);
  const body = Buffer.concat([Buffer.from("WAVE"), fmt, ...extra, dataHead, data]);
  const riff = Buffer.alloc(8);
  riff.write("RIFF", 0, "ascii");
  riff.writeUInt32LE(body.length, 4);
  return Buffer.concat([riff, body]);
}

describe("audio wav", () => {
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it("round-trips 16-bit mono samples (s16 rounding aside)", async () => {
    const x = noise(12345);
    const decoded = decodeWav(encodeWav(x, 22050));
    assert.equal(decoded.sampleRate, 22050);
    assert.equal(decoded.channels, 1);
    assertClose(decoded.samples, x);
    const file = path.join(tmp, "a.wav");
    await writeWavFile(file, x, 16000);
    const read = await readWavFile(file);
    assert.equal(read.sampleRate, 16000);
    assertClose(read.samples, x);
  });

  it("decodes 8/24/32-bit PCM and float32, stereo mixed to mono, skipping unknown chunks", () => {
    const left = [0.5, -0.25, 0];
    const right = [0.25, -0.75, 1 - 2 ** -7];
    const expected = Float32Array.from(left.map((l, i) => (l + right[i]) / 2));
    const inter = left.flatMap((l, i) => [l, right[i]]);
    const list = Buffer.concat([Buffer.from("LIST"), Buffer.from([3, 0, 0, 0]), Buffer.from("abc"), Buffer.from([0])]); // odd size, padded
    const f32 = Buffer.alloc(inter.length * 4);
    inter.forEach((v, i) => f32.writeFloatLE(v, 4 * i));
    assertClose(decodeWav(rawWav(3, 2, 8000, 32, f32, [list])).samples, expected, 1e-7);
    const p24 = Buffer.alloc(inter.length * 3);
    inter.forEach((v, i) => p24.writeIntLE(Math.round(v * 8388608), 3 * i, 3));
    assertClose(decodeWav(rawWav(1, 2, 8000, 24, p24)).samples, expected, 1e-6);
    const p32 = Buffer.alloc(inter.length * 4);
    inter.forEach((v, i) => p32.writeInt32LE(Math.round(v * 2147483647), 4 * i));
    assertClose(decodeWav(rawWav(1, 2, 8000, 32, p32)).samples, expected, 1e-6);
    const p8 = Buffer.from(inter.map((v) => Math.round(v * 128) + 128));
    const d8 = decodeWav(rawWav(1, 2, 8000, 8, p8));
    assert.equal(d8.channels, 2);
    assertClose(d8.samples, expected, 1e-6);
  });

  it("gives clear errors for what it cannot read", () => {
    assert.throws(() => decodeWav(Buffer.from("not a wav file at all")), /not a WAV file/);
    assert.throws(() => decodeWav(rawWav(2, 1, 8000, 4, Buffer.alloc(4))), /unsupported WAV encoding \(format tag 2\)/);
    assert.throws(() => decodeWav(rawWav(1, 1, 8000, 12, Buffer.alloc(4))), /unsupported WAV sample size: 12-bit PCM/);
    const noData = encodeWav(new Float32Array(0), 8000).subarray(0, 36);
    assert.throws(() => decodeWav(noData), /no data chunk/);
  });

  it("readWavFile names the file in its errors", async () => {
    await assert.rejects(readWavFile(sharedDir("README.md")), /README\.md: not a WAV file/);
    await assert.rejects(readWavFile(path.join(tmp, "no-such.wav")), /ENOENT.*no-such\.wav/);
  });

  it("decodes the shared hello_16k.wav (16 kHz mono speech)", async () => {
    const wav = await readWavFile(sharedDir("audio", "hello_16k.wav"));
    assert.equal(wav.sampleRate, 16000);
    assert.equal(wav.channels, 1);
    const bytes = fs.statSync(sharedDir("audio", "hello_16k.wav")).size;
    assert.ok(wav.samples.length > 8000 && wav.samples.length <= (bytes - 44) / 2);
    let peak = 0;
    for (const v of wav.samples) peak = Math.max(peak, Math.abs(v));
    assert.ok(peak > 0.05 && peak <= 1, `peak ${peak}`);
  });

  it("WavFileWriter: valid after every write and after close", async () => {
    const file = path.join(tmp, "stream.wav");
    const w = new WavFileWriter(file, 24000);
    assert.equal((await readWavFile(file)).samples.length, 0);
    const a = noise(1000, 3);
    const b = noise(777, 4);
    w.write(a);
    // A cancelled stream may never reach close(): the file is already valid.
    assertClose((await readWavFile(file)).samples, a);
    w.write(b);
    w.close();
    w.close();
    const all = new Float32Array(1777);
    all.set(a);
    all.set(b, 1000);
    const read = await readWavFile(file);
    assert.equal(read.sampleRate, 24000);
    assertClose(read.samples, all);
    assert.equal(fs.statSync(file).size, 44 + 1777 * 2);
    assert.throws(() => w.write(a), /already closed/);
  });
});
