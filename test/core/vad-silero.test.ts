import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { fixtureDir } from "../helpers/fixtures";
import { sharedDir } from "../helpers/paths";
import { loadVad } from "../../src/core/vad/engines/silero/loader";
import { localLoadContext } from "../../src/core/registry";
import { SpeechEventTracker } from "../../src/core/vad/detector";
import type { SileroVadEngine } from "../../src/core/vad/engines/silero/silero-engine";
import type { VadSegment } from "../../src/core/types";

/** 16-bit mono WAV → float samples (the shared test audio's format). */
function readWav16(file: string): Float32Array {
  const b = fs.readFileSync(file);
  for (let o = 12; o + 8 <= b.length; o += 8 + b.readUInt32LE(o + 4)) {
    if (b.toString("ascii", o, o + 4) === "data") {
      const n = b.readUInt32LE(o + 4) / 2;
      return Float32Array.from({ length: n }, (_, i) => b.readInt16LE(o + 8 + 2 * i) / 32768);
    }
  }
  throw new Error(`${file}: no data chunk`);
}

/** Speech found independently: 10 ms frames above -30 dB of the loudest, gaps under 200 ms bridged. */
function energySegments(audio: Float32Array): VadSegment[] {
  const frame = 160;
  const rms: number[] = [];
  for (let i = 0; i + frame <= audio.length; i += frame) {
    let s = 0;
    for (let j = 0; j < frame; j++) s += audio[i + j] ** 2;
    rms.push(Math.sqrt(s / frame));
  }
  const loud = Math.max(...rms) * 10 ** (-30 / 20);
  const segments: VadSegment[] = [];
  rms.forEach((r, i) => {
    if (r <= loud) return;
    const t = i / 100;
    const last = segments[segments.length - 1];
    if (last && t - last.end < 0.2) last.end = t + 0.01;
    else segments.push({ start: t, end: t + 0.01 });
  });
  return segments;
}

function padded(audio: Float32Array, before: number, after: number): Float32Array {
  const out = new Float32Array(audio.length + Math.round((before + after) * 16000));
  out.set(audio, Math.round(before * 16000));
  return out;
}

describe("vad: Silero VAD v5", () => {
  let vad: SileroVadEngine;
  before(async () => {
    const ctx = localLoadContext("vad", { enginesPath: sharedDir("models", "silero-vad") });
    vad = (await loadVad({ ...ctx, spec: { enginesPath: "silero" } })) as SileroVadEngine;
  });
  after(() => vad?.dispose());

  it("the built-in model is the shipped copy of the shared model", () => {
    assert.ok(vad.modelPath.endsWith("assets/silero_vad_v5.onnx"));
    assert.ok(fs.readFileSync(vad.modelPath).equals(fs.readFileSync(sharedDir("models", "silero-vad", "silero_vad_v5.onnx"))));
  });

  for (const name of ["count_16k.wav", "hello_16k.wav"]) {
    it(`${name}: segments within 100 ms of the energy edges, none inside the silence padded around them`, async () => {
      const audio = padded(readWav16(sharedDir("audio", name)), 1.5, 1.5);
      const expected = energySegments(audio);
      const found = await vad.segments(audio);
      assert.equal(found.length, expected.length, `VAD ${JSON.stringify(found)} vs energy ${JSON.stringify(expected)}`);
      found.forEach((seg, i) => {
        assert.ok(Math.abs(seg.start - expected[i].start) <= 0.1, `start ${seg.start} vs ${expected[i].start}`);
        assert.ok(Math.abs(seg.end - expected[i].end) <= 0.1, `end ${seg.end} vs ${expected[i].end}`);
      });
      const speechStart = expected[0].start;
      const speechEnd = expected[expected.length - 1].end;
      assert.ok(found.every((s) => s.start >= speechStart - 0.1 && s.end <= speechEnd + 0.1), "nothing in the padding");
    });
  }

  it("silence and low noise give no segments", async () => {
    assert.deepEqual(await vad.segments(new Float32Array(16000 * 2)), []);
    const noise = Float32Array.from({ length: 32000 }, (_, i) => 0.001 * Math.sin(i * 12.9898) * Math.cos(i * 78.233));
    assert.deepEqual(await vad.segments(noise), []);
  });

  it("the streaming detector gives the same edges as segments(), whatever the frame size", async () => {
    const audio = padded(readWav16(sharedDir("audio", "hello_16k.wav")), 1, 1);
    const offline = await vad.segments(audio);
    for (const frame of [320, 1000, 4096]) {
      const detector = vad.openDetector();
      const events = [];
      for (let at = 0; at < audio.length; at += frame) events.push(...(await detector.push(audio.subarray(at, at + frame))));
      events.push(...(await detector.end()));
      const starts = events.filter((e) => e.type === "speech_start").map((e) => e.time);
      const ends = events.filter((e) => e.type === "speech_end").map((e) => e.time);
      assert.equal(starts.length, offline.length);
      assert.deepEqual(ends.map((t) => Math.round(t * 1000) / 1000), offline.map((s) => s.end));
      starts.forEach((t, i) => assert.ok(Math.abs(t - offline[i].start) < 1e-3));
    }
  });

  it("event rules: min speech, min silence with hysteresis, padding", () => {
    const tracker = new SpeechEventTracker({ threshold: 0.5, min_silence_ms: 100, min_speech_ms: 64, speech_pad_ms: 0 });
    const w = 0.032;
    const events = [0.1, 0.9, 0.1, 0.1, 0.1, 0.1, 0.9, 0.9, 0.9, 0.4, 0.9, 0.1, 0.1, 0.1, 0.1].flatMap((p) => tracker.push(p));
    // the lone 0.9 blip (32 ms) never starts speech; 0.4 is above threshold − 0.15 so it does not count as silence
    assert.deepEqual(events.map((e) => e.type), ["speech_start", "speech_end"]);
    assert.ok(Math.abs(events[0].time - 6 * w) < 1e-9);
    assert.ok(Math.abs(events[1].time - 11 * w) < 1e-9);
  });
});

describe("vad: loadVad model sources", () => {
  it("takes a folder with silero_vad_v5.onnx or onnx/model.onnx, and refuses others clearly", async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "vad-src-"));
    try {
      const flat = path.join(root, "flat");
      const hub = path.join(root, "hub", "onnx");
      const empty = path.join(root, "empty");
      for (const d of [flat, hub, empty]) fs.mkdirSync(d, { recursive: true });
      fs.copyFileSync(sharedDir("models", "silero-vad", "silero_vad_v5.onnx"), path.join(flat, "silero_vad_v5.onnx"));
      fs.copyFileSync(sharedDir("models", "silero-vad", "silero_vad_v5.onnx"), path.join(hub, "model.onnx"));
      for (const dir of [flat, path.dirname(hub)]) {
        const vad = (await loadVad(localLoadContext("vad", { enginesPath: dir }))) as SileroVadEngine;
        assert.equal((await vad.segments(new Float32Array(16000))).length, 0);
        await vad.dispose();
      }
      await assert.rejects(loadVad(localLoadContext("vad", { enginesPath: empty })), /has no silero_vad_v5.onnx/);
      const notVad = path.join(root, "notvad");
      fs.mkdirSync(notVad);
      fs.copyFileSync(path.join(await fixtureDir("tiny-whisper"), "onnx", "encoder_model.onnx"), path.join(notVad, "silero_vad_v5.onnx"));
      await assert.rejects(loadVad(localLoadContext("vad", { enginesPath: notVad })), /is not a Silero VAD v5 model/);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
