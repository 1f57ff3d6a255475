import assert from 'assert';
import { nextMessageId } from '../../nodes/lib/common/message-id';

describe('nextMessageId', () => {
  it('gives 16 hex digits, as Node-RED ids are, and never the same id twice', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 100_000; i++) {
      const id = nextMessageId();
      assert.match(id, /^[0-9a-f]{16}$/);
      seen.add(id);
    }
    assert.strictEqual(seen.size, 100_000);
  });
});
