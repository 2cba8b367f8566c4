import { strict as assert } from "assert";
import { CodecChunker, DEFAULT_CHUNKING, validateChunking, type ChunkingConfig, type DecodeRequest } from "../../src/core/tts/engines/codec/codec-chunker";
import { OverlapAdd, crossfadeWeight } from "../../src/core/audio/ola";

const HOP = 480;

/**
 * A decoder whose sample for frame code c at offset j is the same in every window
 * (c·1000 + j): stitching must then reproduce that signal exactly.
 */
function windowIndependentDecode(codes: number[]): Float32Array {
  const out = new Float32Array(codes.length * HOP);
  codes.forEach((c, f) => {
    for (let j = 0; j < HOP; j++) out[f * HOP + j] = (c * 1000 + j) / 1e6;
  });
  return out;
}

function runSpan(config: ChunkingConfig, frames: number, context: number[] = []) {
  const chunker = new CodecChunker(config, context, HOP, 0);
  const chunks: Float32Array[] = [];
  const requests: DecodeRequest[] = [];
  const take = (done: boolean) => {
    for (let r = chunker.next(done); r; r = chunker.next(done)) {
      requests.push(r);
      chunks.push(chunker.apply(r, windowIndependentDecode(r.codes)));
    }
  };
  for (let i = 0; i < frames; i++) {
    chunker.push(1000 + i);
    take(false);
  }
  take(true);
  return { chunks, requests };
}

describe("tts codec chunker", () => {
  it("emits 12 frames, then 25 per chunk, the rest last; total = frames × 480", () => {
    const { chunks } = runSpan(DEFAULT_CHUNKING, 100, [1, 2, 3]);
    assert.deepEqual(chunks.map((c) => c.length), [5760, 12000, 12000, 12000, 13 * 480]);
    assert.equal(chunks.reduce((n, c) => n + c.length, 0), 100 * HOP);
  });

  it("joins chunks exactly: overlap held back, never emitted twice, first chunk of any size", () => {
    for (const config of [
      DEFAULT_CHUNKING,
      { ...DEFAULT_CHUNKING, first_frames_per_chunk: 7, overlap_frames: 3 },
      { ...DEFAULT_CHUNKING, frames_per_chunk: 10, first_frames_per_chunk: 4, lookforward: 0, overlap_frames: 2 },
    ]) {
      const frames = 83;
      const { chunks } = runSpan(config, frames);
      const joined = Float32Array.from(chunks.flatMap((c) => [...c]));
      const expected = windowIndependentDecode(Array.from({ length: frames }, (_, i) => 1000 + i));
      assert.equal(joined.length, expected.length);
      let worst = 0;
      for (let i = 0; i < joined.length; i++) worst = Math.max(worst, Math.abs(joined[i] - expected[i]));
      assert.ok(worst < 1e-6, `largest deviation ${worst} with ${JSON.stringify(config)}`);
    }
  });

  it("long spans: old codes are forgotten, windows and joins stay exact", () => {
    const frames = 1500; // 30 s of speech
    const { chunks, requests } = runSpan(DEFAULT_CHUNKING, frames, [1, 2, 3]);
    const joined = Float32Array.from(chunks.flatMap((c) => [...c]));
    const expected = windowIndependentDecode(Array.from({ length: frames }, (_, i) => 1000 + i));
    let worst = 0;
    for (let i = 0; i < joined.length; i++) worst = Math.max(worst, Math.abs(joined[i] - expected[i]));
    assert.equal(joined.length, expected.length);
    assert.ok(worst < 1e-6, `largest deviation ${worst}`);
    const last = requests[requests.length - 1];
    assert.equal(last.codes[0], 1000 + last.start - 50, "the last window still starts lookback frames back");
  });

  it("waits for first_frames_per_chunk + lookforward frames before the first decode", () => {
    const { requests } = runSpan(DEFAULT_CHUNKING, 100);
    assert.equal(requests[0].framesAvailable, 12 + 5);
    assert.equal(requests[1].framesAvailable, 12 + 25 + 5);
  });

  it("gives each decode lookback frames of left context, from the voice's reference codes at the start", () => {
    const context = Array.from({ length: 60 }, (_, i) => i);
    const { requests } = runSpan(DEFAULT_CHUNKING, 100, context);
    // First window: the last 50 reference codes, the 12 frames, 5 of right context.
    assert.deepEqual(requests[0].codes.slice(0, 50), context.slice(10));
    assert.equal(requests[0].codes.length, 50 + 12 + 5);
    assert.equal(requests[0].frameOffset, 50);
    // Second: 50 frames back from frame 12 (38 reference codes + 12 span frames).
    assert.deepEqual(requests[1].codes.slice(0, 38), context.slice(22));
    assert.equal(requests[1].codes[50], 1012);
  });

  it("overlap-add weights are complementary on every sample", () => {
    for (const n of [1, 480, 960]) for (let j = 0; j < n; j++) {
      const w = crossfadeWeight(j, n);
      assert.ok(w > 0 && w < 1);
      assert.equal(w + (1 - w), 1);
    }
    const ola = new OverlapAdd();
    assert.deepEqual([...ola.push(Float32Array.of(1, 1, 1, 1), 2)], [1, 1]);
    assert.equal(ola.pending, 2);
    const blended = ola.push(Float32Array.of(0, 0, 5), 0);
    assert.deepEqual([...blended], [0.75, 0.25, 5]);
  });

  it("rejects settings that cannot work", () => {
    assert.throws(() => validateChunking({ ...DEFAULT_CHUNKING, frames_per_chunk: 0 }), /frames_per_chunk must be a whole number ≥ 1/);
    assert.throws(() => validateChunking({ ...DEFAULT_CHUNKING, overlap_frames: 25 }), /overlap_frames \(25\) must be smaller/);
    assert.throws(() => validateChunking({ ...DEFAULT_CHUNKING, lookback: -1 }), /lookback/);
    assert.throws(() => validateChunking({ ...DEFAULT_CHUNKING, lookforward: 1.5 }), /lookforward/);
  });
});
