/**
 * The hey_jarvis verifier of the hands-free bench: trained at bench time from espeak-ng speech
 * (verifier-speech.ts: voices, sentences and seeds apart from what it is judged on), then judged
 * on held-out positives and on the speech clips shifted over the 16 offsets of the 80 ms grid.
 * The false-wake pass (figures.ts) scores the same verifier over the ≥ 1 h corpus. The verifier
 * is built from a CC BY-NC-SA head's scores: it lives in memory (or bench/out), never shipped.
 */
import * as path from "path";
import { readWavFile } from "../../src/core/audio/wav";
import { DetectionGate } from "../../src/core/wake/detection-gate";
import type { OpenWakeWordEngine } from "../../src/core/wake/engines/openwakeword/engine";
import { trainWakeVerifier, type VerifierReport } from "../../src/core/wake/engines/openwakeword/verifier-trainer";
import type { WakeVerifier } from "../../src/core/wake/verifier";
import { concat, RATE, rng, roomTone } from "./speech";
import { heldOutPositives, trainingClips, TRAIN_VOICES } from "./verifier-speech";

const STEP = 1280;
/** Training clips: wake words, other speech, and of that the short phrases near the wake word. */
export interface VerifierClipCounts {
  positives: number;
  negatives: number;
  near: number;
}
export const VERIFIER_CLIPS: VerifierClipCounts = { positives: 120, negatives: 1000, near: 600 };

export interface TrainedVerifier {
  near: number;
  verifier: WakeVerifier;
  report: VerifierReport;
  seconds: number;
}

export async function benchVerifier(engine: OpenWakeWordEngine, name: string, counts: VerifierClipCounts = VERIFIER_CLIPS): Promise<TrainedVerifier> {
  const t0 = Date.now();
  const clips = await trainingClips(counts.positives, counts.negatives, counts.near);
  const { verifier, report } = await trainWakeVerifier(engine, name, clips.positives, clips.negatives, { seed: 1 });
  return { verifier, report, near: counts.near, seconds: (Date.now() - t0) / 1000 };
}

/** Detections (default gate) of `name` over `samples`, without and with the verifier: step times. */
async function detections(engine: OpenWakeWordEngine, name: string, verifier: WakeVerifier, samples: Float32Array): Promise<{ plain: number[]; verified: number[] }> {
  const scorer = engine.scorer([name], { verifiers: new Map([[name, verifier]]) });
  const plainGate = new DetectionGate({ threshold: 0.5, patience: 1, refractory_ms: 2000 });
  const verifiedGate = new DetectionGate({ threshold: 0.5, patience: 1, refractory_ms: 2000 });
  const out = { plain: [] as number[], verified: [] as number[] };
  const padded = concat([samples, new Float32Array(RATE)]);
  for (let at = 0; at + STEP <= padded.length; at += STEP) {
    for (const s of await scorer.push(padded.subarray(at, at + STEP))) {
      if (plainGate.step(s.scores[name], s.audio_seconds)) out.plain.push(s.audio_seconds);
      if (verifiedGate.step(s.scores[name], s.audio_seconds, s.verified![name] >= verifier.threshold)) out.verified.push(s.audio_seconds);
    }
  }
  return out;
}

/** Markdown rows: held-out positives and the speech clips at 16 grid offsets, without and with the verifier. */
export async function verifierFigures(engine: OpenWakeWordEngine, name: string, trained: TrainedVerifier, heldOut: number, log: (s: string) => void): Promise<string[]> {
  const { verifier, report } = trained;
  const lines: string[] = [];
  const out = (s = "") => lines.push(s);
  log(`verifier: held-out positives (${heldOut})`);
  const held = await heldOutPositives(heldOut);
  let plainHits = 0;
  let verifiedHits = 0;
  const missed: string[] = [];
  for (const c of held) {
    const d = await detections(engine, name, verifier, c.samples);
    if (d.plain.some((t) => t > c.wakeStart)) plainHits++;
    if (d.verified.some((t) => t > c.wakeStart)) verifiedHits++;
    else if (d.plain.some((t) => t > c.wakeStart) && missed.length < 6) missed.push(c.label);
  }
  log("verifier: speech clips at 16 grid offsets");
  const r = rng(303);
  const rows: string[] = [];
  for (const clip of ["hey_jarvis_16k", "hello_16k", "alexa_16k", "count_16k", "neg_16k", "weather_16k"]) {
    const samples = (await readWavFile(path.join(__dirname, "..", "..", "..", "test", "data", "audio", `${clip}.wav`))).samples;
    let plain = 0;
    let verified = 0;
    for (let offset = 0; offset < 16; offset++) {
      const shifted = concat([roomTone((offset * 80) / 16 / 1000 + 0.5, r), samples]);
      const d = await detections(engine, name, verifier, shifted);
      if (d.plain.length > 0) plain++;
      if (d.verified.length > 0) verified++;
    }
    rows.push(`| ${clip} | ${plain} of 16 | ${verified} of 16 |`);
  }
  out(`### ${name} with a verifier (trained at bench time)`);
  out();
  out(
    `The verifier (src/core/wake/verifier.ts: logistic regression over the head's window of ${verifier.window} × 96 embeddings, consulted only where the head passed its threshold) was trained in ${trained.seconds.toFixed(0)} s from ${report.positive_clips} espeak-ng clips of "Hey Jarvis" and ${report.negative_clips} of other speech (${trained.near} of them short phrases near the wake word: "Hey Jasmine", "Jarvie?", "Hello …", "Hey there"; the rest sentences with such names, greetings, numbers), in ${TRAIN_VOICES.length} espeak-ng voice variants that neither the false-wake corpus nor the held-out positives use, from templates, seeds and noise of its own (bench/hands-free/verifier-speech.ts); hey_jarvis_16k and the other recorded clips were not used. Windows: ${report.positive_windows} positive, ${report.negative_windows} negative; the head missed ${report.head_missed.length} training positives and woke on ${report.head_false_wakes.length} training negatives; on its training windows the verifier accepts ${report.train_positive_accepted} of ${report.positive_windows} positives and rejects ${report.train_negative_rejected} of ${report.negative_windows} negatives. Threshold ${verifier.threshold}, default gate (0.5, patience 1).`,
  );
  out();
  out(`| detection of ${name} | head alone | head + verifier |`);
  out("|---|---|---|");
  out(`| held-out "Hey Jarvis" (${held.length} clips: the corpus's 12 voices, seed 202, half after a corpus sentence, half with noise) | ${plainHits} of ${held.length} (${((100 * plainHits) / held.length).toFixed(0)} %) | ${verifiedHits} of ${held.length} (${((100 * verifiedHits) / held.length).toFixed(0)} %) |`);
  out();
  out("Recorded clips, each shifted over the 16 offsets of the 80 ms grid (5 ms apart, room tone before): offsets with a detection.");
  out();
  out("| clip | head alone | head + verifier |");
  out("|---|---|---|");
  for (const row of rows) out(row);
  out();
  if (missed.length > 0) {
    out("Held-out positives the head caught and the verifier turned down (first few):");
    for (const m of missed) out(`- ${m}`);
    out();
  }
  return lines;
}
