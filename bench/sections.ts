/** The non-LLM parts of `npm run bench` (ASR, TTS, Node-RED), each with its own table. */
import type { BenchOptions, Part } from "./options";
import { recognitionPart } from "./parts/recognition";
import { synthesisPart } from "./parts/speech-synthesis";
import { nodeRedPart } from "./parts/node-red-flow";
import { latencyLeversPart } from "./parts/latency-levers";
import { voiceTurnPart } from "./turn/turn-section";

export interface ExtraSection {
  part: Part;
  title: string;
  run(options: BenchOptions, log: (line: string) => void): Promise<{ json: unknown; markdown: string }>;
}

export const extraSections: ExtraSection[] = [
  { part: "asr", title: "ASR (Whisper)", run: recognitionPart },
  { part: "tts", title: "TTS", run: synthesisPart },
  { part: "nodered", title: "Node-RED flow", run: nodeRedPart },
  { part: "levers", title: "Voice-turn latency levers", run: latencyLeversPart },
  { part: "turn", title: "Voice turn", run: voiceTurnPart },
];
