/**
 * Audio of a streamed speech body as float samples, chunk by chunk: raw 16-bit little-endian
 * PCM (what `response_format: "pcm"` asks for), or a WAV from servers that ignore that (its
 * header read as it arrives: 16-bit or float samples, any channel count mixed to mono, any
 * rate reported). A sample split across reads waits for its other byte.
 */
export class PcmBodyDecoder {
  private carry = Buffer.alloc(0);
  private header: Buffer | undefined = Buffer.alloc(0);
  private channels = 1;
  private bytesPerSample = 2;
  private float = false;
  /** The body's sample rate: `pcmRate` for raw PCM, the header's for a WAV. */
  rate: number;
  isWav = false;

  constructor(private readonly pcmRate: number, private readonly where: string) {
    this.rate = pcmRate;
  }

  /** Samples decodable so far (empty while a WAV header is still arriving). */
  push(chunk: Buffer): Float32Array {
    let data = chunk;
    if (this.header) {
      this.header = Buffer.concat([this.header, chunk]);
      if (this.header.length < 4) return new Float32Array(0);
      if (this.header.toString("ascii", 0, 4) !== "RIFF") {
        data = this.header;
        this.header = undefined;
      } else {
        const start = this.parseWavHeader(this.header);
        if (start === undefined) return new Float32Array(0);
        data = this.header.subarray(start);
        this.header = undefined;
      }
    }
    return this.decode(data);
  }

  /** The body ended; a dangling odd byte is dropped (it cannot be half a sample). */
  end(): void {
    if (this.header && this.header.length > 0) throw new Error(`${this.where} sent a body too short to be audio (${this.header.length} bytes)`);
    this.carry = Buffer.alloc(0);
  }

  private decode(data: Buffer): Float32Array {
    const bytes = this.carry.length > 0 ? Buffer.concat([this.carry, data]) : data;
    const frameBytes = this.bytesPerSample * this.channels;
    const frames = Math.floor(bytes.length / frameBytes);
    this.carry = Buffer.from(bytes.subarray(frames * frameBytes));
    const out = new Float32Array(frames);
    for (let f = 0; f < frames; f++) {
      let sum = 0;
      for (let c = 0; c < this.channels; c++) {
        const at = (f * this.channels + c) * this.bytesPerSample;
        sum += this.float ? bytes.readFloatLE(at) : bytes.readInt16LE(at) / 32768;
      }
      out[f] = sum / this.channels;
    }
    return out;
  }

  /** Offset of the sample data once the whole header is here; undefined while more is needed. */
  private parseWavHeader(buf: Buffer): number | undefined {
    if (buf.length < 12) return undefined;
    if (buf.toString("ascii", 8, 12) !== "WAVE") throw new Error(`${this.where} sent a RIFF body that is not WAVE audio`);
    let pos = 12;
    let sawFormat = false;
    while (pos + 8 <= buf.length) {
      const id = buf.toString("ascii", pos, pos + 4);
      const size = buf.readUInt32LE(pos + 4);
      if (id === "data") {
        if (!sawFormat) throw new Error(`${this.where} sent a WAV without a fmt chunk before its data`);
        this.isWav = true;
        return pos + 8;
      }
      if (pos + 8 + size > buf.length) return undefined;
      if (id === "fmt ") {
        let format = buf.readUInt16LE(pos + 8);
        this.channels = buf.readUInt16LE(pos + 10);
        this.rate = buf.readUInt32LE(pos + 12);
        const bits = buf.readUInt16LE(pos + 22);
        if (format === 0xfffe && size >= 26) format = buf.readUInt16LE(pos + 32);
        if (format === 1 && bits === 16) this.float = false;
        else if (format === 3 && bits === 32) this.float = true;
        else throw new Error(`${this.where} sent WAV audio as format ${format} with ${bits}-bit samples; only 16-bit PCM or 32-bit float is read`);
        if (this.channels < 1 || this.rate <= 0) throw new Error(`${this.where} sent a WAV header with ${this.channels} channels at ${this.rate} Hz`);
        this.bytesPerSample = bits / 8;
        sawFormat = true;
      }
      pos += 8 + size + (size % 2);
    }
    return undefined;
  }
}
