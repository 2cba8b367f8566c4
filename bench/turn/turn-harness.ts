/**
 * Runs voice turns through the turn flow (turn-flow.ts) in an embedded Node-RED
 * (node-red-node-test-helper): the question's 16 kHz samples go into vad in 20 ms frames at
 * real time, then room tone, as a microphone would send them, until audio-out starts playing
 * the answer; then the turn is cancelled and the next one starts (a new stream_id).
 *
 * Every stage is timed from the end of speech (the send time of the frame holding the WAV's
 * last voiced sample): vad's speech-end, whisper-streamer's final, llm-stream's first token,
 * the script chunk that completes the first TTS span's text, tts-streamer's first audio and
 * audio-out's `started`. Order, not speed, is what tests assert on these timelines.
 */
import * as path from "path";
import { turnFlow, TAPS, type TurnFlowOptions } from "./turn-flow";
import { firstAudioPriority } from "../../src/core/scheduling/first-audio-priority";

type Msg = Record<string, unknown>;

/** The levers one turn runs with. */
export interface TurnVariant {
  label: string;
  /** false: the turn goes to an llm-stream whose model has prefix_cache_mb 0. */
  prefixCache: boolean;
  /** tts-streamer's first_span_words for this turn (msg override). */
  firstSpanWords: number;
  /** What vad's speech-end sends to whisper-streamer. */
  asrEnd: "finish" | "flush-finish";
  /** Answer whisper-streamer's speculative final at once, its audio held until the final keeps it. */
  preempt?: boolean;
  /** false: LLM steps do not wait while the TTS makes its first audio (core/scheduling/first-audio-priority.ts). */
  firstAudioPriority?: boolean;
  /** The turn goes to a whisper-streamer on the ASR model's 8-bit files (dtype q8). */
  asrQ8?: boolean;
  /** The turn goes to a whisper-streamer on the 8-bit files whose encoder reads this many seconds at least (encoder_window_s). */
  asrWindowS?: number;
  /** false: the turn goes to an llm-stream (and, for a codec voice, a tts-streamer) whose model has int8_prefill false. */
  int8Prefill?: boolean;
  /** tts-streamer's first_frames_per_chunk for this turn (msg override; a codec voice's first chunk). */
  firstFramesPerChunk?: number;
}

/** Which whisper-streamer of the flow a turn goes to (turn-flow.ts GATE). */
type AsrCopy = "fp32" | "q8" | "window";
const asrCopy = (v: TurnVariant): AsrCopy => (v.asrWindowS ? "window" : v.asrQ8 ? "q8" : "fp32");

/** The one encoder window the schedule's window turns use: the flow has one whisper-streamer for them. */
function windowSeconds(schedule: TurnVariant[]): number | undefined {
  const seconds = new Set(schedule.flatMap((v) => (v.asrWindowS ? [v.asrWindowS] : [])));
  if (seconds.size > 1) throw new Error(`the turn flow has one shortened-window Whisper; the schedule asks for ${[...seconds].join(" and ")} s`);
  return seconds.values().next().value;
}

export const STAGES = ["vadEnd", "asrFinal", "llmFirstToken", "firstSpan", "firstAudio", "playing"] as const;
export type Stage = (typeof STAGES)[number];

export interface TurnTimeline {
  variant: string;
  streamId: string;
  /** Milliseconds from the end of speech to each stage (NaN: it did not happen). */
  ms: Record<Stage, number>;
  transcript: string;
  firstSpanText: string;
  /** Frames sent later than their real-time slot by more than 20 ms (the event loop was busy). */
  lateFrames: number;
  /** Milliseconds from the end of speech to whisper-streamer's last speculative final (NaN: none). */
  speculativeMs: number;
  /** Whether the answer that played was started from the speculative final (preempt turns). */
  answeredEarly: boolean;
}

export interface RunTurnsOptions extends Omit<TurnFlowOptions, "replyPieces"> {
  /** The question, 16 kHz mono. */
  question: Float32Array;
  /** The reply the TTS speaks, cut into one piece per generated token. */
  replyPieces: string[];
  /** One entry per turn, in order. */
  schedule: TurnVariant[];
  /** Give up on a turn after this long past the end of speech (default 120 s). */
  turnTimeoutMs?: number;
  /** Start no new scheduled turn after this long (ms, from the end of priming); the timelines say how many ran. */
  budgetMs?: number;
  log?: (line: string) => void;
}

const RATE = 16000;
const FRAME = 320; // 20 ms, as audio-in sends

const now = () => performance.now();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function requireNode(name: string): unknown {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(path.join(__dirname, "..", "..", "src", "nodes", `${name}.js`));
}

/** The node modules the turn flow needs (ours and Node-RED's function node). */
export function turnNodes(): unknown[] {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const fn = require("@node-red/nodes/core/function/10-function.js");
  return [...["voice-model", "vad", "whisper-streamer", "llm-stream", "tts-streamer", "audio-out"].map(requireNode), fn];
}

/** Sample index just past the last 10 ms frame whose RMS is within 26 dB of the loudest (the end of speech). */
export function speechEndSample(samples: Float32Array): number {
  const hop = 160;
  const rms: number[] = [];
  for (let at = 0; at + hop <= samples.length; at += hop) {
    let sum = 0;
    for (let i = at; i < at + hop; i++) sum += samples[i] * samples[i];
    rms.push(Math.sqrt(sum / hop));
  }
  const threshold = Math.max(...rms) * 0.05;
  let last = -1;
  rms.forEach((r, i) => {
    if (r >= threshold) last = i;
  });
  if (last < 0) throw new Error("the question WAV holds no speech");
  return (last + 1) * hop;
}

/** Low noise, as a quiet room gives a microphone (pure zeros never happen). */
export function roomTone(length: number, seed: number): Float32Array {
  const out = new Float32Array(length);
  let s = seed >>> 0;
  for (let i = 0; i < length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = ((s / 2 ** 32) * 2 - 1) * 0.001;
  }
  return out;
}

/** Cuts `text` into one piece per token the way a BPE tokenizer mostly does for English: a word with its leading space, long words in two. */
export function replyPieces(text: string): string[] {
  const pieces: string[] = [];
  for (const word of text.match(/\s*\S+/g) ?? []) {
    const letters = word.trim().length;
    if (letters > 7) {
      const cut = word.length - Math.floor(letters / 2);
      pieces.push(word.slice(0, cut), word.slice(cut));
    } else pieces.push(word);
  }
  return pieces;
}

const norm = (s: string) => s.replace(/\s+/g, " ").trim();

/**
 * Loads every model before any turn is timed: one untimed turn per LLM copy, its audio sent at
 * once (not in real time) and ended by 1 s of room tone, waited on until audio-out plays. (With
 * the models loading during a real-time turn, vad falls minutes behind the microphone and every
 * later turn waits behind that backlog.)
 */
async function prime(helper: any, options: RunTurnsOptions, seen: Record<string, { t: number; msg: Msg }[]>, errors: () => string[]): Promise<void> {
  // One priming turn per model copy the schedule uses: the LLM with and without prefix cache, the ASR as it is and in 8 bits.
  const copies: { prefixCache: boolean; asr: AsrCopy }[] = [{ prefixCache: true, asr: "fp32" }];
  if (options.schedule.some((v) => !v.prefixCache)) copies.push({ prefixCache: false, asr: "fp32" });
  if (options.schedule.some((v) => asrCopy(v) === "q8")) copies.push({ prefixCache: true, asr: "q8" });
  if (options.schedule.some((v) => asrCopy(v) === "window")) copies.push({ prefixCache: true, asr: "window" });
  for (const { prefixCache, asr } of copies) {
    const streamId = `prime-${prefixCache ? "cache" : "nocache"}-${asr}-${Date.now()}`;
    const audio = new Float32Array(options.question.length + RATE);
    audio.set(options.question);
    audio.set(roomTone(RATE, 99), options.question.length);
    helper.getNode("n_gate").receive({ topic: "turn-setup", stream_id: streamId, asr_end: "finish", asr });
    for (let at = 0; at < audio.length; at += FRAME) {
      helper.getNode("n_vad").receive({ payload: audio.slice(at, at + FRAME), sample_rate: RATE, stream_id: streamId, prefix_cache: prefixCache, first_span_words: 0 });
    }
    const started = now();
    const played = () => seen[TAPS.out].some((e) => e.msg.stream_id === streamId && e.msg.event === "started");
    while (!played() && errors().length === 0 && now() - started < 15 * 60 * 1000) await sleep(50);
    for (const id of ["n_llm", "n_llm_nc", "n_llm_4b", "n_tts", "n_tts_4b", "n_out"]) helper.getNode(id)?.receive({ cancel: true, stream_id: streamId });
    if (errors().length > 0) throw new Error(`the turn flow reported an error while loading: ${errors()[0]}`);
    if (!played()) throw new Error("the models did not answer a first turn within 15 minutes");
    await sleep(1000);
  }
}

/** Loads the flow into `helper` (node-red-node-test-helper, initialised), runs the schedule, unloads. */
export async function runTurns(helper: any, options: RunTurnsOptions): Promise<TurnTimeline[]> {
  const log = options.log ?? (() => {});
  await helper.load(turnNodes(), turnFlow({ ...options, noCacheLlm: options.noCacheLlm ?? options.schedule.some((v) => !v.prefixCache), q8Asr: options.schedule.some((v) => asrCopy(v) === "q8"), windowAsrS: windowSeconds(options.schedule), fourBitPrefill: options.schedule.some((v) => v.int8Prefill === false) }));
  const seen: Record<string, { t: number; msg: Msg }[]> = Object.fromEntries(Object.values(TAPS).map((id) => [id, []]));
  for (const id of Object.values(TAPS)) helper.getNode(id).on("input", (msg: Msg) => seen[id].push({ t: now(), msg }));
  // Node errors (done(err), node.error) reach the runtime's log (the helper spies on it): a turn
  // waiting on a stage that failed stops at once instead of timing out. Asked after every frame:
  // only the log entries since the last call are read (rescanning the whole log, which grows all
  // run long, took ~7 % of the process's CPU and delayed frames itself).
  const found: string[] = [];
  let scanned = 0;
  const errors = (): string[] => {
    const args = (helper.log()?.args ?? []) as { level: number; msg: unknown }[][];
    if (args.length < scanned) scanned = 0; // the helper's log spy was reset
    for (; scanned < args.length; scanned++) {
      const e = args[scanned][0];
      if (e && typeof e.level === "number" && e.level <= 20) found.push(String(e.msg));
    }
    return found;
  };
  const endSample = speechEndSample(options.question);
  const timelines: TurnTimeline[] = [];
  try {
    await prime(helper, options, seen, errors);
    const budgetStart = now();
    for (const [turn, variant] of options.schedule.entries()) {
      if (options.budgetMs !== undefined && turn > 0 && now() - budgetStart > options.budgetMs) {
        log(`  time budget spent after ${turn} turns`);
        break;
      }
      for (const list of Object.values(seen)) list.length = 0;
      const streamId = `turn-${turn}-${Date.now()}`;
      // The same module instance the nodes use (dist/src/core): the lever switches for this turn only.
      firstAudioPriority.enabled = variant.firstAudioPriority !== false;
      helper.getNode("n_gate").receive({ topic: "turn-setup", stream_id: streamId, asr_end: variant.asrEnd, asr: asrCopy(variant) });
      // The turn's answers are streams of their own ("<turn>/s<n>", "<turn>/f") when it preempts.
      const ofTurn = (id: string) => seen[id].filter((e) => e.msg.stream_id === streamId || String(e.msg.stream_id).startsWith(`${streamId}/`));
      const playing = () => ofTurn(TAPS.out).find((e) => e.msg.event === "started");
      const started = now();
      let speechEndAt = NaN;
      let lateFrames = 0;
      const timeout = options.turnTimeoutMs ?? 120000;
      for (let k = 0; ; k++) {
        const due = started + (k * FRAME * 1000) / RATE;
        const wait = due - now();
        if (wait > 0) await sleep(wait);
        else if (wait < -20) lateFrames++;
        const at = k * FRAME;
        const frame = at < options.question.length ? options.question.slice(at, at + FRAME) : roomTone(FRAME, k + 1);
        const sentAt = now();
        helper.getNode("n_vad").receive({
          payload: frame,
          sample_rate: RATE,
          stream_id: streamId,
          prefix_cache: variant.prefixCache,
          first_span_words: variant.firstSpanWords,
          preempt: variant.preempt === true,
          ...(variant.int8Prefill === false ? { int8_prefill: false } : {}),
          ...(variant.firstFramesPerChunk !== undefined ? { first_frames_per_chunk: variant.firstFramesPerChunk } : {}),
        });
        if (at <= endSample - 1 && endSample - 1 < at + FRAME) speechEndAt = sentAt;
        if (playing() || errors().length > 0) break;
        if (!Number.isNaN(speechEndAt) && sentAt - speechEndAt > timeout) break;
      }
      // Stop the answers (the harness is done with them) and wait until every node has let them go.
      const answerIds = new Set([streamId, ...[TAPS.llm, TAPS.tts].flatMap((tap) => ofTurn(tap).map((e) => String(e.msg.stream_id)))]);
      for (const answer of answerIds) for (const id of ["n_llm", "n_llm_nc", "n_llm_4b", "n_tts", "n_tts_4b", "n_out"]) helper.getNode(id)?.receive({ cancel: true, stream_id: answer });
      const played = String(playing()?.msg.stream_id ?? streamId);
      const ofAnswer = (id: string) => seen[id].filter((e) => e.msg.stream_id === played);
      const stopped = () => ofAnswer(TAPS.out).some((e) => e.msg.event === "stopped" || e.msg.event === "drained") && ofAnswer(TAPS.tts).some((e) => e.msg.is_final === true);
      for (let waited = 0; waited < 10000 && !stopped() && ofAnswer(TAPS.tts).length > 0; waited += 20) await sleep(20);
      if (errors().length > 0) throw new Error(`the turn flow reported an error: ${errors()[0]}`);

      // Stages after the transcript are the answer's that played (a dropped speculative answer's are not).
      const firstOf = (id: string, pick: (msg: Msg) => boolean) => (id === TAPS.vad || id === TAPS.asr ? ofTurn(id) : ofAnswer(id)).find((e) => pick(e.msg));
      const asrFinal = firstOf(TAPS.asr, (m) => m.kind === "final");
      const firstAudio = firstOf(TAPS.tts, (m) => m.kind === "audio" && ((m.payload as Float32Array | undefined)?.length ?? 0) > 0);
      const firstSpanText = norm(String(firstAudio?.msg.text ?? ""));
      // The script chunk after which the reply so far holds the whole first span.
      let soFar = "";
      const spanDone = firstSpanText
        ? ofAnswer(TAPS.script).find((e) => {
            soFar += String(e.msg.payload ?? "");
            return norm(soFar).length >= firstSpanText.length && norm(soFar).startsWith(firstSpanText);
          })
        : undefined;
      const since = (e: { t: number } | undefined) => (e ? e.t - speechEndAt : NaN);
      const timeline: TurnTimeline = {
        variant: variant.label,
        streamId,
        ms: {
          vadEnd: since(firstOf(TAPS.vad, (m) => m.kind === "speech-end")),
          asrFinal: since(asrFinal),
          llmFirstToken: since(firstOf(TAPS.llm, (m) => typeof m.payload === "string" && m.payload !== "")),
          firstSpan: since(spanDone),
          firstAudio: since(firstAudio),
          playing: since(playing()),
        },
        transcript: String(asrFinal?.msg.payload ?? ""),
        firstSpanText,
        lateFrames,
        speculativeMs: since(ofTurn(TAPS.asr).filter((e) => e.msg.kind === "speculative").pop()),
        answeredEarly: played !== streamId && played.includes("/s"),
      };
      timelines.push(timeline);
      log(`  turn ${turn + 1} (${variant.label}): ${STAGES.map((s) => `${s} ${Math.round(timeline.ms[s])}`).join(", ")} ms${variant.preempt ? ` (speculative ${Math.round(timeline.speculativeMs)}, ${timeline.answeredEarly ? "answered early" : "answered the final"})` : ""}`);
      await sleep(300);
    }
  } finally {
    await helper.unload();
  }
  return timelines;
}
