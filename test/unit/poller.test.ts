import assert from 'assert/strict';
import FakeTimers from '@sinonjs/fake-timers';
import { FindFaceApiError, FindFaceClient } from '../../nodes/lib/findface/findface-api';
import { Clock } from '../../nodes/lib/common/clock';
import {
  compareIds,
  Cursor,
  CursorStore,
  FileCursorStore,
  idKey,
  MemoryCursorStore,
  Poller,
  PollerOptions,
  pollerOptionsProblem,
  PollerStatus,
  statusText,
} from '../../nodes/lib/findface/poller';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { FakeEventSource, FakeFindFace, makeEvent } from '../support/fake-findface';
import { waitFor } from '../support/wait';

const down = () => new FindFaceApiError('network', 'GET /events/faces/: connect ECONNREFUSED 127.0.0.1:1', undefined, 'ECONNREFUSED');
const unauthorized = () => new FindFaceApiError('auth', 'GET /events/faces/: HTTP 401 Unauthorized: Invalid token.', 401);

interface Harness {
  poller: Poller;
  source: FakeEventSource;
  store: MemoryCursorStore;

  emitted: string[];
  statuses: PollerStatus[];
  warnings: string[];
  fake: FakeTimers.Clock;
  /** Advances the fake clock by `ms`, letting every promise chain run. */
  run(ms?: number): Promise<void>;
}

function harness(
  options: Partial<PollerOptions> = {},
  source = new FakeEventSource(),
  store: CursorStore = new MemoryCursorStore(),
  fake = FakeTimers.createClock(0),
): Harness {
  const clock: Clock = {
    now: () => fake.now,
    monotonic: () => fake.now,
    setTimeout: (fn, ms) => fake.setTimeout(fn, ms),
    clearTimeout: (handle) => fake.clearTimeout(handle as FakeTimers.TimerId),
  };
  const emitted: string[] = [];
  const statuses: PollerStatus[] = [];
  const warnings: string[] = [];
  const poller = new Poller({
    source,
    store,
    clock,
    intervalMs: 1000,
    pageSize: 5,
    onEvent: (event) => {
      emitted.push(String(event.id));
    },
    onStatus: (status) => statuses.push(status),
    onWarning: (warning) => warnings.push(warning),
    ...options,
  });
  const run = async (ms = 0) => {
    await fake.tickAsync(ms);
    for (let i = 0; i < 20; i++) {
      await new Promise((resolve) => setImmediate(resolve));
      await fake.tickAsync(0);
    }
  };
  return { poller, source, store: store as MemoryCursorStore, emitted, statuses, warnings, fake, run };
}

const ids = (events: Array<Record<string, unknown>>) => events.map((e) => String(e.id));

describe('poller: helpers', () => {
  it('compares uint64 ids numerically beyond 2^53', () => {
    assert.equal(compareIds('9007199254740993', '9007199254740992'), 1);
    assert.equal(compareIds('10000000000000000000', '9999999999999999999'), 1);
    assert.equal(compareIds('4173669353687265180', '4173669353687265180'), 0);
    assert.equal(idKey('007'), '7');
    assert.equal(idKey(42), '42');
    assert.equal(idKey('abc'), null);
    assert.equal(idKey(-1), null);
  });

  it('refuses reserved filters and bad numbers', () => {
    assert.match(String(pollerOptionsProblem({ filters: { id_gte: '1' } })), /id_gte/);
    assert.match(String(pollerOptionsProblem({ filters: { ordering: '-id' } })), /ordering/);
    assert.match(String(pollerOptionsProblem({ filters: { cameras: [{}] as unknown as number[] } })), /cameras/);
    assert.match(String(pollerOptionsProblem({ pageSize: 0 })), /page size/);
    assert.match(String(pollerOptionsProblem({ intervalMs: -1 })), /interval/);
    assert.equal(pollerOptionsProblem({ filters: { cameras: [1, 2], no_match: false, created_date_gte: '2024-01-01T00:00:00Z' } }), null);
    assert.throws(() => harness({ filters: { limit: 5 } }), /limit/);
  });

  it('words its states', () => {
    assert.match(
      statusText({ state: 'backoff', lastId: null, emitted: 0, excluded: 0, failures: 2, waitMs: 729, error: { kind: 'network', message: 'down' } }),
      /retrying in 0\.7 s .*down/,
    );
    assert.match(
      statusText({ state: 'halted', lastId: null, emitted: 0, excluded: 0, failures: 1, waitMs: 300000, error: { kind: 'auth', status: 401, message: 'x' } }),
      /auth error 401.*300 s/,
    );
  });
});

describe('poller: reading events', () => {
  it('from the beginning: emits every event once, in id order, over several pages, saving after each page', async () => {
    const h = harness({ startAt: 'beginning' });
    h.source.addEvents(23);
    h.poller.start();
    await h.run();
    assert.deepEqual(h.emitted, ids(h.source.events));
    const first = h.source.calls[0].params;
    assert.equal(first.get('ordering'), 'id');
    assert.equal(first.get('limit'), '5');
    assert.equal(first.get('id_gte'), null);
    assert.equal(h.source.calls.length, 5, 'five pages, following next_page');
    assert.ok(h.store.saves >= 5, `saved ${h.store.saves} times`);
    assert.equal(h.store.cursor?.lastId, h.emitted[22]);
    assert.equal(h.poller.status.state, 'waiting');
    assert.equal(h.poller.status.waitMs, 1000);
    await h.poller.stop();
  });

  it('from now (the default): skips what exists, then emits what comes', async () => {
    const h = harness();
    h.source.addEvents(10);
    h.poller.start();
    await h.run();
    assert.deepEqual(h.emitted, []);
    const first = h.source.calls[0].params;
    assert.equal(first.get('ordering'), '-id');
    assert.equal(first.get('limit'), '1');
    assert.equal(h.store.cursor?.lastId, h.source.events[9].id);
    const added = h.source.addEvents(3);
    await h.run(1000);
    assert.deepEqual(h.emitted, ids(added));
    await h.poller.stop();
  });

  it('from now on an empty server: everything that arrives is new', async () => {
    const h = harness();
    h.poller.start();
    await h.run();
    assert.equal(h.store.cursor?.lastId, null);
    const added = h.source.addEvents(2);
    await h.run(1000);
    assert.deepEqual(h.emitted, ids(added));
    await h.poller.stop();
  });

  it('asks with id_gte = the cursor and drops the boundary event (no duplicates poll after poll)', async () => {
    const h = harness({ startAt: 'beginning' });
    h.source.addEvents(3);
    h.poller.start();
    await h.run();
    const last = h.emitted[2];
    for (let i = 0; i < 5; i++) await h.run(1000);
    const later = h.source.calls.slice(1);
    assert.ok(later.length >= 5);
    for (const call of later) assert.equal(call.params.get('id_gte'), last);
    assert.deepEqual(h.emitted, ids(h.source.events), 'the boundary event was not emitted again');
    const more = h.source.addEvents(4);
    await h.run(1000);
    assert.deepEqual(h.emitted.slice(3), ids(more));
    await h.poller.stop();
  });

  it('emits in id order even when a page comes unsorted, with ids above 2^53 of different lengths', async () => {
    const h = harness({ startAt: 'beginning', pageSize: 10 });
    const idList = ['9007199254740993', '9007199254740992', '10000000000000000000', '999', '9007199254740994'];
    h.source.events = idList.map((id, i) => makeEvent(i, { id }));
    h.source.shuffle = (items) => [...items].reverse();
    h.poller.start();
    await h.run();
    assert.deepEqual(h.emitted, ['999', '9007199254740992', '9007199254740993', '9007199254740994', '10000000000000000000']);
    await h.poller.stop();
  });

  it('stays duplicate-free when the server ignores id_gte', async () => {
    const h = harness({ startAt: 'beginning' });
    h.source.ignoreIdFilters = true;
    h.source.addEvents(12);
    h.poller.start();
    await h.run();
    await h.run(1000);
    const more = h.source.addEvents(2);
    await h.run(1000);
    assert.deepEqual(h.emitted, [...ids(h.source.events.slice(0, 12)), ...ids(more)]);
    await h.poller.stop();
  });

  it('passes FindFace filters through on every request and emits what the server selects', async () => {
    const filters = { cameras: [1, 2], no_match: false, created_date_gte: '2019-04-09T12:29:25Z' };
    const h = harness({ filters });
    h.source.addEvents(4);
    h.poller.start();
    await h.run();
    const added = h.source.addEvents(12);
    await h.run(1000);
    for (const call of h.source.calls) {
      assert.deepEqual(call.params.getAll('cameras'), ['1', '2']);
      assert.equal(call.params.get('no_match'), 'false');
      assert.equal(call.params.get('created_date_gte'), '2019-04-09T12:29:25Z');
    }
    const expected = added.filter((e) => e.matched === true && [1, 2].includes(e.camera as number));
    assert.ok(expected.length > 0);
    assert.deepEqual(h.emitted, ids(expected));
    await h.poller.stop();
  });

  it('reads at most maxPagesPerPoll pages per poll, then goes on at once', async () => {
    const h = harness({ startAt: 'beginning', pageSize: 2, maxPagesPerPoll: 2 });
    h.source.addEvents(9);
    h.poller.start();
    await h.run();
    assert.equal(h.emitted.length, 4, 'two pages in the first poll');
    await h.run(10);
    assert.deepEqual(h.emitted, ids(h.source.events), 'the rest at once, well before the 1000 ms interval');
    await h.poller.stop();
  });

  it('skips an event that is not a face event with a warning and moves past it', async () => {
    const h = harness({ startAt: 'beginning' });
    h.source.addEvents(2);
    h.source.events.push({ ...makeEvent(50), camera: 'nope' });
    h.source.addEvents(1);
    h.poller.start();
    await h.run();
    assert.equal(h.emitted.length, 3);
    assert.ok(
      h.warnings.some((w) => /skipped event \d+: it "camera" must be/.test(w)),
      h.warnings.join('\n'),
    );
    await h.run(1000);
    assert.equal(h.warnings.length, 1, 'warned once, not at every poll');
    await h.poller.stop();
  });
});

describe('poller: restarts', () => {
  it('a new poller on the same store continues where the last stopped: none twice, none skipped', async () => {
    const source = new FakeEventSource();
    const store = new MemoryCursorStore();
    source.addEvents(4);
    const a = harness({}, source, store);
    a.poller.start();
    await a.run();
    const firstBatch = source.addEvents(7);
    await a.run(1000);
    await a.poller.stop();
    const whileStopped = source.addEvents(6);
    const b = harness({}, source, store);
    b.poller.start();
    await b.run();
    const afterRestart = source.addEvents(3);
    await b.run(1000);
    await b.poller.stop();
    assert.deepEqual(a.emitted, ids(firstBatch));
    assert.deepEqual(b.emitted, [...ids(whileStopped), ...ids(afterRestart)]);
  });

  it('a crash between emitting a page and saving re-emits at most that page (at-least-once)', async () => {
    const source = new FakeEventSource();
    source.addEvents(12);
    // The store "dies" with the process after its second save: later saves are lost.
    const disk = new MemoryCursorStore();
    let saves = 0;
    const dying: CursorStore = {
      load: () => disk.load(),
      save: async (cursor: Cursor) => {
        if (++saves <= 2) await disk.save(cursor);
      },
    };
    const a = harness({ startAt: 'beginning' }, source, dying);
    a.poller.start();
    await a.run();
    // "kill -9": no stop(), the poller is abandoned (its timer is on a clock nobody ticks again).
    const b = harness({ startAt: 'beginning' }, source, disk);
    b.poller.start();
    await b.run();
    await b.poller.stop();
    const all = ids(source.events);
    assert.deepEqual(a.emitted, all);
    const union = new Set([...a.emitted, ...b.emitted]);
    assert.equal(union.size, all.length, 'nothing skipped');
    assert.ok(b.emitted.length <= 5 * 2, `re-emitted ${b.emitted.length}`);
    assert.deepEqual(b.emitted, all.slice(all.length - b.emitted.length), 're-emitted only the tail');
  });

  it('ignores a saved cursor of another source and starts afresh', async () => {
    const source = new FakeEventSource();
    source.addEvents(5);
    const store = new MemoryCursorStore({ lastId: '1', source: 'http://old-server' });
    const h = harness({ sourceKey: 'http://new-server' }, source, store);
    h.poller.start();
    await h.run();
    assert.deepEqual(h.emitted, [], 'started from now, not from id 1');
    assert.ok(h.warnings.some((w) => /belongs to http:\/\/old-server/.test(w)));
    assert.equal(h.store.cursor?.source, 'http://new-server');
    await h.poller.stop();
  });

  it('goes on (warning) when the store cannot save; the position in memory still prevents duplicates', async () => {
    const source = new FakeEventSource();
    const store: CursorStore = { load: async () => undefined, save: async () => Promise.reject(new Error('ENOSPC: no space left on device')) };
    const h = harness({ startAt: 'beginning' }, source, store);
    source.addEvents(3);
    h.poller.start();
    await h.run();
    await h.run(1000);
    assert.deepEqual(h.emitted, ids(source.events));
    assert.ok(h.warnings.some((w) => /ENOSPC/.test(w)));
    await h.poller.stop();
  });
});

describe('poller: FileCursorStore', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'poller-cursor-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('loads undefined before the first save, then what was saved; survives a new instance', async () => {
    const file = path.join(dir, 'sub', 'node1.json');
    const store = new FileCursorStore(file);
    assert.equal(await store.load(), undefined);
    await store.save({ lastId: '4173669353687265180', source: 'http://ff' });
    assert.deepEqual(await new FileCursorStore(file).load(), { lastId: '4173669353687265180', source: 'http://ff' });
    assert.deepEqual(fs.readdirSync(path.dirname(file)), ['node1.json'], 'no temporary file left');
    await store.remove();
    assert.equal(await store.load(), undefined);
  });

  it('rejects a torn or foreign file, and the poller then starts afresh with a warning', async () => {
    const file = path.join(dir, 'bad.json');
    fs.writeFileSync(file, '{"lastId": "41736');
    const store = new FileCursorStore(file);
    await assert.rejects(store.load());
    const source = new FakeEventSource();
    source.addEvents(2);
    const h = harness({}, source, store);
    h.poller.start();
    // The store reads a real file: wait in real time, not a fixed number of loop turns.
    await waitFor(
      async () => {
        await h.run();
        return h.warnings.some((w) => /cannot read the saved position/.test(w));
      },
      5000,
      'the warning',
    );
    await h.poller.stop();
    assert.equal((await store.load())?.lastId, source.events[1].id);
  });
});

describe('poller: failures', () => {
  it('backs off 0.270, 0.729, 1.968 … s while the server is down, then catches up', async () => {
    const h = harness({ startAt: 'beginning' });
    h.source.outage = down();
    h.poller.start();
    await h.run();
    const waits: number[] = [];
    for (let i = 0; i < 5; i++) {
      const status = h.poller.status;
      assert.equal(status.state, 'backoff');
      assert.equal(status.error?.kind, 'network');
      waits.push(status.waitMs!);
      const calls = h.source.calls.length;
      await h.run(status.waitMs! - 1);
      assert.equal(h.source.calls.length, calls, 'no request before the wait is over');
      await h.run(1);
      assert.equal(h.source.calls.length, calls + 1);
    }
    assert.deepEqual(waits, [270, 729, 1968, 5314, 14349]);
    assert.match(statusText(h.poller.status), /retrying in .*failure 6.*ECONNREFUSED/);
    h.source.outage = undefined;
    h.source.addEvents(3);
    await h.run(h.poller.status.waitMs!);
    assert.deepEqual(h.emitted, ids(h.source.events));
    assert.equal(h.poller.status.state, 'waiting');
    assert.equal(h.poller.status.failures, 0);
    await h.poller.stop();
  });

  it('caps the backoff at backoff.max', async () => {
    const h = harness({ startAt: 'beginning', backoff: { base: 0.1, factor: 2.7, max: 3 } });
    h.source.outage = down();
    h.poller.start();
    await h.run();
    for (let i = 0; i < 6; i++) await h.run(h.poller.status.waitMs!);
    assert.equal(h.poller.status.waitMs, 3000);
    await h.poller.stop();
  });

  it('stops hammering on 401: one try per haltRetryMs, or at once on trigger()', async () => {
    const h = harness({ startAt: 'beginning', haltRetryMs: 300000 });
    h.source.outage = unauthorized();
    h.poller.start();
    await h.run();
    assert.equal(h.poller.status.state, 'halted');
    assert.equal(h.poller.status.error?.status, 401);
    assert.match(statusText(h.poller.status), /auth error 401/);
    for (let i = 0; i < 60; i++) await h.run(10000);
    assert.equal(h.source.calls.length, 1 + 2, 'tried at 0, 5 and 10 minutes only');
    h.source.outage = undefined;
    h.source.addEvents(2);
    h.poller.trigger();
    await h.run();
    assert.equal(h.source.calls.length, 4);
    assert.equal(h.emitted.length, 2);
    assert.equal(h.poller.status.state, 'waiting');
    await h.poller.stop();
  });

  it('halts on errors that retrying cannot fix (400 for a bad filter)', async () => {
    const h = harness({ startAt: 'beginning', filters: { no_match: 'maybe' } });
    h.source.addEvents(1);
    h.poller.start();
    await h.run();
    assert.equal(h.poller.status.state, 'halted');
    assert.equal(h.poller.status.error?.status, 400);
    await h.poller.stop();
  });

  it('retries an event whose emission failed without skipping it or repeating the ones before', async () => {
    let failOnce = true;
    const emitted: string[] = [];
    const h = harness({
      startAt: 'beginning',
      onEvent: (event) => {
        if (String(event.id) === h.source.events[2].id && failOnce) {
          failOnce = false;
          throw new Error('downstream broke');
        }
        emitted.push(String(event.id));
      },
    });
    h.source.addEvents(4);
    h.poller.start();
    await h.run();
    assert.equal(h.poller.status.state, 'backoff');
    assert.equal(h.poller.status.error?.kind, 'emit');
    await h.run(270);
    assert.deepEqual(emitted, ids(h.source.events));
    await h.poller.stop();
  });
});

describe('poller: stop and trigger', () => {
  it('stop() clears every timer and emits nothing afterwards', async () => {
    const h = harness({ startAt: 'beginning' });
    h.poller.start();
    await h.run();
    assert.equal(h.fake.countTimers(), 1);
    await h.poller.stop();
    assert.equal(h.fake.countTimers(), 0);
    assert.equal(h.poller.status.state, 'stopped');
    h.source.addEvents(3);
    await h.run(60000);
    assert.deepEqual(h.emitted, []);
    h.poller.trigger();
    h.poller.start();
    await h.run(60000);
    assert.equal(h.source.calls.length, 1);
  });

  it('stop() during a slow emission lets the current event finish, saves and emits no more', async () => {
    let release: (() => void) | undefined;
    const emitted: string[] = [];
    const h = harness({
      startAt: 'beginning',
      onEvent: (event) =>
        new Promise<void>((resolve) => {
          emitted.push(String(event.id));
          release = resolve;
        }),
    });
    h.source.addEvents(5);
    h.poller.start();
    await h.run();
    assert.equal(emitted.length, 1);
    const stopping = h.poller.stop();
    release!();
    await stopping;
    assert.equal(emitted.length, 1);
    assert.equal(h.store.cursor?.lastId, emitted[0]);
    assert.equal(h.fake.countTimers(), 0);
  });

  it('stop() cancels the request in flight', async () => {
    let signal: AbortSignal | undefined;
    const source = new FakeEventSource();
    source.listEvents = (_query, _cursor, options = {}) =>
      new Promise((_resolve, reject) => {
        signal = options.signal;
        options.signal?.addEventListener('abort', () => reject(new FindFaceApiError('aborted', 'cancelled')));
      });
    const h = harness({ startAt: 'beginning' }, source);
    h.poller.start();
    await h.run();
    assert.ok(signal && !signal.aborted);
    await h.poller.stop();
    assert.equal(signal!.aborted, true);
    assert.equal(h.poller.status.state, 'stopped');
  });

  it('trigger() during a poll runs another one right after it; trigger() while waiting polls at once', async () => {
    const source = new FakeEventSource();
    const list = source.listEvents.bind(source);
    let gate: Promise<void> | undefined;
    source.listEvents = async (query, cursor, options) => {
      if (gate) await gate;
      return list(query, cursor, options);
    };
    const h = harness({ startAt: 'beginning' }, source);
    h.poller.start();
    await h.run();
    assert.equal(source.calls.length, 1);
    h.poller.trigger();
    await h.run();
    assert.equal(source.calls.length, 2, 'a trigger while waiting polls at once');
    let open!: () => void;
    gate = new Promise<void>((resolve) => (open = resolve));
    h.poller.trigger();
    await h.run();
    assert.equal(h.poller.status.state, 'polling');
    h.poller.trigger();
    h.poller.trigger();
    gate = undefined;
    open();
    await h.run(1);
    assert.equal(source.calls.length, 4, 'one more poll right after the one in progress, not two');
    assert.equal(h.poller.status.state, 'waiting');
    await h.poller.stop();
  });
});

describe('poller: against the fake FindFace over HTTP', function () {
  this.timeout(10000);

  it('reads every event once through an outage and a restart', async () => {
    const fake = await FakeFindFace.start({ maxLimit: 4 });
    const client = new FindFaceClient({ baseUrl: fake.url, token: fake.token, timeoutMs: 1000 });
    const store = new MemoryCursorStore();
    const emitted: string[] = [];
    const options = {
      source: client,
      store,
      intervalMs: 20,
      pageSize: 10,
      startAt: 'beginning' as const,
      sourceKey: fake.url,
      backoff: { base: 0.01, factor: 2, max: 0.1 },
      onEvent: (event: { id: unknown }) => {
        emitted.push(String(event.id));
      },
    };
    const pollers: Poller[] = [];
    try {
      fake.addEvents(9);
      const first = new Poller(options);
      pollers.push(first);
      first.start();
      await waitFor(() => emitted.length === 9, 3000, '9 events');
      await fake.down();
      await waitFor(() => first.status.state === 'backoff', 3000, 'backoff');
      fake.addEvents(5);
      await fake.up();
      await waitFor(() => emitted.length === 14, 3000, '14 events');
      await first.stop();
      fake.addEvents(3);
      const second = new Poller(options);
      pollers.push(second);
      second.start();
      await waitFor(() => emitted.length === 17, 3000, '17 events');
      await second.stop();
      assert.deepEqual(emitted, ids(fake.events));
      const withCursor = fake.requestsTo('/events/faces/').filter((r) => r.query.get('id_gte'));
      assert.ok(withCursor.length > 0);
    } finally {
      // A failed assertion must not leave a poller running (mocha would never exit).
      await Promise.all(pollers.map((p) => p.stop()));
      client.destroy();
      await fake.close();
    }
  });
});

describe('poller: servers that ignore ordering, the cursor or filters', () => {
  const sloppy = () => {
    const source = new FakeEventSource();
    source.sloppy = true;
    return source;
  };

  for (const startAt of ['beginning', 'now'] as const) {
    it(`a mock-like server (newest first, page as offset, id_gte ignored), page size 2: every event once, oldest first (start ${startAt})`, async () => {
      const source = sloppy();
      const before = source.addEvents(5);
      const h = harness({ startAt, pageSize: 2 }, source);
      h.poller.start();
      await h.run();
      const later = source.addEvents(7);
      await h.run(1000);
      const expected = startAt === 'beginning' ? [...before, ...later] : later;
      assert.deepEqual(h.emitted, ids(expected));
      source.addEvents(3);
      await h.run(1000);
      assert.deepEqual(h.emitted, ids(startAt === 'beginning' ? source.events : source.events.slice(5)));
      assert.ok(h.warnings.some((w) => /not list events in id order/.test(w)));
      await h.poller.stop();
    });
  }

  it('across a restart against the mock-like server: none twice, none skipped, oldest first', async () => {
    const source = sloppy();
    source.addEvents(6);
    const store = new MemoryCursorStore();
    const first = harness({ startAt: 'beginning', pageSize: 2 }, source, store);
    first.poller.start();
    await first.run();
    await first.poller.stop();
    source.addEvents(5);
    const second = harness({ startAt: 'beginning', pageSize: 2 }, source, store);
    second.poller.start();
    await second.run();
    await second.poller.stop();
    assert.deepEqual([...first.emitted, ...second.emitted], ids(source.events));
  });

  it('a server that answers newest first and never gives a next page: halts with an order error instead of skipping', async () => {
    const source = sloppy();
    source.noNextPage = true;
    source.addEvents(5);
    const h = harness({ startAt: 'beginning', pageSize: 2 }, source);
    h.poller.start();
    await h.run();
    assert.deepEqual(h.emitted, []);
    assert.equal(h.poller.status.state, 'halted');
    assert.equal(h.poller.status.error?.kind, 'order');
    assert.match(h.poller.status.error?.message ?? '', /newest first.*cannot be read/);
    // Fewer new events than a page: it can tell it saw them all, and emits them oldest first.
    const fresh = new FakeEventSource();
    fresh.sloppy = true;
    fresh.noNextPage = true;
    fresh.addEvents(3);
    const ok = harness({ startAt: 'beginning', pageSize: 5 }, fresh);
    ok.poller.start();
    await ok.run();
    assert.deepEqual(ok.emitted, ids(fresh.events));
    fresh.addEvents(2);
    await ok.run(1000);
    assert.deepEqual(ok.emitted, ids(fresh.events));
    await Promise.all([h.poller.stop(), ok.poller.stop()]);
  });

  it('a shuffling server with paging: reads to the last page and emits every new event once, oldest first', async () => {
    const source = new FakeEventSource();
    let turn = 0;
    source.shuffle = (items) => (turn++ % 2 ? [...items].reverse() : items);
    source.addEvents(3);
    const h = harness({ startAt: 'now', pageSize: 3 }, source);
    h.poller.start();
    await h.run();
    const added = source.addEvents(10);
    await h.run(1000);
    assert.deepEqual(h.emitted, ids(added));
    await h.poller.stop();
  });

  it('in id order but id_gte ignored, more pages than a poll reads: goes on from where it stopped, never skipping', async () => {
    const source = new FakeEventSource();
    source.ignoreIdFilters = true;
    source.addEvents(40);
    const h = harness({ startAt: 'now', pageSize: 2, maxPagesPerPoll: 3 }, source);
    h.poller.start();
    await h.run();
    const added = source.addEvents(4);
    for (let i = 0; i < 20; i++) await h.run(1000);
    assert.deepEqual(h.emitted, ids(added));
    await h.poller.stop();
  });

  it('more new events than maxEventsPerPoll on a server out of order: halts, emits none', async () => {
    const source = sloppy();
    source.addEvents(30);
    const h = harness({ startAt: 'beginning', pageSize: 5, maxEventsPerPoll: 12 }, source);
    h.poller.start();
    await h.run();
    assert.deepEqual(h.emitted, []);
    assert.equal(h.poller.status.error?.kind, 'order');
    assert.match(h.poller.status.error?.message ?? '', /not list events in id order.*none are emitted/);
    await h.poller.stop();
  });

  it('never emits an event the local re-check excludes (a server ignoring no_match): the cursor moves past it, with one warning', async () => {
    const source = new FakeEventSource();
    source.ignoredParams = ['no_match'];
    source.addEvents(10);
    const h = harness({ startAt: 'beginning', filters: { no_match: false }, select: (event) => (event.matched === true ? null : 'no_match') }, source);
    h.poller.start();
    await h.run();
    assert.deepEqual(h.emitted, ids(source.events.filter((e) => e.matched === true)));
    assert.equal(h.poller.status.excluded, 5);
    assert.equal(h.warnings.filter((w) => /does not match "no_match"/.test(w)).length, 1);
    assert.equal(h.store.cursor?.lastId, source.events[9].id);
    await h.poller.stop();
  });
});

describe('poller: against the sloppy fake FindFace over HTTP', function () {
  this.timeout(10000);

  it('every event once, oldest first, never an unmatched face for no_match=false, across a restart', async () => {
    const fake = await FakeFindFace.start({ sloppy: true });
    const client = new FindFaceClient({ baseUrl: fake.url, token: fake.token, timeoutMs: 1000 });
    const store = new MemoryCursorStore();
    const emitted: Array<Record<string, unknown>> = [];
    const options = {
      source: client,
      store,
      intervalMs: 20,
      pageSize: 3,
      startAt: 'beginning' as const,
      filters: { no_match: false },
      onEvent: (event: Record<string, unknown>) => {
        emitted.push(event);
      },
    };
    const pollers: Poller[] = [];
    try {
      fake.addEvents(10);
      const first = new Poller(options);
      pollers.push(first);
      first.start();
      await waitFor(() => emitted.length === 5, 3000, '5 matched events');
      await first.stop();
      fake.addEvents(6);
      const second = new Poller(options);
      pollers.push(second);
      second.start();
      await waitFor(() => emitted.length === 8, 3000, '8 matched events');
      await second.stop();
      assert.deepEqual(ids(emitted), ids(fake.events.filter((e) => e.matched === true)));
      // The fake honours no_match; the proof that a server ignoring it changes nothing is the unit test above.
      assert.ok(emitted.every((e) => e.matched === true));
      assert.ok(fake.requestsTo('/events/faces/').every((r) => r.query.get('no_match') === 'false' || r.query.get('ordering') === '-id'));
    } finally {
      await Promise.all(pollers.map((p) => p.stop()));
      client.destroy();
      await fake.close();
    }
  });
});
