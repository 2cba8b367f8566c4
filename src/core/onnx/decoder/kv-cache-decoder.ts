/**
 * A reusable stepper over a decoder-only ONNX session with a KV cache (the onnx-community /
 * optimum layout: inputs input_ids, attention_mask, position_ids, past_key_values.N.key|value
 * [batch, kv_heads, past_len, head_dim]; outputs logits, present.N.key|value).
 *
 * prefill(ids) → logits of the last position; step(id) → logits of the next. Each call hands
 * the session's `present.*` output tensors straight back as the next call's `past_key_values.*`
 * inputs (no copy), so one instance is one sequence's cache: never share an instance between
 * two sequences. The LLM engine and the codec TTS engine both use it.
 *
 * Graphs rewritten by append-only-cache.ts (decoder-session.ts does this when it can) take the
 * cache position-major and return only each step's new rows: then the decoder keeps one
 * growing buffer per cache input, appends the rows, and feeds a prefix view of it, so a step
 * allocates nothing in JavaScript for the cache.
 */
import * as ort from "onnxruntime-node";
import { NEW_CACHE_PREFIX } from "./append-only-cache";
import type { CacheBufferPool } from "./cache-buffer-pool";

type CacheArray = Float32Array | Uint16Array;

/** The first positions of one sequence's cache (see KvCacheDecoder.snapshot). */
export interface CacheSnapshot {
  positions: number;
  appendOnly: boolean;
  /** KV heads (the runs of a head-major array). */
  heads: number;
  arrays: CacheArray[];
}

export interface KvCacheShape {
  numLayers: number;
  numKvHeads: number;
  headDim: number;
}

export interface KvCacheDecoderOptions {
  /** Name of the logits output (default "logits"). */
  logitsName?: string;
  /** Where append-only cache buffers come from and go back to between sequences (one per model). */
  bufferPool?: CacheBufferPool;
}

export interface ForwardOptions {
  /** Extra inputs the graph needs beside ids, mask, positions and cache (e.g. inputs_embeds for a codec TTS). */
  extraFeeds?: Record<string, ort.Tensor>;
  /** Feed these as the new positions instead of ids (graphs with inputs_embeds take no input_ids). */
  skipInputIds?: boolean;
  /** How many new positions this call adds when skipInputIds is set. */
  newPositions?: number;
}

interface CacheSlot {
  input: string;
  output: string;
  type: ort.Tensor.Type;
}

const PAST = /^past_key_values\.(\d+)\.(key|value)$/;

export class KvCacheDecoder {
  private past = new Map<string, ort.Tensor>();
  private readonly slots: CacheSlot[];
  private readonly logitsName: string;
  private readonly inputs: Set<string>;
  private disposed = false;
  /** Positions already in the cache. */
  private cached = 0;
  /** Append-only graphs: the cache rows per input, [capacity, kv_heads, head_dim] position-major. */
  private readonly appendOnly: boolean;
  private rows = new Map<string, Float32Array>();
  private capacity = 0;
  /** Whether `rows` are buffers of ours (grown or pooled) rather than the prefill's output arrays. */
  private ownsRows = false;
  private readonly pool: CacheBufferPool | undefined;
  private readonly fetches: string[] | undefined;
  /** Backing store of the attention mask (ones only: this decoder never pads). */
  private ones = new BigInt64Array(0);

  constructor(
    private readonly session: ort.InferenceSession,
    private readonly shape: KvCacheShape,
    options: KvCacheDecoderOptions = {},
  ) {
    this.logitsName = options.logitsName ?? "logits";
    this.pool = options.bufferPool;
    this.inputs = new Set(session.inputNames);
    if (!session.outputNames.includes(this.logitsName)) {
      throw new Error(`the ONNX model has no '${this.logitsName}' output (outputs: ${session.outputNames.join(", ")})`);
    }
    const typeOf = (name: string): ort.Tensor.Type => {
      const meta = session.inputMetadata?.find((m) => m.name === name);
      return meta && meta.isTensor ? (meta.type as ort.Tensor.Type) : "float32";
    };
    this.appendOnly = session.outputNames.includes(`${NEW_CACHE_PREFIX}0.key`);
    this.slots = session.inputNames
      .filter((name) => PAST.test(name))
      .map((input) => {
        const output = input.replace("past_key_values.", this.appendOnly ? NEW_CACHE_PREFIX : "present.");
        if (!session.outputNames.includes(output)) throw new Error(`the ONNX model has input ${input} but no output ${output}`);
        return { input, output, type: typeOf(input) };
      });
    if (this.slots.length !== 2 * shape.numLayers) {
      throw new Error(
        `the ONNX model has ${this.slots.length} past_key_values inputs but config.json says ${shape.numLayers} layers (expected ${2 * shape.numLayers})`,
      );
    }
    if (this.appendOnly && this.slots.some((slot) => slot.type !== "float32")) throw new Error("an append-only cache graph must have float32 cache inputs");
    // Append-only graphs: fetch only what the loop reads.
    this.fetches = this.appendOnly ? [this.logitsName, ...this.slots.map((slot) => slot.output)] : undefined;
  }

  /** Positions in the cache (prompt and generated tokens fed so far). */
  get length(): number {
    return this.cached;
  }

  /** Feeds `ids` after what is cached (the whole prompt, or a further chunk of it); returns the last position's logits. */
  prefill(ids: number[], options: ForwardOptions = {}): Promise<Float32Array> {
    return this.forward(ids, options);
  }

  /** Feeds one token; returns the logits for the position after it. */
  step(id: number, options: ForwardOptions = {}): Promise<Float32Array> {
    return this.forward([id], options);
  }

  /** Forgets the cache (the next call starts a new sequence at position 0). */
  reset(): void {
    this.releasePast();
    this.cached = 0;
  }

  /**
   * A copy of the first `positions` cached positions, one array per cache input, in a layout
   * `seed()` takes back (the prefix KV cache keeps these). Position-major for append-only graphs,
   * [kv_heads, positions, head_dim] otherwise.
   */
  snapshot(positions: number): CacheSnapshot {
    if (positions < 1 || positions > this.cached) throw new Error(`cannot snapshot ${positions} of ${this.cached} cached positions`);
    const rowSize = this.rowSize;
    const arrays = this.slots.map((slot) => {
      if (this.appendOnly) return this.rows.get(slot.input)!.slice(0, positions * rowSize);
      const past = this.past.get(slot.input)!;
      return headMajorPrefix(past.data as CacheArray, this.shape.numKvHeads, this.cached, positions, this.shape.headDim);
    });
    return { positions, appendOnly: this.appendOnly, heads: this.shape.numKvHeads, arrays };
  }

  /** Starts this (fresh) decoder from a snapshot of another sequence's first positions. */
  seed(snapshot: CacheSnapshot): void {
    if (this.cached !== 0) throw new Error("seed() needs an empty decoder");
    if (snapshot.appendOnly !== this.appendOnly || snapshot.arrays.length !== this.slots.length) {
      throw new Error("this cache snapshot comes from a differently shaped decoder");
    }
    const positions = snapshot.positions;
    if (this.appendOnly) {
      const rowSize = this.rowSize;
      const capacity = positions + 64;
      const pooled = this.pool?.take(this.slots.length, capacity * rowSize);
      this.slots.forEach((slot, i) => {
        const buffer = pooled?.[i] ?? new Float32Array(capacity * rowSize);
        buffer.set(snapshot.arrays[i] as Float32Array);
        this.rows.set(slot.input, buffer);
      });
      this.capacity = pooled ? Math.floor(pooled[0].length / rowSize) : capacity;
      this.ownsRows = true;
    } else {
      const dims = [1, this.shape.numKvHeads, positions, this.shape.headDim];
      this.slots.forEach((slot, i) => {
        const data = snapshot.arrays[i].slice();
        const tensor = data instanceof Uint16Array ? new ort.Tensor("float16", data, dims) : new ort.Tensor("float32", data as Float32Array, dims);
        this.past.set(slot.input, tensor);
      });
    }
    this.cached = positions;
  }

  /** Cache floats per position of one input (append-only graphs). */
  private get rowSize(): number {
    return this.shape.numKvHeads * this.shape.headDim;
  }

  /** Frees the cache tensors; the session itself belongs to the engine. */
  dispose(): void {
    this.releasePast();
    this.releaseRows();
    this.disposed = true;
  }

  /** Drops the append-only buffers, handing ours back to the pool. */
  private releaseRows(): void {
    if (this.ownsRows && this.pool) this.pool.give(this.slots.map((slot) => this.rows.get(slot.input)!));
    this.rows.clear();
    this.capacity = 0;
    this.ownsRows = false;
  }

  private async forward(ids: number[], options: ForwardOptions): Promise<Float32Array> {
    if (this.disposed) throw new Error("this KV-cache decoder was disposed");
    const count = options.skipInputIds ? (options.newPositions ?? 0) : ids.length;
    if (count < 1) throw new Error("a forward pass needs at least one new position");
    const start = this.cached;
    const feeds: Record<string, ort.Tensor> = { ...options.extraFeeds };
    if (!options.skipInputIds) feeds.input_ids = int64Row(ids);
    if (this.inputs.has("attention_mask")) feeds.attention_mask = this.attentionMask(start + count);
    if (this.inputs.has("position_ids")) feeds.position_ids = int64Range(start, count);
    // Merged optimum decoders pick their branch with this flag.
    if (this.inputs.has("use_cache_branch")) feeds.use_cache_branch = new ort.Tensor("bool", [start > 0], [1]);
    // Exports with this input compute logits for the last positions only: one is all sampling needs.
    for (const name of ["num_logits_to_keep", "logits_to_keep"]) {
      if (this.inputs.has(name) && !feeds[name]) feeds[name] = new ort.Tensor("int64", BigInt64Array.from([1n]), []);
    }
    for (const slot of this.slots) {
      feeds[slot.input] = this.appendOnly ? this.cacheView(slot.input, start) : (this.past.get(slot.input) ?? this.emptyPast(slot.type));
    }

    const outputs = this.fetches ? await this.session.run(feeds, this.fetches) : await this.session.run(feeds);
    if (this.disposed) {
      disposeAll(Object.values(outputs));
      throw new Error("this KV-cache decoder was disposed during a forward pass");
    }
    if (this.appendOnly) {
      this.append(outputs, start, count);
    } else {
      // The old cache is dead once the new one exists: release it, keep the outputs as-is.
      this.releasePast();
      for (const slot of this.slots) this.past.set(slot.input, outputs[slot.output]);
    }
    this.cached = start + count;
    return lastRow(outputs[this.logitsName], count);
  }

  /**
   * An all-ones mask over `positions`, as a view of one buffer that grows by doubling: building
   * it from numbers every step cost O(context) BigInt conversions a token.
   */
  private attentionMask(positions: number): ort.Tensor {
    if (this.ones.length < positions) this.ones = new BigInt64Array(Math.max(256, 2 * positions)).fill(1n);
    return new ort.Tensor("int64", this.ones.subarray(0, positions), [1, positions]);
  }

  /** The first `positions` rows of an append-only cache input, as a tensor over the buffer itself (no copy). */
  private cacheView(input: string, positions: number): ort.Tensor {
    const rows = this.rows.get(input) ?? new Float32Array(0);
    return new ort.Tensor("float32", rows.subarray(0, positions * this.rowSize), [1, positions, this.shape.numKvHeads, this.shape.headDim]);
  }

  /** Appends this step's new rows behind the `start` cached positions, growing the buffers by doubling. */
  private append(outputs: ort.InferenceSession.OnnxValueMapType, start: number, count: number): void {
    const rowSize = this.rowSize;
    if (start === 0) {
      // A new sequence: its rows are the whole cache. Adopt the output arrays as the buffers (no copy
      // before the first token); the first decode step grows them.
      this.releaseRows();
      for (const slot of this.slots) {
        const data = (outputs[slot.output] as ort.Tensor).data as Float32Array;
        if (data.length !== count * rowSize) {
          throw new Error(`cache output ${slot.output} has ${data.length} values, expected ${count} positions × ${rowSize}`);
        }
        this.rows.set(slot.input, data);
      }
      this.capacity = count;
      return;
    }
    if (start + count > this.capacity) {
      const wanted = Math.max(64, 2 * this.capacity, start + count + 64);
      const pooled = this.pool?.take(this.slots.length, (start + count) * rowSize);
      const old = this.slots.map((slot) => this.rows.get(slot.input));
      this.slots.forEach((slot, i) => {
        const grown = pooled?.[i] ?? new Float32Array(wanted * rowSize);
        if (old[i]) grown.set(old[i]!.subarray(0, start * rowSize));
        this.rows.set(slot.input, grown);
      });
      if (this.ownsRows && this.pool) this.pool.give(old as Float32Array[]);
      this.capacity = pooled ? Math.floor(pooled[0].length / rowSize) : wanted;
      this.ownsRows = true;
    }
    for (const slot of this.slots) {
      const added = outputs[slot.output] as ort.Tensor;
      const data = added.data as Float32Array;
      if (data.length !== count * rowSize) {
        throw new Error(`cache output ${slot.output} has ${data.length} values, expected ${count} positions × ${rowSize}`);
      }
      this.rows.get(slot.input)!.set(data, start * rowSize);
      added.dispose();
    }
  }

  private emptyPast(type: ort.Tensor.Type): ort.Tensor {
    const dims = [1, this.shape.numKvHeads, 0, this.shape.headDim];
    return type === "float16" ? new ort.Tensor("float16", new Uint16Array(0), dims) : new ort.Tensor("float32", new Float32Array(0), dims);
  }

  private releasePast(): void {
    disposeAll(this.past.values());
    this.past.clear();
  }
}

/** The first `positions` of a [heads, total, headDim] cache, copied into [heads, positions, headDim]. */
function headMajorPrefix(data: CacheArray, heads: number, total: number, positions: number, headDim: number): CacheArray {
  const out = data instanceof Uint16Array ? new Uint16Array(heads * positions * headDim) : new Float32Array(heads * positions * headDim);
  for (let h = 0; h < heads; h++) {
    out.set(data.subarray(h * total * headDim, h * total * headDim + positions * headDim), h * positions * headDim);
  }
  return out;
}

/** [[first, first + 1, …]] of `count` positions, as an int64 row. */
function int64Range(first: number, count: number): ort.Tensor {
  const data = new BigInt64Array(count);
  for (let i = 0; i < count; i++) data[i] = BigInt(first + i);
  return new ort.Tensor("int64", data, [1, count]);
}

function int64Row(values: number[]): ort.Tensor {
  const data = new BigInt64Array(values.length);
  for (let i = 0; i < values.length; i++) data[i] = BigInt(values[i]);
  return new ort.Tensor("int64", data, [1, values.length]);
}

/** The logits row of the last of `count` positions, as float32 (fp16 models are widened). */
function lastRow(logits: ort.Tensor, count: number): Float32Array {
  const dims = logits.dims;
  const vocab = dims[dims.length - 1];
  // Graphs that keep only the last position's logits return [1, 1, vocab].
  const rows = dims.length >= 2 ? dims[dims.length - 2] : 1;
  const from = (Math.min(rows, count) - 1) * vocab;
  if (logits.type === "float32") return (logits.data as Float32Array).subarray(from, from + vocab);
  if (logits.type === "float16") return halfToFloat((logits.data as Uint16Array).subarray(from, from + vocab));
  throw new Error(`unsupported logits type ${logits.type}`);
}

function halfToFloat(half: Uint16Array): Float32Array {
  const out = new Float32Array(half.length);
  for (let i = 0; i < half.length; i++) {
    const h = half[i];
    const sign = h & 0x8000 ? -1 : 1;
    const exponent = (h >> 10) & 0x1f;
    const fraction = h & 0x3ff;
    if (exponent === 0) out[i] = sign * 2 ** -14 * (fraction / 1024);
    else if (exponent === 31) out[i] = fraction ? NaN : sign * Infinity;
    else out[i] = sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
  }
  return out;
}

function disposeAll(tensors: Iterable<ort.Tensor>): void {
  for (const tensor of tensors) {
    try {
      tensor.dispose();
    } catch {
      // A tensor that owns no native resources has nothing to free.
    }
  }
}
