/**
 * Pipelines for engines that synthesise a span by themselves (piper, espeak, kokoro): the
 * producer works on span k+1 while the consumer hands out span k's audio.
 *
 * A span may come in several pieces (kokoro: one model run per piece that fits its token
 * limit); each piece is handed out as soon as it is ready, so a long sentence starts playing
 * after its first piece. Engines that make a span in one call use WholeSpanPipeline.
 */
import type { AsyncQueue } from "./async-queue";
import type { BusyClock, Span, SpanEmit, SpanPipeline } from "./span-streamer";

export interface SpanPiece {
  audio: Float32Array;
  /** The span's last piece (lets a resampler flush what it holds). */
  last: boolean;
}

export type PiecewiseSynthesis = (text: string, signal: AbortSignal, sink: (piece: SpanPiece) => void) => Promise<void>;
export type SpanSynthesis = (text: string, signal: AbortSignal) => Promise<Float32Array>;

export class PiecewiseSpanPipeline implements SpanPipeline<SpanPiece> {
  constructor(
    readonly sampleRate: number,
    private readonly synthesize: PiecewiseSynthesis,
  ) {}

  async produce(span: Span, sink: (piece: SpanPiece) => void, signal: AbortSignal, clock: BusyClock): Promise<void> {
    if (signal.aborted) return;
    await clock.time(() =>
      this.synthesize(span.text, signal, (piece) => {
        if (!signal.aborted) sink(piece);
      }),
    );
  }

  async consume(span: Span, pieces: AsyncQueue<SpanPiece>, emit: SpanEmit, signal: AbortSignal): Promise<void> {
    for await (const piece of pieces) {
      if (signal.aborted) return;
      emit(piece.audio, piece.last);
    }
  }
}

/** One call per span: the whole span's audio is its one (last) piece. */
export class WholeSpanPipeline extends PiecewiseSpanPipeline {
  constructor(sampleRate: number, synthesize: SpanSynthesis) {
    super(sampleRate, async (text, signal, sink) => sink({ audio: await synthesize(text, signal), last: true }));
  }
}
