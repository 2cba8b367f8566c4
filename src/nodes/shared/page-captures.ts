/**
 * The open captures of one node, at most one per source: per browser page for the pages'
 * microphones (so two tablets can talk at once, each its own turn and stream_id), or one
 * under the key "" for a recorder or a WAV file.
 */
import type { MicCapture } from "./mic-capture";

export class PageCaptures {
  private readonly byKey = new Map<string, MicCapture>();

  get size(): number {
    return this.byKey.size;
  }

  /** The capture open for `key`, or with no key whether any is open. */
  has(key?: string): boolean {
    return key === undefined ? this.byKey.size > 0 : this.byKey.has(key);
  }

  get(key: string): MicCapture | undefined {
    return this.byKey.get(key);
  }

  /** Keeps `capture` as `key`'s open one, unless its source already ended while it opened. */
  add(key: string, capture: MicCapture): void {
    if (!capture.ended) this.byKey.set(key, capture);
  }

  /** Forgets `capture` (it ended); false when it was no longer open. */
  remove(capture: MicCapture): boolean {
    for (const [key, c] of this.byKey) {
      if (c === capture) return this.byKey.delete(key);
    }
    return false;
  }

  /** The captures to stop: the one for `key`, or all of them. */
  pick(key?: string): MicCapture[] {
    if (key === undefined) return [...this.byKey.values()];
    const c = this.byKey.get(key);
    return c ? [c] : [];
  }
}
