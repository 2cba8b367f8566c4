/**
 * The open streams of a node by stream_id, and what a node remembers of streams that have
 * ended or failed, so a late control message is recognised instead of reopening them.
 * Closing follows one order for every node: stop sending, then cancel, then release the
 * inputs that wait for an end (their done()).
 */
import type { Done } from "./node-runtime";

export interface StreamEntry {
  readonly id: string;
  /** Stops this stream's output reaching the node's outputs (unsubscribe). */
  stop(): void;
  /** Cancels the work; a cancelled stream sends its one cancelled final unless stopped first. */
  cancel(): void;
  /** done() callbacks of inputs that complete when the stream ends. */
  readonly waiting: Done[];
}

/** How many ended / failed ids are remembered (a bound, not a lifetime). */
const REMEMBERED = 1024;

class BoundedSet {
  private readonly items = new Set<string>();
  add(id: string): void {
    this.items.delete(id);
    this.items.add(id);
    if (this.items.size > REMEMBERED) this.items.delete(this.items.values().next().value as string);
  }
  has(id: string): boolean {
    return this.items.has(id);
  }
  delete(id: string): void {
    this.items.delete(id);
  }
}

export class StreamMap<S extends StreamEntry> {
  /** Streams taking input, by id. */
  private readonly open = new Map<string, S>();
  /** Streams that took their last input and are still producing output. */
  private readonly finishing = new Set<S>();
  private readonly ended = new BoundedSet();
  private readonly failed = new BoundedSet();

  get(id: string): S | undefined {
    return this.open.get(id);
  }

  add(stream: S): S {
    this.open.set(stream.id, stream);
    this.ended.delete(stream.id);
    this.failed.delete(stream.id);
    return stream;
  }

  /** The stream takes no more input; a later msg with its id is late (or opens a new stream). */
  finish(stream: S): void {
    if (this.open.get(stream.id) === stream) this.open.delete(stream.id);
    this.finishing.add(stream);
  }

  /** The stream sent its final (or failed): forgotten, its id remembered as ended. */
  end(stream: S): void {
    if (this.open.get(stream.id) === stream) this.open.delete(stream.id);
    this.finishing.delete(stream);
    this.ended.add(stream.id);
  }

  /** Whether `id` is finishing or has ended and no stream of that id is open: a control for it comes late. */
  isLate(id: string): boolean {
    if (this.open.has(id)) return false;
    return this.ended.has(id) || [...this.finishing].some((s) => s.id === id);
  }

  /** Marks `id` as failed (its error was reported): its input is dropped quietly until the turn ends. */
  markFailed(id: string): void {
    this.failed.add(id);
  }

  hasFailed(id: string): boolean {
    return this.failed.has(id);
  }

  /** The failed turn `id` ended: the next input of that id is a new attempt. */
  clearFailed(id: string): void {
    this.failed.delete(id);
  }

  /** Every stream not yet ended (open and finishing). */
  all(): S[] {
    return [...this.open.values(), ...this.finishing];
  }

  get size(): number {
    return this.open.size + this.finishing.size;
  }

  /** Cancels the streams of `id` (open and finishing); each ends with its cancelled final. */
  cancel(id: string): void {
    for (const stream of this.all()) if (stream.id === id) stream.cancel();
  }

  cancelAll(): void {
    for (const stream of this.all()) stream.cancel();
  }

  /** Node close: stop sending first (no cancelled final leaves a closing node), then cancel, then done. */
  close(): void {
    const streams = this.all();
    for (const stream of streams) stream.stop();
    for (const stream of streams) stream.cancel();
    for (const stream of streams) for (const done of stream.waiting.splice(0)) done();
    this.open.clear();
    this.finishing.clear();
  }
}
