/**
 * Decides, frame by frame, when a codec engine decodes audio and which codes each decode
 * sees (TTSStreamConfig semantics). Pure bookkeeping, no ONNX: the engine feeds it the
 * speech codes of one span as the LM produces them and runs the decode requests it returns.
 *
 * Per chunk of new frames [start, end):
 *  - due once end + max(lookforward, overlap) frames exist (the first chunk: first_frames_per_chunk
 *    new frames; then frames_per_chunk each), or at the end of the span with whatever exists;
 *  - the decode window reaches `lookback` frames left of `start` (the voice's reference codes
 *    fill it at the start of a span) and `lookforward` frames right of `end`;
 *  - the audio for [start, end) is emitted, and `overlap_frames` more frames are held back to be
 *    crossfaded into the next chunk (see audio/ola.ts). Offsets are computed per chunk, so a
 *    first chunk of another size joins exactly.
 */
import type { ChunkingConfig } from "../../chunking";
import { OverlapAdd, fadeIn, fadeOut } from "../../../audio/ola";

export { DEFAULT_CHUNKING, validateChunking, type ChunkingConfig } from "../../chunking";

/** One decode to run: the codes of the window, and how to cut the emitted part out of its audio. */
export interface DecodeRequest {
  codes: number[];
  /** Chunk's first frame within `codes`. */
  frameOffset: number;
  /** Frames to emit. */
  emitFrames: number;
  /** Frames after them that are held back for the crossfade. */
  holdFrames: number;
  /** Span frames [start, end) this chunk emits. */
  start: number;
  end: number;
  /** Frames of the span generated when the decode was requested (for step-count checks). */
  framesAvailable: number;
  isFirst: boolean;
  isLast: boolean;
}

export class CodecChunker {
  private readonly codes: number[] = [];
  /** Codes dropped from the front of `codes` (no window can reach them any more). */
  private dropped = 0;
  /** Span frames whose audio has been emitted (the held-back tail excluded). */
  private emitted = 0;
  private chunks = 0;
  private readonly ola = new OverlapAdd();

  /**
   * `context`: the voice's reference codes, the left context at the start of the span.
   * `hop`: samples per frame; `fadeSamples`: length of the fade at each end of the span.
   */
  constructor(
    private readonly config: ChunkingConfig,
    private readonly context: readonly number[],
    private readonly hop: number,
    private readonly fadeSamples: number,
  ) {}

  /** Frames of the span generated so far. */
  get framesGenerated(): number {
    return this.dropped + this.codes.length;
  }

  /** Adds one generated frame. */
  push(code: number): void {
    this.codes.push(code);
  }

  /**
   * The next decode that is due, or undefined. `spanDone`: the span's last frame is known, so
   * chunks no longer wait for right context. Call until undefined, applying each in turn.
   */
  next(spanDone: boolean): DecodeRequest | undefined {
    const n = this.framesGenerated;
    const size = this.chunks === 0 ? this.config.first_frames_per_chunk : this.config.frames_per_chunk;
    const end = this.emitted + size;
    const rightNeed = Math.max(this.config.lookforward, this.config.overlap_frames);
    if (!spanDone) {
      return n >= end + rightNeed ? this.request(end, end + rightNeed, this.config.overlap_frames, false) : undefined;
    }
    if (this.emitted >= n) return undefined;
    if (end < n) return this.request(end, Math.min(n, end + rightNeed), Math.min(this.config.overlap_frames, n - end), false);
    return this.request(n, n, 0, true);
  }

  private request(end: number, windowEnd: number, holdFrames: number, isLast: boolean): DecodeRequest {
    const start = this.emitted;
    const ctx = this.context.length;
    // Window in "context ++ span" coordinates.
    const from = Math.max(0, ctx + start - this.config.lookback);
    const to = ctx + windowEnd;
    const codes: number[] = [];
    for (let i = from; i < to; i++) codes.push(i < ctx ? this.context[i] : this.codes[i - ctx - this.dropped]);
    return {
      codes,
      frameOffset: ctx + start - from,
      emitFrames: end - start,
      holdFrames,
      start,
      end,
      framesAvailable: this.framesGenerated,
      isFirst: this.chunks === 0,
      isLast,
    };
  }

  /**
   * The samples to emit for `request`, given the decoder's audio for its whole window.
   * Requests must be applied in the order `next` returned them.
   */
  apply(request: DecodeRequest, windowAudio: Float32Array): Float32Array {
    const first = request.frameOffset * this.hop;
    const length = (request.emitFrames + request.holdFrames) * this.hop;
    if (windowAudio.length !== request.codes.length * this.hop) {
      throw new Error(
        `the codec decoder returned ${windowAudio.length} samples for ${request.codes.length} frames; ` +
          `expected ${request.codes.length * this.hop} (${this.hop} per frame)`,
      );
    }
    const out = this.ola.push(windowAudio.slice(first, first + length), request.holdFrames * this.hop);
    if (request.isFirst) fadeIn(out, this.fadeSamples);
    if (request.isLast) fadeOut(out, this.fadeSamples);
    this.emitted = request.end;
    this.chunks++;
    this.trim();
    return out;
  }

  /** Forgets codes that no later window can reach (more than `lookback` frames behind). */
  private trim(): void {
    const keepFrom = this.emitted - this.config.lookback; // span index of the oldest code still needed
    const drop = keepFrom - this.dropped;
    if (drop > 256) {
      this.codes.splice(0, drop);
      this.dropped += drop;
    }
  }
}
