import { strict as assert } from "assert";
import { LogMelExtractor, WHISPER_MEL_DEFAULTS, slaneyMelFilters } from "../../src/core/asr/engines/whisper/mel";
import { MixedRadixFft } from "../../src/core/asr/engines/whisper/dft";
import { SeededRandom } from "../../src/core/onnx-builder/random";

/** A speech-like test signal: a few harmonics with a moving pitch, noise, and a silent gap. */
function testSignal(seconds: number, seed = 1): Float32Array {
  const rng = new SeededRandom(seed);
  const out = new Float32Array(Math.round(seconds * 16000));
  for (let i = 0; i < out.length; i++) {
    const t = i / 16000;
    if (t > 1.2 && t < 1.6) continue;
    const f0 = 140 + 40 * Math.sin(2 * Math.PI * 0.7 * t);
    let v = 0;
    for (let h = 1; h <= 5; h++) v += (0.3 / h) * Math.sin(2 * Math.PI * f0 * h * t);
    out[i] = v + 0.01 * rng.normal();
  }
  return out;
}

describe("asr: Whisper log-mel features", () => {
  it("the 400-point mixed-radix FFT equals a direct DFT", () => {
    const fft = new MixedRadixFft(400);
    const rng = new SeededRandom(3);
    const x = Float64Array.from({ length: 400 }, () => rng.normal());
    const re = new Float64Array(400);
    const im = new Float64Array(400);
    fft.realForward(x, re, im);
    for (const k of [0, 1, 7, 100, 199, 200, 333]) {
      let dr = 0;
      let di = 0;
      for (let n = 0; n < 400; n++) {
        dr += x[n] * Math.cos((2 * Math.PI * k * n) / 400);
        di -= x[n] * Math.sin((2 * Math.PI * k * n) / 400);
      }
      assert.ok(Math.abs(dr - re[k]) < 1e-9 && Math.abs(di - im[k]) < 1e-9, `bin ${k}`);
    }
  });

  for (const nMels of [80, 128]) {
    it(`matches transformers.js WhisperFeatureExtractor within 1e-3 (${nMels} mel bins)`, async () => {
      const { WhisperFeatureExtractor } = await import("@huggingface/transformers");
      const config = {
        feature_size: nMels, sampling_rate: 16000, hop_length: 160, n_fft: 400, chunk_length: 30,
        n_samples: 480000, nb_max_frames: 3000, padding_value: 0, return_attention_mask: false,
      };
      const reference = new WhisperFeatureExtractor(config);
      const ours = new LogMelExtractor({ ...WHISPER_MEL_DEFAULTS, nMels });
      for (const seconds of [0.5, 3.7]) {
        const audio = testSignal(seconds, nMels + seconds);
        const expected = (await reference._call(audio)).input_features;
        assert.deepEqual(expected.dims, [1, nMels, 3000]);
        const got = ours.extract(audio);
        assert.equal(got.length, nMels * 3000);
        let worst = 0;
        for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - (expected.data as Float32Array)[i]));
        assert.ok(worst < 1e-3, `max abs difference ${worst} for ${seconds} s`);
      }
    });
  }

  it("uses preprocessor_config's own mel_filters when given", () => {
    const filters = slaneyMelFilters(201, 80, 16000);
    const asConfig = Array.from({ length: 201 }, (_, j) => filters.map((row) => row[j] * 2)); // [bins][mels], doubled
    const plain = new LogMelExtractor().extract(testSignal(1));
    const doubled = new LogMelExtractor({ ...WHISPER_MEL_DEFAULTS, melFilters: asConfig }).extract(testSignal(1));
    // Doubling every filter adds log10(2) before normalisation: (x + log10 2 / 4) where not clamped.
    assert.ok(Math.abs(doubled[5] - plain[5] - Math.log10(2) / 4) < 1e-5);
  });

  it("a streamer's growing buffer: each call reuses unchanged frames and equals a fresh extraction exactly", () => {
    const signal = testSignal(6, 4);
    const reusing = new LogMelExtractor();
    const firstDiff = (a: Float32Array, b: Float32Array) => a.findIndex((v, i) => !Object.is(v, b[i]));
    const check = (audio: Float32Array, what: string) => {
      const fresh = new LogMelExtractor().extract(audio);
      const got = reusing.extract(audio);
      assert.equal(firstDiff(got, fresh), -1, `${what}: features differ from a fresh extraction`);
    };
    // Growing by pass-sized steps (some not a multiple of the hop), then the same audio again.
    for (const seconds of [0.05, 0.3, 0.97, 1.5, 2.2, 3.33, 4, 6, 6]) check(signal.slice(0, Math.round(seconds * 16000)), `prefix ${seconds} s`);
    // 6 s again: only the frames that read past the end of the audio (into the padding) are computed.
    assert.ok(reusing.computedFrames <= 4, `${reusing.computedFrames} frames computed for the same audio`);
    check(signal.slice(0, 6.5 * 16000), "6.5 s");
    assert.ok(reusing.computedFrames <= 0.5 * 100 + 4, `${reusing.computedFrames} frames computed for 0.5 s more audio`);
    // One sample changed mid-way (frames reading it and after must be recomputed), then a shorter buffer,
    // then the buffer cut at its start (a flush): nothing in common.
    const changed = signal.slice(0, 4 * 16000);
    changed[2 * 16000 + 17] += 0.25;
    check(changed, "a changed sample");
    check(signal.slice(0, 16000), "a shorter buffer");
    check(signal.slice(8000, 5 * 16000), "a cut buffer");
    assert.ok(reusing.computedFrames >= 450, "a cut buffer reused frames of the old start");
    // Louder audio later moves the max, hence the clamp of reused frames.
    const louder = signal.slice(0, 3 * 16000);
    for (let i = 2 * 16000; i < louder.length; i++) louder[i] *= 20;
    check(signal.slice(0, 2 * 16000), "before the loud part");
    check(louder, "after the loud part");
  });
});
