// The webhook queue in Redis (`queue: "redis"`), shared by several Node-RED
// instances: every instance appends, one at a time (the holder of the
// delivery lease) reads and acknowledges. It keeps the EventQueue contract of
// the disk queue (nodes/lib/delivery/queue/queue.ts): all-or-nothing
// appends refused over `maxEvents`, reads of the stored JSON bytes from the
// head, acknowledgements of the oldest `count`.
//
// Layout, under one key prefix per webhook node:
// - `<prefix>:events`, a stream: one entry per event, field `e` = its JSON,
//   in arrival order (the stream's ids);
// - `<prefix>:bytes`, the JSON bytes the stream holds;
// - `<prefix>:lease`, the delivery lease (lease.ts);
// - channel `<prefix>:appended`, published on every append, so that the
//   holder wakes without polling.
// An acknowledgement is one Lua script: it checks the lease (fenced) and
// deletes the entries up to the last id the holder read (stream ids only
// grow, so those are the ones read). It is idempotent: when Redis applied it
// but its answer was lost (Redis killed, connection reset), the retry
// deletes nothing more. After a holder dies, the next one reads the same
// head again: at most the batch in flight is sent twice.
import type { Redis } from 'ioredis';
import { QueueFullError, EventQueue } from '../delivery/queue/queue';
import { LEASE_GUARD } from './lease';

const APPEND = `
local max = tonumber(ARGV[1])
local maxBytes = tonumber(ARGV[2])
local count = #ARGV - 2
local length = redis.call('XLEN', KEYS[1])
if max > 0 and length + count > max then
  return redis.error_reply('QUEUE_FULL ' .. length)
end
local bytes = 0
for i = 3, #ARGV do bytes = bytes + #ARGV[i] end
if maxBytes > 0 and tonumber(redis.call('GET', KEYS[2]) or '0') + bytes > maxBytes then
  return redis.error_reply('QUEUE_FULL ' .. length)
end
for i = 3, #ARGV do
  redis.call('XADD', KEYS[1], '*', 'e', ARGV[i])
end
local total = redis.call('INCRBY', KEYS[2], bytes)
length = length + count
redis.call('PUBLISH', KEYS[3], length)
return {length, total}`;

const ACK = `${LEASE_GUARD}
local entries = redis.call('XRANGE', KEYS[2], '-', ARGV[3], 'COUNT', ARGV[2])
local bytes = 0
for _, entry in ipairs(entries) do
  redis.call('XDEL', KEYS[2], entry[1])
  bytes = bytes + #entry[2][2]
end
local total = redis.call('DECRBY', KEYS[3], bytes)
return {redis.call('XLEN', KEYS[2]), total}`;

/** Deletes an empty queue only: another instance may still run the node and append. */
const DESTROY = `
if redis.call('XLEN', KEYS[1]) == 0 then redis.call('DEL', KEYS[1], KEYS[2]) return 1 end
return 0`;

const STATS = `return {redis.call('XLEN', KEYS[1]), tonumber(redis.call('GET', KEYS[2]) or '0')}`;

export interface RedisQueueOptions {
  redis: Redis;
  /** Key prefix of this webhook node's queue (e.g. `findface:webhook:<node id>`). */
  prefix: string;
  /** Most events queued; 0 = no limit (Redis's memory is then the limit). */
  maxEvents: number;
  /** Most JSON bytes queued; undefined or 0 = no limit. */
  maxBytes?: number;
  /** The delivery lease's value while this instance holds it (acknowledgements need it). */
  leaseValue(): string | undefined;
}

export class RedisQueue implements EventQueue {
  private readonly redis: Redis;
  readonly keys: { events: string; bytes: string; lease: string; appended: string };
  private readonly maxEvents: number;
  private readonly maxBytes: number;
  private readonly leaseValue: () => string | undefined;
  private cachedLength = 0;
  private cachedBytes = 0;
  /** The stream ids of the head as the last read saw them. */
  private headIds: string[] = [];

  constructor(options: RedisQueueOptions) {
    this.redis = options.redis;
    this.keys = {
      events: `${options.prefix}:events`,
      bytes: `${options.prefix}:bytes`,
      lease: `${options.prefix}:lease`,
      appended: `${options.prefix}:appended`,
    };
    this.maxEvents = options.maxEvents;
    this.maxBytes = options.maxBytes ?? 0;
    this.leaseValue = options.leaseValue;
  }

  /** The length as last seen (every operation and `refresh` update it; other instances append too). */
  get length(): number {
    return this.cachedLength;
  }

  get bytes(): number {
    return this.cachedBytes;
  }

  /** Reads the length and size from Redis (after a notice of another instance's append, or a reconnect). */
  async refresh(): Promise<void> {
    const [length, bytes] = (await this.redis.eval(STATS, 2, this.keys.events, this.keys.bytes)) as [number, number];
    this.cachedLength = Number(length);
    this.cachedBytes = Number(bytes);
  }

  /** Resolves with the length just after this append (other instances append too). */
  async append(items: unknown[]): Promise<number> {
    if (items.length === 0) return this.cachedLength;
    const records = items.map((item) => JSON.stringify(item) ?? 'null');
    try {
      const [length, bytes] = (await this.redis.eval(
        APPEND,
        3,
        this.keys.events,
        this.keys.bytes,
        this.keys.appended,
        String(this.maxEvents),
        String(this.maxBytes),
        ...records,
      )) as [number, number];
      this.cachedLength = Number(length);
      this.cachedBytes = Number(bytes);
      return Number(length);
    } catch (error) {
      const message = (error as Error).message ?? '';
      if (message.startsWith('QUEUE_FULL')) {
        this.cachedLength = Number(message.split(' ')[1]) || this.cachedLength;
        const limit = this.maxBytes > 0 ? `${this.maxEvents} events, ${this.maxBytes} bytes` : `${this.maxEvents} events`;
        throw new QueueFullError(`the Redis queue holds ${this.cachedLength} events, its limit is ${limit}: ${items.length} more refused`);
      }
      throw error;
    }
  }

  async peek(max: number, skip = 0): Promise<Buffer[]> {
    const entries = (await this.redis.xrangeBuffer(this.keys.events, '-', '+', 'COUNT', skip + max)) as Array<[Buffer, Buffer[]]>;
    this.headIds = entries.map(([id]) => id.toString());
    const records: Buffer[] = [];
    for (const [, fields] of entries.slice(skip)) {
      const at = fields.findIndex((field, i) => i % 2 === 0 && field.toString() === 'e');
      records.push(at >= 0 ? fields[at + 1] : Buffer.from('null'));
    }
    if (entries.length < skip + max) this.cachedLength = entries.length;
    return records;
  }

  async ack(count: number): Promise<void> {
    if (count <= 0) return;
    const lease = this.leaseValue();
    if (lease === undefined) throw Object.assign(new Error('LEASE_LOST this instance does not hold the delivery lease'), { code: 'LEASE_LOST' });
    const last = this.headIds[count - 1];
    if (last === undefined) throw Object.assign(new Error('QUEUE_MOVED acknowledging records that were not read'), { code: 'QUEUE_MOVED' });
    try {
      const [length, bytes] = (await this.redis.eval(ACK, 3, this.keys.lease, this.keys.events, this.keys.bytes, lease, String(count), last)) as [
        number,
        number,
      ];
      this.cachedLength = Number(length);
      this.cachedBytes = Number(bytes);
      this.headIds = this.headIds.slice(count);
    } catch (error) {
      const message = (error as Error).message ?? '';
      const code = /^(LEASE_LOST)/.exec(message)?.[1];
      throw code ? Object.assign(error as Error, { code }) : error;
    }
  }

  /** The connection belongs to the findface-redis config node: nothing to release here. */
  async close(): Promise<void> {
    this.headIds = [];
  }

  /**
   * The webhook node was removed from this instance's flows: its queue goes
   * with it once empty. Events still queued stay for the instances that
   * still run the node (a rolling deploy), never dropped.
   */
  async destroy(): Promise<void> {
    await this.redis.eval(DESTROY, 2, this.keys.events, this.keys.bytes);
    this.headIds = [];
  }
}
