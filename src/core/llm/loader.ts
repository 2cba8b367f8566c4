/**
 * The llm family loader: builds an OnnxLlmEngine from a model in the onnx-community layout
 * (onnx/model*.onnx, config.json, generation_config.json, tokenizer.json,
 * tokenizer_config.json, optionally chat_template.jinja).
 */
import * as fs from "fs";
import type { FamilyLoader, LoadContext, RewrittenModel } from "../types";
import { lastLogitsModel } from "./last-logits-graph";
import { LlmTokenizer } from "./llm-tokenizer";
import { readGenerationDefaults, readModelShape } from "./model-config";
import { OnnxLlmEngine } from "./onnx-llm-engine";

type Json = Record<string, unknown>;

async function readJson(ctx: LoadContext, relPath: string): Promise<Json> {
  const file = await ctx.source.file(relPath);
  try {
    return JSON.parse(await fs.promises.readFile(file, "utf8")) as Json;
  } catch (err) {
    throw new Error(`${relPath} of model ${ctx.source.id} is not valid JSON: ${(err as Error).message}`);
  }
}

async function readOptionalJson(ctx: LoadContext, relPath: string): Promise<Json | undefined> {
  return (await ctx.source.has(relPath)) ? readJson(ctx, relPath) : undefined;
}

/**
 * config.q4_accuracy_level (opt-in, 1–4): onnxruntime's MatMulNBits accuracy level for 4-bit
 * models; 4 computes with int8 activations (faster decode, slightly different logits).
 */
function accuracyLevel(ctx: LoadContext): number | undefined {
  const value = ctx.spec.config?.q4_accuracy_level;
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > 4) {
    throw new Error(`config.q4_accuracy_level must be a whole number from 0 to 4 (4: int8 activations), got ${JSON.stringify(value)}`);
  }
  return value;
}

/**
 * Append-only KV cache (see append-only-cache.ts) when a position's cache is big enough for
 * the per-step copy-out and GC to matter (Qwen3-0.6B: 229 KB a position; a Qwen2-0.5B-sized
 * backbone with 2 KV heads: 24 KB, where it doubled decode at 700 positions, 15.8 → 30.4 tok/s,
 * and was even at 42); on toy models (stories260K: 1.3 KB) the graph's two extra Transposes per
 * layer cost more than they save. config.append_only_cache (true/false) overrides.
 */
const APPEND_ONLY_FROM_BYTES_PER_POSITION = 8 * 1024;

function wantsAppendOnlyCache(ctx: LoadContext, shape: { numLayers: number; numKvHeads: number; headDim: number }): boolean {
  const forced = ctx.spec.config?.append_only_cache;
  if (typeof forced === "boolean") return forced;
  return shape.numLayers * 2 * shape.numKvHeads * shape.headDim * 4 >= APPEND_ONLY_FROM_BYTES_PER_POSITION;
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
  // Logits for the last position only: the loop samples from that row alone (see last-logits-graph.ts).
  const matMulNBitsAccuracyLevel = accuracyLevel(ctx);
  let rewritten: RewrittenModel | undefined;
  try {
    rewritten = lastLogitsModel(modelFile, { matMulNBitsAccuracyLevel, appendOnlyCache: wantsAppendOnlyCache(ctx, shape) });
  } catch (err) {
    ctx.warn(`model ${id}: loading ${modelFile} as it is (${(err as Error).message})`);
  }
  const session = await ctx.createSession(modelFile, rewritten);
  try {
    return new OnnxLlmEngine({ session, tokenizer, shape, defaults, id });
  } catch (err) {
    await session.release();
    throw new Error(`model ${id} does not fit the llm engine: ${(err as Error).message}`);
  }
};
