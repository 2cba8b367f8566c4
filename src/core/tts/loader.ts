/**
 * The tts family loader: picks the engine from the spec and the model's files.
 *   "espeak" (spec.config.engine or enginesPath) → eSpeak NG, no files needed
 *   a `<name>.onnx.json` piper voice config      → piper
 *   tts_config.json + codec/decoder.onnx         → codec (NeuTTS-style)
 *   tokenizer.json + voices/*.bin + onnx/model*  → kokoro (Kokoro-82M-v1.0-ONNX layout)
 */
import { isBuiltinEngine } from "../engines-path";
import type { FamilyLoader, LoadContext, TtsEngine } from "../types";
import { CodecTtsEngine } from "./engines/codec/codec-engine";
import { EspeakEngine } from "./engines/espeak/espeak-engine";
import { KokoroEngine, looksLikeKokoro } from "./engines/kokoro";
import { PiperEngine } from "./engines/piper/piper-engine";

export type TtsEngineName = "codec" | "piper" | "espeak" | "kokoro";

export async function detectTtsEngine(ctx: LoadContext): Promise<TtsEngineName> {
  const engine = ctx.spec.config?.engine;
  if (isBuiltinEngine("tts", ctx.spec)) return "espeak";
  if (engine === "codec" || engine === "piper" || engine === "kokoro") return engine;
  if (engine !== undefined) throw new Error(`unknown tts engine '${String(engine)}'; expected codec, piper, kokoro or espeak`);
  const files = await ctx.source.list();
  if (files.some((f) => f.endsWith(".onnx.json"))) return "piper";
  if (files.includes("tts_config.json") && files.includes("codec/decoder.onnx")) return "codec";
  if (looksLikeKokoro(files)) return "kokoro";
  throw new Error(
    `model '${ctx.source.id}' is not a TTS model this package can run: expected a piper voice (<name>.onnx + <name>.onnx.json), ` +
      `a codec TTS (tts_config.json, backbone/, codec/decoder.onnx, voices/), ` +
      `Kokoro (onnx/model.onnx, tokenizer.json, voices/<name>.bin), or "espeak"`,
  );
}

export const loadTts: FamilyLoader<TtsEngine> = async (ctx) => {
  switch (await detectTtsEngine(ctx)) {
    case "espeak":
      return EspeakEngine.load(typeof ctx.spec.config?.voice === "string" && ctx.spec.config.voice.trim() ? ctx.spec.config.voice.trim() : undefined);
    case "piper":
      return PiperEngine.load(ctx);
    case "codec":
      return CodecTtsEngine.load(ctx);
    case "kokoro":
      return KokoroEngine.load(ctx);
  }
};
