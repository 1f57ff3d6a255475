// The queue the webhook sender delivers from. `DurableQueue`
// (durable-queue.ts) keeps it on disk; tests may use any implementation of
// this interface.

/** Raised by `append` when the configured queue limit would be exceeded; nothing of that call is queued. */
export class QueueFullError extends Error {
  readonly code = 'QUEUE_FULL';
  constructor(message: string) {
    super(message);
    this.name = 'QueueFullError';
  }
}

export interface EventQueue {
  /** Items queued and not yet acknowledged (including a batch that is being sent). */
  readonly length: number;
  /** Bytes those items take in the queue's storage. */
  readonly bytes: number;
  /**
   * Queues `items` after everything already queued, all or nothing. Resolves
   * once they would survive a crash of this process (written to the OS);
   * rejects with QueueFullError over the limit, or with the I/O error.
   * A queue that other processes append to as well (lib/redis/redis-queue.ts)
   * resolves with its length just after this append: `length` may already
   * count later appends.
   */
  append(items: unknown[]): Promise<number | void>;
  /**
   * The oldest `max` unacknowledged items after the first `skip` (default 0),
   * in order, without removing them, as the UTF-8 JSON that `append` stored
   * (JSON.stringify of each item, undefined as `null`): the sender posts these
   * bytes as they are, with no parse and re-encode.
   */
  peek(max: number, skip?: number): Promise<Buffer[]>;
  /** Removes the oldest `count` items: the batch just delivered or given up. */
  ack(count: number): Promise<void>;
  /** Flushes to disk and releases files; the queue survives for the next open. */
  close(): Promise<void>;
  /** Closes and deletes the queue's storage (its node was removed from the flows). */
  destroy(): Promise<void>;
}
