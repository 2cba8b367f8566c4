/**
 * Pipeline for engines that synthesise a whole span in one call (piper, espeak): the producer
 * synthesises span k+1 while the consumer hands out span k's audio.
 */
import type { AsyncQueue } from "./async-queue";
import type { BusyClock, Span, SpanEmit, SpanPipeline } from "./span-streamer";

export type SpanSynthesis = (text: string, signal: AbortSignal) => Promise<Float32Array>;

export class WholeSpanPipeline implements SpanPipeline<Float32Array> {
  constructor(
    readonly sampleRate: number,
    private readonly synthesize: SpanSynthesis,
  ) {}

  async produce(span: Span, sink: (audio: Float32Array) => void, signal: AbortSignal, clock: BusyClock): Promise<void> {
    if (signal.aborted) return;
    const audio = await clock.time(() => this.synthesize(span.text, signal));
    if (!signal.aborted) sink(audio);
  }

  async consume(span: Span, units: AsyncQueue<Float32Array>, emit: SpanEmit, signal: AbortSignal): Promise<void> {
    // One unit per span: the whole span's audio.
    for await (const audio of units) {
      if (signal.aborted) return;
      emit(audio, true);
    }
  }
}
