/**
 * `voice-stream tts --model <dir|repo|espeak> --text <text> [--voice V] [--out file.wav]
 *  [--frames-per-chunk N] [--first-frames-per-chunk N] [--lookforward N] [--lookback N]
 *  [--overlap-frames N] [--sample-rate-out HZ] [--seed S] [--speed X] [--json]`
 *
 * Streams the text through the TTS streamer. --json prints one line per chunk (chunk_index,
 * samples, sample_rate, text, is_final; the final line carries the metrics); --out writes the
 * whole stream as a 16-bit WAV. Without either, a one-line summary goes to stderr.
 */
import * as fs from "fs";
import * as path from "path";
import { lastValueFrom, tap } from "rxjs";
import { commandOptions, numberOption, parseCommandArgs, requireOption } from "../args";
import { CliError } from "../cli-error";
import { REMOTE_HELP, REMOTE_OPTIONS, remoteConfig } from "../remote-options";
import type { TtsEngine, TtsStreamChunk, TtsStreamConfig } from "../../core/types";
import { openForCli } from "../open-engine";
import { CHUNKING_FIELDS } from "../../core/tts/chunking";
import { TTS_SPEED_RANGE } from "../../core/tts/engine";
import { encodeWav } from "../../core/audio/wav";

const USAGE =
  "usage: voice-stream tts --model <dir|repo|espeak|http(s)://host:port/v1> [--server-model NAME] --text <text> [--voice V] [--out file.wav] " +
  "[--frames-per-chunk N] [--first-frames-per-chunk N] [--lookforward N] [--lookback N] [--overlap-frames N] " +
  "[--sample-rate-out HZ] [--seed S] [--speed X (kokoro)] [--json]";

export async function run(argv: string[]): Promise<number> {
  const options = {
    ...commandOptions(["model", "text", "voice", "out", ...CHUNKING_FIELDS.map((f) => f.flag), "sample-rate-out", "seed", "speed"], ["json"]),
    ...REMOTE_OPTIONS,
  };
  const { values } = parseCommandArgs(argv, options);
  if (values.help) {
    process.stdout.write(`${USAGE}\n${REMOTE_HELP}`);
    return 0;
  }
  const model = requireOption(values, "model");
  const text = requireOption(values, "text");
  const config: TtsStreamConfig = {
    ...Object.fromEntries(CHUNKING_FIELDS.map((f) => [f.key, numberOption(values, f.flag, { integer: true, min: f.min })])),
    sample_rate_out: numberOption(values, "sample-rate-out", { integer: true, min: 8000, max: 192000 }),
    seed: numberOption(values, "seed", { integer: true }),
    speed: numberOption(values, "speed", { min: TTS_SPEED_RANGE[0], max: TTS_SPEED_RANGE[1] }),
    voice: typeof values.voice === "string" ? values.voice : undefined,
  };
  const out = typeof values.out === "string" ? path.resolve(values.out) : undefined;
  if (out && fs.existsSync(out) && fs.statSync(out).isDirectory()) throw new CliError(`--out is a directory: ${out}`);

  const opened = await openForCli<TtsEngine>("tts", model, {
    config: remoteConfig(values),
    warn: (message) => process.stderr.write(`warning: ${message}\n`),
  });
  const engine = opened.engine;
  try {
    let streamer;
    try {
      streamer = engine.openStreamer(config);
    } catch (err) {
      throw new CliError((err as Error).message);
    }
    const pieces: Float32Array[] = [];
    let sampleRate = 0;
    const print = (chunk: TtsStreamChunk) => {
      if (!values.json) return;
      const { audio, ...fields } = chunk as TtsStreamChunk & { audio?: Float32Array };
      const line: Record<string, unknown> = { samples: audio?.length ?? 0, ...fields };
      process.stdout.write(JSON.stringify(line) + "\n");
    };
    const done = lastValueFrom(
      streamer.output$.pipe(
        tap((chunk) => {
          if (chunk.kind === "audio") {
            sampleRate = chunk.sample_rate;
            if (chunk.audio.length > 0) pieces.push(chunk.audio);
          }
          print(chunk);
        }),
      ),
    );
    streamer.send(text);
    streamer.finish();
    const final = await done;
    if (out) {
      const total = pieces.reduce((n, p) => n + p.length, 0);
      const all = new Float32Array(total);
      let at = 0;
      for (const p of pieces) {
        all.set(p, at);
        at += p.length;
      }
      fs.writeFileSync(out, encodeWav(all, sampleRate));
    }
    if (!values.json) {
      const seconds = final.kind === "audio" ? (final.audio_seconds ?? 0) : 0;
      process.stderr.write(`spoke ${seconds.toFixed(2)} s of audio in ${pieces.length} chunks${out ? ` → ${out}` : ""}\n`);
    }
    return 0;
  } finally {
    await opened.close();
  }
}
