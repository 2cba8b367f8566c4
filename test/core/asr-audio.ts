/** Synthetic "speech" for ASR tests: voiced harmonics with a wandering pitch, deterministic per seed. */
import { SeededRandom } from "../../src/core/onnx-builder/random";

export function synthSpeech(seconds: number, seed: number, sampleRate = 16000): Float32Array {
  const rng = new SeededRandom(seed);
  const out = new Float32Array(Math.round(seconds * sampleRate));
  const phase = rng.next() * 6;
  let theta = 0;
  for (let i = 0; i < out.length; i++) {
    const t = i / sampleRate;
    const f0 = 120 + 60 * Math.sin(2 * Math.PI * 0.9 * t + phase) + 40 * Math.sin(2 * Math.PI * 2.3 * t + seed);
    theta += (2 * Math.PI * f0) / sampleRate;
    let v = 0;
    for (let h = 1; h <= 8; h++) v += (0.3 / h) * Math.sin(h * theta * (1 + 0.01 * h));
    out[i] = v + 0.01 * (rng.next() - 0.5);
  }
  return out;
}

/** Speech bursts separated by silences: [speech s, pause s, speech s, ...]. */
export function speechWithPauses(pattern: number[], seed: number): Float32Array {
  return concatSamples(pattern.map((seconds, i) => (i % 2 === 0 ? synthSpeech(seconds, seed + i) : new Float32Array(Math.round(seconds * 16000)))));
}

/** The samples of `parts` one after another. */
export function concatSamples(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
