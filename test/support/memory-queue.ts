// An in-memory EventQueue (the interface DurableQueue implements), for tests
// of what sits on a queue: it stores each item's JSON as DurableQueue does,
// can refuse over a limit, and can fail the next peeks or acks on demand.
import { EventQueue, QueueFullError } from '../../nodes/lib/delivery/queue/queue';

export class MemoryQueue implements EventQueue {
  /** The queued items' JSON. */
  items: Buffer[] = [];
  failNextAck = 0;
  failNextPeek = 0;
  closed = false;
  constructor(private readonly maxEvents = Infinity) {}
  get length(): number {
    return this.items.length;
  }
  get bytes(): number {
    return this.items.reduce((sum, json) => sum + json.length + 1, 0);
  }
  async append(items: unknown[]): Promise<void> {
    if (this.items.length + items.length > this.maxEvents) throw new QueueFullError('queue full');
    this.items.push(...items.map((item) => Buffer.from(JSON.stringify(item) ?? 'null')));
  }
  async peek(max: number, skip = 0): Promise<Buffer[]> {
    if (this.failNextPeek > 0) {
      this.failNextPeek--;
      throw Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' });
    }
    return this.items.slice(skip, skip + max);
  }
  async ack(count: number): Promise<void> {
    if (this.failNextAck > 0) {
      this.failNextAck--;
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    }
    this.items.splice(0, count);
  }
  async close(): Promise<void> {
    this.closed = true;
  }
  async destroy(): Promise<void> {
    this.items = [];
  }
}
