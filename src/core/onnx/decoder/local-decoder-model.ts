/**
 * A decoder model whose sessions run in this thread: the decoder session prepared by
 * decoder-session.ts, one KvCacheDecoder per sequence, the model's prefix cache and cache buffer
 * pool. Used as it is when `worker_thread` is false, and inside the decoder worker otherwise.
 */
import * as ort from "onnxruntime-node";
import type { LoadContext } from "../../types";
import { takeFloat32 } from "../outputs";
import { CacheBufferPool } from "./cache-buffer-pool";
import { createDecoderSession, createPrefillOption } from "./decoder-session";
import { KvCacheDecoder, type KvCacheShape, type PrefillOption } from "./kv-cache-decoder";
import { PrefixCache } from "./prefix-cache";
import type { DecoderModel, DecoderModelPlan, SequenceDecoder, SideInput } from "./sequence-decoder";
import type { LogitsRow } from "./sampler";

/** Opens the sessions `plan` names; a decoder whose graph does not match the shape is a load error naming the model. */
export async function openLocalDecoderModel(ctx: LoadContext, plan: DecoderModelPlan): Promise<LocalDecoderModel> {
  const session = await createDecoderSession(ctx, plan.decoder, plan.shape, plan.logitRows);
  const opened = [session];
  try {
    // Fails now, at load time, when the graph's cache inputs do not match config.json.
    new KvCacheDecoder(session, plan.shape).dispose();
  } catch (err) {
    await session.release();
    throw new Error(`model ${ctx.source.id} does not fit the ${plan.engineName}: ${(err as Error).message}`);
  }
  const side = new Map<string, ort.InferenceSession>();
  let prefill: PrefillOption | undefined;
  try {
    prefill = await createPrefillOption(ctx, plan.decoder, plan.shape, session, plan.logitRows);
    if (prefill) opened.push(prefill.session);
    for (const [name, file] of Object.entries(plan.side ?? {})) {
      const sideSession = await ctx.createSession(file);
      opened.push(sideSession);
      side.set(name, sideSession);
    }
  } catch (err) {
    await Promise.all(opened.map((s) => s.release()));
    throw err;
  }
  return new LocalDecoderModel(session, plan.shape, plan.prefixCacheBytes, side, prefill);
}

export class LocalDecoderModel implements DecoderModel {
  readonly inWorker = false;
  private readonly bufferPool = new CacheBufferPool();
  private readonly prefixCache: PrefixCache | undefined;

  constructor(
    /** The decoder session (tests and benches read it). */
    readonly session: ort.InferenceSession,
    readonly shape: KvCacheShape,
    prefixCacheBytes: number,
    private readonly side = new Map<string, ort.InferenceSession>(),
    /** The int8 prefill session and when it runs, where the model has one (decoder-session.ts). */
    readonly prefill?: PrefillOption,
  ) {
    this.prefixCache = prefixCacheBytes > 0 ? new PrefixCache(prefixCacheBytes) : undefined;
  }

  open(): SequenceDecoder {
    return new LocalSequence(new KvCacheDecoder(this.session, this.shape, { bufferPool: this.bufferPool, prefill: this.prefill }), this.prefixCache);
  }

  async runSide(name: string, input: SideInput): Promise<Float32Array> {
    const session = this.side.get(name);
    if (!session) throw new Error(`this decoder model has no '${name}' session`);
    const outputs = await session.run({ [input.name]: new ort.Tensor("int32", input.data, input.dims) });
    return takeFloat32(outputs, input.output, session);
  }

  async release(): Promise<void> {
    this.bufferPool.clear();
    this.prefixCache?.clear();
    await this.session.release();
    await this.prefill?.session.release();
    for (const session of this.side.values()) await session.release();
  }
}

class LocalSequence implements SequenceDecoder {
  constructor(
    private readonly decoder: KvCacheDecoder,
    private readonly prefixCache: PrefixCache | undefined,
  ) {}

  get length(): number {
    return this.decoder.length;
  }

  async seedFromPrefix(promptIds: readonly number[]): Promise<number> {
    // The prompt's leading tokens that an earlier sequence already computed (the system prompt,
    // the conversation so far) start from that sequence's cache rows.
    const hit = this.prefixCache?.lookup(promptIds);
    if (!hit) return 0;
    this.decoder.seed(hit.snapshot);
    return hit.positions;
  }

  prefill(ids: number[]): Promise<Float32Array> {
    return this.decoder.prefill(ids);
  }

  step(id: number): Promise<Float32Array> {
    return this.decoder.step(id);
  }

  stepTop(id: number, top: number): Promise<LogitsRow> {
    return this.decoder.stepTop(id, top);
  }

  keepPrefix(fed: number[]): void {
    if (fed.length === 0 || !this.prefixCache?.wants(fed)) return;
    this.prefixCache.store(fed, this.decoder.snapshot(fed.length));
  }

  dispose(): void {
    this.decoder.dispose();
  }
}
