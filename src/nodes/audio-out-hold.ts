/**
 * audio-out's held streams: an answer started before its turn has ended (whisper-streamer's
 * speculative final) is synthesised at once but must not sound until the turn really ends the
 * way the speculation assumed. Its msgs carry `hold: true` (set on the prompt; llm-stream and
 * tts-streamer pass it along), so audio-out keeps them here, in order, until `release: true`
 * for that stream plays them, or a cancel drops them without touching what is playing.
 *
 * A hold that nothing ends (the flow lost its final: a failed whisper-streamer, a route function
 * that never sends the release) would keep its audio for ever; after `timeoutMs` (30 s, far past
 * any turn's end; `VOICE_STREAM_HOLD_TIMEOUT_MS` changes it) it is dropped and reported.
 */
import type { NodeMessage } from "./shared/stream-msg";
import type { Done } from "./shared/node-runtime";

export type HeldMsg = { msg: NodeMessage; done: Done };

/** Released stream ids remembered (their later msgs still carry hold: true); the oldest are forgotten first. */
const REMEMBERED_RELEASES = 256;

/** How long a hold may wait for its release or cancel. */
export function holdTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const value = Number(env.VOICE_STREAM_HOLD_TIMEOUT_MS);
  return env.VOICE_STREAM_HOLD_TIMEOUT_MS !== undefined && Number.isFinite(value) && value > 0 ? value : 30_000;
}

export class HeldStreams {
  /** Held streams' msgs, oldest first. */
  private readonly held = new Map<string, HeldMsg[]>();
  private readonly released = new Set<string>();
  private readonly timers = new Map<string, NodeJS.Timeout>();

  /** `expired(id, msgs)` gets a hold nobody ended within `timeoutMs`, already dropped, to complete its msgs and say so. */
  constructor(
    private readonly expired: (id: string, msgs: HeldMsg[]) => void,
    readonly timeoutMs = holdTimeoutMs(),
  ) {}

  /**
   * Takes `msg` when it is the hold's business: a `release` plays what was held (through `play`;
   * `fail` reports a msg that cannot play), then the msg itself goes on unless it is control only;
   * a msg to hold is kept. True when the msg was consumed here.
   */
  route(msg: NodeMessage, id: string, done: Done, play: (msg: NodeMessage, done: Done) => void, fail: (err: unknown, done: Done) => void): boolean {
    if (msg.release === true) {
      for (const held of this.release(id)) {
        try {
          play(held.msg, held.done);
        } catch (err) {
          fail(err, held.done);
        }
      }
      if (msg.payload === undefined || msg.payload === null) {
        done();
        return true;
      }
    }
    // Only msgs that ask to be held and whose stream was not released yet wait.
    if (msg.hold !== true || this.released.has(id)) return false;
    this.keep(id, msg, done);
    return true;
  }

  /** Keeps `msg` (a control-only msg just opens the hold); its done is called when it is played or dropped. */
  private keep(id: string, msg: NodeMessage, done: Done): void {
    const msgs = this.held.get(id) ?? [];
    if (!this.held.has(id)) {
      this.held.set(id, msgs);
      const timer = setTimeout(() => this.expire(id), this.timeoutMs);
      timer.unref?.();
      this.timers.set(id, timer);
    }
    const hasContent = (msg.payload !== undefined && msg.payload !== null) || msg.is_final === true;
    if (hasContent) msgs.push({ msg, done });
    else done();
  }

  /** Marks `id` released and hands back its held msgs, oldest first, for playing. */
  private release(id: string): HeldMsg[] {
    this.released.add(id);
    if (this.released.size > REMEMBERED_RELEASES) this.released.delete(this.released.values().next().value as string);
    return this.take(id) ?? [];
  }

  /** Ends the hold of `id` (its timer too) and hands back its msgs; undefined when it was not held. */
  private take(id: string): HeldMsg[] | undefined {
    const msgs = this.held.get(id);
    this.held.delete(id);
    clearTimeout(this.timers.get(id));
    this.timers.delete(id);
    return msgs;
  }

  private expire(id: string): void {
    const msgs = this.take(id);
    if (msgs) this.expired(id, msgs);
  }

  /** Drops a held stream (cancelled): its msgs complete unplayed. False when `id` was not held. */
  drop(id: string): boolean {
    const msgs = this.take(id);
    if (!msgs) return false;
    for (const { done } of msgs) done();
    return true;
  }

  /** Drops every held stream; returns their ids. */
  dropAll(): string[] {
    const ids = [...this.held.keys()];
    for (const id of ids) this.drop(id);
    return ids;
  }

  /** Drops every held stream and forgets the releases (the node closes). */
  clear(): void {
    this.dropAll();
    this.released.clear();
  }
}
