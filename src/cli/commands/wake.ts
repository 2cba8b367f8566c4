/**
 * `voice-stream wake --model <dir|repo> --input <file.wav> [--threshold T] [--json]
 *  [--patience N] [--refractory-ms N] [--vad-threshold P] [--heads a,b] [--scores] [--verifier file.json]…`
 *
 * Wake word detections in a recording (PROTOCOL §8). The file is fed in 80 ms frames, as a
 * microphone would deliver it; the last partial frame is padded with silence. One line per
 * detection; --json prints {"name", "score", "time"} (seconds into the file). --scores
 * prints every wake word's highest score instead (for tuning thresholds). --verifier (repeatable)
 * adds a wake verifier (from `voice-stream wake-verifier`) to the wake word it names.
 */
import { from } from "rxjs";
import { numberOption, parseCommandArgs, requireOption } from "../args";
import { CliError } from "../cli-error";
import { resample } from "../../core/audio/resample";
import { readInputWav } from "../input-wav";
import { openNamedModel } from "../../core/open-model";
import type { OpenWakeWordEngine } from "../../core/wake/engines/openwakeword/engine";
import { WAKE_SAMPLE_RATE } from "../../core/wake/engine";
import { readVerifierFile } from "../../core/wake/verifier";

const USAGE =
  "usage: voice-stream wake --model <dir|repo> --input <file.wav> [--threshold T] [--json] [--patience N] [--refractory-ms N] [--vad-threshold P] [--heads a,b] [--scores] [--verifier file.json]...";
const FRAME = 1280;

/** The file as 80 ms frames, the last one padded with silence to a whole frame. */
export function framesOf(samples: Float32Array): Float32Array[] {
  const frames: Float32Array[] = [];
  for (let at = 0; at < samples.length; at += FRAME) {
    const frame = new Float32Array(FRAME);
    frame.set(samples.subarray(at, at + FRAME));
    frames.push(frame);
  }
  return frames;
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(argv, {
    help: { type: "boolean", short: "h" },
    model: { type: "string" },
    input: { type: "string" },
    threshold: { type: "string" },
    json: { type: "boolean" },
    patience: { type: "string" },
    "refractory-ms": { type: "string" },
    "vad-threshold": { type: "string" },
    heads: { type: "string" },
    scores: { type: "boolean" },
    verifier: { type: "string", multiple: true },
  });
  if (values.help) {
    process.stdout.write(USAGE + "\n");
    return 0;
  }
  const model = requireOption(values, "model");
  const input = requireOption(values, "input");
  const threshold = numberOption(values, "threshold", { min: 0.01, max: 0.99 });
  const patience = numberOption(values, "patience", { integer: true, min: 1 });
  const refractory_ms = numberOption(values, "refractory-ms", { min: 0 });
  const vad_threshold = numberOption(values, "vad-threshold", { min: 0, max: 0.99 });
  const verifiers = ((values.verifier ?? []) as string[]).map((file) => {
    try {
      return readVerifierFile(file);
    } catch (err) {
      throw new CliError(`--verifier: ${(err as Error).message}`);
    }
  });
  const audio = await readInputWav(input);
  const samples = audio.sampleRate === WAKE_SAMPLE_RATE ? audio.samples : resample(audio.samples, audio.sampleRate, WAKE_SAMPLE_RATE);
  let opened;
  try {
    opened = await openNamedModel<OpenWakeWordEngine>("wake", model, { config: values.heads ? { heads: values.heads } : {} });
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  try {
    const engine = opened.engine;
    try {
      for (const v of verifiers) engine.checkVerifier(v);
    } catch (err) {
      throw new CliError(`--verifier: ${(err as Error).message}`);
    }
    if (values.scores) {
      const scorer = engine.scorer();
      const best: Record<string, { score: number; time: number }> = {};
      for (const frame of framesOf(samples)) {
        for (const step of await scorer.push(frame)) {
          for (const [name, score] of Object.entries(step.scores)) if (!best[name] || score > best[name].score) best[name] = { score, time: step.audio_seconds };
        }
      }
      for (const [name, b] of Object.entries(best)) {
        process.stdout.write(values.json ? JSON.stringify({ name, max_score: round(b.score), time: round(b.time) }) + "\n" : `${name}\t${b.score.toFixed(4)}\t${b.time.toFixed(2)}\n`);
      }
      return 0;
    }
    let count = 0;
    await new Promise<void>((resolve, reject) => {
      engine.detect(from(framesOf(samples)), { threshold, patience, refractory_ms, vad_threshold, verifiers }).subscribe({
        next: (d) => {
          count++;
          const line = values.json ? JSON.stringify({ name: d.name, score: round(d.score), time: d.audio_seconds }) : `${d.audio_seconds.toFixed(2)}\t${d.name}\t${d.score.toFixed(3)}`;
          process.stdout.write(line + "\n");
        },
        error: reject,
        complete: resolve,
      });
    });
    if (!values.json) process.stderr.write(`${count} detection${count === 1 ? "" : "s"}\n`);
    return 0;
  } finally {
    await opened.close();
  }
}

const round = (n: number) => Math.round(n * 10000) / 10000;
