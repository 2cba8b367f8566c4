/**
 * A reusable stepper over a decoder-only ONNX session with a KV cache (the onnx-community /
 * optimum layout: inputs input_ids, attention_mask, position_ids, past_key_values.N.key|value
 * [batch, kv_heads, past_len, head_dim]; outputs logits, present.N.key|value).
 *
 * prefill(ids) → logits of the last position; step(id) → logits of the next; stepTop(id, k) → only
 * their k best where the graph outputs them (top-logits-graph.ts). Each call hands
 * the session's `present.*` output tensors straight back as the next call's `past_key_values.*`
 * inputs (no copy), so one instance is one sequence's cache: never share an instance between
 * two sequences. The LLM engine and the codec TTS engine both use it.
 *
 * Graphs rewritten by append-only-cache.ts (decoder-session.ts does this when it can) return
 * only each step's new rows, and the decoder keeps one growing buffer per cache input:
 *  - position-major ([positions, kv_heads, head_dim]): rows are appended and a prefix view is fed;
 *  - heads-major ([kv_heads, capacity, head_dim], the file's own layout): each head's rows are
 *    written `capacity` positions apart, the whole buffer is fed, and the positions not written
 *    yet are masked out by attention_mask zeros. The capacity grows SLACK positions at a time
 *    (the masked positions still cost attention work; a growth re-lays the buffer out once).
 * Either way a step allocates nothing in JavaScript for the cache.
 */
import * as ort from "onnxruntime-node";
import { NEW_CACHE_PREFIX, NEW_HEADS_PREFIX } from "./append-only-cache";
import type { CacheBufferPool } from "./cache-buffer-pool";
import type { LogitsRow, TopLogits } from "./sampler";
import { TOP_IDS_OUTPUT, TOP_K_INPUT, TOP_VALUES_OUTPUT } from "./top-logits-graph";

type CacheArray = Float32Array | Uint16Array;

/** The first positions of one sequence's cache (see KvCacheDecoder.snapshot). */
export interface CacheSnapshot {
  positions: number;
  /** Whether `arrays` are position-major (else [kv_heads, positions, head_dim]). */
  appendOnly: boolean;
  /** KV heads (the runs of a head-major array). */
  heads: number;
  /** Head-major arrays: positions from one head's run to the next (default `positions`; more after a truncation). */
  stride?: number;
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
  prefill?: PrefillOption;
}

/**
 * A second session over the same graph form (same inputs and outputs, e.g. int8 MatMuls:
 * int8-prefill-graph.ts) that runs the calls feeding `fromRows` positions or more; the cache it
 * writes is the one the main session continues from.
 */
export interface PrefillOption {
  session: ort.InferenceSession;
  fromRows: number;
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

/**
 * Heads-major buffers: spare positions added at a growth. A masked position costs about as much
 * attention work as a cached one, and a growth copies the cache once, so a few dozen balances the
 * two (Qwen3-0.6B: ~0.03 ms a masked position, ~0.02 ms a position to re-lay out).
 */
const SLACK = 32;

/** How the cache lives between calls: the outputs fed back (plain graphs), or our buffers in one of two layouts. */
type CacheLayout = "present" | "positions" | "heads";

export class KvCacheDecoder {
  private past = new Map<string, ort.Tensor>();
  private readonly slots: CacheSlot[];
  private readonly logitsName: string;
  private readonly inputs: Set<string>;
  private disposed = false;
  /** Positions already in the cache. */
  private cached = 0;
  private readonly layout: CacheLayout;
  /**
   * Append-only graphs: the cache per input, [capacity, kv_heads, head_dim] (positions layout) or
   * [kv_heads, capacity, head_dim] (heads layout) in its first capacity × rowSize floats.
   */
  private rows = new Map<string, Float32Array>();
  private capacity = 0;
  /** Whether `rows` are buffers of ours (grown or pooled) rather than the prefill's output arrays. */
  private ownsRows = false;
  private readonly pool: CacheBufferPool | undefined;
  /** The cache outputs a call fetches besides the logits (all of them, or an append-only graph's new rows). */
  private readonly cacheFetches: string[];
  /** Whether the graph outputs the k best logits for a fed k (top-logits-graph.ts). */
  private readonly hasTop: boolean;
  /** Entries of a logits row, from the last whole row returned (TopK refuses a k above it). */
  private rowWidth: number | undefined;
  /** Backing store of the attention mask (positions layout: ones only, this decoder never pads). */
  private ones = new BigInt64Array(0);
  /** Heads layout: the mask over capacity + new positions (zeros where nothing is written yet). */
  private mask = new BigInt64Array(0);
  private readonly prefillSession: ort.InferenceSession | undefined;
  private readonly prefillFrom: number;

  constructor(
    private readonly session: ort.InferenceSession,
    private readonly shape: KvCacheShape,
    options: KvCacheDecoderOptions = {},
  ) {
    this.logitsName = options.logitsName ?? "logits";
    this.pool = options.bufferPool;
    this.inputs = new Set(session.inputNames);
    this.prefillSession = options.prefill?.session;
    this.prefillFrom = options.prefill?.fromRows ?? Infinity;
    if (this.prefillSession && !(sameNames(this.prefillSession.inputNames, session.inputNames) && sameNames(this.prefillSession.outputNames, session.outputNames))) {
      throw new Error("the prefill session's inputs and outputs differ from the decoder session's");
    }
    if (!session.outputNames.includes(this.logitsName)) {
      throw new Error(`the ONNX model has no '${this.logitsName}' output (outputs: ${session.outputNames.join(", ")})`);
    }
    const typeOf = (name: string): ort.Tensor.Type => {
      const meta = session.inputMetadata?.find((m) => m.name === name);
      return meta && meta.isTensor ? (meta.type as ort.Tensor.Type) : "float32";
    };
    this.layout = session.outputNames.includes(`${NEW_HEADS_PREFIX}0.key`) ? "heads" : session.outputNames.includes(`${NEW_CACHE_PREFIX}0.key`) ? "positions" : "present";
    const outputPrefix = { heads: NEW_HEADS_PREFIX, positions: NEW_CACHE_PREFIX, present: "present." }[this.layout];
    this.slots = session.inputNames
      .filter((name) => PAST.test(name))
      .map((input) => {
        const output = input.replace("past_key_values.", outputPrefix);
        if (!session.outputNames.includes(output)) throw new Error(`the ONNX model has input ${input} but no output ${output}`);
        return { input, output, type: typeOf(input) };
      });
    if (this.slots.length !== 2 * shape.numLayers) {
      throw new Error(
        `the ONNX model has ${this.slots.length} past_key_values inputs but config.json says ${shape.numLayers} layers (expected ${2 * shape.numLayers})`,
      );
    }
    if (this.appendOnly && this.slots.some((slot) => slot.type !== "float32")) throw new Error("an append-only cache graph must have float32 cache inputs");
    if (this.layout === "heads" && !(this.inputs.has("attention_mask") && this.inputs.has("position_ids"))) {
      throw new Error("a heads-major append-only cache graph must take attention_mask and position_ids");
    }
    // Fetch only what the loop reads: the logits (or their k best) and the cache.
    this.cacheFetches = this.slots.map((slot) => slot.output);
    this.hasTop = this.inputs.has(TOP_K_INPUT) && session.outputNames.includes(TOP_VALUES_OUTPUT) && session.outputNames.includes(TOP_IDS_OUTPUT);
  }

  /** Whether the decoder keeps the cache in its own buffers (an append-only graph). */
  private get appendOnly(): boolean {
    return this.layout !== "present";
  }

  /** Positions in the cache (prompt and generated tokens fed so far). */
  get length(): number {
    return this.cached;
  }

  /** Feeds `ids` after what is cached (the whole prompt, or a further chunk of it); returns the last position's logits. */
  async prefill(ids: number[], options: ForwardOptions = {}): Promise<Float32Array> {
    const count = options.skipInputIds ? (options.newPositions ?? 0) : ids.length;
    return this.wholeRow(await this.forward(ids, options, undefined), count);
  }

  /** Feeds one token; returns the logits for the position after it. */
  async step(id: number, options: ForwardOptions = {}): Promise<Float32Array> {
    return this.wholeRow(await this.forward([id], options, undefined), 1);
  }

  /**
   * Feeds one token; returns the `top` best logits of the position after it (TopLogits) where the
   * graph outputs them (top-logits-graph.ts), else the whole row: a graph without them, no whole row
   * returned yet (its width is not known), or `top` not below the width (a sampler keeps the whole
   * row then anyway).
   */
  async stepTop(id: number, top: number, options: ForwardOptions = {}): Promise<LogitsRow> {
    const k = Number.isInteger(top) && top >= 1 && this.hasTop && this.rowWidth !== undefined && top < this.rowWidth ? top : undefined;
    const outputs = await this.forward([id], options, k);
    return k === undefined ? this.wholeRow(outputs, 1) : topLogits(outputs);
  }

  /** Forgets the cache (the next call starts a new sequence at position 0). */
  reset(): void {
    this.releasePast();
    this.cached = 0;
  }

  /**
   * A copy of the first `positions` cached positions, one array per cache input, in a layout
   * `seed()` takes back (the prefix KV cache keeps these). Position-major for the positions layout,
   * [kv_heads, positions, head_dim] otherwise.
   */
  snapshot(positions: number): CacheSnapshot {
    if (positions < 1 || positions > this.cached) throw new Error(`cannot snapshot ${positions} of ${this.cached} cached positions`);
    const rowSize = this.rowSize;
    const arrays = this.slots.map((slot) => {
      if (this.layout === "positions") return this.rows.get(slot.input)!.slice(0, positions * rowSize);
      if (this.layout === "heads") return headMajorPrefix(this.rows.get(slot.input)!, this.shape.numKvHeads, this.capacity, positions, this.shape.headDim);
      const past = this.past.get(slot.input)!;
      return headMajorPrefix(past.data as CacheArray, this.shape.numKvHeads, this.cached, positions, this.shape.headDim);
    });
    return { positions, appendOnly: this.layout === "positions", heads: this.shape.numKvHeads, arrays };
  }

  /** Starts this (fresh) decoder from a snapshot of another sequence's first positions. */
  seed(snapshot: CacheSnapshot): void {
    if (this.cached !== 0) throw new Error("seed() needs an empty decoder");
    if (snapshot.appendOnly !== (this.layout === "positions") || snapshot.arrays.length !== this.slots.length) {
      throw new Error("this cache snapshot comes from a differently shaped decoder");
    }
    const positions = snapshot.positions;
    if (this.layout === "heads") {
      if (snapshot.arrays.some((a) => !(a instanceof Float32Array))) throw new Error("this cache snapshot comes from a differently shaped decoder");
      // The snapshot's arrays stay the prefix cache's: copied, never pooled.
      this.releaseRows();
      this.relayHeads(snapshot.arrays as Float32Array[], snapshot.stride ?? positions, positions, positions + SLACK, false);
    } else if (this.appendOnly) {
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
      const stride = snapshot.stride ?? positions;
      this.slots.forEach((slot, i) => {
        const data = headMajorPrefix(snapshot.arrays[i], this.shape.numKvHeads, stride, positions, this.shape.headDim);
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

  /** Runs one call and keeps its cache rows; returns the outputs fetched: the logits, or their `top` best. */
  private async forward(ids: number[], options: ForwardOptions, top: number | undefined): Promise<ort.InferenceSession.OnnxValueMapType> {
    if (this.disposed) throw new Error("this KV-cache decoder was disposed");
    const count = options.skipInputIds ? (options.newPositions ?? 0) : ids.length;
    if (count < 1) throw new Error("a forward pass needs at least one new position");
    const start = this.cached;
    // A new sequence in the heads layout starts from no buffer (the last one's would only be masked work).
    if (this.layout === "heads" && start === 0) this.releaseRows();
    const feeds: Record<string, ort.Tensor> = { ...options.extraFeeds };
    if (!options.skipInputIds) feeds.input_ids = int64Row(ids);
    if (this.layout === "heads") feeds.attention_mask = this.headsMask(start, count);
    else if (this.inputs.has("attention_mask")) feeds.attention_mask = this.attentionMask(start + count);
    if (this.inputs.has("position_ids")) feeds.position_ids = int64Range(start, count);
    // Merged optimum decoders pick their branch with this flag.
    if (this.inputs.has("use_cache_branch")) feeds.use_cache_branch = new ort.Tensor("bool", [start > 0], [1]);
    // Exports with this input compute logits for the last positions only: one is all sampling needs.
    for (const name of ["num_logits_to_keep", "logits_to_keep"]) {
      if (this.inputs.has(name) && !feeds[name]) feeds[name] = new ort.Tensor("int64", BigInt64Array.from([1n]), []);
    }
    for (const slot of this.slots) {
      feeds[slot.input] =
        this.layout === "heads" ? this.headsView(slot.input) : this.appendOnly ? this.cacheView(slot.input, start) : (this.past.get(slot.input) ?? this.emptyPast(slot.type));
    }

    if (this.hasTop) feeds[TOP_K_INPUT] = new ort.Tensor("int64", BigInt64Array.of(BigInt(top ?? 1)), [1]);
    const logitFetches = top === undefined ? [this.logitsName] : [TOP_VALUES_OUTPUT, TOP_IDS_OUTPUT];

    const session = count >= this.prefillFrom ? this.prefillSession! : this.session;
    const outputs = await session.run(feeds, [...logitFetches, ...this.cacheFetches]);
    if (this.disposed) {
      disposeAll(Object.values(outputs));
      throw new Error("this KV-cache decoder was disposed during a forward pass");
    }
    if (this.layout === "heads") {
      this.appendHeads(outputs, start, count);
    } else if (this.appendOnly) {
      this.append(outputs, start, count);
    } else {
      // The old cache is dead once the new one exists: release it, keep the outputs as-is.
      this.releasePast();
      for (const slot of this.slots) this.past.set(slot.input, outputs[slot.output]);
    }
    this.cached = start + count;
    return outputs;
  }

  /** The last position's whole logits row; remembers its width for later top-k calls. */
  private wholeRow(outputs: ort.InferenceSession.OnnxValueMapType, count: number): Float32Array {
    const row = lastRow(outputs[this.logitsName], count);
    this.rowWidth = row.length;
    return row;
  }

  /**
   * An all-ones mask over `positions`, as a view of one buffer that grows by doubling: building
   * it from numbers every step cost O(context) BigInt conversions a token.
   */
  private attentionMask(positions: number): ort.Tensor {
    if (this.ones.length < positions) this.ones = new BigInt64Array(Math.max(256, 2 * positions)).fill(1n);
    return new ort.Tensor("int64", this.ones.subarray(0, positions), [1, positions]);
  }

  /**
   * Heads layout: ones over the `cached` positions, zeros over the capacity not written yet, ones
   * over the `count` new positions (which the graph puts after the whole past it is fed).
   */
  private headsMask(cached: number, count: number): ort.Tensor {
    const length = this.capacity + count;
    if (this.mask.length < length) this.mask = new BigInt64Array(Math.max(256, 2 * length));
    this.mask.fill(1n, 0, cached);
    this.mask.fill(0n, cached, this.capacity);
    this.mask.fill(1n, this.capacity, length);
    return new ort.Tensor("int64", this.mask.subarray(0, length), [1, length]);
  }

  /** Heads layout: the whole buffer of an input, [1, kv_heads, capacity, head_dim] (no copy). */
  private headsView(input: string): ort.Tensor {
    const rows = this.rows.get(input) ?? new Float32Array(0);
    return new ort.Tensor("float32", rows.subarray(0, this.capacity * this.rowSize), [1, this.shape.numKvHeads, this.capacity, this.shape.headDim]);
  }

  /**
   * Heads layout: this call's rows ([1, kv_heads, count, head_dim]) written behind the `start`
   * cached positions of each head; the buffers are re-laid out with SLACK spare positions first
   * when they are full.
   */
  private appendHeads(outputs: ort.InferenceSession.OnnxValueMapType, start: number, count: number): void {
    const { numKvHeads: heads, headDim } = this.shape;
    const added = this.slots.map((slot) => {
      const tensor = outputs[slot.output] as ort.Tensor;
      const data = tensor.data as Float32Array;
      if (data.length !== count * this.rowSize) {
        throw new Error(`cache output ${slot.output} has ${data.length} values, expected ${count} positions × ${this.rowSize}`);
      }
      return { tensor, data };
    });
    if (start === 0) {
      // A new sequence (forward() released the last one's buffers before feeding): its rows are the
      // whole cache, already [kv_heads, count, head_dim]: adopt them (no copy before the first token);
      // the first decode step makes room.
      this.slots.forEach((slot, i) => this.rows.set(slot.input, added[i].data));
      this.capacity = count;
      return;
    }
    if (start + count > this.capacity) {
      this.relayHeads(this.slots.map((slot) => this.rows.get(slot.input)!), this.capacity, start, start + count + SLACK, this.ownsRows);
    }
    this.slots.forEach((slot, i) => {
      const rows = this.rows.get(slot.input)!;
      for (let h = 0; h < heads; h++) {
        rows.set(added[i].data.subarray(h * count * headDim, (h + 1) * count * headDim), (h * this.capacity + start) * headDim);
      }
      added[i].tensor.dispose();
    });
  }

  /**
   * Heads layout: buffers of `capacity` positions a head holding the first `positions` of `from`
   * (heads `stride` positions apart); the rest is zeroed, so a masked position never holds a NaN
   * (a masked score times a NaN value is still NaN). Buffers of ours (`owned`) with room for it are
   * re-laid out in place; otherwise new ones come from the pool or are allocated with room to
   * double, so a long sequence re-lays out in place instead of touching fresh memory each time
   * (first touches cost a page fault per 4 KB here). Buffers of ours that are left go back to the pool.
   */
  private relayHeads(from: Float32Array[], stride: number, positions: number, capacity: number, owned: boolean): void {
    const { numKvHeads: heads, headDim } = this.shape;
    const floats = capacity * this.rowSize;
    const inPlace = owned && from.every((a) => a.length >= floats);
    const fresh = inPlace ? undefined : (this.pool?.take(this.slots.length, floats) ?? this.slots.map(() => new Float32Array(Math.max(floats, 2 * stride * this.rowSize))));
    this.slots.forEach((slot, i) => {
      const buffer = inPlace ? from[i] : fresh![i];
      // Last head first: a head's new place never reaches the old place of a head before it.
      for (let h = heads - 1; h >= 0; h--) {
        const at = h * capacity * headDim;
        if (inPlace) buffer.copyWithin(at, h * stride * headDim, (h * stride + positions) * headDim);
        else buffer.set(from[i].subarray(h * stride * headDim, (h * stride + positions) * headDim), at);
        buffer.fill(0, at + positions * headDim, at + capacity * headDim);
      }
      this.rows.set(slot.input, buffer);
    });
    if (!inPlace && owned && this.pool) this.pool.give(from);
    this.capacity = capacity;
    this.ownsRows = true;
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

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  const sorted = [...b].sort();
  return a.length === b.length && [...a].sort().every((name, i) => name === sorted[i]);
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

/** The k best logits of a one-position call, best first, as TopK output them. */
function topLogits(outputs: ort.InferenceSession.OnnxValueMapType): TopLogits {
  const values = outputs[TOP_VALUES_OUTPUT].data as Float32Array;
  const indices = outputs[TOP_IDS_OUTPUT].data as BigInt64Array;
  const ids = new Int32Array(indices.length);
  for (let i = 0; i < ids.length; i++) ids[i] = Number(indices[i]);
  return { values, ids };
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
