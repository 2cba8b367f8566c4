/**
 * The time source the player paces by. Real playback uses the wall clock; tests inject a
 * ManualClock and advance it, so "drain resolves after 1 s of audio" is checked exactly
 * and without waiting.
 */
export interface Clock {
  /** Milliseconds on this clock's own time line. */
  now(): number;
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  setTimer: (fn, ms) => setTimeout(fn, Math.max(0, ms)),
  clearTimer: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

interface ManualTimer {
  id: number;
  due: number;
  fn: () => void;
}

/** A clock that moves only when told to; timers fire in due order as it passes them. */
export class ManualClock implements Clock {
  private time = 0;
  private nextId = 1;
  private timers: ManualTimer[] = [];

  now(): number {
    return this.time;
  }

  setTimer(fn: () => void, ms: number): unknown {
    const timer = { id: this.nextId++, due: this.time + Math.max(0, ms), fn };
    this.timers.push(timer);
    return timer.id;
  }

  clearTimer(handle: unknown): void {
    this.timers = this.timers.filter((t) => t.id !== handle);
  }

  /** Moves the clock forward by `ms`, firing every timer that falls due on the way. */
  advance(ms: number): void {
    const target = this.time + ms;
    for (;;) {
      let next: ManualTimer | undefined;
      for (const t of this.timers) if (t.due <= target && (!next || t.due < next.due || (t.due === next.due && t.id < next.id))) next = t;
      if (!next) break;
      this.timers = this.timers.filter((t) => t !== next);
      this.time = Math.max(this.time, next.due);
      next.fn();
    }
    this.time = target;
  }

  get pendingTimers(): number {
    return this.timers.length;
  }
}
