/**
 * `voice-stream wake-verifier --model <dir|repo> --head <name> --positive <dir> --negative <dir>
 *  --out <verifier.json> [--threshold P] [--epochs N] [--l2 X] [--seed N] [--json]`
 *
 * Trains a wake verifier (src/core/wake/verifier.ts) for one wake word of an openWakeWord
 * model: --positive is a folder of WAV files of the wake word (about 20 of you saying it, in
 * the room where it will listen), --negative a folder of other speech (names and phrases that
 * sound like it, everyday talk). Prints what it learned; --json prints it as one line. Use the
 * file with `voice-stream wake --verifier`, or a voice-model's config {"verifiers": {...}}.
 */
import * as fs from "fs";
import * as path from "path";
import { commandOptions, numberOption, parseCommandArgs, requireOption } from "../args";
import { CliError } from "../cli-error";
import { resample } from "../../core/audio/resample";
import { readInputWav } from "../input-wav";
import { openNamedModel } from "../../core/open-model";
import type { OpenWakeWordEngine } from "../../core/wake/engines/openwakeword/engine";
import { trainWakeVerifier, type VerifierClip } from "../../core/wake/engines/openwakeword/verifier-trainer";
import { writeVerifierFile } from "../../core/wake/verifier";
import { WAKE_SAMPLE_RATE } from "../../core/wake/engine";

const USAGE =
  "usage: voice-stream wake-verifier --model <dir|repo> --head <name> --positive <dir of wavs> --negative <dir of wavs> --out <verifier.json> [--threshold P] [--epochs N] [--l2 X] [--seed N] [--json]";

/** Every .wav in `dir` (sorted, so the same folder trains the same file), at 16 kHz. */
async function clipsIn(dir: string, flag: string): Promise<VerifierClip[]> {
  if (!fs.existsSync(dir)) throw new CliError(`--${flag} folder '${dir}' does not exist`);
  if (!fs.statSync(dir).isDirectory()) throw new CliError(`--${flag} '${dir}' is not a folder; give a folder of WAV files`);
  const files = fs.readdirSync(dir).filter((f) => /\.wav$/i.test(f)).sort();
  if (files.length === 0) throw new CliError(`--${flag} folder '${dir}' holds no .wav files`);
  const clips: VerifierClip[] = [];
  for (const f of files) {
    const audio = await readInputWav(path.join(dir, f));
    clips.push({ label: f, samples: audio.sampleRate === WAKE_SAMPLE_RATE ? audio.samples : resample(audio.samples, audio.sampleRate, WAKE_SAMPLE_RATE) });
  }
  return clips;
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(argv, commandOptions(["model", "head", "positive", "negative", "out", "threshold", "epochs", "l2", "seed"], ["json"]));
  if (values.help) {
    process.stdout.write(USAGE + "\n");
    return 0;
  }
  const model = requireOption(values, "model");
  const head = requireOption(values, "head").replace(/\.onnx$/i, "");
  const out = requireOption(values, "out");
  const threshold = numberOption(values, "threshold", { min: 0.01, max: 0.99 });
  const epochs = numberOption(values, "epochs", { integer: true, min: 1, max: 100000 });
  const l2 = numberOption(values, "l2", { min: 0 });
  const seed = numberOption(values, "seed", { integer: true, min: 0 });
  const outDir = path.dirname(path.resolve(out));
  if (!fs.existsSync(outDir)) throw new CliError(`--out: folder '${outDir}' does not exist`);
  const positives = await clipsIn(requireOption(values, "positive"), "positive");
  const negatives = await clipsIn(requireOption(values, "negative"), "negative");
  let opened;
  try {
    opened = await openNamedModel<OpenWakeWordEngine>("wake", model, { config: { heads: [head] } });
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  try {
    const { verifier, report } = await trainWakeVerifier(opened.engine, head, positives, negatives, { threshold, epochs, l2, seed });
    writeVerifierFile(out, verifier);
    if (values.json) {
      process.stdout.write(JSON.stringify({ out, head, ...report }) + "\n");
    } else {
      process.stdout.write(
        `${out}: verifier for '${head}' from ${report.positive_clips} positive and ${report.negative_clips} negative clips ` +
          `(${report.positive_windows} / ${report.negative_windows} windows); on them it accepts ${report.train_positive_accepted} of ${report.positive_windows} positive ` +
          `and rejects ${report.train_negative_rejected} of ${report.negative_windows} negative windows\n`,
      );
      if (report.head_missed.length > 0) process.stdout.write(`the head itself stays under 0.5 on ${report.head_missed.length} positive clip(s) (${report.head_missed.slice(0, 5).join(", ")}): the verifier cannot add those\n`);
      if (report.head_false_wakes.length > 0) process.stdout.write(`the head wakes on ${report.head_false_wakes.length} negative clip(s) (${report.head_false_wakes.slice(0, 5).join(", ")}): these are what the verifier learns to stop\n`);
    }
    return 0;
  } finally {
    await opened.close();
  }
}
