/**
 * `npm run soak` (not part of CI or `npm test`): long-running and churn checks that a unit test
 * cannot afford, on the tiny fixture models, with the figures written into bench/RESULTS.md
 * under "## Soak".
 *
 *  1. turn:  one whisper-streamer turn of `--hours` (default 1) of audio with auto flush (the
 *            node's setting: the built-in Silero VAD flushes at every pause), fed faster than
 *            real time (`--speed`, default 20×): RSS and per-pass decode time by 10-minute slice
 *            of audio — both must stay flat.
 *  2. churn: `--deploys` (default 1,000) Node-RED deploy cycles (flows started, streams opened in
 *            llm-stream, tts-streamer, whisper-streamer and audio-out, flows stopped mid-stream):
 *            child processes, active handles, live onnxruntime sessions, registry models and RSS
 *            before and after.
 *  3. fan-out: `--llm-streams` (100) concurrent LLM streams and `--tts-streams` (32) concurrent
 *            TTS streams, each compared with the same request run alone: outputs must be equal.
 *
 * Flags: --only turn|churn|fanout (repeatable), --hours H (or --minutes M), --speed X,
 * --slice-minutes S (default 10), --heap-snapshots 5,30 (write a .heapsnapshot at those minutes
 * of audio into --snapshot-dir, default the OS temp folder; diff them with bench/heap-diff.ts),
 * --deploys N, --llm-streams N, --tts-streams N, --no-write (print only). With --only, the other parts' subsections of the Soak section stay.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as ort from "onnxruntime-node";
import { lastValueFrom, toArray } from "rxjs";
import type { PassInfo } from "../src/core/asr/streamer";
import type { WhisperEngine } from "../src/core/asr/engines/whisper/whisper-engine";
import { sharedRegistry } from "../src/core/registry";
import { loadModel } from "../src/core/registry/load-model";
import type { LlmEngine, LlmStreamChunk, TtsChunk, TtsEngine, TtsStreamChunk } from "../src/core/types";
import { builtinVad } from "../src/core/vad/engines/silero/shared";
import { readWavFile } from "../src/core/audio/wav";
import { synthSpeech } from "../test/core/asr-audio";
import { fixtureDir } from "../test/helpers/fixtures";
import { sharedDir } from "../test/helpers/paths";

const log = (line: string) => process.stderr.write(line + "\n");
const mb = (bytes: number) => bytes / 1048576;

interface SoakOptions {
  parts: Set<string>;
  hours: number;
  speed: number;
  sliceMinutes: number;
  heapSnapshots: number[];
  snapshotDir: string;
  deploys: number;
  llmStreams: number;
  ttsStreams: number;
  write: boolean;
}

function parseOptions(argv: string[]): SoakOptions {
  const o: SoakOptions = { parts: new Set(), hours: 1, speed: 20, sliceMinutes: 10, heapSnapshots: [], snapshotDir: os.tmpdir(), deploys: 1000, llmStreams: 100, ttsStreams: 32, write: true };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    const num = () => {
      const n = Number(value());
      if (!Number.isFinite(n) || n <= 0) throw new Error(`${flag} needs a positive number`);
      return n;
    };
    if (flag === "--only") o.parts.add(value());
    else if (flag === "--hours") o.hours = num();
    else if (flag === "--minutes") o.hours = num() / 60;
    else if (flag === "--slice-minutes") o.sliceMinutes = num();
    else if (flag === "--heap-snapshots") o.heapSnapshots = value().split(",").map(Number).filter((n) => Number.isFinite(n) && n > 0).sort((a, b) => a - b);
    else if (flag === "--snapshot-dir") o.snapshotDir = value();
    else if (flag === "--speed") o.speed = num();
    else if (flag === "--deploys") o.deploys = Math.round(num());
    else if (flag === "--llm-streams") o.llmStreams = Math.round(num());
    else if (flag === "--tts-streams") o.ttsStreams = Math.round(num());
    else if (flag === "--no-write") o.write = false;
    else throw new Error(`unknown flag ${flag}; see the top of bench/soak.ts`);
  }
  if (o.parts.size === 0) ["turn", "churn", "fanout"].forEach((p) => o.parts.add(p));
  for (const p of o.parts) if (!["turn", "churn", "fanout"].includes(p)) throw new Error(`--only takes turn, churn or fanout, not ${p}`);
  return o;
}

// ---------------------------------------------------------------- process probes

/** Live onnxruntime sessions: every create counted, every release uncounted (patched once, before any load). */
const liveSessions = { count: 0 };
function countSessions(): void {
  const Session = ort.InferenceSession as unknown as { create: (...a: unknown[]) => Promise<ort.InferenceSession> };
  const create = Session.create.bind(Session);
  Session.create = async (...args: unknown[]) => {
    const session = await create(...args);
    liveSessions.count++;
    const release = session.release.bind(session);
    let released = false;
    session.release = async () => {
      if (!released) {
        released = true;
        liveSessions.count--;
      }
      return release();
    };
    return session;
  };
}

/** Child processes of this process (from /proc; 0 where /proc is missing). */
function childProcesses(): number {
  try {
    let n = 0;
    for (const task of fs.readdirSync("/proc/self/task")) {
      const children = fs.readFileSync(`/proc/self/task/${task}/children`, "utf8").trim();
      if (children) n += children.split(/\s+/).length;
    }
    return n;
  } catch {
    return 0;
  }
}

/** Active libuv handles and requests by type (timers, sockets, child processes, ...). */
function handles(): { total: number; byType: Record<string, number> } {
  const byType: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) byType[kind] = (byType[kind] ?? 0) + 1;
  return { total: Object.values(byType).reduce((a, b) => a + b, 0), byType };
}

async function settle(ms = 300): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
  (global as { gc?: () => void }).gc?.();
  await new Promise((r) => setTimeout(r, 50));
}

// ---------------------------------------------------------------- 1. the long turn

interface Slice {
  from: number;
  to: number;
  passes: number;
  meanMs: number;
  p95Ms: number;
  maxMs: number;
  maxBufferSeconds: number;
  /** Most audio queued in front of the VAD during the slice. */
  maxVadQueueSeconds: number;
  rssMiB: number;
  heapMiB: number;
  externalMiB: number;
  /** RSS less the JS heap's reserved size and external (ArrayBuffer) memory: native allocations (onnxruntime, malloc arenas). */
  nativeMiB: number;
  /** Committed text of the turn so far (UTF-16 code units ≈ bytes for this English text). */
  transcriptKiB: number;
}

async function longTurn(o: SoakOptions): Promise<{ markdown: string; json: unknown }> {
  const engine = await loadModel<WhisperEngine>("asr", { enginesPath: await fixtureDir("tiny-whisper") });
  const vad = await builtinVad();
  const totalSeconds = o.hours * 3600;
  const sliceSeconds = o.sliceMinutes * 60;
  const passes: { at: number; ms: number; buffer: number; kind: string }[] = [];
  const snapshotsAt = [...o.heapSnapshots];
  // The VAD (one thread, queued per frame) is watched: fed faster than it runs, its queue holds every frame
  // not yet looked at — memory that grows with the lag, and pauses that reach the streamer late. The feed
  // waits for it (below), so the table measures the streamer, not a growing queue in front of it.
  const detector = vad.openDetector({ min_silence_ms: 300 });
  const vadQueue = { samples: 0, maxSeconds: 0, pauses: 0 };
  const pauseDetector = {
    push: async (frame: Float32Array) => {
      vadQueue.samples += frame.length;
      vadQueue.maxSeconds = Math.max(vadQueue.maxSeconds, vadQueue.samples / 16000);
      try {
        const events = await detector.push(frame);
        vadQueue.pauses += events.filter((e) => e.type === "speech_end").length;
        return events;
      } finally {
        vadQueue.samples -= frame.length;
      }
    },
  };
  const streamer = engine.openStreamer({
    // The node's settings with auto flush (src/nodes/whisper-streamer.ts): interval 600 ms, VAD pauses of 300 ms.
    language: "en",
    partial_interval_ms: 600,
    pauseDetector,
    onPass: (p: PassInfo) => {
      passes.push({ at: streamer.audioSeconds, ms: p.seconds * 1000, buffer: p.buffer_seconds, kind: p.kind });
    },
  });
  let partials = 0;
  streamer.partials$.subscribe((e) => {
    if (e.kind === "partial") partials++;
  });
  // Real speech (the shared recordings, which the built-in VAD hears as speech) between pauses.
  const clips: Float32Array[] = [];
  for (const name of ["hello_16k.wav", "count_16k.wav", "weather_16k.wav", "alexa_16k.wav", "neg_16k.wav", "hey_jarvis_16k.wav"]) {
    clips.push((await readWavFile(sharedDir("audio", name))).samples);
  }
  const slices: Slice[] = [];
  const startedAt = Date.now();
  const frame = 320;
  let fed = 0;
  let piece = 0;
  let nextSlice = sliceSeconds;
  const closeSlice = (upTo: number) => {
    const from = slices.length * sliceSeconds;
    const inSlice = passes.filter((p) => p.at > from && p.at <= upTo).map((p) => p);
    const ms = inSlice.map((p) => p.ms).sort((a, b) => a - b);
    // Measured after a full collection: live memory, not garbage the collector has not reached yet.
    (global as { gc?: () => void }).gc?.();
    const mem = process.memoryUsage();
    slices.push({
      from,
      to: upTo,
      passes: ms.length,
      meanMs: ms.length ? ms.reduce((a, b) => a + b, 0) / ms.length : 0,
      p95Ms: ms.length ? ms[Math.min(ms.length - 1, Math.floor(ms.length * 0.95))] : 0,
      maxMs: ms.length ? ms[ms.length - 1] : 0,
      maxBufferSeconds: inSlice.reduce((m, p) => Math.max(m, p.buffer), 0),
      maxVadQueueSeconds: vadQueue.maxSeconds,
      rssMiB: mb(mem.rss),
      heapMiB: mb(mem.heapUsed),
      externalMiB: mb(mem.external),
      nativeMiB: mb(mem.rss - mem.heapTotal - mem.external),
      transcriptKiB: streamer.text.length / 1024,
    });
    const s = slices[slices.length - 1];
    vadQueue.maxSeconds = 0;
    log(`turn: ${(upTo / 60).toFixed(0)} min of audio in ${((Date.now() - startedAt) / 1000).toFixed(0)} s — ${s.passes} passes, mean ${s.meanMs.toFixed(1)} ms, p95 ${s.p95Ms.toFixed(1)} ms, buffer ≤ ${s.maxBufferSeconds.toFixed(1)} s, VAD queue ≤ ${s.maxVadQueueSeconds.toFixed(1)} s, RSS ${s.rssMiB.toFixed(0)} MiB, heap ${s.heapMiB.toFixed(1)} MiB, external ${s.externalMiB.toFixed(1)} MiB, native ${s.nativeMiB.toFixed(0)} MiB, transcript ${s.transcriptKiB.toFixed(1)} KiB`);
  };
  while (fed < totalSeconds * 16000) {
    const clip = clips[piece % clips.length];
    const pause = 0.5 + ((piece * 0.23) % 0.8);
    const audio = new Float32Array(clip.length + Math.round(pause * 16000));
    audio.set(clip);
    piece++;
    // No further ahead of the worker than two pauses: the turn runs as fast as decoding allows (at most `speed`×).
    // A clip starts only when at most 2 s of audio wait for the VAD (so its queue stays under 2 s + one clip). (Counting flush passes against pieces did not hold the
    // feed back: the VAD finds pauses inside clips too, so flushes ran ahead of pieces while the VAD's queue
    // grew by minutes of audio.) The decoder keeps pace by itself: "max buffer s" below shows it.
    while (vadQueue.samples > 2 * 16000) await new Promise((r) => setTimeout(r, 5));
    for (let at = 0; at < audio.length && fed < totalSeconds * 16000; at += frame) {
      streamer.send(audio.subarray(at, at + frame).slice());
      fed += Math.min(frame, audio.length - at);
      // Faster than real time, but no faster than `speed`×: the worker and the VAD keep pace.
      const ahead = (fed / 16000 / o.speed) * 1000 - (Date.now() - startedAt);
      if (ahead > 0) await new Promise((r) => setTimeout(r, ahead));
      else if (fed % (frame * 25) === 0) await new Promise((r) => setImmediate(r));
      if (snapshotsAt.length > 0 && fed / 16000 >= snapshotsAt[0] * 60) {
        const minute = snapshotsAt.shift()!;
        const file = path.join(o.snapshotDir, `soak-turn-${minute}min.heapsnapshot`);
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        require("v8").writeHeapSnapshot(file);
        log(`turn: heap snapshot at ${minute} min of audio: ${file}`);
      }
      if (fed / 16000 >= nextSlice) {
        closeSlice(nextSlice);
        nextSlice += sliceSeconds;
      }
    }
  }
  const text = await streamer.finish();
  if (slices.length === 0 || slices[slices.length - 1].to < totalSeconds) closeSlice(totalSeconds);
  const wallSeconds = (Date.now() - startedAt) / 1000;
  await engine.dispose();
  const words = text.split(/\s+/).filter(Boolean).length;
  const rows = slices.map(
    (s) =>
      `| ${(s.from / 60).toFixed(0)}–${(s.to / 60).toFixed(0)} min | ${s.passes} | ${s.meanMs.toFixed(1)} | ${s.p95Ms.toFixed(1)} | ${s.maxMs.toFixed(1)} | ${s.maxBufferSeconds.toFixed(1)} | ${s.maxVadQueueSeconds.toFixed(1)} | ${s.rssMiB.toFixed(0)} | ${s.heapMiB.toFixed(1)} | ${s.externalMiB.toFixed(1)} | ${s.nativeMiB.toFixed(0)} | ${s.transcriptKiB.toFixed(1)} |`,
  );
  const markdown = [
    `### One whisper-streamer turn of ${o.hours} h with auto flush`,
    "",
    `tiny-whisper fixture, the node's auto-flush settings (built-in Silero VAD, 300 ms pauses, partial interval 600 ms), ${o.hours * 3600} s of audio: the six shared speech recordings (2.4–6.4 s) in turn, each followed by a 0.5–1.3 s pause, fed in 20 ms frames at up to ${o.speed}× real time and no clip started while more than 2 s of audio waited for the VAD: ${wallSeconds.toFixed(0)} s wall. ` +
      `${passes.length} decode passes (${passes.filter((p) => p.kind === "flush").length} flush, ${passes.filter((p) => p.kind === "partial").length} partial), ${partials} partials, a final of ${words} words.`,
    "",
    "| audio | passes | mean pass ms | p95 ms | max ms | max buffer s | max VAD queue s | RSS MiB | heap MiB (after GC) | external MiB | native MiB (RSS − heap − external) | transcript KiB |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ...rows,
  ].join("\n");
  return { markdown, json: { hours: o.hours, speed: o.speed, wallSeconds, passes: passes.length, partials, words, slices } };
}

// ---------------------------------------------------------------- 2. deploy churn

interface Probe {
  children: number;
  handles: number;
  handleTypes: Record<string, number>;
  sessions: number;
  models: number;
  rssMiB: number;
}

function probe(): Probe {
  const h = handles();
  return { children: childProcesses(), handles: h.total, handleTypes: h.byType, sessions: liveSessions.count, models: sharedRegistry().keys().length, rssMiB: mb(process.memoryUsage().rss) };
}

async function deployChurn(o: SoakOptions): Promise<{ markdown: string; json: unknown }> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const helper = require("node-red-node-test-helper");
  helper.init(require.resolve("node-red"));
  const nodesDir = path.join(__dirname, "..", "src", "nodes");
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const modules = ["voice-model", "llm-stream", "tts-streamer", "whisper-streamer", "audio-out"].map((n) => require(path.join(nodesDir, `${n}.js`)));
  const [llmDir, ttsDir, asrDir] = await Promise.all([fixtureDir("tiny-llm"), fixtureDir("tiny-codec-tts"), fixtureDir("tiny-whisper")]);
  const flow = [
    { id: "m_llm", type: "voice-model", kind: "llm", enginesPath: llmDir, revision: "main", config: "{}" },
    { id: "m_tts", type: "voice-model", kind: "tts", enginesPath: ttsDir, revision: "main", config: "{}" },
    { id: "m_asr", type: "voice-model", kind: "asr", enginesPath: asrDir, revision: "main", config: "{}" },
    { id: "n_llm", type: "llm-stream", model: "m_llm", maxNewTokens: "200", wires: [["n_tts"], []] },
    { id: "n_tts", type: "tts-streamer", model: "m_tts", wires: [["n_out"]] },
    { id: "n_asr", type: "whisper-streamer", model: "m_asr", language: "en", autoFlush: true, partialIntervalMs: "0", wires: [[], []] },
    { id: "n_out", type: "audio-out", sink: "null", wires: [[]] },
  ];
  const speech = synthSpeech(1.5, 77);
  const errors: string[] = [];
  const onError = (err: unknown) => errors.push(err instanceof Error ? err.message : String(err));
  process.on("unhandledRejection", onError);
  process.on("uncaughtException", onError);

  // A first cycle warms every lazy, process-wide thing (the built-in VAD, the espeak check, module caches).
  const cycle = async (i: number) => {
    await helper.load(modules, flow);
    helper.getNode("n_llm").receive({ payload: `Story ${i}:`, stream_id: `l${i}`, seed: i, ignore_eos: true });
    helper.getNode("n_tts").receive({ payload: "A sentence long enough to be cut into several chunks by the streamer.", stream_id: `t${i}`, seed: i });
    for (let f = 0; f < 5; f++) helper.getNode("n_asr").receive({ payload: speech.subarray(f * 4800, (f + 1) * 4800), stream_id: `a${i}` });
    helper.getNode("n_out").receive({ payload: new Float32Array(4800).fill(0.1), sample_rate: 24000, stream_id: `o${i}` });
    // Redeploy while the models load or the streams run: 0–60 ms in.
    await new Promise((r) => setTimeout(r, (i * 37) % 250));
    await helper.unload();
  };
  await cycle(-1);
  await settle(1000);
  const before = probe();
  const startedAt = Date.now();
  for (let i = 0; i < o.deploys; i++) {
    await cycle(i);
    if ((i + 1) % 100 === 0) log(`churn: ${i + 1} deploys in ${((Date.now() - startedAt) / 1000).toFixed(0)} s, RSS ${mb(process.memoryUsage().rss).toFixed(0)} MiB, sessions ${liveSessions.count}`);
  }
  const wallSeconds = (Date.now() - startedAt) / 1000;
  await settle(2000);
  const after = probe();
  process.removeListener("unhandledRejection", onError);
  process.removeListener("uncaughtException", onError);
  const types = (p: Probe) => Object.entries(p.handleTypes).map(([k, v]) => `${k} ${v}`).join(", ");
  const markdown = [
    `### ${o.deploys} Node-RED deploy cycles with streams in flight`,
    "",
    `Each cycle starts a flow (voice-models for tiny-llm, tiny-codec-tts, tiny-whisper; llm-stream → tts-streamer → audio-out (null sink); whisper-streamer with auto flush), sends a prompt, a text, 1.5 s of audio frames and an audio chunk, and stops the flow 0–250 ms later (while models load or streams run) (node-red-node-test-helper's load/unload: the runtime's start and stop of flows, as a full deploy does). ${wallSeconds.toFixed(0)} s wall; ${errors.length} uncaught errors or unhandled rejections${errors.length ? ` (first: ${errors[0]})` : ""}.`,
    "",
    "| | child processes | active handles | onnxruntime sessions | registry models | RSS MiB |",
    "|---|---|---|---|---|---|",
    `| before (after one warm-up cycle) | ${before.children} | ${before.handles} | ${before.sessions} | ${before.models} | ${before.rssMiB.toFixed(0)} |`,
    `| after ${o.deploys} cycles | ${after.children} | ${after.handles} | ${after.sessions} | ${after.models} | ${after.rssMiB.toFixed(0)} |`,
    "",
    `Handles before: ${types(before) || "none"}; after: ${types(after) || "none"}.`,
  ].join("\n");
  return { markdown, json: { deploys: o.deploys, wallSeconds, before, after, errors: errors.slice(0, 10), errorCount: errors.length } };
}

// ---------------------------------------------------------------- 3. fan-out

async function fanOut(o: SoakOptions): Promise<{ markdown: string; json: unknown }> {
  const llm = await loadModel<LlmEngine>("llm", { enginesPath: await fixtureDir("tiny-llm") });
  const request = (i: number) => ({ prompt: `Story number ${i}:`, max_new_tokens: 48, temperature: 0.8, top_k: 40, seed: i, ignore_eos: true });
  const tokensOf = async (i: number) => {
    const chunks: LlmStreamChunk[] = await lastValueFrom(llm.generate(request(i)).pipe(toArray()));
    return { ids: chunks.flatMap((c) => (c.kind === "text" ? c.token_ids : [])), text: chunks.map((c) => c.delta ?? "").join("") };
  };
  let t = Date.now();
  const llmSolo: { ids: number[]; text: string }[] = [];
  for (let i = 0; i < o.llmStreams; i++) llmSolo.push(await tokensOf(i));
  const llmSoloSeconds = (Date.now() - t) / 1000;
  t = Date.now();
  const llmTogether = await Promise.all(Array.from({ length: o.llmStreams }, (_, i) => tokensOf(i)));
  const llmTogetherSeconds = (Date.now() - t) / 1000;
  const llmEqual = llmTogether.filter((r, i) => JSON.stringify(r.ids) === JSON.stringify(llmSolo[i].ids) && r.text === llmSolo[i].text).length;
  const llmTokens = llmSolo.reduce((n, r) => n + r.ids.length, 0);
  await llm.dispose();

  const tts = await loadModel<TtsEngine>("tts", { enginesPath: await fixtureDir("tiny-codec-tts") });
  const speak = async (i: number) => {
    const streamer = tts.openStreamer({ seed: i });
    const done = lastValueFrom(streamer.output$.pipe(toArray()));
    streamer.send(`Sentence number ${i} is spoken now. And then a second sentence follows it.`);
    streamer.finish();
    const chunks: TtsStreamChunk[] = await done;
    const audio = chunks.filter((c): c is TtsChunk => c.kind === "audio");
    return { chunks: audio.length, samples: Buffer.concat(audio.map((c) => Buffer.from(c.audio.buffer, c.audio.byteOffset, c.audio.byteLength))) };
  };
  t = Date.now();
  const ttsSolo: { chunks: number; samples: Buffer }[] = [];
  for (let i = 0; i < o.ttsStreams; i++) ttsSolo.push(await speak(i));
  const ttsSoloSeconds = (Date.now() - t) / 1000;
  t = Date.now();
  const ttsTogether = await Promise.all(Array.from({ length: o.ttsStreams }, (_, i) => speak(i)));
  const ttsTogetherSeconds = (Date.now() - t) / 1000;
  const ttsEqual = ttsTogether.filter((r, i) => r.chunks === ttsSolo[i].chunks && r.samples.equals(ttsSolo[i].samples)).length;
  const ttsSamples = ttsSolo.reduce((n, r) => n + r.samples.length / 4, 0);
  await tts.dispose();

  const markdown = [
    `### ${o.llmStreams} concurrent LLM streams and ${o.ttsStreams} concurrent TTS streams against solo runs`,
    "",
    "| | streams | equal to solo | solo, one after another | all at once |",
    "|---|---|---|---|---|",
    `| LLM (tiny-llm, 48 tokens each, temperature 0.8, seed = stream) | ${o.llmStreams} | ${llmEqual} of ${o.llmStreams} (token ids and text; ${llmTokens} tokens) | ${llmSoloSeconds.toFixed(1)} s | ${llmTogetherSeconds.toFixed(1)} s |`,
    `| TTS (tiny-codec-tts, two sentences each, seed = stream) | ${o.ttsStreams} | ${ttsEqual} of ${o.ttsStreams} (every sample, same chunking; ${ttsSamples} samples) | ${ttsSoloSeconds.toFixed(1)} s | ${ttsTogetherSeconds.toFixed(1)} s |`,
  ].join("\n");
  return { markdown, json: { llmStreams: o.llmStreams, llmEqual, ttsStreams: o.ttsStreams, ttsEqual, llmSoloSeconds, llmTogetherSeconds, ttsSoloSeconds, ttsTogetherSeconds } };
}

// ---------------------------------------------------------------- report

type SoakPart = "fanout" | "churn" | "turn";

/** Which part a "### " subsection of the Soak section reports (titles carry the run's numbers). */
const PART_TITLES: Record<SoakPart, RegExp> = {
  fanout: /^### .*concurrent LLM streams/,
  churn: /^### .*deploy cycles/,
  turn: /^### .*whisper-streamer turn/,
};

const EARLIER = "_From an earlier run: ";

/**
 * The "### " subsections of the current "## Soak" section that report none of `rerun`, kept,
 * each with the line that says how and when it was measured (the section's own, the first time
 * it is kept).
 */
function keptSubsections(current: string, rerun: SoakPart[]): string[] {
  const soak = /^## Soak\s*$/m.exec(current);
  if (!soak) return [];
  const rest = current.slice(soak.index + soak[0].length);
  const end = rest.search(/^## /m);
  const [preamble, ...subs] = rest.slice(0, end >= 0 ? end : rest.length).split(/^(?=### )/m);
  const made = preamble.trim().replace(/\s+/g, " ");
  return subs
    .filter((sub) => !rerun.some((p) => PART_TITLES[p].test(sub)))
    .map((sub) => {
      // A subsection that already says how it was made keeps its own line.
      if (sub.includes(EARLIER) || /^Made by /m.test(sub) || !made) return sub.trimEnd();
      const newline = sub.indexOf("\n");
      return `${sub.slice(0, newline)}\n\n${EARLIER}${made}_\n${sub.slice(newline).trimEnd()}`;
    });
}

/**
 * Replaces (or appends) the "## Soak" section of bench/RESULTS.md: the parts of this run, then the
 * subsections of parts this run did not measure, kept from the earlier run that made them.
 */
function writeSection(fresh: string, rerun: SoakPart[]): string {
  const file = path.join(__dirname, "..", "..", "bench", "RESULTS.md");
  const current = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
  const kept = keptSubsections(current, rerun);
  const markdown = kept.length ? `${fresh}\n\n${kept.join("\n\n")}` : fresh;
  const start = current.search(/^## Soak\s*$/m);
  let next = -1;
  if (start >= 0) {
    const rest = current.slice(start + 1);
    const m = /^## /m.exec(rest);
    next = m ? start + 1 + m.index : -1;
  }
  const updated = start < 0 ? `${current.trimEnd()}\n\n${markdown}\n` : `${current.slice(0, start)}${markdown}\n${next >= 0 ? "\n" + current.slice(next) : ""}`;
  fs.writeFileSync(file, updated);
  return file;
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  countSessions();
  const started = new Date();
  const parts: { markdown: string; json: unknown }[] = [];
  const json: Record<string, unknown> = {};
  const command = `npm run soak${process.argv.length > 2 ? " -- " + process.argv.slice(2).join(" ") : ""}`;
  /** The section with the parts done so far: written after each part, so a stopped run keeps what it measured. */
  const section = (pending: string[]) => {
    const now = new Date();
    const load = os.loadavg().map((v) => v.toFixed(2)).join(" / ");
    return [
      "## Soak",
      "",
      `Made by \`${command}\` (bench/soak.ts; not run by CI or npm test), ${started.toISOString()} → ${now.toISOString()} ` +
        `(${((now.getTime() - started.getTime()) / 60000).toFixed(1)} min) on ${os.cpus().length} cores (${os.cpus()[0]?.model ?? "?"}), Node ${process.version}; load average at the end ${load} (a shared machine: timings are inflated by other work).` +
        (pending.length ? ` Not finished when this was written: ${pending.join(", ")}.` : ""),
      "",
      ...parts.map((p) => p.markdown + "\n"),
    ].join("\n");
  };
  // Quick parts first: a long run stopped early still records them.
  const order = (["fanout", "churn", "turn"] as const).filter((p) => o.parts.has(p));
  const run = { fanout: fanOut, churn: deployChurn, turn: longTurn };
  for (const [i, part] of order.entries()) {
    log(`soak: ${part}`);
    const r = await run[part](o);
    parts.push(r);
    json[part] = r.json;
    if (o.write) log(`soak: wrote ${writeSection(section(order.slice(i + 1)).trimEnd(), order)}`);
  }
  process.stdout.write(section([]) + "\n");
  process.stdout.write(JSON.stringify(json) + "\n");
}

main().then(
  () => process.exit(0),
  (err) => {
    log(`soak failed: ${err instanceof Error ? err.stack : String(err)}`);
    process.exit(1);
  },
);
