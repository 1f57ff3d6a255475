// Every duration in lib is measured on the monotonic clock: the wall clock
// stepping back or forward 60 s (NTP, an operator, a VM resumed) must not
// stall delivery, make a burst, or let a repeated event through.
import assert from 'assert/strict';
import { CameraGroups } from '../../nodes/lib/findface/camera-groups';
import { Camera } from '../../nodes/lib/findface/findface-api';
import { EventQueue } from '../../nodes/lib/delivery/queue/queue';
import { DeliveredReport, Sender, SenderOptions, TransportResponse } from '../../nodes/lib/delivery/sender';
import { RecentIds } from '../../nodes/lib/source/recent-ids';
import { SteppingClock, steppingClock } from '../support/stepping-clock';

const STEP_MS = 60_000;

class ListQueue implements EventQueue {
  items: Buffer[] = [];
  get length(): number {
    return this.items.length;
  }
  get bytes(): number {
    return this.items.reduce((sum, item) => sum + item.length + 1, 0);
  }
  async append(items: unknown[]): Promise<void> {
    this.items.push(...items.map((item) => Buffer.from(JSON.stringify(item))));
  }
  async peek(max: number, skip = 0): Promise<Buffer[]> {
    return this.items.slice(skip, skip + max);
  }
  async ack(count: number): Promise<void> {
    this.items.splice(0, count);
  }
  async close(): Promise<void> {}
  async destroy(): Promise<void> {
    this.items = [];
  }
}

interface Sent {
  at: number;
  ids: unknown[];
}

/** A sender whose transport answers with `answer(n)` for the n-th request (0-based) after `answerAfterMs`. */
function sender(clock: SteppingClock, options: Partial<SenderOptions>, answer: (n: number) => TransportResponse = () => ({ status: 200 }), answerAfterMs = 0) {
  const sent: Sent[] = [];
  const delivered: DeliveredReport[] = [];
  const it = new Sender({
    title: 'door',
    clock,
    queue: new ListQueue(),
    transport: (body) =>
      new Promise((resolve) => {
        const n = sent.length;
        sent.push({ at: clock.monotonic(), ids: (JSON.parse(body.toString('utf8')) as Array<{ id: unknown }>).map((e) => e.id) });
        if (answerAfterMs > 0) clock.setTimeout(() => resolve(answer(n)), answerAfterMs);
        else resolve(answer(n));
      }),
    hooks: { delivered: (report) => delivered.push(report) },
    ...options,
  });
  it.start();
  return { sender: it, sent, delivered };
}

describe('durations on the monotonic clock while the wall clock steps', () => {
  describe('sender linger', () => {
    for (const step of [-STEP_MS, STEP_MS]) {
      it(`sends a lingering batch after lingerMs of monotonic time when the wall clock steps ${step > 0 ? 'forward' : 'back'} 60 s`, async () => {
        const clock = steppingClock();
        const h = sender(clock, { batchSize: 10, lingerMs: 1000 });
        await h.sender.enqueue([{ id: 'a', camera: 1 }]);
        await clock.fake.tickAsync(400);
        clock.stepWall(step);
        await h.sender.enqueue([{ id: 'b', camera: 1 }]);
        await clock.fake.tickAsync(599);
        assert.equal(h.sent.length, 0, 'a wall step forward must not cut the linger short');
        await clock.fake.tickAsync(1);
        assert.deepEqual(h.sent, [{ at: 1000, ids: ['a', 'b'] }], 'a wall step back must not hold the batch');
        await h.sender.stop();
      });
    }
  });

  it('reports the latency of a request as monotonic time, whatever the wall clock does meanwhile', async () => {
    const clock = steppingClock();
    const h = sender(clock, {}, () => ({ status: 200 }), 250);
    await h.sender.enqueue([{ id: 'a', camera: 1 }]);
    await clock.fake.tickAsync(100);
    clock.stepWall(-STEP_MS);
    await clock.fake.tickAsync(150);
    assert.equal(h.delivered.length, 1);
    assert.equal(h.delivered[0].latencyMs, 250);
    await h.sender.stop();
  });

  it('reads a Retry-After date against the wall clock and then waits monotonic time', async () => {
    const clock = steppingClock();
    const retryAt = new Date(clock.now() + 5000).toUTCString();
    const h = sender(clock, { backoff: { base: 0.1, factor: 2, max: 100 } }, (n) =>
      n === 0 ? { status: 503, headers: { 'retry-after': retryAt } } : { status: 200 },
    );
    await h.sender.enqueue([{ id: 'a', camera: 1 }]);
    await clock.fake.tickAsync(0);
    assert.equal(h.sent.length, 1);
    clock.stepWall(-STEP_MS);
    await clock.fake.tickAsync(4999);
    assert.equal(h.sent.length, 1, 'not before the date');
    await clock.fake.tickAsync(1);
    assert.equal(h.sent.length, 2, 'the step back after the answer does not lengthen the wait');
    await h.sender.stop();
  });

  it('waits the backoff in monotonic time', async () => {
    const clock = steppingClock();
    const h = sender(clock, { backoff: { base: 1, factor: 2, max: 100 } }, (n) => (n === 0 ? { status: 500 } : { status: 200 }));
    await h.sender.enqueue([{ id: 'a', camera: 1 }]);
    await clock.fake.tickAsync(0);
    clock.stepWall(STEP_MS);
    await clock.fake.tickAsync(1999);
    assert.equal(h.sent.length, 1, 'a step forward does not end the backoff');
    clock.stepWall(-2 * STEP_MS);
    await clock.fake.tickAsync(1);
    assert.equal(h.sent.length, 2, 'a step back does not extend it');
    await h.sender.stop();
  });

  describe('repeat window (dedupWindowS)', () => {
    it('still drops a repeat within the window after the wall clock steps forward 60 s', () => {
      const clock = steppingClock();
      const recent = new RecentIds(10_000, 100, clock);
      assert.equal(recent.seenBefore('a'), false);
      clock.fake.tick(1000);
      clock.stepWall(STEP_MS);
      assert.equal(recent.seenBefore('a'), true);
    });

    it('forgets an id once the window has passed in monotonic time, even after the wall clock stepped back 60 s', () => {
      const clock = steppingClock();
      const recent = new RecentIds(10_000, 100, clock);
      recent.seenBefore('a');
      clock.stepWall(-STEP_MS);
      clock.fake.tick(9999);
      assert.equal(recent.seenBefore('a'), true);
      clock.fake.tick(10_001);
      assert.equal(recent.seenBefore('a'), false);
    });
  });

  describe('camera groups refresh gap', () => {
    function groups(clock: SteppingClock) {
      const calls: number[] = [];
      const source = {
        async listCameras(): Promise<Camera[]> {
          calls.push(clock.monotonic());
          return [{ id: 1, group: 1 }];
        },
      };
      const cache = new CameraGroups({ source, clock, refreshMs: 600_000, minRefreshGapMs: 5000 });
      return { cache, calls };
    }

    it('refreshes again once the gap has passed, though the wall clock stepped back 60 s', async () => {
      const clock = steppingClock();
      const { cache, calls } = groups(clock);
      assert.equal(await cache.ready(), true);
      clock.stepWall(-STEP_MS);
      await clock.fake.tickAsync(5000);
      await cache.refresh();
      assert.deepEqual(calls, [0, 5000]);
      cache.stop();
    });

    it('merges refreshes within the gap, though the wall clock stepped forward 60 s', async () => {
      const clock = steppingClock();
      const { cache, calls } = groups(clock);
      assert.equal(await cache.ready(), true);
      clock.stepWall(STEP_MS);
      for (let i = 0; i < 5; i++) {
        await clock.fake.tickAsync(100);
        await cache.refresh();
      }
      assert.deepEqual(calls, [0], 'no burst of reloads');
      cache.stop();
    });
  });
});
