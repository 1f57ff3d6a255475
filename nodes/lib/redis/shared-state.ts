// The small shared states of several instances, each one atomic in Redis:
// "first to see this event id within the window" (the source's repeat
// dropping), "first to open this door for this person within the cooldown"
// (door access), and the poll cursor.
import type { Redis } from 'ioredis';
import type { Cursor, CursorStore } from '../findface/poller';

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
}

/** The poll cursor in Redis, so that whichever instance polls next goes on from it. */
export class RedisCursorStore implements CursorStore {
  constructor(
    private readonly redis: Redis,
    private readonly key: string,
  ) {}

  async load(): Promise<Cursor | undefined> {
    const text = await this.redis.get(this.key);
    if (text === null) return undefined;
    return JSON.parse(text) as Cursor;
  }

  async save(cursor: Cursor): Promise<void> {
    await this.redis.set(this.key, JSON.stringify(cursor));
  }
}
