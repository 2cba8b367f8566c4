/**
 * Part "kokoro" of `npm run bench` (`npm run bench -- --only kokoro --merge` re-measures just
 * this section of RESULTS.md): time to first audio and real-time factor on a paragraph, our
 * kokoro engine against kokoro-js 1.2.1 (transformers.js 4 on the same onnxruntime-node) on the
 * very same Kokoro-82M-shaped files (bench/kokoro/kokoro-shaped-model.ts; tiny-kokoro with
 * --quick), fp32 and q8, in one process, interleaved (ours, theirs, ours, theirs, …) after one
 * warm-up each. KOKORO_BENCH_VARIANTS=fp32 or q8 runs one variant only.
 *
 * Both stream sentence by sentence: ours through the tts streamer (first chunk = first
 * sentence's audio), kokoro-js through its stream() (first yielded sentence). Both phonemise
 * with the same WASM espeak-ng build. RTF here is wall-clock seconds from the text to the last
 * audio ÷ seconds of audio, measured the same way on both sides. Prints a markdown section.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { lastValueFrom, tap } from "rxjs";
import { writeFixture } from "../../fixtures/cli";
import { localLoadContext } from "../../src/core/registry";
import { loadTts } from "../../src/core/tts/loader";
import type { KokoroEngine } from "../../src/core/tts/engines/kokoro";
import { writeKokoroShaped, FRAMES_PER_TOKEN } from "../kokoro/kokoro-shaped-model";
import type { BenchOptions } from "../options";

const PARAGRAPH =
  "Kokoro is an open-weight speech model with eighty-two million parameters. " +
  "It reads numbers like 3.5 percent or $12.99, and titles like Dr. Smith, the way people say them. " +
  "Streaming means the first sentence plays while the rest is still being made.";

interface Run {
  firstAudio: number;
  total: number;
  audioSeconds: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const WARM_UP = "A short warm-up.";

async function oursRun(engine: KokoroEngine, text = PARAGRAPH): Promise<Run> {
  const streamer = engine.openStreamer({ voice: "af_heart" });
  let first: number | undefined;
  let samples = 0;
  const start = performance.now();
  const done = lastValueFrom(
    streamer.output$.pipe(
      tap((c) => {
        if (c.kind === "audio" && c.audio.length > 0) {
          first ??= performance.now();
          samples += c.audio.length;
        }
      }),
    ),
  );
  streamer.send(text);
  streamer.finish();
  await done;
  return { firstAudio: (first! - start) / 1000, total: (performance.now() - start) / 1000, audioSeconds: samples / 24000 };
}

interface KokoroJs {
  stream(text: unknown, options: { voice: string; speed: number }): AsyncIterable<{ audio: { audio: Float32Array } }>;
}

async function theirsRun(tts: KokoroJs, Splitter: new () => { push(t: string): void; close(): void }, text = PARAGRAPH): Promise<Run> {
  let first: number | undefined;
  let samples = 0;
  const start = performance.now();
  // kokoro-js's streaming input (stream() of a plain string never closes its splitter in 1.2.1,
  // so the last sentence would wait forever): push the text, then close.
  const splitter = new Splitter();
  const chunks = tts.stream(splitter, { voice: "af_heart", speed: 1 });
  splitter.push(text);
  splitter.close();
  for await (const { audio } of chunks) {
    first ??= performance.now();
    samples += audio.audio.length;
  }
  return { firstAudio: (first! - start) / 1000, total: (performance.now() - start) / 1000, audioSeconds: samples / 24000 };
}

/** The model folder: the Kokoro-82M-shaped model, or tiny-kokoro with --quick (the harness only). */
async function prepareModel(options: BenchOptions, log: (line: string) => void): Promise<string> {
  if (options.quick) {
    const dir = path.join(options.outDir, "tiny-kokoro");
    if (!fs.existsSync(dir)) await writeFixture("tiny-kokoro", dir);
    return dir;
  }
  const dir = path.join(options.outDir, "kokoro-82m-shaped");
  writeKokoroShaped(dir, log);
  return dir;
}

export async function kokoroPart(options: BenchOptions, log: (line: string) => void): Promise<{ json: unknown; markdown: string }> {
  const runs = options.runs;
  const variants = (process.env.KOKORO_BENCH_VARIANTS ?? "fp32,q8").split(",") as ("fp32" | "q8")[];
  const dir = await prepareModel(options, log);

  // kokoro-js: local files only; its Node voice reads point at the model's voices folder.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const fsp = require("fs/promises") as { readFile: (...a: unknown[]) => unknown };
  const original = fsp.readFile;
  fsp.readFile = function (this: unknown, file: unknown, ...rest: unknown[]) {
    const m = /kokoro-js[\\/]voices[\\/]([^\\/]+\.bin)$/.exec(String(file));
    return original.call(this, m ? path.join(dir, "voices", m[1]) : file, ...rest);
  };
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const transformers = require("@huggingface/transformers");
  // This part shares the process with the others: put back what it changes for kokoro-js.
  const saved = { allowRemoteModels: transformers.env.allowRemoteModels, localModelPath: transformers.env.localModelPath, espeak: process.env.VOICE_STREAM_ESPEAK };
  transformers.env.allowRemoteModels = false;
  transformers.env.localModelPath = path.dirname(dir) + path.sep;
  try {
    return await measure(dir, runs, variants, options.quick, log);
  } finally {
    fsp.readFile = original;
    transformers.env.allowRemoteModels = saved.allowRemoteModels;
    transformers.env.localModelPath = saved.localModelPath;
    if (saved.espeak === undefined) delete process.env.VOICE_STREAM_ESPEAK;
    else process.env.VOICE_STREAM_ESPEAK = saved.espeak;
  }
}

async function measure(dir: string, runs: number, variants: ("fp32" | "q8")[], quick: boolean, log: (line: string) => void): Promise<{ json: unknown; markdown: string }> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { KokoroTTS, TextSplitterStream } = require("kokoro-js");

  const rows: string[] = [];
  const json: Record<string, unknown> = {};
  const systemEspeak = spawnSync("espeak-ng", ["--version"]).status === 0;
  const backends = systemEspeak ? (["wasm", "system"] as const) : (["wasm"] as const);
  const m = (xs: Run[], key: keyof Run) => median(xs.map((x) => x[key]));
  const rtf = (xs: Run[]) => median(xs.map((x) => x.total / x.audioSeconds));
  for (const dtype of variants) {
    // KOKORO_BENCH_THREADS sets our intra-op threads (kokoro-js takes no session options: onnxruntime's default).
    const threads = process.env.KOKORO_BENCH_THREADS ? { intra_op_num_threads: Number(process.env.KOKORO_BENCH_THREADS) } : {};
    const ours = (await loadTts(localLoadContext("tts", { enginesPath: dir, config: { dtype, ...threads } }))) as KokoroEngine;
    const theirs: KokoroJs = await KokoroTTS.from_pretrained(path.basename(dir), { dtype, device: "cpu" });
    log(`${dtype}: warm-up`);
    for (const backend of backends) {
      process.env.VOICE_STREAM_ESPEAK = backend;
      await oursRun(ours, WARM_UP);
    }
    await theirsRun(theirs, TextSplitterStream, WARM_UP);
    const a: Record<string, Run[]> = { wasm: [], system: [] };
    const b: Run[] = [];
    for (let i = 0; i < runs; i++) {
      for (const backend of backends) {
        process.env.VOICE_STREAM_ESPEAK = backend;
        a[backend].push(await oursRun(ours));
      }
      b.push(await theirsRun(theirs, TextSplitterStream));
      log(`${dtype} run ${i + 1}: ours ${JSON.stringify(backends.map((k) => a[k][i]))} kokoro-js ${JSON.stringify(b[i])}`);
    }
    await ours.dispose();
    json[dtype] = { ours: a, kokoroJs: b };
    for (const backend of backends) {
      const mine = a[backend];
      const label = backend === "wasm" ? "WASM espeak-ng (as kokoro-js)" : "system espeak-ng 1.51";
      rows.push(
        `| ${dtype} | ours, ${label} | ${m(mine, "firstAudio").toFixed(2)} s | ${m(b, "firstAudio").toFixed(2)} s | ${(m(mine, "firstAudio") / m(b, "firstAudio")).toFixed(2)}× | ` +
          `${rtf(mine).toFixed(2)} | ${rtf(b).toFixed(2)} | ${(rtf(mine) / rtf(b)).toFixed(2)}× | ${m(mine, "audioSeconds").toFixed(2)} s / ${m(b, "audioSeconds").toFixed(2)} s |`,
      );
    }
  }
  const model = quick ? "tiny-kokoro (a toy network: this checks the harness and the text path)" : `the Kokoro-82M-shaped model, fixed ${FRAMES_PER_TOKEN} frames (1800 samples) per token`;
  const table = [
    `Paragraph (${PARAGRAPH.length} characters, 3 sentences), voice af_heart, speed 1; medians of ${runs} interleaved runs after a one-sentence warm-up each; ` +
      `${model}. Ratios are ours ÷ kokoro-js (below 1: ours is faster).`,
    "",
    "| variant | ours with | first audio, ours | first audio, kokoro-js | ratio | RTF ours | RTF kokoro-js | ratio | audio (ours / kokoro-js) |",
    "|---|---|---|---|---|---|---|---|---|",
    ...rows,
  ].join("\n");
  return { json, markdown: table };
}
