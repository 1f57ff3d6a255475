import assert from 'assert/strict';
import { FindFaceApiError, FindFaceClient, HumanCard } from '../../nodes/lib/findface/findface-api';
import { CardLookup } from '../../nodes/lib/findface/card-lookup';
import { FakeFindFace } from '../support/fake-findface';

const card = (id: number): HumanCard => ({ id, name: `Person ${id}`, watch_lists: [1, id] });
const clockAt = (ref: { now: number }) => ({
  now: () => ref.now,
  monotonic: () => ref.now,
  setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms),
  clearTimeout: (handle: unknown) => clearTimeout(handle as NodeJS.Timeout),
});

describe('card lookup', () => {
  it('never waits: the first peek answers nothing and fetches in the background, the next one answers the card', async () => {
    const asked: number[] = [];
    const lookup = new CardLookup({ fetch: async (id) => (asked.push(id), card(id)) });
    assert.equal(lookup.peek(7), undefined);
    assert.equal(lookup.peek(7), undefined, 'one lookup at a time per card');
    await lookup.settled();
    assert.deepEqual(lookup.peek(7), { id: 7, name: 'Person 7', watchLists: [1, 7] });
    assert.deepEqual(asked, [7]);
  });

  it('a lookup that hangs or fails returns at once, is not retried for failureTtlMs, and is reported', async () => {
    const ref = { now: 0 };
    const errors: string[] = [];
    let calls = 0;
    const lookup = new CardLookup({
      clock: clockAt(ref),
      failureTtlMs: 1000,
      fetch: async () => {
        calls++;
        throw new FindFaceApiError('network', 'GET /cards/humans/3/: connect ECONNREFUSED');
      },
      onError: (_id, message) => errors.push(message),
    });
    const started = Date.now();
    assert.equal(lookup.peek(3), undefined);
    assert.ok(Date.now() - started < 50);
    await lookup.settled();
    assert.equal(lookup.peek(3), undefined);
    assert.equal(calls, 1);
    ref.now = 1001;
    lookup.peek(3);
    await lookup.settled();
    assert.equal(calls, 2);
    assert.equal(errors.length, 2);

    let hung = 0;
    const slow = new CardLookup({
      timeoutMs: 30,
      fetch: (_id, options) =>
        new Promise((_resolve, reject) => {
          hung++;
          options.signal?.addEventListener('abort', () => reject(new FindFaceApiError('aborted', 'cancelled')));
        }),
    });
    assert.equal(slow.peek(1), undefined);
    await slow.settled();
    assert.equal(hung, 1, 'the hanging lookup was cut off by its timeout');
  });

  it('keeps at most maxEntries cards (least recently used out) for at most ttlMs; 404 is remembered', async () => {
    const ref = { now: 0 };
    let calls = 0;
    const lookup = new CardLookup({
      clock: clockAt(ref),
      maxEntries: 2,
      ttlMs: 500,
      fetch: async (id) => {
        calls++;
        if (id === 404) throw new FindFaceApiError('client', 'GET /cards/humans/404/: HTTP 404 Not Found', 404);
        return card(id);
      },
    });
    for (const id of [1, 2]) lookup.peek(id);
    await lookup.settled();
    assert.ok(lookup.peek(1));
    lookup.peek(3);
    await lookup.settled();
    assert.equal(lookup.size, 2);
    assert.ok(lookup.peek(1), '1 was used last: kept');
    assert.ok(lookup.peek(3));
    assert.equal(lookup.peek(2), undefined, '2 was evicted');
    await lookup.settled();
    ref.now = 501;
    assert.equal(lookup.peek(1), undefined, 'expired');
    await lookup.settled();
    assert.ok(lookup.peek(1), 'fetched again');
    const before = calls;
    lookup.peek(404);
    await lookup.settled();
    lookup.peek(404);
    await lookup.settled();
    assert.equal(calls, before + 1, 'a missing card is not asked for again within ttlMs');
  });

  it('reads GET /cards/humans/{id}/ from the fake FindFace', async () => {
    const fake = await FakeFindFace.start();
    const client = new FindFaceClient({ baseUrl: fake.url, token: fake.token, timeoutMs: 1000 });
    try {
      fake.cards.set(12, { id: 12, name: 'Ann Smith', watch_lists: [1, 3], active: true });
      const lookup = new CardLookup({ fetch: (id, options) => client.getHumanCard(id, options) });
      lookup.peek(12);
      await lookup.settled();
      assert.deepEqual(lookup.peek(12), { id: 12, name: 'Ann Smith', watchLists: [1, 3] });
      assert.equal(fake.requestsTo('/cards/humans/12/')[0].headers.authorization, `Token ${fake.token}`);
    } finally {
      client.destroy();
      await fake.close();
    }
  });
});
