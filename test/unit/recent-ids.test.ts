import assert from 'assert/strict';
import { RecentIds } from '../../nodes/lib/source/recent-ids';

describe('RecentIds', () => {
  it('reports an id seen within the window, and forgets it after', () => {
    const recent = new RecentIds(1000);
    assert.equal(recent.seenBefore('a', 0), false);
    assert.equal(recent.seenBefore('a', 999), true);
    assert.equal(recent.seenBefore('a', 1000), false);
    assert.equal(recent.seenBefore('b', 1500), false);
    assert.equal(recent.seenBefore('a', 1999), true);
  });

  it('evicts expired ids and stays within its size', () => {
    const recent = new RecentIds(1000, 3);
    for (const id of ['a', 'b', 'c', 'd']) recent.seenBefore(id, 0);
    assert.equal(recent.size, 3);
    assert.equal(recent.seenBefore('a', 1), false, 'the oldest was dropped to stay within size');
    recent.seenBefore('z', 5000);
    assert.equal(recent.size, 1);
  });
});
