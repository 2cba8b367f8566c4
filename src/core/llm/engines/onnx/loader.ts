/**
 * The llm family loader: builds an OnnxLlmEngine from a model in the onnx-community layout
 * (onnx/model*.onnx, config.json, generation_config.json, tokenizer.json,
 * tokenizer_config.json, optionally chat_template.jinja).
 */
import * as fs from "fs";
import { readModelJson, readOptionalModelJson } from "../../../hub/model-json";
import type { FamilyLoader, LoadContext } from "../../../types";
import { openLocalDecoderModel } from "../../../onnx/decoder/local-decoder-model";
import type { DecoderModelPlan } from "../../../onnx/decoder/sequence-decoder";
import { WorkerDecoderModel } from "../../../onnx/decoder/worker-decoder-model";
import { workerThreadSetting } from "../../../onnx/worker/worker-thread-setting";
import { LlmTokenizer } from "./llm-tokenizer";
import { prefixCacheBytes } from "../../../onnx/decoder/prefix-cache";
import { readGenerationDefaults, readModelShape } from "../../../onnx/decoder/model-config";
import { OnnxLlmEngine } from "./onnx-llm-engine";

type Json = Record<string, unknown>;

const readJson = (ctx: LoadContext, relPath: string): Promise<Json> => readModelJson(ctx.source, relPath);
const readOptionalJson = (ctx: LoadContext, relPath: string): Promise<Json | undefined> => readOptionalModelJson(ctx.source, relPath);

/**
 * The tokenizer, the sampler and the loop stay in this thread; the session, the KV caches and the
 * prefix cache live in a worker thread unless config.worker_thread is false (see
 * onnx/decoder/sequence-decoder.ts).
 */
export const loadLlm: FamilyLoader<OnnxLlmEngine> = async (ctx) => {
  const id = ctx.source.id;
  const inWorker = workerThreadSetting(ctx.spec.config, `the config of model ${id}`);
  const prefixBytes = prefixCacheBytes(ctx, 256);
  const config = await readJson(ctx, "config.json");
  const shape = readModelShape(config, `config.json of model ${id}`);
  const generation = await readOptionalJson(ctx, "generation_config.json");
  const defaults = readGenerationDefaults(config, generation);
  if (defaults.eosIds.length === 0) ctx.warn(`model ${id} declares no eos_token_id; generation stops at max_new_tokens or a stop sequence`);

  const tokenizerConfig = (await readOptionalJson(ctx, "tokenizer_config.json")) ?? {};
  const templateFile = (await ctx.source.has("chat_template.jinja")) ? await ctx.source.file("chat_template.jinja") : undefined;
  const chatTemplate = templateFile ? await fs.promises.readFile(templateFile, "utf8") : undefined;
  const tokenizer = await LlmTokenizer.create(await readJson(ctx, "tokenizer.json"), tokenizerConfig, chatTemplate);

  // Logits for the last position only (the loop samples from that row alone), and the
  // append-only cache where it pays: see decoder-session.ts.
  const plan: DecoderModelPlan = { decoder: await ctx.onnxFile("model"), shape, prefixCacheBytes: prefixBytes, engineName: "llm engine" };
  const decoders = inWorker ? await WorkerDecoderModel.start(ctx, plan, "LLM") : await openLocalDecoderModel(ctx, plan);
  return new OnnxLlmEngine({ decoders, tokenizer, shape, defaults, id });
};
