// The simulator's "people walking up" mode: bursts of frames per person at
// one camera, rising confidence, bs_type realtime then overall, strangers
// and people on the lists, in every event shape.
import assert from 'assert/strict';
import { eventProblem, normaliseEvent } from '../../nodes/lib/event/event';
import { parseEventDate } from '../../nodes/lib/access/event-date';
import { createWalkUp, createWalkUpSimulator } from '../../nodes/lib/source/walk-up';

const START = Date.parse('2026-03-02T09:00:00Z');

describe('walk-up simulator', function () {
  for (const shape of ['ffs3', 'ffs4', 'multi'] as const) {
    it(`makes bursts of valid ${shape} events: one camera and person, 3-8 frames over 1-2 s, confidence rising`, function () {
      const walkUp = createWalkUp({ seed: 7, shape, dossiers: [1, 2, 3] });
      let strangers = 0;
      let listed = 0;
      let lastId = 0n;
      for (let index = 0; index < 200; index++) {
        const burst = walkUp.burst(START + index * 3000);
        assert.ok(burst.frames.length >= 3 && burst.frames.length <= 8);
        const span = burst.frames[burst.frames.length - 1].atMs;
        assert.ok(span >= 1000 && span <= 2000, `span ${span}`);
        const confidences: number[] = [];
        for (const [frameIndex, { atMs, event }] of burst.frames.entries()) {
          assert.equal(eventProblem(event), null);
          const normalised = normaliseEvent(event);
          assert.equal(normalised.cameraId, burst.camera);
          assert.equal(normalised.dossierId, burst.person);
          assert.equal(normalised.matched, burst.person !== null);
          assert.equal(parseEventDate(event.created_date), Math.floor((START + index * 3000 + atMs) / 1000) * 1000);
          confidences.push((burst.person === null ? event.looks_like_confidence : event.confidence) as number);
          if (shape === 'ffs3') assert.equal(event.bs_type, undefined);
          else assert.equal(event.bs_type, frameIndex === burst.frames.length - 1 ? 'overall' : 'realtime');
          assert.ok(BigInt(event.id) > lastId, 'ids grow');
          lastId = BigInt(event.id);
        }
        for (let frame = 1; frame < confidences.length; frame++) assert.ok(confidences[frame] >= confidences[frame - 1]);
        if (burst.person === null) strangers++;
        else listed++;
      }
      assert.ok(strangers > 50 && listed > 50, `${strangers} strangers, ${listed} on the lists`);
    });
  }

  it('is deterministic for a seed', function () {
    const a = createWalkUp({ seed: 3 }).burst(START);
    const b = createWalkUp({ seed: 3 }).burst(START);
    assert.deepEqual(a, b);
  });

  it("as a source at a rate, sends each person's frames in order, people overlapping, every frame dated now", function () {
    const simulator = createWalkUpSimulator({ seed: 5, shape: 'multi', now: () => new Date(START) }, () => 20);
    const seen = new Map<string, string[]>();
    for (let index = 0; index < 400; index++) {
      const event = simulator.next();
      assert.equal(event.created_date, '2026-03-02T09:00:00Z');
      const key = `${event.camera}/${event.matched_card}`;
      seen.set(key, [...(seen.get(key) ?? []), event.bs_type as string]);
    }
    // Each person's burst ends with its overall frame (3-8 frames per burst).
    const overall = [...seen.values()].flat().filter((type) => type === 'overall').length;
    assert.ok(overall >= 400 / 8 - 2);
  });
});
