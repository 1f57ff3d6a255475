import assert from 'assert/strict';
import { DeferredLog } from '../../nodes/lib/common/deferred-log';

function recordingSink() {
  const written: string[] = [];
  return { written, sink: { log: (line: string) => written.push(`info ${line}`), warn: (line: string) => written.push(`warn ${line}`) } };
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('deferred log', () => {
  it('writes nothing in the turn a line is made, then every line in order, info and warn interleaved', async () => {
    const { written, sink } = recordingSink();
    const lines = new DeferredLog(sink);
    lines.log('Event 1 enqueued');
    lines.warn('Backing off');
    lines.log('Attempting to send 1 events');
    await Promise.resolve();
    assert.deepEqual(written, [], 'microtasks of the same turn (the POST being made) come first');
    await nextTurn();
    assert.deepEqual(written, ['info Event 1 enqueued', 'warn Backing off', 'info Attempting to send 1 events']);
  });

  it('flush writes the queued lines at once and leaves nothing for the scheduled turn', async () => {
    const { written, sink } = recordingSink();
    const lines = new DeferredLog(sink);
    lines.log('a');
    lines.warn('b');
    lines.flush();
    assert.deepEqual(written, ['info a', 'warn b']);
    await nextTurn();
    assert.deepEqual(written, ['info a', 'warn b'], 'written once');
    lines.log('c');
    await nextTurn();
    assert.deepEqual(written, ['info a', 'warn b', 'info c'], 'a line after a flush is scheduled again');
  });

  it('leaves no timer behind once flushed (a closed node keeps nothing alive)', async () => {
    const { sink } = recordingSink();
    const lines = new DeferredLog(sink);
    const before = process.getActiveResourcesInfo().filter((kind) => kind === 'Immediate').length;
    lines.log('a');
    assert.equal(process.getActiveResourcesInfo().filter((kind) => kind === 'Immediate').length, before + 1);
    lines.flush();
    assert.equal(process.getActiveResourcesInfo().filter((kind) => kind === 'Immediate').length, before);
  });
});
