/** Builds a WhisperModel from a model directory or hub repo in the onnx-community / Optimum layout. */
import * as fs from "fs";
import type { LoadContext } from "../../../types";
import { LogMelExtractor, melConfigFromPreprocessor } from "./mel";
import { whisperSettings } from "./whisper-config";
import { WhisperDecoderRunner, type DecoderSessions } from "./whisper-decoder";
import { WhisperModel } from "./whisper-model";
import { WhisperTokenizer } from "./whisper-tokenizer";

const readJson = (file: string) => JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>;

async function optionalJson(ctx: LoadContext, relPath: string): Promise<Record<string, unknown>> {
  return (await ctx.source.has(relPath)) ? readJson(await ctx.source.file(relPath)) : {};
}

export async function loadWhisperModel(ctx: LoadContext): Promise<WhisperModel> {
  const config = readJson(await ctx.source.file("config.json"));
  if (config.model_type !== "whisper") {
    throw new Error(`'${ctx.source.id}' is not a Whisper model (config.json model_type is '${String(config.model_type)}')`);
  }
  const generation = await optionalJson(ctx, "generation_config.json");
  const preprocessor = await optionalJson(ctx, "preprocessor_config.json");
  const tokenizerConfig = (await ctx.source.has("tokenizer_config.json")) ? await ctx.source.file("tokenizer_config.json") : undefined;
  const tokenizer = await WhisperTokenizer.load(await ctx.source.file("tokenizer.json"), tokenizerConfig);
  const settings = whisperSettings(config, generation, tokenizer.added);
  const mel = new LogMelExtractor(melConfigFromPreprocessor({ feature_size: config.num_mel_bins, ...preprocessor }));

  const encoder = await ctx.createSession(await ctx.onnxFile("encoder_model"));
  const sessions: DecoderSessions = {};
  try {
    sessions.merged = await ctx.createSession(await ctx.onnxFile("decoder_model_merged"));
  } catch (mergedError) {
    try {
      sessions.first = await ctx.createSession(await ctx.onnxFile("decoder_model"));
      sessions.withPast = await ctx.createSession(await ctx.onnxFile("decoder_with_past_model"));
    } catch {
      throw new Error(`'${ctx.source.id}' has no usable Whisper decoder: ${(mergedError as Error).message} (nor decoder_model + decoder_with_past_model)`);
    }
  }
  const heads = settings.decoderHeads;
  const headDim = heads > 0 ? settings.dModel / heads : 0;
  if (!heads || !Number.isInteger(headDim)) throw new Error(`config.json of '${ctx.source.id}' lacks decoder_attention_heads / d_model`);
  return new WhisperModel(settings, mel, encoder, new WhisperDecoderRunner(sessions, heads, headDim), tokenizer);
}
