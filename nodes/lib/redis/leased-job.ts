// A job that one instance at a time runs (poll a FindFace server): started
// when this instance acquires the lease, stopped when it loses or gives it
// up. Each start builds the job afresh (`run` returns its stop), so a job
// whose state cannot restart (the poller) never runs twice at once.
import type { Redis } from 'ioredis';
import { Lease } from './lease';

export interface LeasedJobOptions {
  redis: Redis;
  key: string;
  owner: string;
  ttlMs: number;
  /** Starts the job; resolves to its stop. */
  run(): () => Promise<void>;
  /** Who runs it changed: this instance (true), or another one, named when known. */
  onHolder?(holding: boolean, holder?: string): void;
  onError?(error: Error): void;
}

export class LeasedJob {
  private readonly lease: Lease;
  private readonly options: LeasedJobOptions;
  private stopJob: (() => Promise<void>) | undefined;
  private stopped = false;
  private change: Promise<void> = Promise.resolve();
  private watch: ReturnType<typeof setInterval> | undefined;

  constructor(options: LeasedJobOptions) {
    this.options = options;
    this.lease = new Lease({
      redis: options.redis,
      key: options.key,
      owner: options.owner,
      ttlMs: options.ttlMs,
      onAcquired: () => this.follow(true),
      onLost: () => this.follow(false),
      onError: (error) => options.onError?.(error),
    });
  }

  get holding(): boolean {
    return this.lease.value !== undefined;
  }

  /** The lease's value while held (for writes fenced by it). */
  get leaseValue(): string | undefined {
    return this.lease.value;
  }

  start(): void {
    this.lease.start();
    void this.report();
    // Who holds it is shown on the others: looked at again every lease time.
    this.watch = setInterval(() => {
      if (!this.holding) void this.report();
    }, this.options.ttlMs);
    this.watch.unref?.();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.watch) clearInterval(this.watch);
    await this.change;
    await this.stopJob?.();
    this.stopJob = undefined;
    await this.lease.stop();
  }

  private follow(holding: boolean): void {
    this.change = this.change.then(async () => {
      if (holding && !this.stopped && !this.stopJob) this.stopJob = this.options.run();
      else if (!holding && this.stopJob) {
        const stop = this.stopJob;
        this.stopJob = undefined;
        await stop();
      }
      await this.report();
    });
  }

  private async report(): Promise<void> {
    if (this.holding) return this.options.onHolder?.(true);
    try {
      this.options.onHolder?.(false, await this.lease.holder());
    } catch (error) {
      this.options.onError?.(error as Error);
    }
  }
}
