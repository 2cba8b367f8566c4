/**
 * WAV (RIFF) files: 16-bit mono encoding, decoding of the common PCM/float layouts mixed
 * down to mono, and a streaming writer whose header is valid after every write (so a file
 * is playable even when the stream is cancelled or the process dies).
 */
import * as fs from "fs";
import { floatToS16LE } from "./pcm";

export interface DecodedWav {
  samples: Float32Array;
  sampleRate: number;
  channels: number;
}

const HEADER_BYTES = 44;
const FORMAT_PCM = 1;
const FORMAT_FLOAT = 3;
const FORMAT_EXTENSIBLE = 0xfffe;

/** The 44-byte header of a 16-bit PCM mono WAV with `dataBytes` of samples (a body streamed after it). */
export function wavHeader(dataBytes: number, sampleRate: number): Buffer {
  const h = Buffer.alloc(HEADER_BYTES);
  h.write("RIFF", 0, "ascii");
  h.writeUInt32LE(36 + dataBytes, 4);
  h.write("WAVE", 8, "ascii");
  h.write("fmt ", 12, "ascii");
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(FORMAT_PCM, 20);
  h.writeUInt16LE(1, 22); // mono
  h.writeUInt32LE(sampleRate, 24);
  h.writeUInt32LE(sampleRate * 2, 28); // byte rate
  h.writeUInt16LE(2, 32); // block align
  h.writeUInt16LE(16, 34); // bits per sample
  h.write("data", 36, "ascii");
  h.writeUInt32LE(dataBytes, 40);
  return h;
}

function checkRate(sampleRate: number): void {
  if (!Number.isInteger(sampleRate) || sampleRate <= 0) throw new RangeError(`WAV sample rate must be a positive whole number of Hz, got ${sampleRate}`);
}

/** A 16-bit PCM mono WAV file of `samples` (clipped to [-1, 1]). */
export function encodeWav(samples: Float32Array, sampleRate: number): Buffer {
  checkRate(sampleRate);
  const data = floatToS16LE(samples);
  return Buffer.concat([wavHeader(data.length, sampleRate), data]);
}

/** Samples of a WAV file, channels averaged to mono. */
export function decodeWav(buf: Buffer): DecodedWav {
  if (buf.length < 12 || buf.toString("ascii", 0, 4) !== "RIFF" || buf.toString("ascii", 8, 12) !== "WAVE") {
    throw new Error("not a WAV file (no RIFF/WAVE header)");
  }
  let format = -1;
  let channels = 0;
  let sampleRate = 0;
  let bits = 0;
  let data: Buffer | undefined;
  let pos = 12;
  while (pos + 8 <= buf.length) {
    const id = buf.toString("ascii", pos, pos + 4);
    let size = buf.readUInt32LE(pos + 4);
    const body = pos + 8;
    if (id === "fmt ") {
      if (size < 16 || body + 16 > buf.length) throw new Error("WAV fmt chunk is truncated");
      format = buf.readUInt16LE(body);
      channels = buf.readUInt16LE(body + 2);
      sampleRate = buf.readUInt32LE(body + 4);
      bits = buf.readUInt16LE(body + 14);
      if (format === FORMAT_EXTENSIBLE) {
        if (size < 26) throw new Error("WAV extensible fmt chunk is truncated");
        format = buf.readUInt16LE(body + 24); // first two bytes of the sub-format GUID
      }
    } else if (id === "data") {
      // Streamed files may leave the size 0 or 0xFFFFFFFF: the data runs to the end.
      if (size === 0 || size === 0xffffffff || body + size > buf.length) size = buf.length - body;
      data = buf.subarray(body, body + size);
      if (format !== -1) break;
    }
    pos = body + size + (size & 1); // chunks are padded to even length
  }
  if (format === -1) throw new Error("WAV file has no fmt chunk");
  if (!data) throw new Error("WAV file has no data chunk");
  if (channels < 1) throw new Error(`WAV file declares ${channels} channels`);
  if (sampleRate < 1) throw new Error(`WAV file declares a sample rate of ${sampleRate}`);
  const read = sampleReader(format, bits);
  const bytes = bits / 8;
  const frames = Math.floor(data.length / (bytes * channels));
  const samples = new Float32Array(frames);
  for (let f = 0; f < frames; f++) {
    let sum = 0;
    for (let c = 0; c < channels; c++) sum += read(data, (f * channels + c) * bytes);
    samples[f] = sum / channels;
  }
  return { samples, sampleRate, channels };
}

function sampleReader(format: number, bits: number): (b: Buffer, at: number) => number {
  if (format === FORMAT_PCM) {
    if (bits === 8) return (b, at) => (b[at] - 128) / 128;
    if (bits === 16) return (b, at) => b.readInt16LE(at) / 32768;
    if (bits === 24) return (b, at) => b.readIntLE(at, 3) / 8388608;
    if (bits === 32) return (b, at) => b.readInt32LE(at) / 2147483648;
  } else if (format === FORMAT_FLOAT) {
    if (bits === 32) return (b, at) => b.readFloatLE(at);
    if (bits === 64) return (b, at) => b.readDoubleLE(at);
  } else {
    throw new Error(`unsupported WAV encoding (format tag ${format}); convert it to PCM, e.g. sox in.wav -e signed -b 16 out.wav`);
  }
  throw new Error(`unsupported WAV sample size: ${bits}-bit ${format === FORMAT_FLOAT ? "float" : "PCM"}`);
}

export async function readWavFile(path: string): Promise<DecodedWav> {
  const buf = await fs.promises.readFile(path);
  try {
    return decodeWav(buf);
  } catch (err) {
    throw new Error(`${path}: ${(err as Error).message}`);
  }
}

export async function writeWavFile(path: string, samples: Float32Array, sampleRate: number): Promise<void> {
  await fs.promises.writeFile(path, encodeWav(samples, sampleRate));
}

/**
 * A 16-bit mono WAV file written as audio arrives. The header's sizes are brought up to
 * date after each write, so the file is valid at every point, including after a cancel.
 */
export class WavFileWriter {
  private fd: number | undefined;
  private dataBytes = 0;

  constructor(readonly path: string, readonly sampleRate: number) {
    checkRate(sampleRate);
    this.fd = fs.openSync(path, "w");
    fs.writeSync(this.fd, wavHeader(0, sampleRate), 0, HEADER_BYTES, 0);
  }

  get samplesWritten(): number {
    return this.dataBytes / 2;
  }

  write(samples: Float32Array): void {
    if (this.fd === undefined) throw new Error(`WAV file ${this.path} is already closed`);
    if (samples.length === 0) return;
    const data = floatToS16LE(samples);
    fs.writeSync(this.fd, data, 0, data.length, HEADER_BYTES + this.dataBytes);
    this.dataBytes += data.length;
    this.updateSizes();
  }

  close(): void {
    if (this.fd === undefined) return;
    const fd = this.fd;
    this.fd = undefined;
    try {
      this.updateSizes(fd);
    } finally {
      fs.closeSync(fd);
    }
  }

  private updateSizes(fd = this.fd): void {
    if (fd === undefined) return;
    const size = Buffer.alloc(4);
    size.writeUInt32LE(36 + this.dataBytes, 0);
    fs.writeSync(fd, size, 0, 4, 4);
    size.writeUInt32LE(this.dataBytes, 0);
    fs.writeSync(fd, size, 0, 4, 40);
  }
}
