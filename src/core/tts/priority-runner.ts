/**
 * Runs a streamer's model calls one at a time, most urgent first. The producer (LM steps)
 * runs ahead of the consumer (codec decodes), but a decode that is due goes before the
 * next LM step: the audio the listener waits for is never queued behind look-ahead work,
 * and on a small CPU the two would only slow each other down if run in parallel.
 * The next job is picked only after pending callbacks have run (setImmediate), so a decode
 * requested in reaction to a finished step is seen before the producer's next step.
 */
export const PRIORITY = { decode: 0, step: 1 } as const;

interface Job {
  priority: number;
  seq: number;
  run: () => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

export class PriorityRunner {
  private readonly jobs: Job[] = [];
  private busy = false;
  private scheduled = false;
  private seq = 0;

  run<T>(priority: number, fn: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.jobs.push({ priority, seq: this.seq++, run: fn, resolve: resolve as (v: unknown) => void, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.busy || this.scheduled || this.jobs.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.pump();
    });
  }

  private async pump(): Promise<void> {
    if (this.busy || this.jobs.length === 0) return;
    let best = 0;
    for (let i = 1; i < this.jobs.length; i++) {
      const a = this.jobs[i];
      const b = this.jobs[best];
      if (a.priority < b.priority || (a.priority === b.priority && a.seq < b.seq)) best = i;
    }
    const [job] = this.jobs.splice(best, 1);
    this.busy = true;
    try {
      job.resolve(await job.run());
    } catch (err) {
      job.reject(err);
    } finally {
      this.busy = false;
      this.schedule();
    }
  }
}
