/**
 * PCM payload conversions shared by every audio node: whatever form a frame arrives in
 * (PROTOCOL §2: Float32Array, Int16Array, Buffer of s16le, number[]) becomes float samples
 * in [-1, 1], and float samples become 16-bit little-endian bytes for players and WAV files.
 */

/** Full scale of 16-bit PCM: s16 = round(float × 32768), clipped to [-32768, 32767]. */
const S16_SCALE = 32768;

function describe(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "nothing";
  if (Array.isArray(value)) return "an array";
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name}`;
  if (value instanceof ArrayBuffer) return "an ArrayBuffer";
  if (typeof value === "object") return `an object (${(value as object).constructor?.name ?? "Object"})`;
  return `a ${typeof value}`;
}

/** Float samples from s16le bytes (any alignment). The byte length must be even. */
export function s16leToFloat(buf: Uint8Array): Float32Array {
  if (buf.byteLength % 2 !== 0) {
    throw new TypeError(`16-bit PCM needs an even number of bytes, got ${buf.byteLength} (is the audio really s16le?)`);
  }
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out = new Float32Array(buf.byteLength / 2);
  for (let i = 0; i < out.length; i++) out[i] = view.getInt16(2 * i, true) / S16_SCALE;
  return out;
}

/**
 * Float samples from an audio payload: Float32Array (returned as is), Int16Array,
 * Buffer/Uint8Array of s16le, or an array of numbers. `what` names the value in errors.
 */
export function toFloat32(payload: unknown, what = "msg.payload"): Float32Array {
  if (payload instanceof Float32Array) return payload;
  if (payload instanceof Int16Array) {
    const out = new Float32Array(payload.length);
    for (let i = 0; i < payload.length; i++) out[i] = payload[i] / S16_SCALE;
    return out;
  }
  if (payload instanceof Uint8Array) {
    if (payload.byteLength % 2 !== 0) {
      throw new TypeError(`${what} is a Buffer of ${payload.byteLength} bytes; 16-bit little-endian PCM needs an even number of bytes`);
    }
    return s16leToFloat(payload);
  }
  if (Array.isArray(payload)) {
    const out = new Float32Array(payload.length);
    for (let i = 0; i < payload.length; i++) {
      const v = payload[i];
      if (typeof v !== "number") throw new TypeError(`${what} must be an array of numbers; item ${i} is ${describe(v)}`);
      out[i] = v;
    }
    return out;
  }
  throw new TypeError(
    `${what} must be audio: a Float32Array, an Int16Array, a Buffer of 16-bit little-endian PCM or an array of numbers (got ${describe(payload)})`,
  );
}

/** 16-bit little-endian PCM of `samples × gain`, clipped to full scale and rounded; NaN becomes 0. */
export function floatToS16LE(samples: Float32Array, gain = 1): Buffer {
  const out = Buffer.allocUnsafe(samples.length * 2);
  for (let i = 0; i < samples.length; i++) {
    let s = Math.round(samples[i] * gain * S16_SCALE);
    if (!(s === s)) s = 0; // NaN
    else if (s > 32767) s = 32767;
    else if (s < -32768) s = -32768;
    out.writeInt16LE(s, 2 * i);
  }
  return out;
}

/** Index of the first NaN or ±Infinity sample, or -1 when all are finite (errors can name it). */
export function firstNonFiniteIndex(samples: ArrayLike<number>): number {
  for (let i = 0; i < samples.length; i++) if (!Number.isFinite(samples[i])) return i;
  return -1;
}

/** True when any sample is NaN or ±Infinity (a broken upstream model, not audio). */
export function hasNonFinite(samples: ArrayLike<number>): boolean {
  return firstNonFiniteIndex(samples) >= 0;
}
