import assert from 'assert/strict';
import { eventProblem, eventsFromBody, normaliseEvent, FaceEvent } from '../../nodes/lib/event/event';
import { ffs4Event, multiEvent, seedEvent } from '../fixtures/events';

describe('face events', () => {
  describe('eventProblem', () => {
    it('accepts the seed sample, a 4.x and a Multi event', () => {
      assert.equal(eventProblem(seedEvent), null);
      assert.equal(eventProblem(ffs4Event), null);
      assert.equal(eventProblem(multiEvent), null);
    });

    it('accepts a safe-integer id and a camera object with an integer id', () => {
      assert.equal(eventProblem({ id: 5, camera: { id: 1 } }), null);
    });

    const bad: Array<[string, unknown, RegExp]> = [
      ['null', null, /null, not an event object/],
      ['an array', [seedEvent], /an array, not an event object/],
      ['a string', 'event', /a string/],
      ['no id', { camera: 1 }, /no "id"/],
      ['an empty id', { id: '', camera: 1 }, /"id" must be/],
      ['a fractional id', { id: 1.5, camera: 1 }, /"id" must be/],
      ['an unsafe id', { id: 2 ** 60, camera: 1 }, /"id" must be/],
      ['an object id', { id: { x: 1 }, camera: 1 }, /"id" must be/],
      ['no camera', { id: '1' }, /no "camera"/],
      ['a string camera', { id: '1', camera: '2' }, /"camera" must be/],
      ['a camera object without id', { id: '1', camera: { name: 'x' } }, /"camera" must be/],
      ['a camera object with a string id', { id: '1', camera: { id: '2' } }, /"camera" must be/],
      ['an infinite camera', { id: '1', camera: Infinity }, /"camera" must be/],
      ['a __proto__ key', JSON.parse('{"id":"1","camera":1,"__proto__":{"admin":true}}'), /forbidden key "__proto__"/],
      ['a nested constructor key', { id: '1', camera: 1, features: { constructor: { prototype: {} } } }, /forbidden key "constructor"/],
    ];
    for (const [what, value, message] of bad) {
      it(`refuses ${what}`, () => {
        const problem = eventProblem(value);
        assert.ok(problem, 'expected a problem');
        assert.match(problem!, message);
      });
    }

    it('refuses nesting deeper than 32 levels but accepts 30', () => {
      const nest = (levels: number) => {
        let value: Record<string, unknown> = {};
        for (let i = 0; i < levels; i++) value = { child: value };
        return value;
      };
      assert.equal(eventProblem({ id: '1', camera: 1, extra: nest(30) }), null);
      assert.match(eventProblem({ id: '1', camera: 1, extra: nest(40) })!, /deeper than 32/);
    });
  });

  describe('eventsFromBody', () => {
    it('takes an array of events and keeps the very objects', () => {
      const body = [seedEvent, multiEvent];
      const result = eventsFromBody(body);
      assert.ok(result.ok);
      if (result.ok) {
        assert.equal(result.events.length, 2);
        assert.equal(result.events[0], seedEvent);
      }
    });

    it('takes one event object as a batch of one', () => {
      const result = eventsFromBody(seedEvent);
      assert.deepEqual(result, { ok: true, events: [seedEvent] });
    });

    it('names the first bad element and why', () => {
      const result = eventsFromBody([seedEvent, { id: '2', camera: 1 }, { id: '3' }, 7]);
      assert.deepEqual(result, { ok: false, error: 'event [2] has no "camera"' });
    });

    it('refuses an empty array, a number and null', () => {
      assert.match((eventsFromBody([]) as { error: string }).error, /empty array/);
      assert.match((eventsFromBody(42) as { error: string }).error, /the body is a number/);
      assert.match((eventsFromBody(null) as { error: string }).error, /the body is null/);
    });
  });

  describe('normaliseEvent', () => {
    it('reads the seed (3.x) shape', () => {
      assert.deepEqual(normaliseEvent(seedEvent as FaceEvent), {
        id: '4173669353687265180',
        cameraId: 2,
        cameraGroupId: undefined,
        dossierId: 1,
        matched: true,
        listIds: [1],
        confidence: 0.9098,
      });
    });

    it('reads the 4.x shape: objects for camera, group and lists', () => {
      assert.deepEqual(normaliseEvent(ffs4Event as FaceEvent), {
        id: '4240944471810639375',
        cameraId: 7,
        cameraGroupId: 3,
        dossierId: 12,
        matched: true,
        listIds: [2],
        confidence: 0.88,
      });
    });

    it('reads the Multi shape: matched_card and a numeric camera_group', () => {
      assert.deepEqual(normaliseEvent(multiEvent as FaceEvent), {
        id: '1200000000000000001',
        cameraId: 5,
        cameraGroupId: 4,
        dossierId: 25,
        matched: true,
        listIds: [3],
        confidence: 0.93,
      });
    });

    it('takes the group from camera.group when there is no camera_group', () => {
      assert.equal(normaliseEvent({ id: 1, camera: { id: 9, group: 6 } }).cameraGroupId, 6);
    });

    it('prefers camera_group over camera.group', () => {
      assert.equal(normaliseEvent({ id: 1, camera: { id: 9, group: 6 }, camera_group: 2 }).cameraGroupId, 2);
    });

    it('gives a null dossier for null, a missing one or garbage', () => {
      assert.equal(normaliseEvent({ id: 1, camera: 1, matched_dossier: null }).dossierId, null);
      assert.equal(normaliseEvent({ id: 1, camera: 1 }).dossierId, null);
      assert.equal(normaliseEvent({ id: 1, camera: 1, matched_dossier: '12' }).dossierId, null);
    });

    it('treats only matched === true as matched and skips list entries without an id', () => {
      const event = normaliseEvent({ id: 1, camera: 1, matched: 'true', matched_lists: [1, { id: 2 }, 'x', { name: 'y' }] });
      assert.equal(event.matched, false);
      assert.deepEqual(event.listIds, [1, 2]);
    });

    it('does not change the event', () => {
      const copy = JSON.parse(JSON.stringify(ffs4Event));
      normaliseEvent(ffs4Event as FaceEvent);
      assert.deepEqual(ffs4Event, copy);
    });
  });
});
