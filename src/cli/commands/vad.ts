/**
 * `voice-stream vad --input <file.wav> [--json] [--model <dir|silero>] [--threshold P]
 *  [--min-silence-ms N] [--min-speech-ms N] [--speech-pad-ms N]`
 *
 * Speech segments of a recording by Silero VAD (the built-in model unless --model names a
 * folder with silero_vad_v5.onnx). --json prints one line per segment: {"start": s, "end": s}.
 */
import { commandOptions, numberOption, parseCommandArgs, requireOption } from "../args";
import { CliError } from "../cli-error";
import { resample } from "../../core/audio/resample";
import { readInputWav } from "../input-wav";
import { openForCli } from "../open-engine";
import type { VadEngine } from "../../core/types";

const USAGE = "usage: voice-stream vad --input <file.wav> [--json] [--model <dir|silero>] [--threshold P] [--min-silence-ms N] [--min-speech-ms N] [--speech-pad-ms N]";

export async function run(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(argv, commandOptions(["input", "model", "threshold", "min-silence-ms", "min-speech-ms", "speech-pad-ms"], ["json"]));
  if (values.help) {
    process.stdout.write(USAGE + "\n");
    return 0;
  }
  const input = requireOption(values, "input");
  const options = {
    threshold: numberOption(values, "threshold", { min: 0.01, max: 0.99 }),
    min_silence_ms: numberOption(values, "min-silence-ms", { min: 0 }),
    min_speech_ms: numberOption(values, "min-speech-ms", { min: 0 }),
    speech_pad_ms: numberOption(values, "speech-pad-ms", { min: 0 }),
  };
  const audio = await readInputWav(input);
  const model = typeof values.model === "string" ? values.model : "silero";
  const opened = await openForCli<VadEngine>("vad", model);
  const vad = opened.engine;
  try {
    const segments = await vad.segments(resample(audio.samples, audio.sampleRate, vad.sampleRate), options);
    for (const s of segments) {
      process.stdout.write(values.json ? JSON.stringify({ start: s.start, end: s.end }) + "\n" : `${s.start.toFixed(3)}\t${s.end.toFixed(3)}\n`);
    }
    if (!values.json) process.stderr.write(`${segments.length} speech segment${segments.length === 1 ? "" : "s"}\n`);
    return 0;
  } finally {
    await opened.close();
  }
}
