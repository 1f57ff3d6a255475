import assert from 'assert/strict';
import { RecentIds } from '../../nodes/lib/source/recent-ids';

/** A monotonic reading set by the test. */
function manualClock() {
  let ms = 0;
  return { monotonic: () => ms, at: (value: number) => (ms = value) };
}

describe('RecentIds', () => {
  it('reports an id seen within the window, and forgets it after', () => {
    const clock = manualClock();
    const recent = new RecentIds(1000, 100_000, clock);
    const seenAt = (id: string, ms: number) => (clock.at(ms), recent.seenBefore(id));
    assert.equal(seenAt('a', 0), false);
    assert.equal(seenAt('a', 999), true);
    assert.equal(seenAt('a', 1000), false);
    assert.equal(seenAt('b', 1500), false);
    assert.equal(seenAt('a', 1999), true);
  });

  it('evicts expired ids and stays within its size', () => {
    const clock = manualClock();
    const recent = new RecentIds(1000, 3, clock);
    for (const id of ['a', 'b', 'c', 'd']) recent.seenBefore(id);
    assert.equal(recent.size, 3);
    clock.at(1);
    assert.equal(recent.seenBefore('a'), false, 'the oldest was dropped to stay within size');
    clock.at(5000);
    recent.seenBefore('z');
    assert.equal(recent.size, 1);
  });
});
