/**
 * What the generation loop needs from a model directory's config.json and
 * generation_config.json (Hugging Face layout): the KV-cache shape, the stop ids and the
 * model's own sampling defaults.
 */

export interface LlmModelShape {
  numLayers: number;
  numKvHeads: number;
  headDim: number;
  vocabSize?: number;
  /** Positions the model was trained for; generation stops with "length" there. */
  maxPositions?: number;
}

export interface LlmGenerationDefaults {
  eosIds: number[];
  bosId?: number;
  /** generation_config's do_sample; false means greedy unless a request asks otherwise. */
  doSample: boolean;
  temperature?: number;
  topK?: number;
  topP?: number;
  repetitionPenalty?: number;
  maxNewTokens?: number;
  maxLength?: number;
}

type Json = Record<string, unknown>;

function positiveInteger(value: unknown): number | undefined {
  return typeof value === "number" && Number.isInteger(value) && value > 0 ? value : undefined;
}

function finiteNumber(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

/** Multimodal exports nest the language model's settings under text_config. */
function textConfig(config: Json): Json {
  const nested = config.text_config;
  return nested && typeof nested === "object" ? { ...config, ...(nested as Json) } : config;
}

/** The KV-cache shape from config.json; throws naming the missing field. */
export function readModelShape(rawConfig: Json, source = "config.json"): LlmModelShape {
  const config = textConfig(rawConfig);
  const numLayers = positiveInteger(config.num_hidden_layers ?? config.n_layer ?? config.num_layers);
  const numHeads = positiveInteger(config.num_attention_heads ?? config.n_head);
  const hidden = positiveInteger(config.hidden_size ?? config.n_embd);
  if (!numLayers) throw new Error(`${source} has no num_hidden_layers: is this a decoder-only language model?`);
  if (!numHeads) throw new Error(`${source} has no num_attention_heads`);
  const numKvHeads = positiveInteger(config.num_key_value_heads) ?? numHeads;
  // head_dim is explicit in Qwen3 (it differs from hidden/heads there); older configs imply it.
  let headDim = positiveInteger(config.head_dim);
  if (!headDim) {
    if (!hidden) throw new Error(`${source} has neither head_dim nor hidden_size`);
    headDim = hidden / numHeads;
    if (!Number.isInteger(headDim)) throw new Error(`${source}: hidden_size ${hidden} is not a multiple of num_attention_heads ${numHeads}`);
  }
  return {
    numLayers,
    numKvHeads,
    headDim,
    vocabSize: positiveInteger(config.vocab_size),
    maxPositions: positiveInteger(config.max_position_embeddings ?? config.n_positions),
  };
}

function idList(value: unknown): number[] {
  const list = Array.isArray(value) ? value : [value];
  return list.filter((v): v is number => typeof v === "number" && Number.isInteger(v) && v >= 0);
}

/**
 * Stop ids and sampling defaults: generation_config.json wins over config.json, as in
 * transformers. Either file may be absent (pass undefined).
 */
export function readGenerationDefaults(config: Json | undefined, generation: Json | undefined): LlmGenerationDefaults {
  const base = config ? textConfig(config) : {};
  const gen = generation ?? {};
  const eos = new Set<number>([...idList(gen.eos_token_id), ...(gen.eos_token_id === undefined ? idList(base.eos_token_id) : [])]);
  return {
    eosIds: [...eos],
    bosId: idList(gen.bos_token_id ?? base.bos_token_id)[0],
    doSample: gen.do_sample === true,
    temperature: finiteNumber(gen.temperature),
    topK: positiveInteger(gen.top_k),
    topP: finiteNumber(gen.top_p),
    repetitionPenalty: finiteNumber(gen.repetition_penalty),
    maxNewTokens: positiveInteger(gen.max_new_tokens),
    maxLength: positiveInteger(gen.max_length),
  };
}
