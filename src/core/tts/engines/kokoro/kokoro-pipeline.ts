/**
 * Span pipeline for Kokoro: a span may be synthesised in several model runs (one per piece
 * that fits the token limit), and each piece's audio is handed out as soon as it is ready,
 * so a long sentence starts playing after its first piece. The producer works on span k+1
 * while the consumer hands out span k.
 */
import type { AsyncQueue } from "../../async-queue";
import type { BusyClock, Span, SpanEmit, SpanPipeline } from "../../span-streamer";

export interface KokoroPiece {
  audio: Float32Array;
  /** The span's last piece (lets a resampler flush what it holds). */
  last: boolean;
}

export type KokoroSpanSynthesis = (text: string, signal: AbortSignal, sink: (piece: KokoroPiece) => void) => Promise<void>;

export class KokoroPipeline implements SpanPipeline<KokoroPiece> {
  constructor(
    readonly sampleRate: number,
    private readonly synthesize: KokoroSpanSynthesis,
  ) {}

  async produce(span: Span, sink: (piece: KokoroPiece) => void, signal: AbortSignal, clock: BusyClock): Promise<void> {
    if (signal.aborted) return;
    await clock.time(() =>
      this.synthesize(span.text, signal, (piece) => {
        if (!signal.aborted) sink(piece);
      }),
    );
  }

  async consume(span: Span, pieces: AsyncQueue<KokoroPiece>, emit: SpanEmit, signal: AbortSignal): Promise<void> {
    for await (const piece of pieces) {
      if (signal.aborted) return;
      emit(piece.audio, piece.last);
    }
  }
}
