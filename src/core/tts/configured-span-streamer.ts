/**
 * A SpanStreamer set from a stream's resolved settings (stream-config.ts): the output rate, reached
 * through a per-span resampler, and the first span's early cut. Every voice built on SpanStreamer
 * opens its streams through here, so a stream setting reaches all of them (first_span_words once
 * reached only some).
 */
import type { TtsStreamConfig } from "../types";
import { spanResampler } from "./resampling";
import { SpanStreamer, type SpanPipeline } from "./span-streamer";

/** `defaultRate`: the output rate when the stream asks none (else the pipeline's own). */
export function configuredSpanStreamer<U>(pipeline: SpanPipeline<U>, config: TtsStreamConfig, defaultRate?: number): SpanStreamer<U> {
  return new SpanStreamer(pipeline, { sampleRateOut: config.sample_rate_out ?? defaultRate, resampler: spanResampler, firstSpanWords: config.first_span_words });
}
