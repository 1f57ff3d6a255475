import assert from 'assert/strict';
import FakeTimers from '@sinonjs/fake-timers';
import { Clock } from '../../nodes/lib/common/clock';
import { RateScheduler } from '../../nodes/lib/source/rate-scheduler';

/** Fake time: timers and the monotonic reading advance together; the wall clock can be set apart, and a stall can be faked. */
function fakeTime() {
  const fake = FakeTimers.createClock(0);
  let wallOffset = 0;
  let stalled = 0;
  const clock: Clock = {
    now: () => fake.now + wallOffset,
    monotonic: () => fake.now + stalled,
    setTimeout: (callback, ms) => fake.setTimeout(callback, ms),
    clearTimeout: (handle) => fake.clearTimeout(handle as never),
  };
  return {
    clock,
    tick: (ms: number) => fake.tick(ms),
    stepWallClock: (ms: number) => (wallOffset += ms),
    /** The event loop was blocked for `ms`: time passed, no timer ran. */
    stall: (ms: number) => (stalled += ms),
    pending: () => fake.countTimers(),
  };
}

function scheduler(rate: number, time = fakeTime(), maxCatchUp?: number) {
  const counts: number[] = [];
  const s = new RateScheduler({ rate, clock: time.clock, emit: (count) => counts.push(count), maxCatchUp });
  const total = () => counts.reduce((a, b) => a + b, 0);
  return { s, time, counts, total };
}

describe('rate scheduler', () => {
  it('emits the first event at once, then rate per second, without drift', () => {
    const { s, time, total } = scheduler(10);
    s.start();
    assert.equal(total(), 1);
    time.tick(999);
    assert.equal(total(), 10);
    time.tick(9000);
    assert.equal(total(), 100);
  });

  it('keeps a fractional rate (0.2/s: one event every 5 s)', () => {
    const { s, time, total } = scheduler(0.2);
    s.start();
    time.tick(4999);
    assert.equal(total(), 1);
    time.tick(1);
    assert.equal(total(), 2);
  });

  it('does not stop when the wall clock is set back', () => {
    const { s, time, total } = scheduler(10);
    s.start();
    time.tick(1000);
    const before = total();
    time.stepWallClock(-3600000);
    time.tick(1000);
    assert.equal(total() - before, 10);
  });

  it('does not burst when the wall clock is set forward', () => {
    const { s, time, counts, total } = scheduler(10);
    s.start();
    time.tick(1000);
    const before = total();
    time.stepWallClock(3600000);
    time.tick(100);
    assert.equal(total() - before, 1);
    assert.ok(
      counts.every((count) => count === 1),
      JSON.stringify(counts),
    );
  });

  it('skips what a stalled event loop missed beyond maxCatchUp instead of bursting it', () => {
    const { s, time, counts, total } = scheduler(100, fakeTime(), 5);
    s.start();
    time.stall(10000);
    // The next timer (due 10 ms after the start) finds 1000 events due.
    time.tick(10);
    assert.equal(counts[counts.length - 1], 5);
    const before = total();
    time.tick(1000);
    assert.equal(total() - before, 100);
  });

  it('stops, restarts, and takes a new rate from now', () => {
    const { s, time, total } = scheduler(10);
    s.start();
    time.tick(500);
    s.stop();
    assert.equal(s.running, false);
    assert.equal(time.pending(), 0);
    const stoppedAt = total();
    time.tick(5000);
    assert.equal(total(), stoppedAt);
    s.start();
    s.setRate(1);
    assert.equal(s.rate, 1);
    const restartedAt = total();
    time.tick(2000);
    assert.equal(total() - restartedAt, 2);
  });

  it('refuses a rate that is not above 0', () => {
    for (const rate of [0, -1, NaN, Infinity]) assert.throws(() => new RateScheduler({ rate, emit: () => undefined }), RangeError);
    assert.throws(() => scheduler(1).s.setRate(0), RangeError);
  });
});
