/**
 * The tts family loader: picks the engine from the spec and the model's files.
 *   "espeak" (spec.config.engine or enginesPath) → eSpeak NG, no files needed
 *   a `<name>.onnx.json` piper voice config      → piper
 *   tts_config.json + codec/decoder.onnx         → codec (NeuTTS-style)
 */
import type { FamilyLoader, LoadContext, TtsEngine } from "../types";
import { CodecTtsEngine } from "./codec-engine";
import { EspeakEngine } from "./espeak-engine";
import { PiperEngine } from "./piper-engine";
import { isWyomingUrl } from "../wyoming/client";
import { WyomingTtsEngine } from "./engines/wyoming/wyoming-tts-engine";

export type TtsEngineName = "codec" | "piper" | "espeak";

/** True for specs that need no download: the espeak engine. */
export function isEspeakSpec(enginesPath: string, engine?: unknown): boolean {
  return engine === "espeak" || enginesPath === "espeak";
}

export async function detectTtsEngine(ctx: LoadContext): Promise<TtsEngineName> {
  const engine = ctx.spec.config?.engine;
  if (isEspeakSpec(ctx.spec.enginesPath, engine)) return "espeak";
  if (engine === "codec" || engine === "piper") return engine;
  if (engine !== undefined) throw new Error(`unknown tts engine '${String(engine)}'; expected codec, piper or espeak`);
  const files = await ctx.source.list();
  if (files.some((f) => f.endsWith(".onnx.json"))) return "piper";
  if (files.includes("tts_config.json") && files.includes("codec/decoder.onnx")) return "codec";
  throw new Error(
    `model '${ctx.source.id}' is not a TTS model this package can run: expected a piper voice (<name>.onnx + <name>.onnx.json), ` +
      `a codec TTS (tts_config.json, backbone/, codec/decoder.onnx, voices/), or "espeak"`,
  );
}

export const loadTts: FamilyLoader<TtsEngine> = async (ctx) => {
  // A remote Wyoming service (wyoming://host:port): no files, a client engine.
  if (isWyomingUrl(ctx.spec.enginesPath)) return WyomingTtsEngine.open(ctx.spec);
  switch (await detectTtsEngine(ctx)) {
    case "espeak":
      return new EspeakEngine(typeof ctx.spec.config?.voice === "string" ? ctx.spec.config.voice : undefined);
    case "piper":
      return PiperEngine.load(ctx);
    case "codec":
      return CodecTtsEngine.load(ctx);
  }
};
