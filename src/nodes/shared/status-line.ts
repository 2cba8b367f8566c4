/**
 * A node's status line: state changes show at once; progress (many per second while audio
 * flows) at most once per interval, the latest value winning, so the editor is not flooded.
 */
import type { Node, NodeStatus } from "node-red";

export class StatusLine {
  private last = 0;
  private timer: NodeJS.Timeout | undefined;
  private pending: (() => NodeStatus | undefined) | undefined;

  constructor(
    private readonly node: Node,
    private readonly intervalMs = 250,
  ) {}

  /** A state change (ready, done, cancelled, error): shown now, replacing progress still due. */
  show(status: NodeStatus): void {
    this.cancelPending();
    this.last = Date.now();
    this.node.status(status);
  }

  /** Progress: shown now when the last status is old enough, else once the interval has passed. */
  progress(make: () => NodeStatus | undefined): void {
    this.pending = make;
    if (this.timer) return;
    const wait = this.last + this.intervalMs - Date.now();
    if (wait <= 0) return this.flush();
    this.timer = setTimeout(() => this.flush(), wait);
  }

  /** Stops pending progress (node close). */
  stop(): void {
    this.cancelPending();
  }

  private flush(): void {
    this.timer = undefined;
    const make = this.pending;
    this.pending = undefined;
    const status = make?.();
    if (!status) return;
    this.last = Date.now();
    this.node.status(status);
  }

  private cancelPending(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = undefined;
  }
}
