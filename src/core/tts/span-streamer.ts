/**
 * The TTS streamer every engine shares (TtsStreamer in core/types.ts): text arrives in any
 * pieces through `send`, a splitter cuts speakable spans, and two tasks run concurrently:
 *
 *   producer: span → engine units (speech tokens, or a span's synthesized audio), running ahead
 *   consumer: units → audio chunks (codec decode + overlap-add, or pass-through), emitted in order
 *
 * so while the listener hears span k, span k+1 is already being prepared and generated.
 * Every stream ends with exactly one is_final chunk: the final audio chunk with the metrics
 * after finish(), or `{kind: "cancelled", is_final: true}` after cancel(); nothing follows it.
 * output$ buffers until its first subscriber, so a late consumer loses nothing.
 */
import { Observable, Subject } from "rxjs";
import type { CancelledChunk, TtsChunk, TtsStreamChunk, TtsStreamer } from "../types";
import { AsyncQueue } from "./async-queue";
import { SentenceSplitter } from "./sentence-splitter";
import { isSpeakable, speakableText } from "./speakable-text";
import { firstAudioPriority, type FirstAudioPriority } from "../scheduling/first-audio-priority";

export interface Span {
  /** 0-based position of the span in the stream. */
  index: number;
  /** The cleaned text to speak. */
  text: string;
}

/** Tracks the wall-clock time during which any engine work is running (for rtf). */
export class BusyClock {
  private active = 0;
  private since = 0;
  private total = 0;

  async time<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active++ === 0) this.since = performance.now();
    try {
      return await fn();
    } finally {
      if (--this.active === 0) this.total += performance.now() - this.since;
    }
  }

  get seconds(): number {
    return (this.total + (this.active > 0 ? performance.now() - this.since : 0)) / 1000;
  }
}

export type SpanEmit = (audio: Float32Array, spanEnd?: boolean) => void;

export type TtsMetrics = Partial<
  Pick<TtsChunk, "time_to_first_audio" | "total_seconds" | "audio_seconds" | "rtf" | "generated_tokens" | "tokens_per_second">
>;

export interface SpanPipeline<U> {
  /** Rate of the audio `consume` emits. */
  readonly sampleRate: number;
  /** Producer side; pushes the span's units to `sink` as they are made. Checks `signal` between steps. */
  produce(span: Span, sink: (unit: U) => void, signal: AbortSignal, clock: BusyClock): Promise<void>;
  /** Consumer side; turns the span's units into audio, emitted in order through `emit` (`spanEnd` on the span's last piece). */
  consume(span: Span, units: AsyncQueue<U>, emit: SpanEmit, signal: AbortSignal, clock: BusyClock): Promise<void>;
  /** Extra metrics for the final chunk (codec engines: generated_tokens, tokens_per_second). */
  metrics?(): TtsMetrics;
  /** False for engines whose work runs elsewhere (a server): their first audio takes no priority over local LLM steps. */
  readonly runsLocally?: boolean;
}

/** Converts one span's audio to the output rate, keeping its state across the span's chunks. */
export interface SpanResampler {
  push(audio: Float32Array): Float32Array;
  /** The span ended: the samples the resampler still holds. */
  end(): Float32Array;
}

export interface SpanStreamerOptions {
  /** Output rate; the pipeline's own when absent. */
  sampleRateOut?: number;
  /** Makes a per-span resampler from→to; required when sampleRateOut differs from the pipeline's rate. */
  resampler?: (from: number, to: number) => SpanResampler;
  /** Split bound for long runs without punctuation (characters). */
  maxSpanChars?: number;
  /** The first span ends at its first clause or after this many words (see SentenceSplitter). */
  firstSpanWords?: number;
  /** Observes spans as they are cut (tests, logging). */
  onSpan?: (span: Span) => void;
  /** Where the first audio takes priority over LLM steps (the process's own when absent; tests pass theirs). */
  priority?: FirstAudioPriority;
}

interface Job<U> {
  span: Span;
  units: AsyncQueue<U>;
}

export class SpanStreamer<U> implements TtsStreamer {
  readonly output$: Observable<TtsStreamChunk>;

  private readonly splitter: SentenceSplitter;
  private readonly spans = new AsyncQueue<Span>();
  private readonly jobs = new AsyncQueue<Job<U>>();
  private readonly abort = new AbortController();
  private readonly clock = new BusyClock();
  private readonly subject = new Subject<TtsStreamChunk>();
  /** Chunks (and the end) held until the first subscriber; null once one came. */
  private backlog: { chunks: TtsStreamChunk[]; end?: { error?: unknown } } | null = { chunks: [] };
  private subscribers = 0;
  private spanCount = 0;
  private chunkIndex = 0;
  private audioSamples = 0;
  private startedAt: number | undefined;
  private firstAudioAt: number | undefined;
  private inputClosed = false;
  private closed = false;
  private readonly sampleRate: number;
  /** Ends this stream's first-audio priority (first-audio-priority.ts); set while it is being made. */
  private releasePriority: (() => void) | undefined;

  constructor(
    private readonly pipeline: SpanPipeline<U>,
    private readonly options: SpanStreamerOptions = {},
  ) {
    this.splitter = new SentenceSplitter({ maxChars: options.maxSpanChars, firstSpanWords: options.firstSpanWords });
    this.sampleRate = options.sampleRateOut ?? pipeline.sampleRate;
    if (this.sampleRate !== pipeline.sampleRate && !options.resampler) {
      throw new Error(`sample_rate_out ${this.sampleRate} needs a resampler (engine rate ${pipeline.sampleRate})`);
    }
    this.output$ = new Observable<TtsStreamChunk>((subscriber) => {
      this.subscribers++;
      const backlog = this.backlog;
      this.backlog = null;
      if (backlog) {
        for (const chunk of backlog.chunks) subscriber.next(chunk);
        if (backlog.end) {
          if (backlog.end.error !== undefined) subscriber.error(backlog.end.error);
          else subscriber.complete();
          return;
        }
      }
      const subscription = this.subject.subscribe(subscriber);
      return () => {
        subscription.unsubscribe();
        // The last listener left before the end: nobody wants the rest, stop the work.
        if (--this.subscribers === 0 && !this.closed) this.cancel();
      };
    });
    void this.runProducer();
    void this.runConsumer();
  }

  send(text: string): void {
    if (typeof text !== "string") throw new TypeError(`send() takes text, got ${typeof text}`);
    if (this.inputClosed) return;
    this.startedAt ??= performance.now();
    for (const span of this.splitter.push(text)) this.enqueue(span);
  }

  flush(): void {
    if (this.inputClosed) return;
    for (const span of this.splitter.flush()) this.enqueue(span);
  }

  finish(): void {
    if (this.inputClosed) return;
    this.startedAt ??= performance.now();
    for (const span of this.splitter.finish()) this.enqueue(span);
    this.inputClosed = true;
    this.spans.end();
  }

  cancel(): void {
    if (this.closed) return;
    this.inputClosed = true;
    this.abort.abort();
    this.spans.clear();
    this.jobs.clear();
    const chunk: CancelledChunk = { kind: "cancelled", is_final: true, finish_reason: "cancelled", ...this.metrics() };
    this.close(chunk);
  }

  private enqueue(raw: string): void {
    const text = speakableText(raw);
    if (!isSpeakable(text)) return;
    const span = { index: this.spanCount++, text };
    this.options.onSpan?.(span);
    this.spans.push(span);
  }

  private async runProducer(): Promise<void> {
    const signal = this.abort.signal;
    try {
      for await (const span of this.spans) {
        if (signal.aborted) break;
        // The first span's work, until its first audio leaves, goes before local LLM steps.
        if (this.firstAudioAt === undefined && !this.releasePriority && this.pipeline.runsLocally !== false) {
          this.releasePriority = (this.options.priority ?? firstAudioPriority).hold();
        }
        const units = new AsyncQueue<U>();
        this.jobs.push({ span, units });
        try {
          await this.pipeline.produce(span, (unit) => units.push(unit), signal, this.clock);
          units.end();
        } catch (err) {
          units.fail(err);
          throw err;
        }
      }
      this.jobs.end();
    } catch (err) {
      this.jobs.fail(err);
    }
  }

  private async runConsumer(): Promise<void> {
    const signal = this.abort.signal;
    try {
      for await (const job of this.jobs) {
        if (signal.aborted) return;
        const resample = this.resamplerFor();
        const emit: SpanEmit = (audio, spanEnd = false) => {
          if (!resample) return this.emitAudio(job.span, audio);
          const converted = resample.push(audio);
          // The span's last piece also carries what the resampler held back.
          this.emitAudio(job.span, spanEnd ? concat(converted, resample.end()) : converted);
        };
        await this.pipeline.consume(job.span, job.units, emit, signal, this.clock);
      }
      if (signal.aborted) return;
      const final: TtsChunk = {
        kind: "audio",
        audio: new Float32Array(0),
        sample_rate: this.sampleRate,
        chunk_index: this.chunkIndex++,
        is_final: true,
        ...this.metrics(),
      };
      this.close(final);
    } catch (err) {
      if (signal.aborted) return;
      this.abort.abort();
      this.fail(err);
    }
  }

  private resamplerFor(): SpanResampler | undefined {
    if (this.sampleRate === this.pipeline.sampleRate) return undefined;
    return this.options.resampler!(this.pipeline.sampleRate, this.sampleRate);
  }

  private emitAudio(span: Span, audio: Float32Array): void {
    if (this.closed || this.abort.signal.aborted || audio.length === 0) return;
    this.firstAudioAt ??= performance.now();
    this.releasePriority?.();
    this.audioSamples += audio.length;
    this.emit({
      kind: "audio",
      audio,
      sample_rate: this.sampleRate,
      chunk_index: this.chunkIndex++,
      text: span.text,
      is_final: false,
    });
  }

  private metrics(): TtsMetrics {
    const now = performance.now();
    const started = this.startedAt ?? now;
    const audioSeconds = this.audioSamples / this.sampleRate;
    const processing = this.clock.seconds;
    return {
      time_to_first_audio: this.firstAudioAt === undefined ? undefined : (this.firstAudioAt - started) / 1000,
      total_seconds: (now - started) / 1000,
      audio_seconds: audioSeconds,
      rtf: audioSeconds > 0 ? processing / audioSeconds : 0,
      ...this.pipeline.metrics?.(),
    };
  }

  private emit(chunk: TtsStreamChunk): void {
    if (this.backlog) this.backlog.chunks.push(chunk);
    else this.subject.next(chunk);
  }

  private close(final: TtsStreamChunk): void {
    if (this.closed) return;
    this.closed = true;
    this.releasePriority?.();
    // Drop undefined metrics (no audio before a cancel) so the wire shape stays clean.
    for (const key of Object.keys(final)) if ((final as Record<string, unknown>)[key] === undefined) delete (final as Record<string, unknown>)[key];
    this.emit(final);
    if (this.backlog) this.backlog.end = {};
    else this.subject.complete();
  }

  private fail(error: unknown): void {
    if (this.closed) return;
    this.closed = true;
    this.releasePriority?.();
    if (this.backlog) this.backlog.end = { error };
    else this.subject.error(error);
  }
}

function concat(a: Float32Array, b: Float32Array): Float32Array {
  if (b.length === 0) return a;
  const out = new Float32Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
