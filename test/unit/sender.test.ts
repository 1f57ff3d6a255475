import assert from 'assert/strict';
import FakeTimers from '@sinonjs/fake-timers';
import fc from 'fast-check';
import { MemoryQueue } from '../support/memory-queue';
import { Clock } from '../../nodes/lib/common/clock';
import { classifyStatus, DeliveredReport, formatIds, GivenUpReport, Sender, SenderOptions, TransportResponse } from '../../nodes/lib/delivery/sender';
import { seedEvent } from '../fixtures/events';
import { eventIdOf, eventIdOfJson, jsonArray } from '../../nodes/lib/delivery/json-records';

interface Request {
  at: number;
  body: unknown[];
  signal: AbortSignal;
  resolve(response: TransportResponse): void;
  reject(error: unknown): void;
}

type Responder = (request: Request) => void;

const refused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8888'), { code: 'ECONNREFUSED', errno: -111 });

function ev(id: string | number, extra: Record<string, unknown> = {}) {
  return { id, camera: 1, ...extra };
}

/** A sender on a fake clock with an in-memory queue and a scripted transport. */
function harness(options: Partial<SenderOptions> = {}, responder?: Responder) {
  const fake = FakeTimers.createClock(0);
  const clock: Clock = {
    now: () => fake.now,
    monotonic: () => fake.now,
    setTimeout: (fn, ms) => fake.setTimeout(fn, ms),
    clearTimeout: (handle) => fake.clearTimeout(handle as FakeTimers.TimerId),
  };
  const queue = (options.queue as MemoryQueue) ?? new MemoryQueue();
  const requests: Request[] = [];
  const logs: string[] = [];
  const warns: string[] = [];
  const delivered: DeliveredReport[] = [];
  const givenUp: GivenUpReport[] = [];
  const errors: Array<Error & { code?: string }> = [];
  let statusCalls = 0;
  let respond: Responder | undefined = responder;
  const sender = new Sender({
    title: 'door',
    clock,
    queue,
    transport: (body, signal) =>
      new Promise<TransportResponse>((resolve, reject) => {
        const request: Request = { at: fake.now, body: JSON.parse(body.toString('utf8')), signal, resolve, reject };
        requests.push(request);
        signal.addEventListener('abort', () => reject(Object.assign(new Error('canceled'), { code: 'ERR_CANCELED' })));
        if (respond) respond(request);
      }),
    hooks: {
      log: (line) => logs.push(line),
      warn: (line) => warns.push(line),
      status: () => statusCalls++,
      delivered: (report) => delivered.push(report),
      givenUp: (report) => givenUp.push(report),
      error: (error) => errors.push(error),
    },
    ...options,
  });
  return {
    fake,
    queue,
    sender,
    requests,
    logs,
    warns,
    delivered,
    givenUp,
    errors,
    get statusCalls() {
      return statusCalls;
    },
    setResponder(r: Responder | undefined) {
      respond = r;
    },
    /** Lets promise chains settle without advancing time. */
    flush: () => fake.tickAsync(0),
    tick: (ms: number) => fake.tickAsync(ms),
  };
}

const ok: Responder = (r) => r.resolve({ status: 200, statusText: 'OK', headers: {} });
const status =
  (code: number, headers: Record<string, string> = {}): Responder =>
  (r) =>
    r.resolve({ status: code, headers });

describe('webhook sender', () => {
  describe('helpers', () => {
    it('formats ids like FindFace (a Python list)', () => {
      assert.equal(formatIds(['4240944471810639375']), "['4240944471810639375']");
      assert.equal(formatIds(['a', 7, null]), "['a', 7, -]");
      assert.equal(formatIds([]), '[]');
    });

    it('takes the id of any JSON payload, or null', () => {
      assert.equal(eventIdOf(seedEvent), '4173669353687265180');
      assert.equal(eventIdOf({ id: 5 }), 5);
      assert.equal(eventIdOf({ id: { x: 1 } }), null);
      assert.equal(eventIdOf('text'), null);
      assert.equal(eventIdOf([{ id: 1 }]), null);
      assert.equal(eventIdOf(null), null);
    });

    it("reads the id from an event's JSON text as eventIdOf reads it from the parsed event", () => {
      const same = (json: string) => assert.deepEqual(eventIdOfJson(Buffer.from(json)), eventIdOf(JSON.parse(json)), json);
      for (const json of [
        JSON.stringify(seedEvent),
        JSON.stringify(seedEvent, null, 2),
        '{"id":5}',
        '{"id":-1.5e+300}',
        '{"id":"a\\"b\\\\"}',
        '{"id":"\\u0041"}',
        '{"\\u0069d":"escaped key"}',
        '{"i\\"d":1}',
        '{"id":1,"id":"last wins"}',
        '{"id":"first","id":null}',
        '{"id":{"id":1}}',
        '{"a":{"id":1},"b":["id",{"id":2}],"id":3}',
        '{"a":"}\\"{","id":"after a string with braces"}',
        '{"id":true}',
        '{"id":[]}',
        '{}',
        ' { "id" : 7 } ',
        '[{"id":1}]',
        '"id"',
        '12',
        'null',
        '{"nested":{"deep":[[[{"x":"\\\\"}]]]},"id":"x"}',
      ]) {
        same(json);
      }
      // Any JSON value, and objects with an id of any kind among other keys, compact or indented.
      const withId = fc.tuple(fc.dictionary(fc.string(), fc.jsonValue()), fc.jsonValue(), fc.nat()).map(([rest, id, at]) => {
        const entries = Object.entries(rest);
        entries.splice(at % (entries.length + 1), 0, ['id', id]);
        return Object.fromEntries(entries) as unknown;
      });
      fc.assert(
        fc.property(fc.oneof(fc.jsonValue(), withId), fc.boolean(), (value, indent) => {
          same(JSON.stringify(value, null, indent ? 2 : undefined) ?? 'null');
        }),
        { numRuns: 2000 },
      );
    });

    it('joins queued records into the JSON array that is posted', () => {
      assert.equal(jsonArray([]).toString(), '[]');
      const values = [seedEvent, 'é', null, [1, { a: 2 }], 7];
      const body = jsonArray(values.map((v) => Buffer.from(JSON.stringify(v))));
      assert.equal(body.toString('utf8'), JSON.stringify(values));
    });

    it('refuses options no parse function would give it, instead of clamping them', () => {
      const queue = new MemoryQueue();
      const transport = async () => ({ status: 200 });
      for (const bad of [
        { batchSize: 0 },
        { batchSize: 1.5 },
        { maxAttempts: -1 },
        { lingerMs: -1 },
        { timeoutMs: NaN },
        { backoff: { base: 1, factor: 0.5, max: 1 } },
        { successCodes: [] },
      ]) {
        assert.throws(() => new Sender({ queue, transport, title: 't', ...bad }), RangeError, JSON.stringify(bad));
      }
    });

    it('classifies answers', () => {
      const success = new Set([200, 204]);
      assert.equal(classifyStatus(200, success), 'success');
      assert.equal(classifyStatus(204, success), 'success');
      assert.equal(classifyStatus(201, success), 'retry');
      assert.equal(classifyStatus(410, success), 'gone');
      for (const code of [400, 413, 415, 422]) assert.equal(classifyStatus(code, success), 'reject');
      for (const code of [301, 401, 403, 404, 408, 409, 429, 500, 502, 503, 504]) {
        assert.equal(classifyStatus(code, success), 'retry', String(code));
      }
      assert.equal(classifyStatus(400, new Set([400])), 'success');
    });
  });

  describe('batching', () => {
    it('an idle sender delivers one event at once, logging as FindFace does', async () => {
      const h = harness({}, ok);
      h.sender.start();
      await h.sender.enqueue([ev('4240944471810639375')]);
      await h.flush();
      assert.equal(h.requests.length, 1);
      assert.equal(h.requests[0].at, 0);
      assert.deepEqual(h.requests[0].body, [ev('4240944471810639375')]);
      assert.deepEqual(h.logs, [
        'Event 4240944471810639375 enqueued for webhook door (1 items in queue)',
        "Received 1 events from queue: ['4240944471810639375']",
        'Attempting to send 1 events',
        "Sent 1 events: ['4240944471810639375']",
      ]);
      assert.deepEqual(h.warns, []);
      assert.equal(h.queue.length, 0);
      assert.equal(h.delivered.length, 1);
      assert.deepEqual(h.delivered[0], { statusCode: 200, ids: ['4240944471810639375'], count: 1, attempts: 1, latencyMs: 0 });
      assert.equal(h.sender.status.state, 'idle');
      await h.sender.stop();
      assert.equal(h.fake.countTimers(), 0);
    });

    it('events arriving while a request is in flight form the next batch, in order', async () => {
      const h = harness({ batchSize: 10 });
      h.sender.start();
      await h.sender.enqueue([ev(1)]);
      await h.flush();
      assert.equal(h.requests.length, 1);
      assert.equal(h.sender.status.state, 'sending');
      await h.sender.enqueue([ev(2)]);
      await h.sender.enqueue([ev(3), ev(4)]);
      await h.flush();
      assert.equal(h.requests.length, 1, 'one request in flight at a time');
      h.requests[0].resolve({ status: 200, headers: {} });
      await h.flush();
      assert.equal(h.requests.length, 2);
      assert.deepEqual(h.requests[1].body.map(eventIdOf), [2, 3, 4]);
      assert.ok(h.logs.includes('Received 3 events from queue: [2, 3, 4]'));
      assert.ok(h.logs.includes('Event 4 enqueued for webhook door (4 items in queue)'), h.logs.join('\n'));
      h.requests[1].resolve({ status: 200, headers: {} });
      await h.flush();
      assert.equal(h.queue.length, 0);
      assert.deepEqual(
        h.delivered.map((d) => d.count),
        [1, 3],
      );
      await h.sender.stop();
    });

    it('never puts more than batchSize events in a request and keeps arrival order', async () => {
      const h = harness({ batchSize: 7 }, ok);
      const payloads = Array.from({ length: 50 }, (_, i) => ev(`e${i}`));
      await h.sender.enqueue(payloads.slice(0, 30));
      h.sender.start();
      await h.sender.enqueue(payloads.slice(30));
      await h.flush();
      assert.ok(h.requests.every((r) => r.body.length <= 7 && r.body.length > 0));
      assert.deepEqual(
        h.requests.flatMap((r) => r.body),
        payloads,
      );
      await h.sender.stop();
    });

    it('sends any JSON payload; a payload without id is logged with a placeholder', async () => {
      const h = harness({ batchSize: 5 }, ok);
      h.sender.start();
      await h.sender.enqueue(['text', 42, { temperature: 21.5 }, [1, 2], null]);
      await h.flush();
      assert.deepEqual(h.requests[0].body, ['text', 42, { temperature: 21.5 }, [1, 2], null]);
      assert.ok(h.logs.includes('Event - enqueued for webhook door (1 items in queue)'));
      assert.ok(h.logs.includes('Received 5 events from queue: [-, -, -, -, -]'), h.logs.join('\n'));
      assert.deepEqual(h.delivered[0].ids, [null, null, null, null, null]);
      await h.sender.stop();
    });

    it('delivers what was queued before start (a restart) at once', async () => {
      const queue = new MemoryQueue();
      await queue.append([ev('a'), ev('b')]);
      const h = harness({ queue, batchSize: 10, lingerMs: 5000 }, ok);
      h.sender.start();
      await h.flush();
      assert.equal(h.requests.length, 1);
      assert.deepEqual(h.requests[0].body.map(eventIdOf), ['a', 'b']);
      await h.sender.stop();
    });

    it('rejects what does not fit in the queue, and logs nothing for it', async () => {
      const h = harness({ queue: new MemoryQueue(2) as never });
      await h.sender.enqueue([ev(1), ev(2)]);
      await assert.rejects(h.sender.enqueue([ev(3)]), (e: Error & { code?: string }) => e.code === 'QUEUE_FULL');
      assert.equal(h.logs.filter((l) => l.startsWith('Event 3')).length, 0);
      assert.equal(h.queue.length, 2);
    });
  });

  describe('linger', () => {
    it('waits up to lingerMs for a batch to fill', async () => {
      const h = harness({ batchSize: 5, lingerMs: 1000 }, ok);
      h.sender.start();
      await h.sender.enqueue([ev(1)]);
      await h.tick(500);
      assert.equal(h.requests.length, 0);
      assert.equal(h.sender.status.state, 'lingering');
      await h.sender.enqueue([ev(2), ev(3)]);
      await h.tick(499);
      assert.equal(h.requests.length, 0);
      await h.tick(1);
      assert.equal(h.requests.length, 1);
      assert.equal(h.requests[0].at, 1000, 'linger is measured from the oldest event');
      assert.deepEqual(h.requests[0].body.map(eventIdOf), [1, 2, 3]);
      await h.sender.stop();
      assert.equal(h.fake.countTimers(), 0);
    });

    it('sends as soon as a batch is full', async () => {
      const h = harness({ batchSize: 3, lingerMs: 60000 }, ok);
      h.sender.start();
      await h.sender.enqueue([ev(1)]);
      await h.tick(10);
      await h.sender.enqueue([ev(2)]);
      await h.sender.enqueue([ev(3)]);
      await h.flush();
      assert.equal(h.requests.length, 1);
      assert.equal(h.requests[0].at, 10);
      await h.sender.stop();
    });

    it('does not linger again for events that waited during a request', async () => {
      const h = harness({ batchSize: 10, lingerMs: 1000 });
      h.sender.start();
      await h.sender.enqueue([ev(1)]);
      await h.tick(1000);
      assert.equal(h.requests.length, 1);
      await h.tick(200);
      await h.sender.enqueue([ev(2)]); // at 1200
      await h.tick(1000); // the request takes until 2200
      h.requests[0].resolve({ status: 200, headers: {} });
      await h.flush();
      assert.equal(h.requests.length, 2);
      assert.equal(h.requests[1].at, 2200);
      h.requests[1].resolve({ status: 200, headers: {} });
      await h.sender.stop();
    });
  });

  describe('failures and backoff', () => {
    it('backs off 0.270, 0.729, 1.968 s after connection errors, then delivers', async () => {
      let failures = 3;
      const h = harness({}, (r) => (failures-- > 0 ? r.reject(refused()) : ok(r)));
      h.sender.start();
      await h.sender.enqueue([ev('4240944506705010458')]);
      await h.flush();
      assert.equal(h.sender.status.state, 'backoff');
      assert.equal(h.sender.status.backoffSeconds?.toFixed(3), '0.270');
      await h.tick(10000);
      assert.deepEqual(h.warns, [
        'Backing off for 0.270 seconds after failure: ECONNREFUSED connect ECONNREFUSED 127.0.0.1:8888',
        'Backing off for 0.729 seconds after failure: ECONNREFUSED connect ECONNREFUSED 127.0.0.1:8888',
        'Backing off for 1.968 seconds after failure: ECONNREFUSED connect ECONNREFUSED 127.0.0.1:8888',
      ]);
      const at = h.requests.map((r) => r.at);
      assert.equal(at.length, 4);
      assert.deepEqual(
        at.map((t) => Math.round(t)),
        [0, 270, 999, 2967],
      );
      assert.equal(h.delivered.length, 1);
      assert.equal(h.delivered[0].attempts, 4);
      assert.equal(h.logs.filter((l) => l === 'Attempting to send 1 events').length, 4);
      assert.equal(h.logs.filter((l) => l.startsWith('Received')).length, 1);
      assert.equal(h.sender.status.lastError, undefined, 'a delivery clears the last error');
      await h.sender.stop();
    });

    it('describes HTTP failures by status', async () => {
      let n = 0;
      const h = harness({}, (r) => (n++ === 0 ? r.resolve({ status: 500, statusText: 'Internal Server Error' }) : ok(r)));
      h.sender.start();
      await h.sender.enqueue([ev(1)]);
      await h.flush();
      assert.deepEqual(h.sender.status.lastError, { message: 'HTTP 500 Internal Server Error', code: 'HTTP_500', statusCode: 500 });
      await h.tick(300);
      assert.deepEqual(h.warns, ['Backing off for 0.270 seconds after failure: HTTP 500 Internal Server Error']);
      assert.equal(h.delivered.length, 1);
      await h.sender.stop();
    });

    it('gives a batch up after maxAttempts, acks it and starts the next batch afresh', async () => {
      const h = harness({ maxAttempts: 3, batchSize: 2 }, status(500));
      h.sender.start();
      await h.sender.enqueue([ev(1), ev(2), ev(3)]);
      await h.tick(0.27e3 + 0.729e3 + 1);
      assert.equal(h.givenUp.length, 1);
      assert.deepEqual(h.givenUp[0], {
        payloads: [ev(1), ev(2)],
        ids: [1, 2],
        attempts: 3,
        error: { message: 'HTTP 500 Internal Server Error', code: 'HTTP_500', statusCode: 500 },
      });
      assert.equal(h.queue.length, 1);
      assert.equal(h.requests.length, 4, 'the next batch is tried at once');
      assert.deepEqual(h.requests[3].body, [ev(3)]);
      assert.ok(h.warns.includes('Gave up on 2 events after 3 attempts: HTTP 500 Internal Server Error: [1, 2]'), h.warns.join('\n'));
      assert.equal(h.warns.filter((w) => w.startsWith('Backing off for 0.270')).length, 2, 'the count restarts per batch');
      await h.sender.stop();
    });

    it('retries forever with maxAttempts 0, the wait capped at backoffMax', async () => {
      let failures = 12;
      const h = harness({ maxAttempts: 0, backoff: { base: 0.1, factor: 2.7, max: 100 } }, (r) => (failures-- > 0 ? r.reject(refused()) : ok(r)));
      h.sender.start();
      await h.sender.enqueue([ev(1)]);
      await h.tick(3600e3);
      assert.equal(h.givenUp.length, 0);
      assert.equal(h.delivered.length, 1);
      assert.equal(h.delivered[0].attempts, 13);
      const waits = h.warns.map((w) => /for (\S+) seconds/.exec(w)![1]);
      assert.deepEqual(waits, ['0.270', '0.729', '1.968', '5.314', '14.349', '38.742', '100.000', '100.000', '100.000', '100.000', '100.000', '100.000']);
      await h.sender.stop();
    });

    it('times a request out after timeoutMs and retries it', async () => {
      let n = 0;
      const h = harness({ timeoutMs: 1000 }, (r) => (n++ === 0 ? undefined : ok(r)));
      h.sender.start();
      await h.sender.enqueue([ev(1)]);
      await h.tick(999);
      assert.equal(h.requests[0].signal.aborted, false);
      await h.tick(1);
      assert.equal(h.requests[0].signal.aborted, true);
      assert.deepEqual(h.warns, ['Backing off for 0.270 seconds after failure: ETIMEDOUT timeout of 1000ms exceeded']);
      await h.tick(270);
      assert.equal(h.delivered.length, 1);
      assert.equal(h.delivered[0].attempts, 2);
      await h.sender.stop();
      assert.equal(h.fake.countTimers(), 0);
    });

    it('retries other 4xx (401, 403, 404, 408 …) like any failure', async () => {
      const codes = [401, 403, 404, 408];
      const h = harness({}, (r) => (codes.length ? status(codes.shift()!)(r) : ok(r)));
      h.sender.start();
      await h.sender.enqueue([ev(1)]);
      await h.tick(60e3);
      assert.equal(h.delivered.length, 1);
      assert.equal(h.delivered[0].attempts, 5);
      assert.equal(h.givenUp.length, 0);
      await h.sender.stop();
    });

    for (const code of [400, 413, 415, 422]) {
      it(`gives a batch up at once on ${code} (the same request cannot succeed) and goes on`, async () => {
        let n = 0;
        const h = harness({ maxAttempts: 0 }, (r) => (n++ === 0 ? status(code)(r) : ok(r)));
        h.sender.start();
        await h.sender.enqueue([ev('poison')]);
        await h.sender.enqueue([ev('next')]);
        await h.flush();
        assert.equal(h.givenUp.length, 1);
        assert.equal(h.givenUp[0].attempts, 1);
        assert.equal(h.givenUp[0].error.statusCode, code);
        assert.deepEqual(h.givenUp[0].payloads, [ev('poison')]);
        assert.deepEqual(
          h.delivered.map((d) => d.ids),
          [['next']],
        );
        assert.equal(h.queue.length, 0);
        await h.sender.stop();
      });
    }

    it('treats a status outside successCodes as a failure, and any listed one as success', async () => {
      const answers = [201, 202];
      const h = harness({ successCodes: [200, 202] }, (r) => status(answers.shift() ?? 200)(r));
      h.sender.start();
      await h.sender.enqueue([ev(1)]);
      await h.tick(1000);
      assert.deepEqual(h.warns, ['Backing off for 0.270 seconds after failure: HTTP 201 Created']);
      assert.equal(h.delivered[0].statusCode, 202);
      await h.sender.stop();
    });
  });

  describe('Retry-After', () => {
    it('waits what a 429 asks (seconds)', async () => {
      let n = 0;
      const h = harness({}, (r) => (n++ === 0 ? status(429, { 'retry-after': '5' })(r) : ok(r)));
      h.sender.start();
      await h.sender.enqueue([ev(1)]);
      await h.flush();
      assert.deepEqual(h.warns, ['Backing off for 5.000 seconds after failure: HTTP 429 Too Many Requests (Retry-After 5.000 s)']);
      await h.tick(4999);
      assert.equal(h.requests.length, 1);
      await h.tick(1);
      assert.equal(h.requests.length, 2);
      assert.equal(h.delivered.length, 1);
      await h.sender.stop();
    });

    it('waits until the HTTP date a 503 gives', async () => {
      let n = 0;
      const h = harness({}, (r) => (n++ === 0 ? status(503, { 'retry-after': new Date(r.at + 30000).toUTCString() })(r) : ok(r)));
      h.sender.start();
      await h.sender.enqueue([ev(1)]);
      await h.flush();
      assert.match(h.warns[0], /^Backing off for 30\.000 seconds after failure: HTTP 503 Service Unavailable/);
      await h.tick(30000);
      assert.equal(h.requests[1].at, 30000);
      await h.sender.stop();
    });

    it('clamps Retry-After to backoffMax and ignores it on other statuses or when unreadable', async () => {
      const answers: Responder[] = [status(429, { 'retry-after': '86400' }), status(500, { 'retry-after': '60' }), status(503, { 'retry-after': 'later' })];
      const h = harness({ backoff: { base: 0.1, factor: 2.7, max: 10 }, maxAttempts: 0 }, (r) => (answers.shift() ?? ok)(r));
      h.sender.start();
      await h.sender.enqueue([ev(1)]);
      await h.tick(60e3);
      assert.deepEqual(
        h.warns.map((w) => /for (\S+) seconds/.exec(w)![1]),
        ['10.000', '0.729', '1.968'],
      );
      await h.sender.stop();
    });
  });

  describe('410 Gone', () => {
    it('stops sending, keeps the queue and reports an error', async () => {
      const h = harness({ batchSize: 1 }, status(410));
      h.sender.start();
      await h.sender.enqueue([ev(1), ev(2)]);
      await h.flush();
      assert.equal(h.requests.length, 1);
      assert.equal(h.sender.status.state, 'gone');
      assert.equal(h.errors.length, 1);
      assert.equal(h.errors[0].code, 'GONE');
      assert.match(h.errors[0].message, /HTTP 410 Gone/);
      await h.sender.enqueue([ev(3)]);
      await h.tick(600e3);
      assert.equal(h.requests.length, 1, 'nothing more is sent');
      assert.equal(h.queue.length, 3, 'the events are kept');
      assert.equal(h.givenUp.length, 0);
      await h.sender.stop();
      assert.equal(h.sender.status.state, 'stopped');
      // A new sender on the same queue (a redeploy) delivers them.
      const again = harness({ queue: h.queue as never, batchSize: 10 }, ok);
      again.sender.start();
      await again.flush();
      assert.deepEqual(again.requests[0].body.map(eventIdOf), [1, 2, 3]);
      await again.sender.stop();
    });
  });

  describe('stop', () => {
    it('aborts a request still in flight after the grace time; the batch stays queued', async () => {
      const h = harness({}, () => undefined);
      h.sender.start();
      await h.sender.enqueue([ev(1)]);
      await h.flush();
      const stopping = h.sender.stop(500);
      await h.tick(499);
      assert.equal(h.requests[0].signal.aborted, false);
      await h.tick(1);
      await stopping;
      assert.equal(h.requests[0].signal.aborted, true);
      assert.equal(h.queue.length, 1);
      assert.equal(h.delivered.length, 0);
      assert.equal(h.warns.length, 0, 'an abort on close is no failure');
      assert.equal(h.sender.status.state, 'stopped');
      assert.equal(h.fake.countTimers(), 0);
    });

    it('lets a request that succeeds within the grace time be acknowledged', async () => {
      const h = harness({}, () => undefined);
      h.sender.start();
      await h.sender.enqueue([ev(1), ev(2)]);
      await h.flush();
      const stopping = h.sender.stop(1000);
      await h.tick(100);
      h.requests[0].resolve({ status: 200, headers: {} });
      await h.flush();
      await stopping;
      assert.equal(h.queue.length, 1);
      assert.equal(h.delivered.length, 1);
      assert.equal(h.requests.length, 1, 'no new request after stop');
      assert.equal(h.fake.countTimers(), 0);
    });

    it('ends a backoff wait at once', async () => {
      const h = harness({}, (r) => r.reject(refused()));
      h.sender.start();
      await h.sender.enqueue([ev(1)]);
      await h.flush();
      assert.equal(h.sender.status.state, 'backoff');
      await h.sender.stop(1000);
      assert.equal(h.fake.countTimers(), 0);
      assert.equal(h.queue.length, 1);
    });
  });

  describe('queue errors', () => {
    it('reports a failing peek or ack, backs off and carries on without sending twice', async () => {
      const h = harness({}, ok);
      (h.queue as MemoryQueue).failNextPeek = 1;
      (h.queue as MemoryQueue).failNextAck = 1;
      h.sender.start();
      await h.sender.enqueue([ev(1)]);
      await h.tick(2000);
      assert.deepEqual(
        h.errors.map((e) => e.code),
        ['EIO', 'ENOSPC'],
      );
      assert.equal(h.requests.length, 1, 'an ack failure does not resend the batch');
      assert.equal(h.queue.length, 0);
      assert.equal(h.delivered.length, 1);
      assert.match(h.warns[0], /^Backing off for 0\.270 seconds after failure: queue EIO: i\/o error, read$/);
      await h.sender.stop();
    });
  });

  describe('property: whatever the arrivals and failures, every event arrives once, in order', () => {
    it('holds for random schedules', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 8 }),
          fc.integer({ min: 0, max: 300 }),
          fc.array(fc.record({ count: fc.integer({ min: 1, max: 6 }), gap: fc.integer({ min: 0, max: 400 }) }), { maxLength: 15 }),
          fc.array(fc.constantFrom('ok', 'refused', '500', '429', 'slow', '400'), { maxLength: 40 }),
          async (batchSize, lingerMs, arrivals, outcomes) => {
            const script = [...outcomes];
            const h = harness({ batchSize, lingerMs, maxAttempts: 0, timeoutMs: 1000 }, (r) => {
              const next = script.shift() ?? 'ok';
              if (next === 'ok') ok(r);
              else if (next === 'refused') r.reject(refused());
              else if (next === '500') status(500)(r);
              else if (next === '429') status(429, { 'retry-after': '1' })(r);
              else if (next === '400') status(400)(r);
              // 'slow': never answers; the timeout aborts it
            });
            h.sender.start();
            let id = 0;
            for (const { count, gap } of arrivals) {
              await h.sender.enqueue(Array.from({ length: count }, () => ev(id++)));
              await h.tick(gap);
            }
            await h.tick(3600e3);
            // Every event is delivered or (400) given up exactly once; requests go out in queue order.
            const delivered = h.delivered.flatMap((d) => d.ids);
            const givenUp = h.givenUp.flatMap((g) => g.ids);
            assert.deepEqual(
              [...delivered, ...givenUp].sort((a, b) => Number(a) - Number(b)),
              Array.from({ length: id }, (_, i) => i),
            );
            const firstIds = h.requests.map((r) => eventIdOf(r.body[0]) as number);
            assert.ok(
              firstIds.every((first, i) => i === 0 || first >= firstIds[i - 1]),
              `requests out of order: ${firstIds}`,
            );
            assert.deepEqual(
              h.givenUp.flatMap((g) => g.payloads),
              givenUp.map((i) => ev(i as number)),
              'given-up payloads are the events',
            );
            assert.ok(h.requests.every((r) => r.body.length >= 1 && r.body.length <= batchSize));
            assert.equal(h.queue.length, 0);
            await h.sender.stop();
            assert.equal(h.fake.countTimers(), 0);
          },
        ),
        { numRuns: 60 },
      );
    });
  });
});

describe('webhook sender with maxInFlight > 1', () => {
  /** Stops with requests on the wire: the fake clock must run for the grace timer. */
  const stopNow = async (h: ReturnType<typeof harness>) => {
    const stopping = h.sender.stop(0);
    await h.tick(1);
    await stopping;
  };
  /** The requests not yet answered or aborted. */
  const open = (requests: Request[], answered: Set<Request>) => requests.filter((r) => !answered.has(r) && !r.signal.aborted);

  it('keeps up to maxInFlight batches on the wire, never more', async () => {
    const h = harness({ maxInFlight: 4, batchSize: 2 }, () => undefined);
    h.sender.start();
    await h.sender.enqueue(Array.from({ length: 20 }, (_, i) => ev(i)));
    await h.flush();
    assert.equal(h.requests.length, 4);
    assert.deepEqual(
      h.requests.map((r) => r.body.map((e) => (e as { id: number }).id)),
      [
        [0, 1],
        [2, 3],
        [4, 5],
        [6, 7],
      ],
    );
    h.requests[0].resolve({ status: 200, headers: {} });
    await h.flush();
    assert.equal(h.requests.length, 5, 'a settled head makes room for one more');
    assert.deepEqual(
      h.requests[4].body.map((e) => (e as { id: number }).id),
      [8, 9],
    );
    await stopNow(h);
  });

  it('acknowledges only the contiguous prefix of settled batches', async () => {
    const h = harness({ maxInFlight: 3 }, () => undefined);
    h.sender.start();
    await h.sender.enqueue([ev('a'), ev('b'), ev('c'), ev('d')]);
    await h.flush();
    assert.equal(h.requests.length, 3);
    h.requests[1].resolve({ status: 200, headers: {} });
    h.requests[2].resolve({ status: 200, headers: {} });
    await h.flush();
    assert.equal(h.queue.length, 4, 'b and c are delivered but wait behind a');
    assert.equal(h.delivered.length, 0, 'reported once they leave the queue');
    assert.equal(h.requests.length, 3, 'the window still holds a, b and c');
    h.requests[0].resolve({ status: 200, headers: {} });
    await h.flush();
    assert.equal(h.queue.length, 1, 'a, b and c left together');
    assert.deepEqual(h.delivered.map((d) => d.ids).sort(), [['a'], ['b'], ['c']]);
    assert.equal(h.requests.length, 4);
    await stopNow(h);
  });

  it('pauses new batches during a backoff; the ones on the wire go on', async () => {
    const answered = new Set<Request>();
    const h = harness({ maxInFlight: 3 }, () => undefined);
    h.sender.start();
    await h.sender.enqueue(Array.from({ length: 10 }, (_, i) => ev(i)));
    await h.flush();
    h.requests[0].reject(refused());
    answered.add(h.requests[0]);
    await h.flush();
    assert.equal(h.sender.status.state, 'backoff');
    h.requests[1].resolve({ status: 200, headers: {} });
    answered.add(h.requests[1]);
    await h.flush();
    assert.equal(h.requests.length, 3, 'no new batch while a failure backs off');
    await h.tick(270);
    // The failed batch is sent again; the window (0 on the wire again, 1 delivered behind it, 2) is full.
    assert.equal(h.requests.length, 4);
    assert.equal((h.requests[3].body[0] as { id: number }).id, 0);
    assert.equal(open(h.requests, answered).length, 2);
    h.requests[3].resolve({ status: 200, headers: {} });
    answered.add(h.requests[3]);
    await h.flush();
    assert.equal(h.queue.length, 8, '0 and 1 left the queue together');
    assert.equal(open(h.requests, answered).length, 3, 'the window fills up again');
    await stopNow(h);
  });

  it('after a stop at most the window is sent again, and every event arrives', async () => {
    const h = harness({ maxInFlight: 8, batchSize: 5 }, () => undefined);
    h.sender.start();
    await h.sender.enqueue(Array.from({ length: 100 }, (_, i) => ev(i)));
    await h.flush();
    // Answer every other request: the window holds settled batches behind unsettled ones.
    h.requests.forEach((r, i) => i % 2 === 1 && r.resolve({ status: 200, headers: {} }));
    await h.flush();
    await stopNow(h);
    assert.equal(h.queue.length, 100, 'nothing left the queue: its head batch was never answered');
    const sent = new Set(h.requests.flatMap((r) => r.body.map((e) => (e as { id: number }).id)));
    assert.ok(sent.size <= 8 * 5, 'the window bounds what went out');

    const again = harness({ maxInFlight: 8, batchSize: 5, queue: h.queue }, ok);
    again.sender.start();
    await again.tick(1000);
    assert.deepEqual(
      again.delivered.flatMap((d) => d.ids).sort((a, b) => Number(a) - Number(b)),
      Array.from({ length: 100 }, (_, i) => i),
    );
    assert.equal(again.queue.length, 0);
    await again.sender.stop();
    assert.equal(again.fake.countTimers(), 0);
  });

  it('property: every event delivered or given up exactly once; the unacknowledged records never exceed the window', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 2, max: 8 }),
        fc.integer({ min: 1, max: 6 }),
        fc.array(fc.record({ count: fc.integer({ min: 1, max: 12 }), gap: fc.integer({ min: 0, max: 300 }) }), { maxLength: 12 }),
        fc.array(fc.record({ outcome: fc.constantFrom('ok', 'instant', 'refused', '500', '400', 'slow'), delay: fc.integer({ min: 0, max: 200 }) }), {
          maxLength: 60,
        }),
        async (maxInFlight, batchSize, arrivals, outcomes) => {
          const script = [...outcomes];
          let maxUnacked = 0;
          const h: ReturnType<typeof harness> = harness({ maxInFlight, batchSize, maxAttempts: 0, timeoutMs: 1000 }, (r) => {
            const { outcome, delay } = script.shift() ?? { outcome: 'ok', delay: 0 };
            if (outcome === 'slow') return; // the timeout aborts it
            if (outcome === 'instant') return ok(r); // answered before the transport returns
            h.fake.setTimeout(() => {
              if (outcome === 'ok') ok(r);
              else if (outcome === 'refused') r.reject(refused());
              else if (outcome === '500') status(500)(r);
              else status(400)(r);
            }, delay);
          });
          const settledIds = () => new Set([...h.delivered.flatMap((d) => d.ids), ...h.givenUp.flatMap((g) => g.ids)]);
          h.sender.start();
          let id = 0;
          for (const { count, gap } of arrivals) {
            await h.sender.enqueue(Array.from({ length: count }, () => ev(id++)));
            for (let t = 0; t < gap; t += 50) {
              await h.tick(Math.min(50, gap - t));
              // Of what went out, what has not left the queue is at most maxInFlight batches.
              const sentNotAcked = new Set(h.requests.flatMap((r) => r.body.map((e) => (e as { id: number }).id)).filter((x) => !settledIds().has(x)));
              maxUnacked = Math.max(maxUnacked, sentNotAcked.size);
            }
          }
          await h.tick(3600e3);
          const all = [...h.delivered.flatMap((d) => d.ids), ...h.givenUp.flatMap((g) => g.ids)].sort((a, b) => Number(a) - Number(b));
          assert.deepEqual(
            all,
            Array.from({ length: id }, (_, i) => i),
          );
          assert.ok(maxUnacked <= maxInFlight * batchSize, `${maxUnacked} sent and unacknowledged > ${maxInFlight} × ${batchSize}`);
          assert.ok(h.requests.every((r) => r.body.length >= 1 && r.body.length <= batchSize));
          assert.equal(h.queue.length, 0);
          await h.sender.stop();
          assert.equal(h.fake.countTimers(), 0);
        },
      ),
      { numRuns: 60 },
    );
  });
});
