// One webhook node's delivery when several Node-RED instances share its
// queue in Redis: every instance appends; the one holding the delivery lease
// runs the sender. A change of holder stops the old sender at once (its
// acknowledgements would be refused by the fence anyway) and starts the new
// one from the head of the queue: at most the batch in flight is sent again.
// The holder learns of other instances' appends from a pub/sub notice, and
// looks again every third of the lease besides (a notice lost while the
// subscriber reconnected must not leave events waiting).
import { Lease } from './lease';
import { RedisQueue } from './redis-queue';
import type { Sender } from '../delivery/sender';
import type { Redis } from 'ioredis';

export interface SharedDeliveryOptions {
  redis: Redis;
  /** Key prefix of this webhook node's queue and lease. */
  prefix: string;
  /** Names this instance in the lease. */
  owner: string;
  leaseMs: number;
  maxEvents: number;
  /** Most JSON bytes queued; undefined = no limit. */
  maxBytes?: number;
  /** Subscribes to the queue's append notices; returns the unsubscribe. */
  subscribe(channel: string, listener: () => void): () => void;
  /** Builds the node's sender on the shared queue. */
  makeSender(queue: RedisQueue): Sender;
  /** Who delivers changed: this instance (true), or another one, named when known. */
  onHolder?(holding: boolean, holder?: string): void;
  onError?(error: Error): void;
}

export class SharedDelivery {
  readonly queue: RedisQueue;
  readonly sender: Sender;
  private readonly lease: Lease;
  private readonly options: SharedDeliveryOptions;
  private unsubscribe: (() => void) | undefined;
  private lookAgain: ReturnType<typeof setInterval> | undefined;
  private stopped = false;
  /** The sender's start or stop in progress: one at a time, in order. */
  private change: Promise<void> = Promise.resolve();

  constructor(options: SharedDeliveryOptions) {
    this.options = options;
    this.queue = new RedisQueue({
      redis: options.redis,
      prefix: options.prefix,
      maxEvents: options.maxEvents,
      maxBytes: options.maxBytes,
      leaseValue: () => this.lease.value,
    });
    this.sender = options.makeSender(this.queue);
    this.lease = new Lease({
      redis: options.redis,
      key: this.queue.keys.lease,
      owner: options.owner,
      ttlMs: options.leaseMs,
      onAcquired: () => this.follow(true),
      onLost: () => this.follow(false),
      onError: (error) => options.onError?.(error),
    });
  }

  /** Whether this instance delivers now. */
  get holding(): boolean {
    return this.lease.value !== undefined;
  }

  start(): void {
    const look = () => {
      this.queue.refresh().then(
        () => this.sender.notifyAppended(),
        (error: Error) => this.options.onError?.(error),
      );
    };
    this.unsubscribe = this.options.subscribe(this.queue.keys.appended, look);
    this.lookAgain = setInterval(
      () => {
        if (this.holding) look();
      },
      Math.max(100, Math.floor(this.options.leaseMs / 3)),
    );
    this.lookAgain.unref?.();
    this.lease.start();
    void this.queue.refresh().catch((error: Error) => this.options.onError?.(error));
    void this.reportHolder();
  }

  /** Queues the payloads in Redis, whoever delivers them (resolves once Redis has them). */
  enqueue(payloads: unknown[]): Promise<void> {
    return this.sender.enqueue(payloads);
  }

  /** Stops delivering and gives the lease up, so that another instance takes over at once. */
  async stop(graceMs: number): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    if (this.lookAgain) clearInterval(this.lookAgain);
    await this.change;
    await this.sender.stop(graceMs);
    await this.lease.stop();
  }

  private follow(holding: boolean): void {
    this.change = this.change.then(async () => {
      if (holding && !this.stopped) {
        await this.queue.refresh().catch((error: Error) => this.options.onError?.(error));
        this.sender.start();
      } else {
        await this.sender.stop(0);
      }
      await this.reportHolder();
    });
  }

  private async reportHolder(): Promise<void> {
    if (this.holding) {
      this.options.onHolder?.(true);
      return;
    }
    try {
      this.options.onHolder?.(false, await this.lease.holder());
    } catch (error) {
      this.options.onError?.(error as Error);
    }
  }
}
