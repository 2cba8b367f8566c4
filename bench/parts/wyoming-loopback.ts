/**
 * Wyoming part of `npm run bench`: what the Wyoming hop adds over loopback. A WyomingServer
 * with the core engines (as `voice-stream serve` runs it) and a client on the same machine:
 *   - audio-stop → transcript (tiny-whisper; whisper-base-shaped unless --quick), beside the
 *     same streamer's finish() → final called directly;
 *   - synthesize → first audio-chunk (eSpeak NG), beside the engine's first chunk directly;
 *   - streaming synthesis: first synthesize-chunk → first audio-chunk.
 */
import * as fs from "fs";
import * as path from "path";
import { loadModel } from "../../src/core/registry/load-model";
import { readWavFile } from "../../src/core/audio/wav";
import { resample } from "../../src/core/audio/resample";
import { floatToS16LE } from "../../src/core/audio/pcm";
import { write as writeTinyWhisper } from "../../fixtures/tiny-whisper";
import { EspeakEngine } from "../../src/core/tts/engines/espeak/espeak-engine";
import { WyomingServer } from "../../src/core/wyoming/server";
import { EngineServices } from "../../src/core/wyoming/engine-services";
import { WyomingConnection } from "../../src/core/wyoming/client";
import type { WyomingEvent } from "../../src/core/wyoming/codec";
import type { AsrEngine, TtsEngine } from "../../src/core/types";
import { hasWhisperBaseShaped, writeWhisperBaseShaped } from "../whisper-base-shaped-model";
import { fmt, median, nowMs } from "../stats";
import type { BenchOptions } from "../options";

const REPO = path.join(__dirname, "..", "..", "..");
const AUDIO = process.env.SHARED_AUDIO_DIR ?? path.join(REPO, "test", "data", "audio");
const CLIP = "hello_16k.wav";
const SENTENCES = "The first sentence is short. The second one takes a little longer to say.";

/** A connection whose events can be awaited one type at a time. */
async function connect(port: number) {
  const connection = await WyomingConnection.connect({ host: "127.0.0.1", port, url: `wyoming://127.0.0.1:${port}` });
  const waiters: { type: string; resolve: (e: WyomingEvent) => void }[] = [];
  connection.onEvent = (event) => {
    const i = waiters.findIndex((w) => w.type === event.type);
    if (i >= 0) waiters.splice(i, 1)[0].resolve(event);
  };
  const next = (type: string) => new Promise<WyomingEvent>((resolve) => waiters.push({ type, resolve }));
  return { connection, next };
}

async function serve(services: EngineServices): Promise<{ server: WyomingServer; port: number }> {
  const server = new WyomingServer({ port: 0, offers: services.offers, services: () => services.services(), onSession: (s) => services.handle(s) });
  const { port } = await server.listen();
  return { server, port };
}

async function asrRow(label: string, engine: AsrEngine, audio: Float32Array, runs: number) {
  const { server, port } = await serve(new EngineServices({ asr: { engine, name: label } }));
  const hop: number[] = [];
  const direct: number[] = [];
  try {
    for (let run = 0; run <= runs; run++) {
      const { connection, next } = await connect(port);
      connection.send("transcribe", { language: "en" });
      connection.send("audio-start", { rate: 16000, width: 2, channels: 1 });
      for (let at = 0; at < audio.length; at += 320) connection.send("audio-chunk", { rate: 16000, width: 2, channels: 1 }, floatToS16LE(audio.subarray(at, at + 320)));
      // Let the server take in the audio (and run its partial passes) before the clock starts.
      await new Promise((r) => setTimeout(r, 1500));
      const transcript = next("transcript");
      const t0 = nowMs();
      connection.send("audio-stop");
      await transcript;
      if (run > 0) hop.push(nowMs() - t0);
      connection.close();

      const streamer = engine.openStreamer({ language: "en" });
      streamer.partials$.subscribe({ error: () => undefined });
      for (let at = 0; at < audio.length; at += 320) streamer.send(audio.slice(at, at + 320));
      await new Promise((r) => setTimeout(r, 1500));
      const t1 = nowMs();
      await streamer.finish();
      if (run > 0) direct.push(nowMs() - t1);
    }
  } finally {
    await server.close();
  }
  return { label, hopMs: median(hop), directMs: median(direct) };
}

async function ttsRows(engine: TtsEngine, runs: number) {
  const { server, port } = await serve(new EngineServices({ tts: { engine, name: "espeak" } }));
  const plain: number[] = [];
  const direct: number[] = [];
  const streaming: number[] = [];
  try {
    for (let run = 0; run <= runs; run++) {
      let { connection, next } = await connect(port);
      let first = next("audio-chunk");
      let done = next("audio-stop");
      let t0 = nowMs();
      connection.send("synthesize", { text: SENTENCES });
      await first;
      if (run > 0) plain.push(nowMs() - t0);
      await done;
      connection.close();

      const streamer = engine.openStreamer({});
      const t1 = nowMs();
      const firstChunk = new Promise<void>((resolve) => streamer.output$.subscribe((c) => (c.kind === "audio" && c.audio.length > 0 ? resolve() : undefined)));
      streamer.send(SENTENCES);
      streamer.finish();
      await firstChunk;
      if (run > 0) direct.push(nowMs() - t1);

      ({ connection, next } = await connect(port));
      first = next("audio-chunk");
      done = next("synthesize-stopped");
      connection.send("synthesize-start");
      t0 = nowMs();
      connection.send("synthesize-chunk", { text: "The first sentence is short. The" });
      await first;
      if (run > 0) streaming.push(nowMs() - t0);
      connection.send("synthesize-chunk", { text: " second one takes a little longer to say." });
      connection.send("synthesize", { text: SENTENCES });
      connection.send("synthesize-stop");
      await done;
      connection.close();
    }
  } finally {
    await server.close();
  }
  return { plainMs: median(plain), directMs: median(direct), streamingMs: median(streaming) };
}

export async function wyomingPart(options: BenchOptions, log: (line: string) => void): Promise<{ json: unknown; markdown: string }> {
  const runs = Math.max(1, options.runs);
  const wav = await readWavFile(path.join(AUDIO, CLIP));
  const audio = resample(wav.samples, wav.sampleRate, 16000);
  const models: { label: string; dir: string }[] = [];
  const tiny = path.join(options.outDir, "tiny-whisper");
  if (!fs.existsSync(path.join(tiny, "config.json"))) await writeTinyWhisper(tiny);
  models.push({ label: "tiny-whisper", dir: tiny });
  if (!options.quick) {
    const base = path.join(options.outDir, "whisper-base-shaped");
    if (!hasWhisperBaseShaped(base)) {
      log("  writing the whisper-base-shaped model (about 300 MB, once)");
      await writeWhisperBaseShaped(base);
    }
    models.push({ label: "whisper-base-shaped", dir: base });
  }
  const asr = [];
  for (const model of models) {
    log(`  ${model.label}: audio-stop → transcript over loopback`);
    const engine = (await loadModel("asr", { enginesPath: model.dir })) as AsrEngine;
    try {
      asr.push(await asrRow(model.label, engine, audio, runs));
    } finally {
      await engine.dispose();
    }
  }
  log("  espeak: synthesize → first audio-chunk over loopback");
  const tts = await ttsRows(new EspeakEngine(), runs);
  const lines = [
    `A WyomingServer with the core engines (as \`voice-stream serve\` runs them) and a client on the same machine, over`,
    `127.0.0.1; medians of ${runs} runs after one warm-up. Audio: ${CLIP} (${(audio.length / 16000).toFixed(2)} s) sent as 20 ms`,
    "chunks; the clock starts at audio-stop, 1.5 s after the last chunk (the streamer has taken the audio in). \"Direct\" is the same",
    "engine called in-process (finish() → final; send + finish → first audio chunk), so the difference is the Wyoming hop.",
    "",
    "| measure | over Wyoming (ms) | direct (ms) |",
    "|---|---:|---:|",
    ...asr.map((r) => `| ${r.label}: audio-stop → transcript | ${fmt(r.hopMs, 1)} | ${fmt(r.directMs, 1)} |`),
    `| eSpeak NG: synthesize → first audio-chunk (two sentences) | ${fmt(tts.plainMs, 1)} | ${fmt(tts.directMs, 1)} |`,
    `| eSpeak NG, streaming: first synthesize-chunk (a sentence and a word) → first audio-chunk | ${fmt(tts.streamingMs, 1)} | – |`,
    "",
  ];
  return { json: { asr, tts }, markdown: lines.join("\n") };
}
