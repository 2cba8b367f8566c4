/** The non-LLM parts of `npm run bench` (ASR, TTS, Node-RED), each with its own table. */
import type { BenchOptions, Part } from "./options";

export interface ExtraSection {
  part: Part;
  title: string;
  run(options: BenchOptions, log: (line: string) => void): Promise<{ json: unknown; markdown: string }>;
}

export const extraSections: ExtraSection[] = [];
