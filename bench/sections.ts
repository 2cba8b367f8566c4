/** The non-LLM parts of `npm run bench` (ASR, TTS, Node-RED), each with its own table. */
import type { BenchOptions, Part } from "./options";
import { recognitionPart } from "./parts/recognition";
import { synthesisPart } from "./parts/speech-synthesis";
import { nodeRedPart } from "./parts/node-red-flow";
import { remotePart } from "./parts/remote-hop";
import { wyomingPart } from "./parts/wyoming-loopback";
import { latencyLeversPart } from "./parts/latency-levers";
import { llamaCppPart } from "./llm/llama-cpp-section";
import { kokoroPart } from "./parts/kokoro-tts";
import { handsFreePart } from "./parts/hands-free";
import { voiceTurnPart } from "./turn/turn-section";
import { gpuPart } from "./parts/gpu-section";
import { kernelBoundPart } from "./parts/kernel-bound";
import { pastInPlacePart } from "./parts/past-in-place";
import { prefillBoundPart } from "./parts/prefill-bound";

export interface ExtraSection {
  part: Part;
  title: string;
  run(options: BenchOptions, log: (line: string) => void): Promise<{ json: unknown; markdown: string; partial?: boolean }>;
}

export const extraSections: ExtraSection[] = [
  { part: "asr", title: "ASR (Whisper)", run: recognitionPart },
  { part: "tts", title: "TTS", run: synthesisPart },
  { part: "nodered", title: "Node-RED flow", run: nodeRedPart },
  { part: "remote", title: "Remote engines (OpenAI-compatible, loopback)", run: remotePart },
  { part: "wyoming", title: "Wyoming over loopback", run: wyomingPart },
  { part: "levers", title: "Voice-turn latency levers", run: latencyLeversPart },
  { part: "llamacpp", title: "LLM: ours against llama.cpp on the same weights", run: llamaCppPart },
  { part: "kernel", title: "What bounds a 4-bit decode step (the MatMulNBits kernel)", run: kernelBoundPart },
  { part: "prefill", title: "What bounds the codec voice's first audio (the int8 prefill's integer GEMM)", run: prefillBoundPart },
  { part: "inplace", title: "Attention over the past in place (no per-step copy of the KV cache)", run: pastInPlacePart },
  { part: "kokoro", title: "Kokoro TTS: a Kokoro-82M-shaped model, ours vs kokoro-js", run: kokoroPart },
  { part: "handsfree", title: "Hands-free", run: handsFreePart },
  { part: "turn", title: "Voice turn", run: voiceTurnPart },
  { part: "gpu", title: "GPU (CUDA execution provider)", run: gpuPart },
];
