/**
 * Part of the TTS section: the codec LM's head computing only the speech tokens and the end token
 * (the default, `speech_logits_only`) against the whole vocabulary (false), on the NeuTTS-shaped
 * q4 model with the CPU defaults otherwise; both engines loaded at once and their syntheses
 * interleaved (the order alternates each round), so the machine's drift hits both sides alike.
 */
import { CodecTtsEngine } from "../../src/core/tts/engines/codec/codec-engine";
import { loadTts } from "../../src/core/tts/loader";
import { localLoadContext } from "../../src/core/registry";
import type { BenchOptions } from "../options";
import { fmt, median } from "../stats";
import { decodeFramesPerSecond, prepareNeutts, readVoice, speakOnce, TEXT, WARMUP_TEXT, type Sample } from "./speech-synthesis";

const ROUNDS = 4;

interface Side {
  label: string;
  config: Record<string, unknown>;
  samples: Sample[];
}

const decodeRate = (samples: Sample[]) => median(samples.flatMap((s) => (s.spans ?? []).map(decodeFramesPerSecond)));
const firstAudio = (samples: Sample[]) => median(samples.map((s) => s.firstAudioMs));
const rtf = (samples: Sample[]) => median(samples.map((s) => s.totalMs / 1000 / s.audioSeconds));

export async function speechLogitsLever(options: BenchOptions, log: (line: string) => void): Promise<{ json: unknown; markdown: string }> {
  const sides: Side[] = [
    { label: "speech tokens + end token only (speech_logits_only, the default)", config: {}, samples: [] },
    { label: "whole vocabulary, masked (speech_logits_only false)", config: { speech_logits_only: false }, samples: [] },
  ];
  const rounds = Math.max(ROUNDS, Math.min(options.runs, 6));
  const engines: CodecTtsEngine[] = [];
  try {
    for (const side of sides) {
      const { dir, spec } = prepareNeutts(options, "q4", log, side.config);
      const engine = await loadTts(localLoadContext("tts", { enginesPath: dir, ...spec }));
      if (!(engine instanceof CodecTtsEngine)) throw new Error("the NeuTTS-shaped model did not load the codec engine");
      engines.push(engine);
    }
    const voices = engines.map((e) => readVoice(e, prepareNeutts(options, "q4", log).dir));
    for (let i = 0; i < engines.length; i++) for (let r = 0; r < options.warmup; r++) await speakOnce(engines[i], WARMUP_TEXT, voices[i]);
    for (let round = 0; round < rounds; round++) {
      for (let k = 0; k < sides.length; k++) {
        const i = (k + round) % sides.length;
        sides[i].samples.push(await speakOnce(engines[i], TEXT, voices[i]));
      }
      log(`  speech logits round ${round + 1}: ` + sides.map((s) => `${fmt(decodeRate(s.samples.slice(-1)), 1)} frames/s`).join(" vs "));
    }
  } finally {
    for (const e of engines) await e.dispose();
  }
  const [rows, whole] = sides;
  const lines = [
    `**Lever: the LM computes the speech tokens only** — NeuTTS-shaped q4 (int8 activations), the same text, ${rounds} syntheses a side ` +
      "interleaved in one process (order alternating); medians:",
    "",
    "| LM head | LM frames/s in decode | time to first audio (ms) | RTF |",
    "|---|---:|---:|---:|",
    ...sides.map((s) => `| ${s.label} | ${fmt(decodeRate(s.samples), 1)} | ${fmt(firstAudio(s.samples), 0)} | ${fmt(rtf(s.samples), 3)} |`),
    `| ratio (speech only ÷ whole) | ${fmt(decodeRate(rows.samples) / decodeRate(whole.samples), 2)}× | ${fmt(firstAudio(rows.samples) / firstAudio(whole.samples), 2)}× | ${fmt(rtf(rows.samples) / rtf(whole.samples), 2)}× |`,
    "",
    "The LM may write only the 65536 speech tokens and its end token, so its head (tied to the 217472-row embedding) computes just those " +
      "65537 rows: onnxruntime folds a Gather of them into the 4-bit weights at load (onnx/decoder/logit-rows-graph.ts). Same logits for " +
      "those ids, same codes for a seed (tests); a step reads ~25% fewer weight bytes.",
  ];
  return {
    json: sides.map((s) => ({ label: s.label, decodeFramesPerSecond: decodeRate(s.samples), firstAudioMs: firstAudio(s.samples), rtf: rtf(s.samples), samples: s.samples.length })),
    markdown: lines.join("\n"),
  };
}
