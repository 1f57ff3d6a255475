import assert from 'assert/strict';
import FakeTimers from '@sinonjs/fake-timers';
import { ackGroup, acknowledge, acknowledgedDownstream, ACK_PROPERTY, AckOutcome, WiredNode } from '../../nodes/lib/event/acknowledgement';

describe('acknowledgements', () => {
  let clock: ReturnType<typeof FakeTimers.install>;
  beforeEach(() => (clock = FakeTimers.install({ toFake: ['setTimeout', 'clearTimeout'] })));
  afterEach(() => clock.uninstall());

  it('settles ok once every event is acked, once', () => {
    const outcomes: AckOutcome[] = [];
    const [a, b] = ackGroup(['1', '2'], 1000, (outcome) => outcomes.push(outcome));
    a();
    a();
    assert.deepEqual(outcomes, []);
    b();
    assert.deepEqual(outcomes, [{ ok: true }]);
    clock.tick(2000);
    assert.equal(outcomes.length, 1);
  });

  it('settles with the first error', () => {
    const outcomes: AckOutcome[] = [];
    const [a, b] = ackGroup(['1', '2'], 1000, (outcome) => outcomes.push(outcome));
    b(new Error('ENOSPC: no space left on device'));
    a();
    assert.deepEqual(outcomes, [{ ok: false, error: 'event 2 could not be queued: ENOSPC: no space left on device' }]);
  });

  it('settles with an error when events are not acked in time', () => {
    const outcomes: AckOutcome[] = [];
    const [a] = ackGroup(['1', '2'], 1000, (outcome) => outcomes.push(outcome));
    a();
    clock.tick(999);
    assert.deepEqual(outcomes, []);
    clock.tick(1);
    assert.deepEqual(outcomes, [{ ok: false, error: '1 of 2 events were not queued within 1000 ms' }]);
  });

  it('acknowledge calls the ack a message carries, and ignores messages without one', () => {
    const calls: Array<Error | undefined> = [];
    acknowledge({ [ACK_PROPERTY]: (error?: Error) => calls.push(error) });
    acknowledge({ payload: 1 });
    assert.deepEqual(calls, [undefined]);
  });
});

describe('acknowledged downstream (respond "auto")', () => {
  const flow = (nodes: Record<string, WiredNode>) => (id: string) => nodes[id];
  const webhook: WiredNode = { type: 'findface-webhook', wires: [[], []] };
  const debug: WiredNode = { type: 'debug', wires: [] };

  it('is true when a webhook node is wired to the source, also beside others', () => {
    assert.equal(acknowledgedDownstream([['hook']], flow({ hook: webhook })), true);
    assert.equal(acknowledgedDownstream([['dbg', 'hook']], flow({ hook: webhook, dbg: debug })), true);
  });

  it('is false for a source feeding only a debug node, nothing, or a node that is not running', () => {
    assert.equal(acknowledgedDownstream([['dbg']], flow({ dbg: debug })), false);
    assert.equal(acknowledgedDownstream([[]], flow({})), false);
    assert.equal(acknowledgedDownstream([], flow({})), false);
    assert.equal(acknowledgedDownstream([['hook']], flow({})), false, 'a disabled webhook node is not running');
  });

  it('goes through webhook filters: one output must lead to a webhook, two outputs both', () => {
    const filter1: WiredNode = { type: 'findface-filter', wires: [['hook']] };
    assert.equal(acknowledgedDownstream([['f']], flow({ f: filter1, hook: webhook })), true);
    const filter2: WiredNode = { type: 'findface-filter', wires: [['hook'], ['dbg']] };
    assert.equal(acknowledgedDownstream([['f']], flow({ f: filter2, hook: webhook, dbg: debug })), false, 'failing events go to a debug node unacked');
    const filter2both: WiredNode = { type: 'findface-filter', wires: [['hook'], ['other']] };
    assert.equal(acknowledgedDownstream([['f']], flow({ f: filter2both, hook: webhook, other: webhook })), true);
    const chain: Record<string, WiredNode> = {
      a: { type: 'findface-filter', wires: [['b']] },
      b: { type: 'findface-filter', wires: [['hook']] },
      hook: webhook,
    };
    assert.equal(acknowledgedDownstream([['a']], flow(chain)), true);
    assert.equal(acknowledgedDownstream([['f']], flow({ f: { type: 'findface-filter', wires: [[]] } })), false);
  });

  it('does not go through nodes that may drop or replace a message (function, switch, link, subflow)', () => {
    for (const type of ['function', 'switch', 'link out', 'subflow:abc', 'change']) {
      assert.equal(acknowledgedDownstream([['n']], flow({ n: { type, wires: [['hook']] }, hook: webhook })), false, type);
    }
  });

  it('ends on a loop of filters', () => {
    const loop: Record<string, WiredNode> = { a: { type: 'findface-filter', wires: [['b']] }, b: { type: 'findface-filter', wires: [['a']] } };
    assert.equal(acknowledgedDownstream([['a']], flow(loop)), false);
  });
});
