/**
 * `voice-stream asr --model <dir|repo|http(s)://…/v1|wyoming://host:port> --input <file.wav> [--language L] [--partial-interval-ms N]
 *  [--realtime] [--auto-flush] [--json]`
 *
 * Feeds the file through the streaming recogniser in 20 ms frames (--realtime paces them at
 * wall-clock speed) and prints the partials as they commit, then the final transcript.
 * --json prints one event object per line (partials, then the final one).
 */
import { commandOptions, numberOption, parseCommandArgs, requireOption } from "../args";
import { CliError } from "../cli-error";
import { REMOTE_HELP, REMOTE_OPTIONS, remoteConfig } from "../remote-options";
import { resample } from "../../core/audio/resample";
import { readInputWav } from "../input-wav";
import { openForCli } from "../open-engine";
import type { AsrEngine, AsrEvent, VadEngine } from "../../core/types";

const USAGE = "usage: voice-stream asr --model <dir|repo|http(s)://host:port/v1|wyoming://host:port> [--server-model NAME] --input <file.wav> [--language L] [--partial-interval-ms N] [--realtime] [--auto-flush] [--json]";
const FRAME_MS = 20;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(argv, {
    ...commandOptions(["model", "input", "language", "partial-interval-ms"], ["realtime", "auto-flush", "json"]),
    ...REMOTE_OPTIONS,
  });
  if (values.help) {
    process.stdout.write(USAGE + "\n" + REMOTE_HELP);
    return 0;
  }
  const model = requireOption(values, "model");
  const input = requireOption(values, "input");
  const interval = numberOption(values, "partial-interval-ms", { min: 0 });
  const audio = await readInputWav(input);
  const opened = await openForCli<AsrEngine>("asr", model, { config: remoteConfig(values) });
  // Auto flush at pauses uses the built-in VAD, opened the same way.
  const vad = values["auto-flush"] ? await openForCli<VadEngine>("vad", "silero") : undefined;
  try {
    const engine = opened.engine;
    const samples = resample(audio.samples, audio.sampleRate, engine.sampleRate);
    let streamer;
    try {
      streamer = engine.openStreamer({
        language: typeof values.language === "string" ? values.language : "auto",
        partial_interval_ms: interval,
        pauseDetector: vad?.engine.openDetector({ min_silence_ms: 300 }),
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
    const frame = Math.round((engine.sampleRate * FRAME_MS) / 1000);
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
    await vad?.close();
    await opened.close();
  }
}
