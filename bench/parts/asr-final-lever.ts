/**
 * The ASR lever of part "levers": the speculative final (whisper-streamer's `speculative_final`)
 * against a final decoded at finish. The voice turn's question WAV, then 0.7 s of room tone (the
 * vad node's default end-of-turn silence), go in 20 ms frames at real time, as audio-in sends
 * them; finish() comes where the vad would call the turn over. The figure is finish → final
 * transcript, the part of the turn the lever can save; sides alternate which goes first.
 */
import { readWavFile } from "../../src/core/audio/wav";
import { loadAsr } from "../../src/core/asr/loader";
import { localLoadContext } from "../../src/core/registry";
import type { WhisperEngine } from "../../src/core/asr/engines/whisper/whisper-engine";
import type { BenchOptions } from "../options";
import { asrModel, questionWavPath } from "../turn/turn-section";
import { fmt, median, nowMs } from "../stats";

const FRAME = 320;
const SILENCE_S = 0.7;

export interface AsrFinalRow {
  model: string;
  offMs: number[];
  onMs: number[];
  /** On-side turns whose final was the speculation (finish decoded nothing). */
  kept: number;
  sameText: boolean;
}

function roomTone(length: number, seed: number): Float32Array {
  const out = new Float32Array(length);
  let s = seed >>> 0;
  for (let i = 0; i < length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = ((s / 2 ** 32) * 2 - 1) * 0.001;
  }
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function turn(engine: WhisperEngine, audio: Float32Array, speculative: boolean): Promise<{ ms: number; text: string; kept: boolean }> {
  let finals = 0;
  const streamer = engine.openStreamer({ language: "en", speculative_final: speculative, onPass: (p) => p.kind === "final" && finals++ });
  const started = nowMs();
  for (let i = 0, at = 0; at < audio.length; i++, at += FRAME) {
    streamer.send(audio.slice(at, at + FRAME));
    const due = started + ((i + 1) * FRAME * 1000) / 16000;
    await sleep(Math.max(0, due - nowMs()));
  }
  const finishAt = nowMs();
  const text = await streamer.finish();
  return { ms: nowMs() - finishAt, text, kept: speculative && finals === 0 };
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
    const row: AsrFinalRow = { model: asr.label, offMs: [], onMs: [], kept: 0, sameText: true };
    const texts = new Set<string>();
    for (let i = 0; i < rounds; i++) {
      for (const on of i % 2 === 0 ? [false, true] : [true, false]) {
        const r = await turn(engine, audio, on);
        (on ? row.onMs : row.offMs).push(r.ms);
        if (r.kept) row.kept++;
        texts.add(r.text);
      }
      log(`  ${asr.label} round ${i + 1}: finish → final ${fmt(row.offMs[i], 0)} ms decoded at finish, ${fmt(row.onMs[i], 0)} ms speculative`);
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
    "| model | decoded at finish ms | speculative ms | ratio | speculation kept | same text both sides |",
    "|---|---:|---:|---:|---:|---|",
    `| ${r.model} | ${fmt(off, 0)} | ${fmt(on, 0)} | ${fmt(on / off)}× | ${r.kept} of ${r.onMs.length} | ${r.sameText ? "yes" : "no"} |`,
  ];
}
