/**
 * The llm family loader: builds an OnnxLlmEngine from a model in the onnx-community layout
 * (onnx/model*.onnx, config.json, generation_config.json, tokenizer.json,
 * tokenizer_config.json, optionally chat_template.jinja).
 */
import * as fs from "fs";
import { readModelJson, readOptionalModelJson } from "../../../hub/model-json";
import type { FamilyLoader, LoadContext } from "../../../types";
import { createDecoderSession } from "../../../onnx/decoder/decoder-session";
import { LlmTokenizer } from "./llm-tokenizer";
import { readGenerationDefaults, readModelShape } from "../../../onnx/decoder/model-config";
import { OnnxLlmEngine } from "./onnx-llm-engine";

type Json = Record<string, unknown>;

const readJson = (ctx: LoadContext, relPath: string): Promise<Json> => readModelJson(ctx.source, relPath);
const readOptionalJson = (ctx: LoadContext, relPath: string): Promise<Json | undefined> => readOptionalModelJson(ctx.source, relPath);

/**
 * config.prefix_cache_mb: megabytes of KV cache kept between prompts so a shared system prompt or
 * conversation is prefilled once (0 turns it off). Default 256.
 */
function prefixCacheBytes(ctx: LoadContext): number | undefined {
  const value = ctx.spec.config?.prefix_cache_mb;
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new Error(`config.prefix_cache_mb of model ${ctx.source.id} must be a number of megabytes ≥ 0 (0 turns the prefix cache off), got ${JSON.stringify(value)}`);
  }
  return Math.round(value * 1024 * 1024);
}

export const loadLlm: FamilyLoader<OnnxLlmEngine> = async (ctx) => {
  const id = ctx.source.id;
  const config = await readJson(ctx, "config.json");
  const shape = readModelShape(config, `config.json of model ${id}`);
  const generation = await readOptionalJson(ctx, "generation_config.json");
  const defaults = readGenerationDefaults(config, generation);
  if (defaults.eosIds.length === 0) ctx.warn(`model ${id} declares no eos_token_id; generation stops at max_new_tokens or a stop sequence`);

  const tokenizerConfig = (await readOptionalJson(ctx, "tokenizer_config.json")) ?? {};
  const templateFile = (await ctx.source.has("chat_template.jinja")) ? await ctx.source.file("chat_template.jinja") : undefined;
  const chatTemplate = templateFile ? await fs.promises.readFile(templateFile, "utf8") : undefined;
  const tokenizer = await LlmTokenizer.create(await readJson(ctx, "tokenizer.json"), tokenizerConfig, chatTemplate);

  const modelFile = await ctx.onnxFile("model");
  // Logits for the last position only (the loop samples from that row alone), and the
  // append-only cache where it pays: see decoder-session.ts.
  const session = await createDecoderSession(ctx, modelFile, shape);
  try {
    return new OnnxLlmEngine({ session, tokenizer, shape, defaults, id, prefixCacheBytes: prefixCacheBytes(ctx) });
  } catch (err) {
    await session.release();
    throw new Error(`model ${id} does not fit the llm engine: ${(err as Error).message}`);
  }
};
