import assert from 'assert/strict';
import { eventProblem, normaliseEvent } from '../../nodes/lib/event/event';
import { createSimulator, eventsDue, simulatorProblem } from '../../nodes/lib/source/simulator';
import { seedEvent } from '../fixtures/events';

const fixedClock = () => new Date('2026-11-29T10:00:00.000Z');

describe('event simulator', () => {
  it('is deterministic for a seed and clock', () => {
    const first = createSimulator({ seed: 42, now: fixedClock });
    const second = createSimulator({ seed: 42, now: fixedClock });
    for (let i = 0; i < 50; i++) assert.deepEqual(first.next(), second.next());
  });

  it('differs for different seeds', () => {
    const a = createSimulator({ seed: 1, now: fixedClock }).next();
    const b = createSimulator({ seed: 2, now: fixedClock }).next();
    assert.notDeepEqual(a, b);
  });

  it('makes 3.x events with exactly the fields of the seed sample', () => {
    const event = createSimulator({ seed: 7, now: fixedClock }).next();
    assert.deepEqual(Object.keys(event).sort(), Object.keys(seedEvent).sort());
    assert.match(String(event.id), /^\d{19}$/);
    assert.equal(event.created_date, '2026-11-29T10:00:00Z');
    assert.match(String(event.face), /^http:\/\/172\.20\.77\.17\/uploads\/2026\/11\/29\/event\/100000_face_\w{6}\.jpg$/);
  });

  it('makes valid events in every shape, with growing ids, from the configured layout', () => {
    for (const shape of ['ffs3', 'ffs4', 'multi'] as const) {
      const simulator = createSimulator({ seed: 3, shape, cameras: { '4': 9, '5': 8 }, dossiers: [12, 25], matchedRatio: 0.5 });
      let previous = 0n;
      for (let i = 0; i < 200; i++) {
        const event = simulator.next();
        assert.equal(eventProblem(event), null, `${shape}: ${eventProblem(event)}`);
        const normalised = normaliseEvent(event);
        assert.ok([4, 5].includes(normalised.cameraId));
        if (shape !== 'ffs3') assert.equal(normalised.cameraGroupId, normalised.cameraId === 4 ? 9 : 8);
        else assert.equal(normalised.cameraGroupId, undefined);
        if (normalised.matched) assert.ok([12, 25].includes(normalised.dossierId!));
        else assert.equal(normalised.dossierId, null);
        assert.ok(BigInt(normalised.id) > previous);
        previous = BigInt(normalised.id);
      }
    }
  });

  it('matches about the configured share of events', () => {
    const simulator = createSimulator({ seed: 11, matchedRatio: 0.3 });
    let matched = 0;
    for (let i = 0; i < 5000; i++) if (simulator.next().matched) matched++;
    assert.ok(matched > 1300 && matched < 1700, `matched ${matched} of 5000`);
  });

  it('never matches at ratio 0 and always at ratio 1', () => {
    const never = createSimulator({ seed: 1, matchedRatio: 0 });
    const always = createSimulator({ seed: 1, matchedRatio: 1 });
    for (let i = 0; i < 100; i++) {
      assert.equal(never.next().matched, false);
      assert.equal(always.next().matched, true);
    }
  });

  it('refuses a bad layout', () => {
    const base = { cameras: { '1': 1 }, dossiers: [1], matchedRatio: 0.3, shape: 'ffs3' as const };
    assert.equal(simulatorProblem(base), null);
    assert.match(simulatorProblem({ ...base, cameras: {} })!, /at least one camera/);
    assert.match(simulatorProblem({ ...base, cameras: { x: 1 } })!, /camera id "x"/);
    assert.match(simulatorProblem({ ...base, cameras: { '1': 1.5 } })!, /group of camera 1/);
    assert.match(simulatorProblem({ ...base, matchedRatio: 2 })!, /between 0 and 1/);
    assert.match(simulatorProblem({ ...base, dossiers: [] })!, /at least one dossier/);
    assert.match(simulatorProblem({ ...base, shape: 'v9' as never })!, /unknown event shape/);
    assert.throws(() => createSimulator({ cameras: {} }), /at least one camera/);
  });

  describe('eventsDue', () => {
    it('schedules the first event at once, then one every 1/rate s, without drift', () => {
      assert.equal(eventsDue(0, 10), 1);
      assert.equal(eventsDue(99, 10), 1);
      assert.equal(eventsDue(100, 10), 2);
      assert.equal(eventsDue(60_000, 10), 601);
      assert.equal(eventsDue(3_600_000, 3), 10_801);
    });

    it('handles fractional rates', () => {
      assert.equal(eventsDue(4999, 0.2), 1);
      assert.equal(eventsDue(5000, 0.2), 2);
      assert.equal(eventsDue(3000, 1 / 3), 2);
    });

    it('gives nothing for a rate of 0 or a negative time', () => {
      assert.equal(eventsDue(1000, 0), 0);
      assert.equal(eventsDue(-1, 5), 0);
    });
  });
});
