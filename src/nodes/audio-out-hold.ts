/**
 * audio-out's held streams: an answer started before its turn has ended (whisper-streamer's
 * speculative final) is synthesised at once but must not sound until the turn really ends the
 * way the speculation assumed. Its msgs carry `hold: true` (set on the prompt; llm-stream and
 * tts-streamer pass it along), so audio-out keeps them here, in order, until `release: true`
 * for that stream plays them, or a cancel drops them without touching what is playing.
 */
import type { NodeMessage } from "./shared/stream-msg";
import type { Done } from "./shared/node-runtime";

type HeldMsg = { msg: NodeMessage; done: Done };

/** Released stream ids remembered (their later msgs still carry hold: true); the oldest are forgotten first. */
const REMEMBERED_RELEASES = 256;

export class HeldStreams {
  /** Held streams' msgs, oldest first. */
  private readonly held = new Map<string, HeldMsg[]>();
  private readonly released = new Set<string>();

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
    this.held.set(id, msgs);
    const hasContent = (msg.payload !== undefined && msg.payload !== null) || msg.is_final === true;
    if (hasContent) msgs.push({ msg, done });
    else done();
  }

  /** Marks `id` released and hands back its held msgs, oldest first, for playing. */
  private release(id: string): HeldMsg[] {
    this.released.add(id);
    if (this.released.size > REMEMBERED_RELEASES) this.released.delete(this.released.values().next().value as string);
    const msgs = this.held.get(id) ?? [];
    this.held.delete(id);
    return msgs;
  }

  /** Drops a held stream (cancelled): its msgs complete unplayed. False when `id` was not held. */
  drop(id: string): boolean {
    const msgs = this.held.get(id);
    if (!msgs) return false;
    this.held.delete(id);
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
