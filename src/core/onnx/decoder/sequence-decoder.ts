/**
 * What a generation loop (the LLM's GenerationRun, the codec TTS's span producer) needs of a
 * decoder-only model, wherever its sessions run: in this thread (local-decoder-model.ts) or in a
 * worker thread (worker-decoder-model.ts). The KV cache, the prefix cache and the cache buffer
 * pool stay wherever the session is, so a worker never ships a cache across threads: only token
 * ids go in and one logits row (or its k best) comes out per call. The loop itself (tokenizer, sampler, stop
 * sequences, metrics, its RunGate) stays on the caller's side and does not know which it got.
 */
import type { LogitsRow } from "./sampler";

/** One sequence's decoder: its own KV cache, never shared with another sequence. */
export interface SequenceDecoder {
  /** Positions fed so far (seeded, prefilled and stepped). */
  readonly length: number;
  /**
   * Starts this (fresh) sequence from the model's prefix cache when that holds a leading part of
   * `promptIds`; resolves to the positions taken from it (0: none, or the cache is off).
   */
  seedFromPrefix(promptIds: readonly number[]): Promise<number>;
  /** Feeds `ids` after what is cached; resolves to the last position's logits. */
  prefill(ids: number[]): Promise<Float32Array>;
  /** Feeds one token; resolves to the logits of the position after it. */
  step(id: number): Promise<Float32Array>;
  /**
   * Feeds one token; resolves to the `top` best logits of the position after it where the model
   * outputs them (top-logits-graph.ts), else to the whole row (see KvCacheDecoder.stepTop).
   */
  stepTop(id: number, top: number): Promise<LogitsRow>;
  /** Offers the cache rows of `fed` (the first fed ids, fed.length ≤ length) to the prefix cache. */
  keepPrefix(fed: number[]): void;
  /** Frees this sequence's cache. */
  dispose(): void;
}

/**
 * A loaded decoder model: hands out sequences. The logits a call resolves to are the caller's
 * until its next call on the same sequence (an in-process decoder returns a view of the run's output).
 */
export interface DecoderModel {
  /** Whether the runs happen in a worker thread. */
  readonly inWorker: boolean;
  open(): SequenceDecoder;
  /** Runs a plain side session (e.g. a codec decoder) on int32 `codes`, returning its float32 `output`. */
  runSide(name: string, input: SideInput): Promise<Float32Array>;
  /** Frees the sessions (a worker: ends it). Callers first wait for the runs in flight. */
  release(): Promise<void>;
}

/** The one input of a side session run: an int32 tensor. */
export interface SideInput {
  name: string;
  data: Int32Array;
  dims: number[];
  /** The output to return (else the session's first). */
  output: string;
}

/** How to open a decoder model: the files (local paths, already downloaded) and what to keep. */
export interface DecoderModelPlan {
  /** The decoder LM's ONNX file. */
  decoder: string;
  /** Plain sessions beside it, by name: local ONNX paths. */
  side?: Record<string, string>;
  shape: { numLayers: number; numKvHeads: number; headDim: number };
  /** Bytes of prefix KV cache kept between sequences (0: off). */
  prefixCacheBytes: number;
  /**
   * The only vocabulary ids the caller samples (a codec TTS: its speech tokens and end token): the
   * logits are then those ids' only, in this order, where the lm_head's form allows it
   * (logit-rows-graph.ts), else the whole vocabulary's; the row's length tells which.
   */
  logitRows?: number[];
  /** The engine, for "model X does not fit the <engine>" load errors ("llm engine"). */
  engineName: string;
}
