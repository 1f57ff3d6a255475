// The webhook queue in Redis against the disk queue, same run: events/s from
// the first append to the last event counted by a receiver on 127.0.0.1,
// through the package's sender (batch 100, one request in flight) on each
// queue, fed one event per append with up to 64 appends outstanding (as
// messages arrive at a webhook node). The Redis queue is a real
// redis-server (append-only file, appendfsync everysec) with this process
// holding the delivery lease, so every acknowledgement is the fenced Lua
// script; the disk queue is the durable queue with its default fsync period.
// Skipped, with the reason, where redis-server is not installed.
import fs from 'fs';
import os from 'os';
import path from 'path';
import Redis from 'ioredis';
import { round, runStandalone, seconds } from './support/common';
import { DurableQueue } from '../nodes/lib/delivery/queue/durable-queue';
import type { EventQueue } from '../nodes/lib/delivery/queue/queue';
import { Sender } from '../nodes/lib/delivery/sender';
import { WebhookHttp } from '../nodes/lib/delivery/http-transport';
import { Lease } from '../nodes/lib/redis/lease';
import { RedisQueue } from '../nodes/lib/redis/redis-queue';
import { Receiver } from '../test/support/receiver';
import { NO_REDIS_REASON, RedisServer, redisServerBinary } from '../test/support/redis-server';
import { waitFor } from '../test/support/wait';

const EVENTS = 20_000;
const OUTSTANDING = 64;
const BATCH = 100;

async function through(queue: EventQueue, receiver: Receiver): Promise<number> {
  const http = new WebhookHttp({ url: receiver.url, authType: 'none', headers: {}, credentials: {}, signingSecrets: [], connections: 1 });
  const sender = new Sender({ queue, transport: http.transport, title: 'bench', batchSize: BATCH, maxAttempts: 0 });
  const before = receiver.eventCount;
  sender.start();
  const start = process.hrtime.bigint();
  let next = 0;
  const feeder = async () => {
    while (next < EVENTS) {
      const id = next++;
      await sender.enqueue([{ id: String(id), camera: 2, matched: false, created_date: '2026-12-01T10:00:00+00:00' }]);
    }
  };
  await Promise.all(Array.from({ length: OUTSTANDING }, feeder));
  await waitFor(() => receiver.eventCount - before >= EVENTS, 120_000, `${EVENTS} events at the receiver`);
  const elapsed = seconds(start);
  await sender.stop(1000);
  http.destroy();
  return EVENTS / elapsed;
}

export async function run(): Promise<Record<string, unknown>> {
  if (!redisServerBinary()) return { skipped: NO_REDIS_REASON };
  const receiver = await Receiver.start();
  receiver.countOnly = true;
  const server = new RedisServer();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ff-bench-queue-'));
  let redis: Redis | undefined;
  try {
    await server.start();
    redis = new Redis(server.url, { maxRetriesPerRequest: 1 });
    const disk = await DurableQueue.open({ dir });
    const diskEventsPerS = await through(disk, receiver);
    await disk.close();
    const lease = new Lease({ redis, key: 'bench:webhook:hook:lease', owner: 'bench', ttlMs: 5000 });
    lease.start();
    await waitFor(() => lease.value !== undefined, 5000, 'the delivery lease');
    const shared = new RedisQueue({ redis, prefix: 'bench:webhook:hook', maxEvents: 0, leaseValue: () => lease.value });
    const redisEventsPerS = await through(shared, receiver);
    await lease.stop();
    return {
      events: EVENTS,
      batchSize: BATCH,
      diskQueueEventsPerS: Math.round(diskEventsPerS),
      redisQueueEventsPerS: Math.round(redisEventsPerS),
      ratio: round(redisEventsPerS / diskEventsPerS),
    };
  } finally {
    redis?.disconnect();
    await server.dispose();
    await receiver.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

runStandalone(module, run);
