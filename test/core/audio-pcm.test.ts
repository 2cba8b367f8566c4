import { strict as assert } from "assert";
import { firstNonFiniteIndex, floatToS16LE, hasNonFinite, s16leToFloat, toFloat32 } from "../../src/core/audio/pcm";

describe("audio pcm conversions", () => {
  it("accepts every PROTOCOL payload form and gives the same samples", () => {
    const ints = Int16Array.from([0, 16384, -16384, 32767, -32768]);
    const expected = Float32Array.from([0, 0.5, -0.5, 32767 / 32768, -1]);
    const bytes = Buffer.from(ints.buffer);
    assert.deepEqual(toFloat32(ints), expected);
    assert.deepEqual(toFloat32(bytes), expected);
    assert.deepEqual(toFloat32(new Uint8Array(bytes)), expected);
    assert.deepEqual(toFloat32([...expected]), expected);
    const f = Float32Array.from([0.25]);
    assert.equal(toFloat32(f), f);
  });

  it("reads s16le from an unaligned Buffer view", () => {
    const big = Buffer.alloc(7);
    big.writeInt16LE(-16384, 1);
    big.writeInt16LE(8192, 3);
    assert.deepEqual([...s16leToFloat(big.subarray(1, 5))], [-0.5, 0.25]);
  });

  it("rejects odd byte lengths and non-audio payloads with clear errors", () => {
    assert.throws(() => toFloat32(Buffer.alloc(3)), /even number of bytes/);
    assert.throws(() => toFloat32("hello"), (e: Error) => e instanceof TypeError && /Float32Array.*got a string/.test(e.message));
    assert.throws(() => toFloat32({}, "msg.audio"), /msg\.audio must be audio/);
    assert.throws(() => toFloat32([1, "x"]), /item 1 is a string/);
    assert.throws(() => toFloat32(null), /got null/);
  });

  it("encodes float to s16le clipped and rounded, and back", () => {
    const input = Float32Array.from([0, 0.5, -0.5, 1.5, -2, 0.1, NaN]);
    const buf = floatToS16LE(input);
    const ints = [...new Int16Array(buf.buffer, buf.byteOffset, input.length)];
    assert.deepEqual(ints, [0, 16384, -16384, 32767, -32768, Math.round(0.1 * 32768), 0]);
    const back = s16leToFloat(floatToS16LE(Float32Array.from([0.3, -0.7, 0.123])));
    for (const [i, v] of [0.3, -0.7, 0.123].entries()) assert.ok(Math.abs(back[i] - v) <= 0.5 / 32768 + 1e-9);
    assert.equal(floatToS16LE(Float32Array.from([0.5]), 0.5).readInt16LE(0), 8192);
  });

  it("finds non-finite samples", () => {
    assert.equal(hasNonFinite(Float32Array.from([0, 1, -1])), false);
    assert.equal(hasNonFinite(Float32Array.from([0, NaN])), true);
    assert.equal(hasNonFinite(Float32Array.from([Infinity])), true);
    assert.equal(firstNonFiniteIndex(Float32Array.from([0, 1, NaN, Infinity])), 2);
    assert.equal(firstNonFiniteIndex(Float32Array.from([-Infinity])), 0);
    assert.equal(firstNonFiniteIndex(Float32Array.from([0, 1])), -1);
  });
});
