/**
 * `voice-stream asr --model <dir|repo> --input <file.wav> [--language L] [--partial-interval-ms N]
 *  [--realtime] [--auto-flush] [--json]`
 *
 * Feeds the file through the streaming recogniser in 20 ms frames (--realtime paces them at
 * wall-clock speed) and prints the partials as they commit, then the final transcript.
 * --json prints one event object per line (partials, then the final one).
 */
import * as fs from "fs";
import { numberOption, parseCommandArgs, requireOption } from "../args";
import { CliError } from "../cli-error";
import { resample } from "../../core/audio/resample";
import { readInputWav } from "../input-wav";
import { directoryLoadContext } from "../../core/asr/directory-context";
import { loadAsr } from "../../core/asr/loader";
import type { WhisperEngine } from "../../core/asr/whisper-engine";
import { builtinVad } from "../../core/vad/shared";
import type { AsrEngine, AsrEvent } from "../../core/types";
import { isWyomingUrl } from "../../core/wyoming/client";
import { WyomingAsrEngine } from "../../core/asr/engines/wyoming/wyoming-asr-engine";

const USAGE = "usage: voice-stream asr --model <dir|repo|wyoming://host:port> --input <file.wav> [--language L] [--partial-interval-ms N] [--realtime] [--auto-flush] [--json]";
const FRAME_MS = 20;

/** A local Whisper, or a Wyoming service for `wyoming://host:port`. */
export async function openEngine(model: string): Promise<WhisperEngine | WyomingAsrEngine> {
  if (isWyomingUrl(model)) {
    try {
      return await WyomingAsrEngine.open({ enginesPath: model, config: {} });
    } catch (err) {
      throw new CliError((err as Error).message, 1);
    }
  }
  if (fs.existsSync(model)) {
    if (!fs.statSync(model).isDirectory()) throw new CliError(`--model must be a Whisper model directory or a Hugging Face repo id; '${model}' is a file`);
    return (await loadAsr(directoryLoadContext(model))) as WhisperEngine;
  }
  if (!/^[\w.-]+\/[\w.-]+$/.test(model)) throw new CliError(`model '${model}' not found: give a Whisper model directory or a Hugging Face repo id (owner/name)`);
  let registry: { loadModelOnce?: (kind: "asr", spec: { enginesPath: string }) => Promise<WhisperEngine> };
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    registry = require("../../core/registry") as typeof registry;
  } catch {
    registry = {};
  }
  if (!registry.loadModelOnce) throw new CliError(`model '${model}' is not a local directory; download it first with 'voice-stream download ${model}' and pass its directory`, 1);
  return registry.loadModelOnce("asr", { enginesPath: model });
}

/** Whisper runs at its model's rate; Wyoming services take 16 kHz. */
export function sampleRateOf(engine: AsrEngine): number {
  return engine instanceof WyomingAsrEngine ? 16000 : (engine as WhisperEngine).model.sampleRate;
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(argv, {
    help: { type: "boolean", short: "h" },
    model: { type: "string" },
    input: { type: "string" },
    language: { type: "string" },
    "partial-interval-ms": { type: "string" },
    realtime: { type: "boolean" },
    "auto-flush": { type: "boolean" },
    json: { type: "boolean" },
  });
  if (values.help) {
    process.stdout.write(USAGE + "\n");
    return 0;
  }
  const model = requireOption(values, "model");
  const input = requireOption(values, "input");
  const interval = numberOption(values, "partial-interval-ms", { min: 0 });
  const audio = await readInputWav(input);
  const engine = await openEngine(model);
  try {
    const rate = sampleRateOf(engine);
    const samples = resample(audio.samples, audio.sampleRate, rate);
    let streamer;
    try {
      streamer = engine.openStreamer({
        language: typeof values.language === "string" ? values.language : "auto",
        partial_interval_ms: interval,
        pauseDetector: values["auto-flush"] ? (await builtinVad()).openDetector({ min_silence_ms: 300 }) : undefined,
      });
    } catch (err) {
      throw new CliError((err as Error).message);
    }
    const print = (event: AsrEvent) => {
      if (values.json) process.stdout.write(JSON.stringify(event) + "\n");
      else if (event.kind === "partial") process.stdout.write(`partial: ${event.text}\n`);
      else if (event.kind === "final") process.stdout.write(`final: ${event.text}\n`);
    };
    const ended = new Promise<void>((resolve, reject) => streamer.partials$.subscribe({ next: print, complete: resolve, error: reject }));
    const frame = Math.round((rate * FRAME_MS) / 1000);
    const started = Date.now();
    for (let at = 0, n = 0; at < samples.length; at += frame, n++) {
      streamer.send(samples.slice(at, at + frame));
      // Paced at wall-clock speed, or just yielding so decode passes run while frames arrive.
      const wait = values.realtime ? started + (n + 1) * FRAME_MS - Date.now() : 0;
      await new Promise((r) => (wait > 0 ? setTimeout(r, wait) : setImmediate(r)));
    }
    await streamer.finish();
    await ended;
    return 0;
  } finally {
    await engine.dispose();
  }
}
