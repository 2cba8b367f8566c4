/**
 * Routes the parts of a spoken turn to the pages of a VoiceChannel: the live captions, the
 * answer's text as it streams and the answer's audio go to the page session whose microphone
 * started the turn (found by the turn's stream_id, or an explicit session), or to every page.
 * Audio is resampled per stream to the channel's rate and kept for a page that connects
 * while it still plays (the stream lasts until its last sample has had time to play).
 */
import { StreamingResampler } from "../audio/resample";
import type { VoiceChannel } from "./voice-channel";

export type PlayTo = "session" | "all";

interface AudioStream {
  resampler?: StreamingResampler;
  rate: number;
  /** Seconds of audio sent so far, and when the first was sent (for how long the stream lasts). */
  seconds: number;
  firstAt: number;
  target?: ReadonlySet<string>;
}

export class VoiceTurns {
  /** stream_id → the session whose capture began it. */
  private readonly owners = new Map<string, string>();
  private readonly audio = new Map<string, AudioStream>();
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly channel: VoiceChannel,
    private readonly playTo: PlayTo = "session",
    private readonly now: () => number = () => Date.now(),
  ) {}

  /** A capture of `session` began stream `streamId`: its turn belongs to that page. */
  own(streamId: string, session: string): void {
    this.owners.set(streamId, session);
    // Bounded: old turns are forgotten (a turn's answer comes within minutes).
    if (this.owners.size > 1000) this.owners.delete(this.owners.keys().next().value as string);
  }

  /** Which pages a message of `streamId` goes to: undefined = every page. */
  target(streamId: string | undefined, session?: string): ReadonlySet<string> | undefined {
    if (this.playTo === "all") return undefined;
    const owner = session ?? (streamId !== undefined ? this.owners.get(streamId) : undefined);
    return owner ? new Set([owner]) : undefined;
  }

  caption(streamId: string | undefined, text: string, final: boolean, session?: string): void {
    this.channel.broadcast({ type: "caption", stream: streamId, text, final }, this.target(streamId, session));
  }

  answer(streamId: string | undefined, part: { delta?: string; text?: string; final: boolean }, session?: string): void {
    this.channel.broadcast({ type: "answer", stream: streamId, ...part }, this.target(streamId, session));
  }

  state(state: string, streamId?: string, session?: string): void {
    this.channel.broadcast({ type: "state", state, stream: streamId }, this.target(streamId, session));
  }

  /** A chunk of the answer's audio (any rate); `final` ends the stream. */
  play(streamId: string, samples: Float32Array | undefined, sampleRate: number, options: { text?: string; final?: boolean; session?: string } = {}): void {
    let s = this.audio.get(streamId);
    if (!s) {
      s = { rate: sampleRate, seconds: 0, firstAt: this.now(), target: this.target(streamId, options.session) };
      this.audio.set(streamId, s);
    }
    if (samples && samples.length > 0) {
      if (options.text) this.channel.annotate(streamId, options.text, s.seconds, s.target);
      if (sampleRate !== this.channel.sampleRate && (!s.resampler || s.resampler.fromRate !== sampleRate)) {
        if (s.resampler) this.send(streamId, s, s.resampler.flush());
        s.resampler = new StreamingResampler(sampleRate, this.channel.sampleRate);
      }
      this.send(streamId, s, s.resampler && sampleRate !== this.channel.sampleRate ? s.resampler.push(samples) : samples);
    }
    if (options.final) {
      if (s.resampler) this.send(streamId, s, s.resampler.flush());
      this.audio.delete(streamId);
      // The pages know now that no more audio comes (a gap before this was not the end).
      this.channel.broadcast({ type: "final", stream: streamId }, s.target);
      // Kept for late pages until it has had time to play out (plus a little for a slow start).
      const left = Math.max(0, s.seconds * 1000 - (this.now() - s.firstAt)) + 1000;
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        this.channel.endStream(streamId);
      }, left);
      this.timers.add(timer);
    }
  }

  private send(streamId: string, s: AudioStream, samples: Float32Array): void {
    if (samples.length === 0) return;
    this.channel.play(samples, streamId, s.target);
    s.seconds += samples.length / this.channel.sampleRate;
  }

  /** Silences `streamId` (or everything) on the pages at once. */
  cancel(streamId?: string): void {
    if (streamId === undefined) this.audio.clear();
    else this.audio.delete(streamId);
    this.channel.stop(streamId);
  }

  close(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
