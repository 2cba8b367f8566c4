/** Builds a WhisperModel from a model directory or hub repo in the onnx-community / Optimum layout. */
import { readModelJson, readOptionalModelJson } from "../../../hub/model-json";
import type { LoadContext } from "../../../types";
import { windowedEncoderModel } from "./encoder-window-graph";
import { encoderWindowSetting } from "./encoder-window";
import { LogMelExtractor, melConfigFromPreprocessor } from "./mel";
import { whisperSettings } from "./whisper-config";
import { WhisperDecoderRunner, type DecoderSessions } from "./whisper-decoder";
import { WhisperModel } from "./whisper-model";
import { WhisperTokenizer } from "./whisper-tokenizer";

async function optionalJson(ctx: LoadContext, relPath: string): Promise<Record<string, unknown>> {
  return (await readOptionalModelJson(ctx.source, relPath)) ?? {};
}

export async function loadWhisperModel(ctx: LoadContext): Promise<WhisperModel> {
  const config = await readModelJson(ctx.source, "config.json");
  if (config.model_type !== "whisper") {
    throw new Error(`'${ctx.source.id}' is not a Whisper model (config.json model_type is '${String(config.model_type)}')`);
  }
  const generation = await optionalJson(ctx, "generation_config.json");
  const preprocessor = await optionalJson(ctx, "preprocessor_config.json");
  const tokenizerConfig = await optionalJson(ctx, "tokenizer_config.json");
  const tokenizer = await WhisperTokenizer.fromJson(await readModelJson(ctx.source, "tokenizer.json"), tokenizerConfig);
  const settings = whisperSettings(config, generation, tokenizer.added);
  const mel = new LogMelExtractor(melConfigFromPreprocessor({ feature_size: config.num_mel_bins, ...preprocessor }));

  const windowSeconds = encoderWindowSetting(ctx.spec.config, `the config of model ${ctx.source.id}`, mel.config);
  const encoderFile = await ctx.onnxFile("encoder_model");
  const positions = Number(config.max_source_positions ?? mel.config.nFrames / 2);
  const windowed = windowSeconds === undefined ? undefined : windowedEncoderModel(encoderFile, positions, settings.dModel);
  if (windowSeconds !== undefined && !windowed) {
    throw new Error(
      `encoder_window_s: the encoder of '${ctx.source.id}' (${encoderFile}) does not add its positional embeddings as one ` +
        `[${positions}, ${settings.dModel}] table, so it cannot read a shorter window; remove encoder_window_s from the model's config`,
    );
  }
  const encoder = await ctx.createSession(encoderFile, windowed);
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
  return new WhisperModel(settings, mel, encoder, new WhisperDecoderRunner(sessions, heads, headDim), tokenizer, windowSeconds);
}
