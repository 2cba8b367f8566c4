/**
 * Opens a decoder-only LM's ONNX file as a session prepared for a KvCacheDecoder loop: the
 * graph rewritten at load time (last-logits-graph.ts) so that it computes logits for the last
 * position only, optionally with an append-only KV cache (append-only-cache.ts) and a
 * MatMulNBits accuracy level. The llm loader and the codec TTS engine (its speech-token LM)
 * both open their decoder through here, so they get the same preparation.
 *
 * Spec config keys read here (both families):
 *   q4_accuracy_level  0–4: onnxruntime's MatMulNBits accuracy level for 4-bit models (CPU default 4)
 *   append_only_cache  true/false: overrides the size rule below
 *   heads_major_cache  true/false: overrides the size rule for the append-only cache's layout (heads-major,
 *                      fed whole with masked spare positions, where the graph takes position_ids; or
 *                      position-major rows; append-only-cache.ts)
 *   fuse_matmuls       true (default)/false: fuse 4-bit q/k/v and gate/up MatMuls (fuse-sibling-matmuls.ts)
 *   int8_prefill       true (CPU default)/false: a second session over the same file with int8 MatMuls for
 *                      prefills of INT8_PREFILL_FROM_ROWS rows or more (int8-prefill-graph.ts); 4-bit models only
 *   past_in_place_attention  true (default)/false: with the append-only cache, the decode session attends
 *                      over the past where it lies instead of concatenating it with the new rows
 *                      (past-in-place-attention.ts); it also makes the heads-major layout the rule
 */
import type { InferenceSession } from "onnxruntime-node";
import type { LoadContext, RewrittenModel } from "../../types";
import { KvCacheDecoder, type KvCacheShape, type PrefillOption } from "./kv-cache-decoder";
import { configFlag } from "../config-flag";
import { lastLogitsModel, type LastLogitsOptions } from "./last-logits-graph";

/**
 * config.q4_accuracy_level (0–4): onnxruntime's MatMulNBits accuracy level for 4-bit models.
 * On the CPU the default is 4 (int8 activations): on the Qwen3-0.6B-shaped bench model it decodes
 * 1.5× faster than the exact path (25.9 against 17.2 tok/s) and moves the next-token distribution
 * from fp32 no more than the exact q4 path does (mean KL 0.82 / 0.82 with zero-point blocks, 1.33 / 1.34
 * with symmetric ones, llama.cpp's Q4_0 1.29 on the same weights; bench/RESULTS.md, "LLM: ours against
 * llama.cpp"). 0 gives the exact path (with int8_prefill false: the prefill too).
 * Models without 4-bit MatMuls are unaffected.
 */
export const CPU_DEFAULT_Q4_ACCURACY_LEVEL = 4;

function accuracyLevel(ctx: LoadContext): number | undefined {
  const value = ctx.spec.config?.q4_accuracy_level;
  if (value === undefined || value === null) {
    return ctx.spec.config?.execution_provider === "cuda" ? undefined : CPU_DEFAULT_Q4_ACCURACY_LEVEL;
  }
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > 4) {
    throw new Error(`config.q4_accuracy_level must be a whole number from 0 to 4 (4: int8 activations; 0: the exact path), got ${JSON.stringify(value)}`);
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

/** Bytes of float32 KV cache one position takes, keys and values of every layer. */
function cacheBytesPerPosition(shape: KvCacheShape): number {
  return shape.numLayers * 2 * shape.numKvHeads * shape.headDim * 4;
}

function wantsAppendOnlyCache(ctx: LoadContext, shape: KvCacheShape): boolean {
  const forced = configFlag(ctx.spec.config, "append_only_cache", `the config of model ${ctx.source.id}`);
  if (forced !== undefined) return forced;
  return cacheBytesPerPosition(shape) >= APPEND_ONLY_FROM_BYTES_PER_POSITION;
}

/**
 * Without the past attended in place (config.past_in_place_attention false): the append-only cache in
 * the heads-major layout (no Transpose of the whole past each step; masked spare positions instead)
 * where a position's cache is at least this big. Measured in one process,
 * the decoder loop alternating layouts: Qwen3-0.6B-shaped q4 (229 KB a position) decodes after
 * 200–264 positions in 37.8 against 38.7 ms a step (36.9 / 38.6 in another run), after 400–464 in
 * 41.6 against 45.7, after 24–88 alike (34.1 / 33.9); a Qwen2-0.5B-sized codec backbone (24 KB a
 * position) was 2–3% slower after 321–441 (25.6 / 24.7 ms), so smaller caches keep the position-major
 * rows. config.heads_major_cache (true/false) overrides.
 */
const HEADS_MAJOR_FROM_BYTES_PER_POSITION = 64 * 1024;

/**
 * The append-only layout the size rule picks for a cache of `shape` (the bench measures the step as
 * the engine runs it). With the past attended in place, heads-major wherever the cache is
 * append-only: then neither the past's Transpose nor the Concat copies the cache, and the codec
 * backbone's 24 KB a position decode faster heads-major too (bench part "inplace").
 */
export function appendOnlyLayoutBySize(shape: KvCacheShape, pastInPlace = true): "heads" | "positions" {
  return pastInPlace || cacheBytesPerPosition(shape) >= HEADS_MAJOR_FROM_BYTES_PER_POSITION ? "heads" : "positions";
}

function wantsHeadsMajorCache(ctx: LoadContext, shape: KvCacheShape): boolean {
  const forced = configFlag(ctx.spec.config, "heads_major_cache", `the config of model ${ctx.source.id}`);
  if (forced !== undefined) return forced;
  return appendOnlyLayoutBySize(shape, wantsPastInPlace(ctx)) === "heads";
}

/** config.past_in_place_attention (default true): logits within float32 rounding of the Concat form (past-in-place-attention.ts). */
function wantsPastInPlace(ctx: LoadContext): boolean {
  return configFlag(ctx.spec.config, "past_in_place_attention", `the config of model ${ctx.source.id}`) ?? true;
}

/** config.top_logits (default true): a top-k sampler fetches the k best logits, not the row; same draws (top-logits-graph.ts). */
function wantsTopLogits(ctx: LoadContext): boolean {
  return configFlag(ctx.spec.config, "top_logits", `the config of model ${ctx.source.id}`) ?? true;
}

/** config.fuse_matmuls (default true): same logits, bit for bit; false keeps the file's separate MatMuls (an A/B). */
function wantsFusedMatMuls(ctx: LoadContext): boolean {
  return configFlag(ctx.spec.config, "fuse_matmuls", `the config of model ${ctx.source.id}`) ?? true;
}

/** How decoder-session.ts rewrites a decoder (shared by the decode and the prefill session, so their inputs and outputs agree). */
function rewriteOptions(ctx: LoadContext, shape: KvCacheShape, logitRows?: readonly number[]): LastLogitsOptions {
  return {
    matMulNBitsAccuracyLevel: accuracyLevel(ctx),
    appendOnlyCache: wantsAppendOnlyCache(ctx, shape),
    appendOnlyLayout: wantsHeadsMajorCache(ctx, shape) ? "heads" : "positions",
    logitRows,
    fuseSiblingMatMuls: wantsFusedMatMuls(ctx),
    // createPrefillOption turns it off for the int8 prefill session: a prefill copies the cache once,
    // small beside its MatMuls (a 321-token 4-bit prefill was 1.03× slower split); same I/O either way.
    pastInPlaceAttention: wantsPastInPlace(ctx),
    topLogits: wantsTopLogits(ctx),
  };
}

/**
 * A session over `modelFile` (a decoder with the cache shape `shape`), rewritten as above when
 * the graph has the expected form; otherwise the file as it is (with a warning when the
 * rewrite failed outright). With `logitRows` its logits are those ids' only, in that order, where
 * the lm_head allows it (logit-rows-graph.ts); else the whole vocabulary's: a caller tells the two
 * apart by the row's length.
 */
export async function createDecoderSession(
  ctx: LoadContext,
  modelFile: string,
  shape: KvCacheShape,
  logitRows?: readonly number[],
): Promise<InferenceSession> {
  // Settings first: a bad value is the user's error, not a graph the rewrite could not read.
  const options = rewriteOptions(ctx, shape, logitRows);
  let rewritten: RewrittenModel | undefined;
  try {
    rewritten = lastLogitsModel(modelFile, options);
  } catch (err) {
    ctx.warn(`model ${ctx.source.id}: loading ${modelFile} as it is (${(err as Error).message})`);
  }
  return ctx.createSession(modelFile, rewritten);
}

/**
 * Prefills of this many rows or more run on the int8 prefill session. Qwen3-0.6B-shaped q4 on this
 * 2-core VM (AMX/VNNI), prefill against the 4-bit session, same process: 8 rows 50.6 / 54.6 ms
 * (1.08×), 16 rows 51.4 / 86.1 (1.67×), 32 rows 71 / 137–155 (1.9–2.2×), 128 rows 158 / 507 (3.2×),
 * 321 rows 408–442 / 1340 (3.0–3.3×). A decode step (one row) stays on the 4-bit kernel, which
 * reads half the bytes.
 */
export const INT8_PREFILL_FROM_ROWS = 16;

/**
 * The int8 prefill session for a 4-bit decoder (int8-prefill-graph.ts), as the KvCacheDecoder
 * option that uses it for prefills of INT8_PREFILL_FROM_ROWS rows or more, or undefined: not a
 * 4-bit model, config.int8_prefill false, or a GPU provider (onnxruntime's integer GEMM is a CPU
 * kernel). It costs a second copy of the transformer's weights at 8 bits (Qwen3-0.6B: ~430 MB) and
 * ~3–5 s more at load. An optimization: a graph the rewrite does not understand, a session that
 * fails to open or whose inputs and outputs differ from `decoder`'s leaves the model on its 4-bit
 * prefill, with a warning.
 */
export async function createPrefillOption(
  ctx: LoadContext,
  modelFile: string,
  shape: KvCacheShape,
  decoder: InferenceSession,
  logitRows?: readonly number[],
): Promise<PrefillOption | undefined> {
  const wanted = configFlag(ctx.spec.config, "int8_prefill", `the config of model ${ctx.source.id}`) ?? true;
  if (!wanted || ctx.spec.config?.execution_provider === "cuda") return undefined;
  let session: InferenceSession | undefined;
  try {
    const rewritten = lastLogitsModel(modelFile, { ...rewriteOptions(ctx, shape, logitRows), int8MatMuls: true, pastInPlaceAttention: false });
    if (!rewritten) return undefined;
    session = await ctx.createSession(modelFile, rewritten);
    const option = { session, fromRows: INT8_PREFILL_FROM_ROWS };
    // Throws when the two sessions' inputs and outputs differ.
    new KvCacheDecoder(decoder, shape, { prefill: option }).dispose();
    return option;
  } catch (err) {
    await session?.release();
    ctx.warn(`model ${ctx.source.id}: no int8 prefill session, prefilling in 4 bits (${(err as Error).message})`);
    return undefined;
  }
}
