/**
 * Wyoming audio: `audio-start` / `audio-chunk` carry rate, width (bytes per sample) and
 * channels; payloads are little-endian PCM. Converted here to mono float samples and back.
 */

export interface AudioFormat {
  rate: number;
  width: number;
  channels: number;
}

/** Widths and channel counts the server accepts (16-bit PCM is what Home Assistant sends). */
export const SUPPORTED_WIDTHS = [1, 2, 4];
export const MAX_CHANNELS = 8;

/** The format in an audio event's data, or a sentence saying what is wrong with it. */
export function readFormat(data: Record<string, unknown>, fallback?: AudioFormat): AudioFormat | string {
  const pick = (name: keyof AudioFormat) => (data[name] === undefined || data[name] === null ? fallback?.[name] : data[name]);
  const rate = pick("rate");
  const width = pick("width");
  const channels = pick("channels");
  if (typeof rate !== "number" || !Number.isInteger(rate) || rate < 1000 || rate > 384000) return `audio rate must be a whole number of Hz between 1000 and 384000, got ${JSON.stringify(rate)}`;
  if (typeof width !== "number" || !SUPPORTED_WIDTHS.includes(width)) return `audio width ${JSON.stringify(width)} bytes is not supported; send 16-bit PCM (width 2)`;
  if (typeof channels !== "number" || !Number.isInteger(channels) || channels < 1 || channels > MAX_CHANNELS) {
    return `audio with ${JSON.stringify(channels)} channels is not supported; send mono (channels 1), or up to ${MAX_CHANNELS} interleaved channels`;
  }
  return { rate, width, channels };
}

/** Mono float samples of an interleaved PCM payload (channels averaged). Throws when the bytes do not fill whole frames. */
export function pcmToMono(payload: Uint8Array, format: AudioFormat): Float32Array {
  const frameBytes = format.width * format.channels;
  if (payload.byteLength % frameBytes !== 0) {
    throw new RangeError(`an audio chunk of ${payload.byteLength} bytes is not a whole number of ${format.channels}-channel ${format.width * 8}-bit frames`);
  }
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const frames = payload.byteLength / frameBytes;
  const out = new Float32Array(frames);
  for (let f = 0; f < frames; f++) {
    let sum = 0;
    for (let c = 0; c < format.channels; c++) {
      const at = f * frameBytes + c * format.width;
      if (format.width === 2) sum += view.getInt16(at, true) / 32768;
      else if (format.width === 1) sum += (view.getUint8(at) - 128) / 128;
      else sum += view.getInt32(at, true) / 2147483648;
    }
    out[f] = sum / format.channels;
  }
  return out;
}
