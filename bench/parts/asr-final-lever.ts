/**
 * The ASR lever of part "levers": the speculative final (whisper-streamer's `speculative_final`)
 * against a final decoded at finish. The voice turn's question WAV, then 0.7 s of room tone (the
 * vad node's default end-of-turn silence), go in 20 ms frames at real time, as audio-in sends
 * them; finish() comes where the vad would call the turn over. The figures: finish() → final
 * transcript, and the end of the audio's real-time slot → final. The second counts the feed's own
 * delay: onnxruntime-node runs a session on the main thread, so a decode in flight holds the frames
 * (and in a flow the vad's end event) back, and a finish that comes late finds the speculation done
 * sooner. Sides alternate which goes first.
 */
import { readWavFile } from "../../src/core/audio/wav";
import { loadAsr } from "../../src/core/asr/loader";
import { localLoadContext } from "../../src/core/registry";
import type { WhisperEngine } from "../../src/core/asr/engines/whisper/whisper-engine";
import type { BenchOptions } from "../options";
import { roomTone } from "../turn/turn-harness";
import { asrModel, questionWavPath } from "../turn/turn-section";
import { fmt, median, nowMs } from "../stats";

const FRAME = 320;
const SILENCE_S = 0.7;

export interface AsrFinalRow {
  model: string;
  offMs: number[];
  onMs: number[];
  /** From the end of the audio's real-time slot (the feed's delay included). */
  offSlotMs: number[];
  onSlotMs: number[];
  /** On-side turns whose final was the speculation (finish decoded nothing). */
  kept: number;
  sameText: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function turn(engine: WhisperEngine, audio: Float32Array, speculative: boolean): Promise<{ ms: number; slotMs: number; text: string; kept: boolean }> {
  let finals = 0;
  const streamer = engine.openStreamer({ language: "en", speculative_final: speculative, onPass: (p) => p.kind === "final" && finals++ });
  const started = nowMs();
  for (let i = 0, at = 0; at < audio.length; i++, at += FRAME) {
    streamer.send(audio.slice(at, at + FRAME));
    // Behind the clock (a decode held the loop), the frames that are due go in at once, as a socket
    // delivers what queued up; a timer per frame would let only one in per loop turn.
    const wait = started + ((i + 1) * FRAME * 1000) / 16000 - nowMs();
    if (wait > 0) await sleep(wait);
  }
  const finishAt = nowMs();
  const text = await streamer.finish();
  const end = nowMs();
  return { ms: end - finishAt, slotMs: end - (started + (audio.length * 1000) / 16000), text, kept: speculative && finals === 0 };
}

export async function asrFinalCase(options: BenchOptions, rounds: number, log: (line: string) => void): Promise<AsrFinalRow> {
  const asr = await asrModel(options, log);
  const question = await readWavFile(questionWavPath());
  const tone = roomTone(Math.round(SILENCE_S * 16000), 5);
  const audio = new Float32Array(question.samples.length + tone.length);
  audio.set(question.samples);
  audio.set(tone, question.samples.length);
  const engine = (await loadAsr(localLoadContext("asr", { enginesPath: asr.dir }))) as WhisperEngine;
  try {
    await engine.transcribe(audio.subarray(0, 16000), { language: "en" }); // the sessions' first runs
    const row: AsrFinalRow = { model: asr.label, offMs: [], onMs: [], offSlotMs: [], onSlotMs: [], kept: 0, sameText: true };
    const texts = new Set<string>();
    for (let i = 0; i < rounds; i++) {
      for (const on of i % 2 === 0 ? [false, true] : [true, false]) {
        const r = await turn(engine, audio, on);
        (on ? row.onMs : row.offMs).push(r.ms);
        (on ? row.onSlotMs : row.offSlotMs).push(r.slotMs);
        if (r.kept) row.kept++;
        texts.add(r.text);
      }
      log(`  ${asr.label} round ${i + 1}: finish → final ${fmt(row.offMs[i], 0)} ms decoded at finish, ${fmt(row.onMs[i], 0)} ms speculative; from the real-time slot ${fmt(row.offSlotMs[i], 0)} / ${fmt(row.onSlotMs[i], 0)} ms`);
    }
    row.sameText = texts.size === 1;
    return row;
  } finally {
    await engine.dispose();
  }
}

export function renderAsrFinal(r: AsrFinalRow): string[] {
  const off = median(r.offMs);
  const on = median(r.onMs);
  return [
    "",
    `**Speculative ASR final** — finish → final transcript, the question WAV and ${SILENCE_S} s of room tone fed at real time in 20 ms frames (speculative_final false against true):`,
    "",
    "| model | from | decoded at finish ms | speculative ms | ratio | speculation kept | same text both sides |",
    "|---|---|---:|---:|---:|---:|---|",
    `| ${r.model} | finish() call | ${fmt(off, 0)} | ${fmt(on, 0)} | ${fmt(on / off)}× | ${r.kept} of ${r.onMs.length} | ${r.sameText ? "yes" : "no"} |`,
    `| ${r.model} | the audio's real-time end | ${fmt(median(r.offSlotMs), 0)} | ${fmt(median(r.onSlotMs), 0)} | ${fmt(median(r.onSlotMs) / median(r.offSlotMs))}× | | |`,
  ];
}
