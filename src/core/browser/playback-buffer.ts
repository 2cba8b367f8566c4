/**
 * What a page that connects late needs to play a stream from its start: every chunk (and
 * every text marker) of each stream still open, kept until the stream ends or is stopped.
 * Bounded per stream, so a stream that never ends cannot grow without limit.
 */
export interface BufferedText {
  text: string;
  /** Seconds into the stream where this text's audio begins. */
  at: number;
}

export interface BufferedStream {
  id: string;
  sampleRate: number;
  /** Sessions the stream plays to; undefined = every page. */
  target?: ReadonlySet<string>;
  chunks: Float32Array[];
  texts: BufferedText[];
  samples: number;
  /** Samples left out at the front once the stream passed `maxSeconds` (the late page starts there). */
  trimmed: number;
}

export class PlaybackBuffer {
  private readonly streams = new Map<string, BufferedStream>();

  /** `maxSeconds`: the most audio kept per stream (the oldest is let go past it). */
  constructor(private readonly maxSeconds = 600) {
    if (!(maxSeconds > 0)) throw new RangeError(`replay buffer must hold a positive number of seconds, got ${maxSeconds}`);
  }

  /** Opens `id` if it is new; returns it. */
  open(id: string, sampleRate: number, target?: ReadonlySet<string>): BufferedStream {
    let s = this.streams.get(id);
    if (!s) {
      s = { id, sampleRate, target, chunks: [], texts: [], samples: 0, trimmed: 0 };
      this.streams.set(id, s);
    }
    return s;
  }

  has(id: string): boolean {
    return this.streams.has(id);
  }

  get(id: string): BufferedStream | undefined {
    return this.streams.get(id);
  }

  append(id: string, samples: Float32Array, sampleRate: number, target?: ReadonlySet<string>): void {
    const s = this.open(id, sampleRate, target);
    s.chunks.push(samples);
    s.samples += samples.length;
    const max = Math.round(this.maxSeconds * s.sampleRate);
    while (s.samples - s.trimmed > max && s.chunks.length > 1) {
      s.trimmed += s.chunks.shift()!.length;
    }
  }

  addText(id: string, text: string, at: number, sampleRate: number, target?: ReadonlySet<string>): void {
    this.open(id, sampleRate, target).texts.push({ text, at });
  }

  /** The stream is complete: a page connecting now no longer needs it. */
  end(id: string): void {
    this.streams.delete(id);
  }

  clear(): void {
    this.streams.clear();
  }

  /** Open streams in the order they began. */
  openStreams(): BufferedStream[] {
    return [...this.streams.values()];
  }
}
