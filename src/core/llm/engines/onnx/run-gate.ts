/**
 * A first-come, first-served lock around one ONNX session: callers queue for their turn,
 * run, and hand on. Generations that each take one step per turn therefore interleave
 * round-robin.
 */
export class RunGate {
  private tail: Promise<void> = Promise.resolve();
  private waiting = 0;

  /** Callers queued or running. */
  get pending(): number {
    return this.waiting;
  }

  /**
   * Runs `work` when every earlier caller is done. When `skip()` is true by the time the
   * turn comes (the caller was cancelled while queued), `work` is not run and undefined is returned.
   */
  async run<T>(work: () => Promise<T>, skip?: () => boolean): Promise<T | undefined> {
    let release!: () => void;
    const turn = new Promise<void>((resolve) => (release = resolve));
    const before = this.tail;
    this.tail = before.then(() => turn);
    this.waiting++;
    try {
      await before;
      if (skip?.()) return undefined;
      return await work();
    } finally {
      this.waiting--;
      release();
    }
  }

  /** Resolves once everything queued so far has finished. */
  async idle(): Promise<void> {
    await this.tail;
  }
}
