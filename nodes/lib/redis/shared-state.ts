// The small shared states of several instances, each one atomic in Redis:
// "first to see this event id within the window" (the source's repeat
// dropping), "first to open this door for this person within the cooldown"
// (door access), and the poll cursor.
import type { Redis } from 'ioredis';
import type { Cursor, CursorStore } from '../findface/poller';
import { LEASE_GUARD } from './lease';

/**
 * True for the first caller that claims `key` within `ttlMs`, on any
 * instance; false for every later one until it expires (`SET NX PX`).
 */
export async function claimFirst(redis: Redis, key: string, ttlMs: number): Promise<boolean> {
  return (await redis.set(key, '1', 'PX', Math.max(1, Math.round(ttlMs)), 'NX')) === 'OK';
}

/** Repeats across instances: the shared form of RecentIds (nodes/lib/source/recent-ids.ts). */
export class SharedRecentIds {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly windowMs: number,
  ) {}

  /** True when any instance saw `id` within the window; records it either way. */
  async seenBefore(id: string): Promise<boolean> {
    return !(await claimFirst(this.redis, `${this.prefix}:seen:${id}`, this.windowMs));
  }

  /** Only the events no instance saw within the window, in order; those are recorded as seen. */
  async fresh<T extends { id: unknown }>(events: T[]): Promise<T[]> {
    const pipeline = this.redis.pipeline();
    for (const event of events) pipeline.set(`${this.prefix}:seen:${String(event.id)}`, '1', 'PX', Math.max(1, Math.round(this.windowMs)), 'NX');
    const results = (await pipeline.exec()) ?? [];
    const failed = results.find(([error]) => error);
    if (failed) throw failed[0];
    return events.filter((_, i) => results[i]?.[1] === 'OK');
  }

  /** The events were not accepted after all (no queue took them): their repeat must pass. */
  async forget(ids: string[]): Promise<void> {
    if (ids.length) await this.redis.del(...ids.map((id) => `${this.prefix}:seen:${id}`));
  }
}

const FENCED_SET = `${LEASE_GUARD}
redis.call('SET', KEYS[2], ARGV[2])
return 1`;

/**
 * The poll cursor in Redis, so that whichever instance polls next goes on
 * from it. With a lease, a save is fenced by it: a poller paused past its
 * lease cannot move the cursor of the one that took over.
 */
export class RedisCursorStore implements CursorStore {
  constructor(
    private readonly redis: Redis,
    private readonly key: string,
    private readonly lease?: { key: string; value(): string | undefined },
  ) {}

  async load(): Promise<Cursor | undefined> {
    const text = await this.redis.get(this.key);
    if (text === null) return undefined;
    return JSON.parse(text) as Cursor;
  }

  async save(cursor: Cursor): Promise<void> {
    if (!this.lease) {
      await this.redis.set(this.key, JSON.stringify(cursor));
      return;
    }
    const held = this.lease.value();
    if (held === undefined) throw Object.assign(new Error('LEASE_LOST this instance does not hold the poll lease'), { code: 'LEASE_LOST' });
    await this.redis.eval(FENCED_SET, 2, this.lease.key, this.key, held, JSON.stringify(cursor));
  }
}
