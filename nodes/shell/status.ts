// A node's status, redrawn at most once per interval (as core's delay node
// does), so a busy node is not slowed by the editor's status traffic.
import type { Node, NodeStatus } from 'node-red';

export const STATUS_INTERVAL_MS = 500;
/** An error status longer than this is cut (the whole text is in the log). */
export const STATUS_MAX_CHARS = 100;

export class ThrottledStatus {
  private timer: NodeJS.Timeout | undefined;
  private dirty = false;
  private closed = false;

  /** `render` answers the status to show now. */
  constructor(
    private readonly node: Node,
    private readonly render: () => NodeStatus,
    private readonly intervalMs = STATUS_INTERVAL_MS,
  ) {}

  /** Something changed: drawn now when the last draw is older than the interval, else once at its end. */
  request(): void {
    if (this.closed) return;
    if (this.timer) {
      this.dirty = true;
      return;
    }
    this.draw();
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.dirty) {
        this.dirty = false;
        this.request();
      }
    }, this.intervalMs);
  }

  /** Draws at once (a state the user must see without delay: stopped, started). */
  now(): void {
    if (this.closed) return;
    this.dirty = false;
    this.draw();
  }

  /** Stops redrawing and clears the status (on close). */
  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.node.status({});
  }

  private draw(): void {
    this.node.status(this.render());
  }
}
