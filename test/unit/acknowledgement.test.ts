import assert from 'assert/strict';
import FakeTimers from '@sinonjs/fake-timers';
import { ackGroup, acknowledge, ACK_PROPERTY, AckOutcome } from '../../nodes/lib/event/acknowledgement';

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
