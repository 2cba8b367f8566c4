/**
 * What the decoding loop needs to know about a Whisper model, read from the hub files
 * (config.json, generation_config.json, tokenizer.json): the special token ids, the
 * suppression lists and the model's size limits.
 */
export interface WhisperTokens {
  eot: number;
  sot: number;
  /** <|startofprev|>: starts the text prompt. */
  prev: number | undefined;
  noSpeech: number | undefined;
  noTimestamps: number | undefined;
  transcribe: number | undefined;
  translate: number | undefined;
  /** First timestamp token (<|0.00|>); every id from here on is a timestamp. undefined: model has none. */
  timestampBegin: number | undefined;
  /** Language code ("en") → token id; empty for English-only models. */
  languages: Map<string, number>;
}

export interface WhisperSettings {
  tokens: WhisperTokens;
  suppressTokens: number[];
  beginSuppressTokens: number[];
  maxTargetPositions: number;
  /** Largest initial timestamp index (1.0 s = 50 by default). */
  maxInitialTimestampIndex: number;
  decoderLayers: number;
  decoderHeads: number;
  dModel: number;
  isMultilingual: boolean;
  vocabSize: number;
}

type Json = Record<string, unknown>;

const numbers = (value: unknown): number[] => (Array.isArray(value) ? value.filter((v): v is number => typeof v === "number") : []);

/** Reads the settings; `added` is tokenizer.json's added_tokens (content → id). */
export function whisperSettings(config: Json, generation: Json, added: Map<string, number>): WhisperSettings {
  if (config.model_type !== undefined && config.model_type !== "whisper") {
    throw new Error(`config.json has model_type '${String(config.model_type)}', expected 'whisper'`);
  }
  const token = (content: string): number | undefined => added.get(content);
  const eot = (typeof generation.eos_token_id === "number" ? generation.eos_token_id : undefined) ?? token("<|endoftext|>");
  const sot = (typeof generation.decoder_start_token_id === "number" ? generation.decoder_start_token_id : undefined)
    ?? (typeof config.decoder_start_token_id === "number" ? config.decoder_start_token_id : undefined) ?? token("<|startoftranscript|>");
  if (eot === undefined || sot === undefined) throw new Error("the tokenizer has no <|endoftext|> or <|startoftranscript|> token: not a Whisper tokenizer");

  const languages = new Map<string, number>();
  const langToId = (generation.lang_to_id ?? {}) as Record<string, number>;
  for (const [content, id] of Object.entries(langToId)) languages.set(content.replace(/^<\|(.*)\|>$/, "$1"), id);
  // English-only models (whisper-*.en) still have language tokens in the vocabulary but never use them.
  if (languages.size === 0 && generation.is_multilingual !== false) {
    // Older exports have no lang_to_id: language tokens are the added tokens between sot and translate.
    for (const [content, id] of added) {
      const m = /^<\|([a-z]{2,3}|haw|yue)\|>$/.exec(content);
      if (m && id > sot) languages.set(m[1], id);
    }
  }
  const taskToId = (generation.task_to_id ?? {}) as Record<string, number>;
  const noTimestamps = (typeof generation.no_timestamps_token_id === "number" ? generation.no_timestamps_token_id : undefined) ?? token("<|notimestamps|>");
  const firstTimestamp = token("<|0.00|>") ?? (noTimestamps !== undefined ? noTimestamps + 1 : undefined);
  return {
    tokens: {
      eot,
      sot,
      prev: (typeof generation.prev_sot_token_id === "number" ? generation.prev_sot_token_id : undefined) ?? token("<|startofprev|>"),
      noSpeech: token("<|nospeech|>") ?? token("<|nocaptions|>"),
      noTimestamps,
      transcribe: taskToId.transcribe ?? token("<|transcribe|>"),
      translate: taskToId.translate ?? token("<|translate|>"),
      timestampBegin: firstTimestamp,
      languages,
    },
    suppressTokens: numbers(generation.suppress_tokens ?? config.suppress_tokens),
    beginSuppressTokens: numbers(generation.begin_suppress_tokens ?? config.begin_suppress_tokens),
    maxTargetPositions: typeof config.max_target_positions === "number" ? config.max_target_positions : 448,
    maxInitialTimestampIndex: typeof generation.max_initial_timestamp_index === "number" ? generation.max_initial_timestamp_index : 50,
    decoderLayers: Number(config.decoder_layers ?? config.num_hidden_layers ?? 0),
    decoderHeads: Number(config.decoder_attention_heads ?? 0),
    dModel: Number(config.d_model ?? 0),
    isMultilingual: generation.is_multilingual === false ? false : generation.is_multilingual === true || languages.size > 1,
    vocabSize: Number(config.vocab_size ?? 0),
  };
}
