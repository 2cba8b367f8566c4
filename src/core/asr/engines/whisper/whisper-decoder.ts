/**
 * Runs Whisper's decoder with a KV cache in either of Optimum's export forms:
 *  - merged: decoder_model_merged.onnx with `use_cache_branch` (false on the first call,
 *    with empty past tensors; true afterwards);
 *  - split: decoder_model.onnx for the first call, decoder_with_past_model.onnx after it
 *    (which returns no encoder presents: the first call's are kept).
 * Cache names: past_key_values.N.decoder|encoder.key|value in, present.N.* out.
 */
import * as ort from "onnxruntime-node";

type Feeds = Record<string, ort.Tensor>;

const ENCODER_PRESENT = /^present\.\d+\.encoder\./;

export interface DecoderSessions {
  merged?: ort.InferenceSession;
  first?: ort.InferenceSession;
  withPast?: ort.InferenceSession;
}

/** Number of decoder layers and the cache's head layout, read from the session's inputs. */
function cacheLayers(session: ort.InferenceSession): number {
  let layers = 0;
  for (const name of [...session.inputNames, ...session.outputNames]) {
    const m = /^(?:past_key_values|present)\.(\d+)\.decoder\.key$/.exec(name);
    if (m) layers = Math.max(layers, Number(m[1]) + 1);
  }
  return layers;
}

export class WhisperDecoderRunner {
  readonly layers: number;

  constructor(private readonly sessions: DecoderSessions, private readonly heads: number, private readonly headDim: number) {
    const probe = sessions.merged ?? sessions.first;
    if (!probe || (!sessions.merged && !sessions.withPast)) {
      throw new Error("the model has neither onnx/decoder_model_merged.onnx nor onnx/decoder_model.onnx + onnx/decoder_with_past_model.onnx");
    }
    this.layers = cacheLayers(probe);
    if (this.layers === 0) throw new Error("the decoder has no present.N.decoder.key outputs: not an Optimum Whisper decoder with KV cache");
  }

  async release(): Promise<void> {
    for (const session of Object.values(this.sessions)) await session?.release();
  }

  /** A fresh cache-carrying decoding state over one encoder output. */
  start(encoderStates: ort.Tensor): DecoderState {
    return new DecoderState(this, encoderStates);
  }

  /** @internal */
  async run(encoderStates: ort.Tensor, ids: number[], cache: Feeds | undefined): Promise<{ logits: ort.Tensor; cache: Feeds }> {
    const inputIds = new ort.Tensor("int64", BigInt64Array.from(ids.map(BigInt)), [1, ids.length]);
    const feeds: Feeds = { input_ids: inputIds };
    let session: ort.InferenceSession;
    if (this.sessions.merged) {
      session = this.sessions.merged;
      feeds.encoder_hidden_states = encoderStates;
      feeds.use_cache_branch = new ort.Tensor("bool", [cache !== undefined], [1]);
      const empty = new ort.Tensor("float32", new Float32Array(0), [1, this.heads, 0, this.headDim]);
      for (let i = 0; i < this.layers; i++) {
        for (const kind of ["decoder", "encoder"]) {
          for (const part of ["key", "value"]) {
            const name = `past_key_values.${i}.${kind}.${part}`;
            feeds[name] = cache?.[name] ?? empty;
          }
        }
      }
    } else if (cache === undefined) {
      session = this.sessions.first!;
      feeds.encoder_hidden_states = encoderStates;
    } else {
      session = this.sessions.withPast!;
      Object.assign(feeds, cache);
      if (session.inputNames.includes("encoder_hidden_states")) feeds.encoder_hidden_states = encoderStates;
    }
    for (const name of Object.keys(feeds)) if (!session.inputNames.includes(name)) delete feeds[name];
    // With the cache, the encoder presents are only the past inputs passed through (kept below from
    // the first call), and onnxruntime-node copies every fetched output into a fresh ArrayBuffer:
    // for whisper-base that is 36 MB per token, which took longer than the step itself.
    const out = cache === undefined ? await session.run(feeds) : await session.run(feeds, session.outputNames.filter((name) => !ENCODER_PRESENT.test(name)));
    const next: Feeds = {};
    for (let i = 0; i < this.layers; i++) {
      for (const kind of ["decoder", "encoder"]) {
        for (const part of ["key", "value"]) {
          const present = out[`present.${i}.${kind}.${part}`];
          const past = `past_key_values.${i}.${kind}.${part}`;
          // With the cache, encoder presents are either absent (split form) or the inputs again: keep the first call's.
          if (kind === "encoder" && cache !== undefined) next[past] = cache[past];
          else if (present) next[past] = present;
          else throw new Error(`the decoder returned no present.${i}.${kind}.${part}`);
        }
      }
    }
    return { logits: out.logits, cache: next };
  }
}

/** One decoding run: feed tokens, get each fed position's logits. */
export class DecoderState {
  private cache: Feeds | undefined;
  private position = 0;

  constructor(private readonly runner: WhisperDecoderRunner, private readonly encoderStates: ort.Tensor) {}

  get length(): number {
    return this.position;
  }

  /** Feeds `ids`; returns the logits rows of every fed position (Float32Array each, vocab-sized). */
  async feed(ids: number[]): Promise<Float32Array[]> {
    const { logits, cache } = await this.runner.run(this.encoderStates, ids, this.cache);
    this.cache = cache;
    this.position += ids.length;
    const vocab = logits.dims[2];
    const data = logits.data as Float32Array;
    return ids.map((_, i) => data.slice(i * vocab, (i + 1) * vocab));
  }
}
