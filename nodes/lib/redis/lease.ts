// A lease in Redis: which one of several Node-RED instances does a job that
// only one may do at a time (deliver a webhook queue, poll a FindFace
// server). A key set with `SET NX PX` holds `<owner>:<fence>`, where the
// fence is a counter incremented at every acquisition; the holder renews it
// every third of its time to live. Every write made under the lease (the
// queue's acknowledgement) checks in the same Lua script that the key still
// holds this exact value, so a holder that was paused past its lease (GC,
// a stopped VM) and was replaced cannot write after losing it.
//
// The holder counts the lease as lost when a renewal finds another value,
// or when no renewal has succeeded for a whole time to live (Redis down:
// another instance may have taken over meanwhile).
import type { Redis } from 'ioredis';
import { Clock, OneShotTimer, systemClock } from '../common/clock';

export interface LeaseOptions {
  redis: Redis;
  /** The lease's key; its fence counter is `<key>:fence`. */
  key: string;
  /** Who asks: shown to the other instances (`node-red@host:pid`). */
  owner: string;
  ttlMs: number;
  clock?: Clock;
  /** This instance now holds the lease. */
  onAcquired?(): void;
  /** This instance no longer holds it (taken over, or unsure while Redis was away). */
  onLost?(): void;
  /** Redis answered with an error (down, slow): for the node's status. */
  onError?(error: Error): void;
}

const ACQUIRE = `
local fence = redis.call('INCR', KEYS[2])
local value = ARGV[1] .. ':' .. fence
if redis.call('SET', KEYS[1], value, 'NX', 'PX', ARGV[2]) then return value end
return false`;

const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`;

const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/** Lua that a script guarded by a lease starts with: KEYS[1] the lease key, ARGV[1] the value held. */
export const LEASE_GUARD = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return redis.error_reply('LEASE_LOST the lease is held by another instance') end`;

export class Lease {
  private readonly redis: Redis;
  private readonly key: string;
  private readonly owner: string;
  private readonly ttlMs: number;
  private readonly clock: Clock;
  private readonly options: LeaseOptions;
  private readonly timer: OneShotTimer;
  private running = false;
  /** The value this instance holds (`owner:fence`), while it holds the lease. */
  private held: string | undefined;
  /** When the last renewal or acquisition succeeded (monotonic ms). */
  private confirmedAt = 0;
  private turn: Promise<void> = Promise.resolve();

  constructor(options: LeaseOptions) {
    this.options = options;
    this.redis = options.redis;
    this.key = options.key;
    this.owner = options.owner;
    this.ttlMs = options.ttlMs;
    this.clock = options.clock ?? systemClock;
    this.timer = new OneShotTimer(this.clock);
  }

  /** The value held (for guarded scripts), or undefined while not the holder. */
  get value(): string | undefined {
    return this.held;
  }

  get fence(): number | undefined {
    return this.held === undefined ? undefined : Number(this.held.slice(this.held.lastIndexOf(':') + 1));
  }

  /** Starts trying to acquire, then renewing, every third of the time to live. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  /** Stops renewing and gives the lease up at once (the next instance takes over without waiting it out). */
  async stop(): Promise<void> {
    this.running = false;
    this.timer.clear();
    await this.turn;
    const held = this.held;
    this.held = undefined;
    if (held !== undefined) {
      try {
        await this.redis.eval(RELEASE, 1, this.key, held);
      } catch (error) {
        this.options.onError?.(error as Error);
      }
    }
  }

  /** Who holds the lease now (`owner`), or undefined when nobody does. */
  async holder(): Promise<string | undefined> {
    const value = await this.redis.get(this.key);
    return value === null ? undefined : value.slice(0, value.lastIndexOf(':'));
  }

  private schedule(ms: number): void {
    if (!this.running) return;
    this.timer.start(ms, () => {
      this.turn = this.step().finally(() => this.schedule(Math.max(1, Math.floor(this.ttlMs / 3))));
    });
  }

  private async step(): Promise<void> {
    try {
      if (this.held === undefined) {
        const value = (await this.redis.eval(ACQUIRE, 2, this.key, `${this.key}:fence`, this.owner, String(this.ttlMs))) as string | null;
        if (value && this.running) {
          this.held = value;
          this.confirmedAt = this.clock.monotonic();
          this.options.onAcquired?.();
        } else if (value) {
          await this.redis.eval(RELEASE, 1, this.key, value);
        }
        return;
      }
      const renewed = Number(await this.redis.eval(RENEW, 1, this.key, this.held, String(this.ttlMs)));
      if (renewed === 1) this.confirmedAt = this.clock.monotonic();
      else this.lose();
    } catch (error) {
      this.options.onError?.(error as Error);
      if (this.held !== undefined && this.clock.monotonic() - this.confirmedAt >= this.ttlMs) this.lose();
    }
  }

  private lose(): void {
    if (this.held === undefined) return;
    this.held = undefined;
    this.options.onLost?.();
  }
}
