import { strict as assert } from "assert";
import { resample, StreamingResampler } from "../../src/core/audio/resample";

function sine(freq: number, rate: number, seconds: number, amp = 0.5): Float32Array {
  const out = new Float32Array(Math.round(rate * seconds));
  for (let i = 0; i < out.length; i++) out[i] = amp * Math.sin((2 * Math.PI * freq * i) / rate);
  return out;
}

/** Amplitude of `freq` in `x` by correlation with sine and cosine (a single DFT bin). */
function amplitudeAt(x: Float32Array, freq: number, rate: number): number {
  let s = 0;
  let c = 0;
  for (let i = 0; i < x.length; i++) {
    s += x[i] * Math.sin((2 * Math.PI * freq * i) / rate);
    c += x[i] * Math.cos((2 * Math.PI * freq * i) / rate);
  }
  return (2 * Math.hypot(s, c)) / x.length;
}

function rms(x: Float32Array): number {
  let sum = 0;
  for (const v of x) sum += v * v;
  return Math.sqrt(sum / x.length);
}

/** The middle of a signal, away from the filter's edge ramps. */
const middle = (x: Float32Array, rate: number) => x.subarray(Math.round(rate * 0.1), x.length - Math.round(rate * 0.1));

describe("audio resample", () => {
  // The 16 kHz targets are the rates whisper-streamer and the asr/vad CLI take (8, 22.05, 44.1, 48 kHz in).
  for (const [from, to] of [[16000, 24000], [24000, 16000], [44100, 16000], [16000, 48000], [22050, 16000], [48000, 44100], [8000, 16000], [48000, 16000]]) {
    it(`keeps a 440 Hz sine's frequency and amplitude ${from} → ${to}`, () => {
      const input = sine(440, from, 1);
      const out = resample(input, from, to);
      assert.equal(out.length, Math.ceil((input.length * to) / from));
      const mid = middle(out, to);
      assert.ok(Math.abs(amplitudeAt(mid, 440, to) - 0.5) < 0.005, `amplitude ${amplitudeAt(mid, 440, to)}`);
      // All the energy is at 440 Hz: the rest (mid minus the fitted sine) is tiny.
      const expected = sine(440, to, out.length / to);
      let err = 0;
      for (let i = Math.round(to * 0.1); i < out.length - Math.round(to * 0.1); i++) err = Math.max(err, Math.abs(out[i] - expected[i]));
      assert.ok(err < 0.005, `max deviation from the ideal sine ${err}`);
    });
  }

  it("filters out what the lower rate cannot hold (no aliasing when downsampling)", () => {
    // 7 kHz at 48 kHz → 8 kHz would alias to 1 kHz without the anti-aliasing filter.
    const out = resample(sine(7000, 48000, 1), 48000, 8000);
    const mid = middle(out, 8000);
    assert.ok(rms(mid) < 0.005, `rms after downsampling ${rms(mid)}`);
    assert.ok(amplitudeAt(mid, 1000, 8000) < 0.003);
    // 12 kHz at 48 kHz → 16 kHz would alias to 4 kHz.
    const toAsr = middle(resample(sine(12000, 48000, 1), 48000, 16000), 16000);
    assert.ok(rms(toAsr) < 0.005, `rms after downsampling to 16 kHz ${rms(toAsr)}`);
    assert.ok(amplitudeAt(toAsr, 4000, 16000) < 0.003);
  });

  it("returns an equal copy when the rates match", () => {
    const x = sine(300, 16000, 0.1);
    const y = resample(x, 16000, 16000);
    assert.deepEqual(y, x);
    assert.notEqual(y, x);
    const s = new StreamingResampler(16000, 16000);
    assert.deepEqual(s.push(x), x);
    assert.equal(s.flush().length, 0);
  });

  for (const [from, to] of [[16000, 24000], [24000, 16000], [44100, 16000], [22050, 48000], [8000, 16000], [22050, 16000], [48000, 16000]]) {
    it(`streaming equals one-shot with uneven chunks ${from} → ${to}`, () => {
      const input = sine(523, from, 0.7);
      for (let i = 0; i < input.length; i++) input[i] += 0.2 * Math.sin(i * 0.37); // more than one tone
      const whole = resample(input, from, to);
      const s = new StreamingResampler(from, to);
      const parts: number[] = [];
      const sizes = [1, 7, 160, 3, 999, 320, 2, 4096];
      let at = 0;
      for (let k = 0; at < input.length; k++) {
        const n = sizes[k % sizes.length];
        parts.push(...s.push(input.subarray(at, at + n)));
        at += n;
      }
      parts.push(...s.flush());
      assert.equal(parts.length, whole.length);
      let maxDiff = 0;
      for (let i = 0; i < whole.length; i++) maxDiff = Math.max(maxDiff, Math.abs(parts[i] - whole[i]));
      assert.ok(maxDiff < 1e-6, `max difference ${maxDiff}`);
    });
  }

  it("rejects bad rates clearly", () => {
    assert.throws(() => resample(new Float32Array(4), 0, 16000), /positive whole number/);
    assert.throws(() => new StreamingResampler(16000, 22.5), /output sample rate/);
  });
});
