// The shared backend against a real redis-server: the lease (acquire, renew,
// take over, fencing), the Redis queue under the EventQueue contract, the
// sender delivering from it across a change of holder, and the shared
// repeat window and cursor. Skipped, with the reason, where redis-server is
// not installed.
import assert from 'assert/strict';
import Redis from 'ioredis';
import { Lease } from '../../nodes/lib/redis/lease';
import { RedisQueue } from '../../nodes/lib/redis/redis-queue';
import { claimFirst, RedisCursorStore, SharedRecentIds } from '../../nodes/lib/redis/shared-state';
import { QueueFullError } from '../../nodes/lib/delivery/queue/queue';
import { Sender, TransportResponse } from '../../nodes/lib/delivery/sender';
import { SharedDelivery } from '../../nodes/lib/redis/shared-delivery';
import { commandConnectionOptions } from '../../nodes/lib/redis/client-options';
import { aclUserArgs, NO_REDIS_REASON, RedisServer, redisServerBinary } from '../support/redis-server';
import { sleep, waitFor } from '../support/wait';

const describeWithRedis = redisServerBinary() ? describe : describe.skip;
if (!redisServerBinary()) console.log(`  (skipped: ${NO_REDIS_REASON})`);

describeWithRedis('shared backend on a real Redis', function () {
  this.timeout(30_000);
  const server = new RedisServer();
  const clients: Redis[] = [];
  let prefixCount = 0;
  const client = () => {
    const redis = new Redis(server.url, { lazyConnect: false, maxRetriesPerRequest: 2 });
    clients.push(redis);
    return redis;
  };
  const newPrefix = () => `test:${process.pid}:${++prefixCount}`;

  before(() => server.start());
  after(async () => {
    await Promise.all(clients.map((redis) => redis.quit().catch(() => redis.disconnect())));
    await server.dispose();
  });

  describe('lease', () => {
    it('one holder at a time; the other takes over within the time to live after the holder dies', async () => {
      const key = `${newPrefix()}:lease`;
      const events: string[] = [];
      const a = new Lease({ redis: client(), key, owner: 'a', ttlMs: 600, onAcquired: () => events.push('a+'), onLost: () => events.push('a-') });
      const b = new Lease({ redis: client(), key, owner: 'b', ttlMs: 600, onAcquired: () => events.push('b+'), onLost: () => events.push('b-') });
      a.start();
      await waitFor(() => a.value !== undefined, 5000);
      b.start();
      await new Promise((resolve) => setTimeout(resolve, 1000));
      assert.deepEqual(events, ['a+'], 'renewed: b never gets it while a lives');
      assert.equal(await b.holder(), 'a');
      // a dies without releasing (a crash): only its renewals stop.
      const diedAt = Date.now();
      (a as unknown as { running: boolean }).running = false;
      await waitFor(() => b.value !== undefined, 5000);
      const takeover = Date.now() - diedAt;
      assert.ok(takeover <= 600 + 200 + 300, `taken over after ${takeover} ms`);
      assert.ok(b.fence! > a.fence!, 'the fence grows with every holder');
      await b.stop();
      assert.equal(await a.holder(), undefined, 'a clean stop gives the lease up at once');
    });

    it('a paused old holder cannot acknowledge after losing the lease (fencing)', async () => {
      const prefix = newPrefix();
      const redis = client();
      let value: string | undefined;
      const queue = new RedisQueue({ redis, prefix, maxEvents: 0, leaseValue: () => value });
      await queue.append([
        { id: '1', camera: 1 },
        { id: '2', camera: 1 },
      ]);
      const a = new Lease({ redis: client(), key: queue.keys.lease, owner: 'a', ttlMs: 300 });
      a.start();
      await waitFor(() => a.value !== undefined, 5000);
      value = a.value;
      await queue.peek(1);
      // a is paused past its lease: its value expires and b takes over.
      (a as unknown as { running: boolean }).running = false;
      const b = new Lease({ redis: client(), key: queue.keys.lease, owner: 'b', ttlMs: 300 });
      b.start();
      await waitFor(() => b.value !== undefined, 5000);
      await assert.rejects(queue.ack(1), (error: Error & { code?: string }) => error.code === 'LEASE_LOST');
      assert.equal(server.cli('XLEN', queue.keys.events), '2', 'nothing was acknowledged');
      value = b.value;
      await queue.ack(1);
      assert.equal(server.cli('XLEN', queue.keys.events), '1');
      await b.stop();
    });
  });

  describe('the Redis queue', () => {
    it('appends all or nothing within maxEvents, reads the stored JSON from the head, acknowledges the oldest', async () => {
      const prefix = newPrefix();
      const redis = client();
      const queue = new RedisQueue({ redis, prefix, maxEvents: 3, leaseValue: () => 'holder:1' });
      await redis.set(queue.keys.lease, 'holder:1');
      await queue.append([
        { id: 'a', camera: 1 },
        { id: 'b', camera: 1 },
      ]);
      await assert.rejects(queue.append([{ id: 'c' }, { id: 'd' }]), QueueFullError);
      assert.equal(queue.length, 2, 'none of the refused call was queued');
      await queue.append([{ id: 'c', camera: 2 }]);
      assert.deepEqual((await queue.peek(2)).map(String), ['{"id":"a","camera":1}', '{"id":"b","camera":1}']);
      assert.deepEqual((await queue.peek(2, 2)).map(String), ['{"id":"c","camera":2}']);
      assert.equal(queue.bytes, '{"id":"a","camera":1}'.length * 2 + '{"id":"c","camera":2}'.length);
      await queue.ack(2);
      assert.equal(queue.length, 1);
      assert.equal(queue.bytes, '{"id":"c","camera":2}'.length);
      assert.deepEqual((await queue.peek(5)).map(String), ['{"id":"c","camera":2}']);
      await queue.destroy();
      assert.equal(server.cli('XLEN', queue.keys.events), '1', 'a removed node leaves what is still queued to the instances that run it');
      await queue.peek(1);
      await queue.ack(1);
      await queue.destroy();
      assert.equal(server.cli('EXISTS', queue.keys.events), '0');
      assert.equal(server.cli('EXISTS', queue.keys.bytes), '0');
    });

    it('refuses, all or nothing, an append over its byte limit', async () => {
      const queue = new RedisQueue({ redis: client(), prefix: newPrefix(), maxEvents: 0, maxBytes: 50, leaseValue: () => undefined });
      await queue.append([{ id: 'a', camera: 1 }]);
      await assert.rejects(
        queue.append([
          { id: 'b', camera: 1 },
          { id: 'c', camera: 1 },
        ]),
        QueueFullError,
      );
      assert.equal(queue.length, 1);
      assert.equal(server.cli('XLEN', queue.keys.events), '1');
      await queue.append([{ id: 'b', camera: 1 }]);
      assert.equal(queue.length, 2);
    });

    it('acknowledges idempotently: a retry after a lost answer removes nothing more, newer events stay', async () => {
      const prefix = newPrefix();
      const redis = client();
      const queue = new RedisQueue({ redis, prefix, maxEvents: 0, leaseValue: () => 'me:1' });
      await redis.set(queue.keys.lease, 'me:1');
      await queue.append([{ id: 1 }, { id: 2 }, { id: 3 }]);
      await queue.peek(2);
      const last = server
        .cli('XRANGE', queue.keys.events, '-', '+', 'COUNT', '2')
        .split('\n')
        .filter((line) => /^\d+-\d+$/.test(line))[1];
      // Redis applied the acknowledgement but its answer was lost: the sender sends the same script again.
      server.cli(
        'EVAL',
        "local e = redis.call('XRANGE', KEYS[1], '-', ARGV[1]) for _, x in ipairs(e) do redis.call('XDEL', KEYS[1], x[1]) end return #e",
        '1',
        queue.keys.events,
        last,
      );
      await queue.append([{ id: 4 }]);
      await queue.ack(2);
      assert.equal(server.cli('XLEN', queue.keys.events), '2');
      assert.deepEqual(
        (await queue.peek(5)).map((record) => JSON.parse(String(record)).id),
        [3, 4],
      );
    });

    it('keeps what was queued across a Redis restart (append-only file)', async () => {
      const prefix = newPrefix();
      const queue = new RedisQueue({ redis: client(), prefix, maxEvents: 0, leaseValue: () => undefined });
      await queue.append(Array.from({ length: 50 }, (_, i) => ({ id: i, camera: 1 })));
      await server.stop('SIGTERM');
      await server.start();
      const after = new RedisQueue({ redis: client(), prefix, maxEvents: 0, leaseValue: () => undefined });
      await after.refresh();
      assert.equal(after.length, 50);
      assert.deepEqual(
        (await after.peek(50)).map((record) => JSON.parse(String(record)).id),
        Array.from({ length: 50 }, (_, i) => i),
      );
    });
  });

  describe('the sender on the Redis queue, with a change of holder', () => {
    it('delivers every event once in order but for the batch in flight when the holder died', async () => {
      const prefix = newPrefix();
      const received: number[][] = [];
      let failNext = false;
      const transport = async (body: Buffer): Promise<TransportResponse> => {
        const ids = (JSON.parse(body.toString()) as Array<{ id: number }>).map((event) => event.id);
        received.push(ids);
        if (failNext) {
          failNext = false;
          // The holder dies with this batch delivered but not acknowledged.
          throw Object.assign(new Error('holder died'), { code: 'ECONNRESET' });
        }
        return { status: 200 };
      };
      const instance = (owner: string) => {
        const redis = client();
        const lease = new Lease({ redis, key: `${prefix}:lease`, owner, ttlMs: 400 });
        const queue = new RedisQueue({ redis, prefix, maxEvents: 0, leaseValue: () => lease.value });
        const sender = new Sender({ queue, transport, title: owner, batchSize: 10, backoff: { base: 0.01, factor: 2, max: 0.05 }, maxAttempts: 0 });
        return { lease, queue, sender };
      };
      const a = instance('a');
      const b = instance('b');
      // Both instances take events; only the holder delivers.
      for (let i = 0; i < 100; i += 2) {
        await a.sender.enqueue([{ id: i, camera: 1 }]);
        await b.sender.enqueue([{ id: i + 1, camera: 1 }]);
      }
      a.lease.start();
      await waitFor(() => a.lease.value !== undefined, 5000);
      await a.queue.refresh();
      a.sender.start();
      await waitFor(() => received.length >= 3, 5000);
      // a dies: no more renewals, its sender stops mid-batch.
      failNext = true;
      (a.lease as unknown as { running: boolean }).running = false;
      await a.sender.stop(0);
      b.lease.start();
      await waitFor(() => b.lease.value !== undefined, 5000);
      await b.queue.refresh();
      b.sender.start();
      await waitFor(() => b.queue.length === 0, 10_000);
      await b.sender.stop();
      await b.lease.stop();
      const flat = received.flat();
      const unique = [...new Set(flat)];
      assert.deepEqual(
        [...unique].sort((x, y) => x - y),
        Array.from({ length: 100 }, (_, i) => i),
        'every event arrived',
      );
      assert.ok(flat.length - unique.length <= 10, `${flat.length - unique.length} repeats: at most the batch in flight`);
      const order = flat.filter((id, i) => flat.indexOf(id) === i);
      assert.deepEqual(order, unique, 'first deliveries in queue order');
    });
  });

  describe('the sender on the Redis queue with maxInFlight 4: the contiguous acknowledgement', () => {
    it('acknowledges only the prefix of delivered batches, though later ones finish first; a new holder sends at most the window again', async () => {
      const prefix = newPrefix();
      const delivered: number[][] = [];
      let batchesSeen = 0;
      const transport = async (body: Buffer): Promise<TransportResponse> => {
        const ids = (JSON.parse(body.toString()) as Array<{ id: number }>).map((event) => event.id);
        // Every other batch is slow: the ones after it are delivered before it.
        await sleep(batchesSeen++ % 2 === 0 ? 80 : 5);
        delivered.push(ids);
        return { status: 200 };
      };
      const instance = (owner: string) => {
        const redis = client();
        const lease = new Lease({ redis, key: `${prefix}:lease`, owner, ttlMs: 400 });
        const queue = new RedisQueue({ redis, prefix, maxEvents: 0, leaseValue: () => lease.value });
        const sender = new Sender({
          queue,
          transport,
          title: owner,
          batchSize: 10,
          maxInFlight: 4,
          backoff: { base: 0.01, factor: 2, max: 0.05 },
          maxAttempts: 0,
        });
        return { redis, lease, queue, sender };
      };
      const a = instance('a');
      for (let i = 0; i < 200; i++) await a.sender.enqueue([{ id: i, camera: 1 }]);
      a.lease.start();
      await waitFor(() => a.lease.value !== undefined, 5000);
      await a.queue.refresh();
      a.sender.start();
      await waitFor(() => delivered.length >= 6, 5000);
      // a dies with batches on the wire: nothing more is acknowledged.
      (a.lease as unknown as { running: boolean }).running = false;
      await a.sender.stop(0);
      const stored = (await a.redis.xrange(`${prefix}:events`, '-', '+')).map(
        ([, fields]) => (JSON.parse(fields[fields.indexOf('e') + 1]) as { id: number }).id,
      );
      const arrived = new Set(delivered.flat());
      for (let id = 0; id < 200; id++) assert.ok(arrived.has(id) || stored.includes(id), `event ${id} neither delivered nor in the stream`);
      // What is gone from the stream was delivered, and all of it before the first event still stored.
      const firstStored = stored.length ? Math.min(...stored) : 200;
      for (let id = 0; id < firstStored; id++) assert.ok(arrived.has(id), `event ${id} acknowledged before it was delivered`);
      assert.deepEqual(
        stored,
        Array.from({ length: 200 - firstStored }, (_, i) => firstStored + i),
        'the stream is the undelivered suffix',
      );
      assert.ok(stored.length < 200, 'nothing was acknowledged');
      const b = instance('b');
      b.lease.start();
      await waitFor(() => b.lease.value !== undefined, 5000);
      await b.queue.refresh();
      b.sender.start();
      await waitFor(() => b.queue.length === 0, 10_000);
      await b.sender.stop();
      await b.lease.stop();
      const flat = delivered.flat();
      assert.deepEqual(
        [...new Set(flat)].sort((x, y) => x - y),
        Array.from({ length: 200 }, (_, i) => i),
        'every event arrived',
      );
      assert.ok(flat.length - new Set(flat).size <= 40, `${flat.length - new Set(flat).size} repeats: at most the 4 batches of the window`);
    });
  });

  describe('shared delivery (what the webhook node runs with queue "redis")', () => {
    it('two instances take events, one delivers; the other takes over when it dies, within the lease', async () => {
      const prefix = newPrefix();
      const received: number[][] = [];
      const transport = async (body: Buffer): Promise<TransportResponse> => {
        received.push((JSON.parse(body.toString()) as Array<{ id: number }>).map((event) => event.id));
        return { status: 200 };
      };
      const subscriber = client();
      const listeners = new Map<string, Array<() => void>>();
      subscriber.on('message', (channel: string) => listeners.get(channel)?.forEach((listener) => listener()));
      const subscribe = (channel: string, listener: () => void) => {
        if (!listeners.has(channel)) {
          listeners.set(channel, []);
          void subscriber.subscribe(channel);
        }
        listeners.get(channel)!.push(listener);
        return () =>
          listeners.set(
            channel,
            listeners.get(channel)!.filter((l) => l !== listener),
          );
      };
      const holders: string[] = [];
      const instance = (owner: string) =>
        new SharedDelivery({
          redis: client(),
          prefix,
          owner,
          leaseMs: 500,
          maxEvents: 0,
          subscribe,
          makeSender: (queue) => new Sender({ queue, transport, title: owner, batchSize: 5 }),
          onHolder: (holding, holder) => holders.push(`${owner}:${holding ? 'holds' : `sees ${holder}`}`),
        });
      const a = instance('a');
      a.start();
      await waitFor(() => a.holding, 5000);
      const b = instance('b');
      b.start();
      let next = 0;
      const post = async (count: number) => {
        for (let i = 0; i < count; i++, next++) await (next % 2 ? b : a).enqueue([{ id: next, camera: 1 }]);
      };
      await post(40);
      await waitFor(() => received.flat().length >= 40, 5000);
      assert.equal(b.holding, false, 'one holder');
      // a dies: no renewals, no more requests, the lease not given up.
      const lease = (a as unknown as { lease: { running: boolean } }).lease;
      lease.running = false;
      await a.sender.stop(0);
      const diedAt = Date.now();
      await post(40);
      await waitFor(() => b.holding, 5000);
      const takeoverMs = Date.now() - diedAt;
      await waitFor(() => received.flat().length >= 80 && b.queue.length === 0, 5000);
      await b.stop(1000);
      await a.stop(0);
      const unique = [...new Set(received.flat())];
      assert.deepEqual(
        unique.sort((x, y) => x - y),
        Array.from({ length: 80 }, (_, i) => i),
      );
      assert.ok(takeoverMs <= 500 + 500 / 3 + 300, `taken over after ${takeoverMs} ms`);
      assert.ok(holders.includes('b:holds'));
      console.log(`      (take-over after ${takeoverMs} ms with a 500 ms lease)`);
    });
  });

  describe('shared states', () => {
    it('claims once across instances within the window, again after it', async () => {
      const key = `${newPrefix()}:door:entrance:person:12`;
      const [one, two] = [client(), client()];
      const results = await Promise.all([claimFirst(one, key, 300), claimFirst(two, key, 300), claimFirst(one, key, 300)]);
      assert.deepEqual(results.filter(Boolean).length, 1, 'exactly one instance opens the door');
      await new Promise((resolve) => setTimeout(resolve, 400));
      assert.equal(await claimFirst(two, key, 300), true);
    });

    it('drops a repeat seen by another instance', async () => {
      const prefix = newPrefix();
      const a = new SharedRecentIds(client(), prefix, 5000);
      const b = new SharedRecentIds(client(), prefix, 5000);
      assert.equal(await a.seenBefore('4240944471810639375'), false);
      assert.equal(await b.seenBefore('4240944471810639375'), true);
    });

    it('keeps the poll cursor for whichever instance polls next', async () => {
      const key = `${newPrefix()}:cursor`;
      await new RedisCursorStore(client(), key).save({ lastId: '42', savedAt: '2026-12-01T10:00:00.000Z' });
      assert.deepEqual(await new RedisCursorStore(client(), key).load(), { lastId: '42', savedAt: '2026-12-01T10:00:00.000Z' });
    });
  });
});

describeWithRedis('kill -9 of Redis during appends (appendfsync always, ACL user, the default user off)', function () {
  this.timeout(60_000);
  const KILLS = 5;
  const WRITERS = 6;
  const USER = 'findface-nodes';
  const PASSWORD = `pw-${process.pid}`;
  const server = new RedisServer(['--appendfsync', 'always', ...aclUserArgs(USER, PASSWORD)]);
  server.cliAuth = ['--user', USER];
  server.cliPassword = PASSWORD;
  const connections: Redis[] = [];

  before(() => server.start());
  after(async () => {
    connections.forEach((redis) => redis.disconnect());
    await server.dispose();
  });

  /** The ids in the stream, in stream order (redis-cli prints each field on a line of its own). */
  const storedIds = (key: string): number[] =>
    server
      .cli('XRANGE', key, '-', '+')
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => (JSON.parse(line) as { id: number }).id);

  it(`every append acknowledged before a kill -9 is there after the restart, ${KILLS} kills; the lease fence never goes back`, async () => {
    // Two instances as the config node connects them (no offline queue, one retry, a command timeout), each with a lease running.
    for (let i = 0; i < 2; i++) {
      const redis = new Redis(server.url, commandConnectionOptions({ username: USER, password: PASSWORD }));
      redis.on('error', () => undefined);
      connections.push(redis);
    }
    const prefix = `kill:${process.pid}`;
    const leases = connections.map((redis, i) => new Lease({ redis, key: `${prefix}:lease`, owner: `instance-${i}`, ttlMs: 600 }));
    const queues = connections.map((redis) => new RedisQueue({ redis, prefix, maxEvents: 0, leaseValue: () => undefined }));
    await waitFor(() => connections.every((redis) => redis.status === 'ready'), 5000, 'both connections');
    leases.forEach((lease) => lease.start());
    const acked: number[] = [];
    let nextId = 0;
    let refused = 0;
    let running = true;
    const writers = Array.from({ length: WRITERS }, async (_, w) => {
      while (running) {
        const ids = [nextId++, nextId++, nextId++];
        try {
          await queues[w % 2].append(ids.map((id) => ({ id })));
          acked.push(...ids);
        } catch {
          refused += ids.length;
          await sleep(20);
        }
        await sleep(5);
      }
    });
    const rounds: string[] = [];
    try {
      for (let kill = 1; kill <= KILLS; kill++) {
        const ackedBefore = acked.length;
        await waitFor(() => acked.length >= ackedBefore + 300, 10000, 'appends acknowledged again');
        await sleep(Math.floor(Math.random() * 300));
        const fenceBefore = Number(server.cli('GET', `${prefix}:lease:fence`));
        await server.stop('SIGKILL');
        const ackedAtKill = acked.slice();
        await sleep(200 + Math.floor(Math.random() * 300));
        await server.start();
        const stored = storedIds(`${prefix}:events`);
        const present = new Set(stored);
        const missing = ackedAtKill.filter((id) => !present.has(id));
        const fenceAfter = Number(server.cli('GET', `${prefix}:lease:fence`));
        rounds.push(`${ackedAtKill.length}/${stored.length}`);
        assert.deepEqual(missing.slice(0, 20), [], `kill ${kill}: ${missing.length} of ${ackedAtKill.length} acknowledged events missing`);
        assert.ok(fenceAfter >= fenceBefore, `kill ${kill}: the fence went back from ${fenceBefore} to ${fenceAfter}`);
      }
    } finally {
      running = false;
      await Promise.all(writers);
      await Promise.all(leases.map((lease) => lease.stop()));
    }
    console.log(`      ${KILLS} kills: acknowledged/stored at each restart ${rounds.join(', ')}; ${refused} events refused while Redis was down`);
    assert.ok(refused > 0, 'appends were refused while Redis was down (none waited in a client buffer)');
  });
});
