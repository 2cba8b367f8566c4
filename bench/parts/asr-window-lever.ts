/**
 * The encoder-window lever of part "levers": one Whisper decode of the voice turn's question
 * WAV with the encoder's whole 30 s window against `encoder_window_s` 5 (the window grown to the
 * audio in whole seconds: 5 s for this 3.6 s question), for the fp32 and the 8-bit files. Each
 * side is its own loaded model in one process; sides alternate which goes first each round.
 */
import { readWavFile } from "../../src/core/audio/wav";
import { loadAsr } from "../../src/core/asr/loader";
import { localLoadContext } from "../../src/core/registry";
import type { WhisperEngine } from "../../src/core/asr/engines/whisper/whisper-engine";
import type { BenchOptions } from "../options";
import { asrModel, questionWavPath } from "../turn/turn-section";
import { fmt, median, nowMs } from "../stats";

const WINDOW_S = 5;

export interface AsrWindowRow {
  model: string;
  dtype: string;
  wholeMs: number[];
  windowMs: number[];
  sameText: boolean;
}

async function timed(engine: WhisperEngine, audio: Float32Array): Promise<{ ms: number; text: string }> {
  const start = nowMs();
  const { text } = await engine.transcribe(audio, { language: "en" });
  return { ms: nowMs() - start, text };
}

export async function asrWindowCases(options: BenchOptions, rounds: number, log: (line: string) => void): Promise<AsrWindowRow[]> {
  const asr = await asrModel(options, log);
  const audio = (await readWavFile(questionWavPath())).samples;
  const rows: AsrWindowRow[] = [];
  for (const dtype of ["fp32", "q8"]) {
    const load = async (config: Record<string, unknown>) => (await loadAsr(localLoadContext("asr", { enginesPath: asr.dir, config: { dtype, ...config } }))) as WhisperEngine;
    const whole = await load({});
    const windowed = await load({ encoder_window_s: WINDOW_S });
    try {
      await timed(whole, audio); // the sessions' first runs
      await timed(windowed, audio);
      const row: AsrWindowRow = { model: asr.label, dtype, wholeMs: [], windowMs: [], sameText: true };
      for (let i = 0; i < rounds; i++) {
        const texts = new Set<string>();
        for (const side of i % 2 === 0 ? [whole, windowed] : [windowed, whole]) {
          const r = await timed(side, audio);
          (side === whole ? row.wholeMs : row.windowMs).push(r.ms);
          texts.add(r.text);
        }
        if (texts.size !== 1) row.sameText = false;
        log(`  ${asr.label} ${dtype} round ${i + 1}: whole window ${fmt(row.wholeMs[i], 0)} ms, ${WINDOW_S} s window ${fmt(row.windowMs[i], 0)} ms`);
      }
      rows.push(row);
    } finally {
      await whole.dispose();
      await windowed.dispose();
    }
  }
  return rows;
}

export function renderAsrWindow(rows: AsrWindowRow[]): string[] {
  const lines = [
    "",
    `**Shortened encoder window** — one decode of the question WAV (${WINDOW_S} s window: encoder_window_s ${WINDOW_S} against Whisper's whole 30 s):`,
    "",
    "| model | files | whole window ms | short window ms | ratio | same text |",
    "|---|---|---:|---:|---:|---|",
  ];
  for (const r of rows) {
    const whole = median(r.wholeMs);
    const short = median(r.windowMs);
    lines.push(`| ${r.model} | ${r.dtype} | ${fmt(whole, 0)} | ${fmt(short, 0)} | ${fmt(short / whole)}× | ${r.sameText ? "yes" : "no"} |`);
  }
  return lines;
}
