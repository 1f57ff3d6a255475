// The webhook filter (nodes/lib/filter/filter.ts), every sentence of the seed's step 5
// and the contract's findface-filter section, on events of the three FindFace
// shapes; and the editor's mirror of the rules held to the same cases.
import assert from 'assert/strict';
import fs from 'fs';
import path from 'path';
import { FaceEvent, normaliseEvent } from '../../nodes/lib/event/event';
import {
  compileFilter,
  ConfigProblem,
  filterSummary,
  FilterSpec,
  firstKnownGroup,
  GroupResolver,
  groupsFromMap,
  Outcome,
  parseCameraGroups,
  parseFilters,
  ProblemCode,
  SummaryWord,
} from '../../nodes/lib/filter/filter';
import { ffs4Event, multiEvent, seedEvent } from '../fixtures/events';
import { editorRules, plain } from '../support/editor-rules';

const repo = path.join(__dirname, '..', '..');

/** The runtime's answer in the editor's form (groups as [camera, group] pairs). */
function runtimeGroups(text: unknown) {
  return plain(parseCameraGroups(text));
}

function spec(text: string): FilterSpec {
  const result = parseFilters(text);
  if (!result.ok) assert.fail(`expected a valid filter, got ${JSON.stringify(result.problem)}`);
  return result.value;
}

function resolver(groups = '{}'): GroupResolver {
  const result = parseCameraGroups(groups);
  if (!result.ok) assert.fail(`expected valid groups, got ${JSON.stringify(result.problem)}`);
  return groupsFromMap(result.value);
}

function outcome(filters: string, event: object, groups = '{}'): Outcome {
  return compileFilter(spec(filters), resolver(groups)).test(normaliseEvent(event as FaceEvent));
}

// What an event says, and the same in each FindFace shape.
interface Facts {
  camera: number;
  group?: number;
  dossier: number | null;
  matched?: boolean;
  lists?: number[];
  confidence?: number;
}

const shapes: Record<string, (facts: Facts) => object> = {
  'FindFace Security 3.x': (f) => ({
    ...seedEvent,
    camera: f.camera,
    matched: f.matched ?? f.dossier !== null,
    matched_dossier: f.dossier,
    matched_lists: f.lists ?? [],
    confidence: f.confidence,
  }),
  'FindFace Security 4.x': (f) => {
    const event: Record<string, unknown> = {
      ...ffs4Event,
      camera: { id: f.camera, name: `Camera ${f.camera}` },
      matched: f.matched ?? f.dossier !== null,
      matched_dossier: f.dossier,
      dossier: f.dossier === null ? null : { id: f.dossier, name: 'Someone' },
      matched_lists: (f.lists ?? []).map((id) => ({ id, name: `List ${id}` })),
      confidence: f.confidence,
    };
    if (f.group === undefined) delete event.camera_group;
    else event.camera_group = { id: f.group, name: `Group ${f.group}` };
    return event;
  },
  'FindFace Multi': (f) => {
    const event: Record<string, unknown> = {
      ...multiEvent,
      camera: f.camera,
      matched: f.matched ?? f.dossier !== null,
      matched_card: f.dossier,
      matched_lists: f.lists ?? [],
      confidence: f.confidence,
    };
    if (f.group === undefined) delete event.camera_group;
    else event.camera_group = f.group;
    return event;
  },
};

/** 3.x events carry no camera group: those come from the node's map, here camera 10+g is in group g. */
const GROUP_MAP = '{"11": 1, "12": 2, "13": 3, "14": 4}';
function withGroup(shape: string, facts: Omit<Facts, 'camera'> & { group: number }): [object, string] {
  if (shape === 'FindFace Security 3.x') return [shapes[shape]({ ...facts, camera: 10 + facts.group, group: undefined }), GROUP_MAP];
  return [shapes[shape]({ ...facts, camera: 99 }), '{}'];
}

const SEED_EXAMPLE = '{"camera_group_in": [1, 3], "matched_dossier_in": [12, 25]}';

describe('webhook filter', () => {
  describe("the seed's example: group 1 or 3 AND dossier 12 or 25", () => {
    for (const shape of Object.keys(shapes)) {
      it(`on ${shape} events`, () => {
        const cases: Array<[number, number | null, Outcome]> = [
          [1, 12, 'pass'],
          [1, 25, 'pass'],
          [3, 12, 'pass'],
          [3, 25, 'pass'],
          [2, 12, 'fail'],
          [4, 25, 'fail'],
          [1, 13, 'fail'],
          [3, 1, 'fail'],
          [1, null, 'fail'],
          [2, 13, 'fail'],
        ];
        for (const [group, dossier, expected] of cases) {
          const [event, groups] = withGroup(shape, { group, dossier });
          assert.equal(outcome(SEED_EXAMPLE, event, groups), expected, `group ${group}, dossier ${dossier}`);
        }
      });
    }

    it('on the seed sample event itself: camera 2 in group 1, dossier 1, fails; dossier 12 passes', () => {
      assert.equal(outcome(SEED_EXAMPLE, seedEvent, '{"2": 1}'), 'fail');
      assert.equal(outcome(SEED_EXAMPLE, { ...seedEvent, matched_dossier: 12 }, '{"2": 1}'), 'pass');
      assert.equal(outcome(SEED_EXAMPLE, { ...seedEvent, matched_dossier: 12 }, '{"2": 2}'), 'fail');
    });
  });

  describe('{} passes every event', () => {
    const events = [
      seedEvent,
      ffs4Event,
      multiEvent,
      { ...seedEvent, matched: false, matched_dossier: null, matched_lists: [] },
      { id: 1, camera: 1 },
      { id: 'x', camera: { id: 3 } },
    ];
    for (const text of ['{}', ' { } ', '{\n}']) {
      it(`written ${JSON.stringify(text)}`, () => {
        for (const event of events) assert.equal(outcome(text, event), 'pass', JSON.stringify(event));
      });
    }
  });

  describe('a key with [] passes nothing', () => {
    const listKeys = ['camera_group_in', 'matched_dossier_in', 'camera_in', 'matched_lists_in', 'matched_card_in'] as const;
    for (const key of listKeys) {
      it(`"${key}": []`, () => {
        const filter = compileFilter(spec(`{"${key}": []}`), resolver('{"2": 1}'));
        assert.deepEqual(filter.emptyKeys, [key]);
        for (const event of [seedEvent, ffs4Event, multiEvent]) assert.equal(filter.test(normaliseEvent(event as FaceEvent)), 'fail');
        // Even beside keys the event satisfies.
        const others =
          key === 'matched_lists_in' ? '"confidence_gte": 0.5, "matched": true' : '"confidence_gte": 0.5, "matched": true, "matched_lists_in": [1]';
        assert.equal(outcome(`{${others}}`, seedEvent, '{"2": 1}'), 'pass');
        assert.equal(outcome(`{${others}, "${key}": []}`, seedEvent, '{"2": 1}'), 'fail');
      });
    }
    it('is no configuration error, and a filter without [] has no empty keys', () => {
      assert.ok(parseFilters('{"camera_in": []}').ok);
      assert.deepEqual(compileFilter(spec(SEED_EXAMPLE)).emptyKeys, []);
    });
  });

  describe('matched', () => {
    for (const shape of Object.keys(shapes)) {
      it(`true passes matched events, false unmatched ones (${shape})`, () => {
        const matched = shapes[shape]({ camera: 1, group: 1, dossier: 12 });
        const unmatched = shapes[shape]({ camera: 1, group: 1, dossier: null });
        assert.equal(outcome('{"matched": true}', matched), 'pass');
        assert.equal(outcome('{"matched": true}', unmatched), 'fail');
        assert.equal(outcome('{"matched": false}', matched), 'fail');
        assert.equal(outcome('{"matched": false}', unmatched), 'pass');
      });
    }
    it('false with another key: unmatched events from camera 2 only', () => {
      const filter = '{"matched": false, "camera_in": [2]}';
      assert.equal(outcome(filter, { ...seedEvent, matched: false, matched_dossier: null }), 'pass');
      assert.equal(outcome(filter, { ...seedEvent, matched: false, matched_dossier: null, camera: 3 }), 'fail');
      assert.equal(outcome(filter, seedEvent), 'fail');
    });
  });

  describe('dossiers', () => {
    for (const shape of Object.keys(shapes)) {
      it(`a null dossier fails matched_dossier_in and matched_card_in (${shape})`, () => {
        const event = shapes[shape]({ camera: 1, group: 1, dossier: null, matched: true });
        assert.equal(outcome('{"matched_dossier_in": [1, 12, 25]}', event), 'fail');
        assert.equal(outcome('{"matched_card_in": [1, 12, 25]}', event), 'fail');
      });
      it(`matched_dossier_in and matched_card_in both read the dossier (${shape})`, () => {
        const event = shapes[shape]({ camera: 1, group: 1, dossier: 25 });
        for (const key of ['matched_dossier_in', 'matched_card_in']) {
          assert.equal(outcome(`{"${key}": [12, 25]}`, event), 'pass', key);
          assert.equal(outcome(`{"${key}": [12]}`, event), 'fail', key);
        }
      });
    }
    it('a missing dossier field is no dossier', () => {
      assert.equal(outcome('{"matched_dossier_in": [1]}', { id: '1', camera: 2 }), 'fail');
    });
  });

  describe('camera_in', () => {
    for (const shape of Object.keys(shapes)) {
      it(`passes the cameras listed (${shape})`, () => {
        for (const [camera, expected] of [
          [2, 'pass'],
          [3, 'pass'],
          [4, 'fail'],
          [23, 'fail'],
        ] as const) {
          assert.equal(outcome('{"camera_in": [2, 3]}', shapes[shape]({ camera, dossier: 1 })), expected, `camera ${camera}`);
        }
      });
    }
  });

  describe('matched_lists_in', () => {
    for (const shape of Object.keys(shapes)) {
      it(`passes when any of the event's lists is listed (${shape})`, () => {
        const event = (lists: number[]) => shapes[shape]({ camera: 1, dossier: 1, lists });
        assert.equal(outcome('{"matched_lists_in": [2, 5]}', event([1, 2])), 'pass');
        assert.equal(outcome('{"matched_lists_in": [2, 5]}', event([5])), 'pass');
        assert.equal(outcome('{"matched_lists_in": [2, 5]}', event([1, 3])), 'fail');
        assert.equal(outcome('{"matched_lists_in": [2, 5]}', event([])), 'fail');
      });
    }
  });

  describe('confidence_gte', () => {
    for (const shape of Object.keys(shapes)) {
      it(`passes confidence at or above the bound (${shape})`, () => {
        const event = (confidence?: number) => shapes[shape]({ camera: 1, dossier: 1, confidence });
        assert.equal(outcome('{"confidence_gte": 0.8}', event(0.8)), 'pass');
        assert.equal(outcome('{"confidence_gte": 0.8}', event(0.9098)), 'pass');
        assert.equal(outcome('{"confidence_gte": 0.8}', event(0.7999)), 'fail');
        assert.equal(outcome('{"confidence_gte": 0.8}', event(undefined)), 'fail');
        assert.equal(outcome('{"confidence_gte": 0}', event(0)), 'pass');
      });
    }
  });

  describe('AND across keys, OR within a list', () => {
    it('every key must hold', () => {
      const filter = '{"camera_in": [2, 7], "matched": true, "matched_lists_in": [1], "confidence_gte": 0.9}';
      assert.equal(outcome(filter, seedEvent), 'pass');
      assert.equal(outcome(filter, { ...seedEvent, camera: 3 }), 'fail');
      assert.equal(outcome(filter, { ...seedEvent, matched: false }), 'fail');
      assert.equal(outcome(filter, { ...seedEvent, matched_lists: [2] }), 'fail');
      assert.equal(outcome(filter, { ...seedEvent, confidence: 0.5 }), 'fail');
    });
  });

  describe('camera groups', () => {
    it("uses the event's own group (4.x camera_group, 4.x camera.group, Multi camera_group) before the map", () => {
      const ffs4GroupOnCamera = { ...ffs4Event, camera: { id: 7, group: 3 } } as Record<string, unknown>;
      delete ffs4GroupOnCamera.camera_group;
      const events: Array<[string, object, number]> = [
        ['4.x camera_group', { ...ffs4Event, camera: { id: 7 }, camera_group: { id: 3 } }, 3],
        ['4.x camera.group', ffs4GroupOnCamera, 3],
        ['Multi camera_group', { ...multiEvent, camera: 7, camera_group: 3 }, 3],
      ];
      for (const [what, event] of events) {
        // The map says camera 7 is in group 1; the event says 3, and the event wins.
        assert.equal(outcome('{"camera_group_in": [3]}', event, '{"7": 1}'), 'pass', what);
        assert.equal(outcome('{"camera_group_in": [1]}', event, '{"7": 1}'), 'fail', what);
        assert.equal(outcome('{"camera_group_in": [3]}', event), 'pass', `${what}, no map`);
      }
    });

    it('uses the map for events without a group (3.x), keyed by camera id', () => {
      assert.equal(outcome('{"camera_group_in": [1]}', seedEvent, '{"2": 1}'), 'pass');
      assert.equal(outcome('{"camera_group_in": [1]}', seedEvent, '{"2": 2}'), 'fail');
      assert.equal(outcome('{"camera_group_in": [1, 2]}', seedEvent, '{"1": 1, "2": 2, "3": 1}'), 'pass');
      const multiNoGroup = { ...multiEvent } as Record<string, unknown>;
      delete multiNoGroup.camera_group;
      assert.equal(outcome('{"camera_group_in": [4]}', multiNoGroup, '{"5": 4}'), 'pass');
    });

    it('an event whose group is unknown fails as unknown-group, whatever the other keys say', () => {
      assert.equal(outcome('{"camera_group_in": [1]}', seedEvent), 'unknown-group');
      assert.equal(outcome('{"camera_group_in": [1]}', seedEvent, '{"3": 1}'), 'unknown-group');
      assert.equal(outcome('{"camera_in": [9], "camera_group_in": [1]}', seedEvent), 'unknown-group');
      // Without camera_group_in the group is never looked up.
      assert.equal(outcome('{"camera_in": [2]}', seedEvent), 'pass');
    });

    it('asks the resolver only for events without a group, and only with camera_group_in', () => {
      const asked: number[] = [];
      const groupOf: GroupResolver = (camera) => {
        asked.push(camera);
        return camera === 2 ? 1 : undefined;
      };
      const filter = compileFilter(spec('{"camera_group_in": [1]}'), groupOf);
      assert.equal(filter.test(normaliseEvent(seedEvent as FaceEvent)), 'pass');
      assert.equal(filter.test(normaliseEvent(multiEvent as FaceEvent)), 'fail');
      assert.deepEqual(asked, [2]);
      compileFilter(spec('{"camera_in": [2]}'), groupOf).test(normaliseEvent(seedEvent as FaceEvent));
      assert.deepEqual(asked, [2]);
    });

    it('firstKnownGroup: the first resolver that knows wins (the node map over a server)', () => {
      const own = groupsFromMap(new Map([[2, 1]]));
      const server = groupsFromMap(
        new Map([
          [2, 9],
          [3, 3],
        ]),
      );
      const groupOf = firstKnownGroup(own, server);
      assert.equal(groupOf(2), 1);
      assert.equal(groupOf(3), 3);
      assert.equal(groupOf(4), undefined);
      assert.equal(outcome('{"camera_group_in": [3]}', { ...seedEvent, camera: 3 }, '{}'), 'unknown-group');
      assert.equal(compileFilter(spec('{"camera_group_in": [3]}'), groupOf).test(normaliseEvent({ ...seedEvent, camera: 3 } as FaceEvent)), 'pass');
      assert.equal(compileFilter(spec('{"camera_group_in": [9]}'), groupOf).test(normaliseEvent(seedEvent as FaceEvent)), 'fail');
    });
  });

  describe('parsing', () => {
    it('keeps the keys in order and copies the lists', () => {
      const text = '{"matched": true, "camera_in": [3, 2], "confidence_gte": 0.5}';
      assert.deepEqual(Object.keys(spec(text)), ['matched', 'camera_in', 'confidence_gte']);
      assert.deepEqual(spec(text), { matched: true, camera_in: [3, 2], confidence_gte: 0.5 });
    });
    it('accepts every key of the seed and the contract', () => {
      const all =
        '{"camera_group_in": [1], "matched_dossier_in": [2], "matched": false, "camera_in": [3], "matched_lists_in": [4], "confidence_gte": 0.7, "matched_card_in": [5]}';
      assert.equal(Object.keys(spec(all)).length, 7);
    });
    it('reads camera groups into a map; blank or missing is none', () => {
      const groups = parseCameraGroups('{"2": 1, "10": 3, "-4": 2}');
      assert.ok(groups.ok);
      if (groups.ok)
        assert.deepEqual(
          [...groups.value].sort((a, b) => a[0] - b[0]),
          [
            [-4, 2],
            [2, 1],
            [10, 3],
          ],
        );
      for (const blank of [undefined, '', '  ', '{}']) {
        const result = parseCameraGroups(blank);
        assert.ok(result.ok && result.value.size === 0, String(blank));
      }
    });
  });

  // Each configuration error, with its code and parameters; the editor must say the same.
  const filterErrors: Array<[string, unknown, Partial<ConfigProblem> & { code: ProblemCode }]> = [
    ['non-JSON text', '{camera_in: [1]}', { code: 'not-json' }],
    ['an empty text', '', { code: 'not-json' }],
    ['blank text', '   ', { code: 'not-json' }],
    ['a trailing comma', '{"camera_in": [1],}', { code: 'not-json' }],
    ['a value that is not text', 5, { code: 'not-json', detail: 'not text but 5' }],
    ['a JSON array', '[1, 3]', { code: 'not-object', value: '[1,3]' }],
    ['JSON null', 'null', { code: 'not-object', value: 'null' }],
    ['a JSON number', '42', { code: 'not-object', value: '42' }],
    ['a JSON string', '"{}"', { code: 'not-object', value: '"{}"' }],
    ['an unknown key', '{"camera_id_in": [1]}', { code: 'unknown-key', key: 'camera_id_in' }],
    ['a key in the wrong case', '{"Camera_in": [1]}', { code: 'unknown-key', key: 'Camera_in' }],
    ['an unknown key after good ones', '{"camera_in": [1], "dossier_in": [2]}', { code: 'unknown-key', key: 'dossier_in' }],
    ['a __proto__ key', '{"__proto__": [1]}', { code: 'unknown-key', key: '__proto__' }],
    ['a key given twice', '{"camera_in": [1], "camera_in": [2]}', { code: 'duplicate-key', key: 'camera_in' }],
    ['a key given twice, once escaped', '{"camera_in": [1], "camera\\u005fin": [2]}', { code: 'duplicate-key', key: 'camera_in' }],
    ['matched given twice', '{"matched": true, "camera_in": [2], "matched": false}', { code: 'duplicate-key', key: 'matched' }],
    ['a list where a boolean belongs', '{"matched": [true]}', { code: 'not-boolean', key: 'matched', value: '[true]' }],
    ['matched as a string', '{"matched": "true"}', { code: 'not-boolean', key: 'matched', value: '"true"' }],
    ['matched as a number', '{"matched": 1}', { code: 'not-boolean', key: 'matched', value: '1' }],
    ['matched null', '{"matched": null}', { code: 'not-boolean', key: 'matched', value: 'null' }],
    ['a number where a list belongs', '{"camera_in": 2}', { code: 'not-list', key: 'camera_in', value: '2' }],
    ['a boolean where a list belongs', '{"matched_dossier_in": true}', { code: 'not-list', key: 'matched_dossier_in', value: 'true' }],
    ['an object where a list belongs', '{"camera_group_in": {"1": 1}}', { code: 'not-list', key: 'camera_group_in', value: '{"1":1}' }],
    ['a string in a list', '{"camera_in": [1, "2"]}', { code: 'not-id', key: 'camera_in', index: 1, value: '"2"' }],
    ['null in a list', '{"matched_dossier_in": [12, null]}', { code: 'not-id', key: 'matched_dossier_in', index: 1, value: 'null' }],
    ['a boolean in a list', '{"matched_lists_in": [true]}', { code: 'not-id', key: 'matched_lists_in', index: 0, value: 'true' }],
    ['a fraction in a list', '{"camera_group_in": [1.5]}', { code: 'not-id', key: 'camera_group_in', index: 0, value: '1.5' }],
    ['a nested list', '{"matched_card_in": [[1]]}', { code: 'not-id', key: 'matched_card_in', index: 0, value: '[1]' }],
    ['an unsafe integer in a list', '{"camera_in": [9007199254740993]}', { code: 'not-id', key: 'camera_in', index: 0, value: '9007199254740992' }],
    ['an overflowing number in a list', '{"camera_in": [1e999]}', { code: 'not-id', key: 'camera_in', index: 0, value: 'null' }],
    ['a list where a number belongs', '{"confidence_gte": [0.8]}', { code: 'not-number', key: 'confidence_gte', value: '[0.8]' }],
    ['a string confidence', '{"confidence_gte": "0.8"}', { code: 'not-number', key: 'confidence_gte', value: '"0.8"' }],
    ['an overflowing confidence', '{"confidence_gte": -1e999}', { code: 'not-number', key: 'confidence_gte', value: 'null' }],
    ['a long value, shortened', `{"camera_in": "${'x'.repeat(100)}"}`, { code: 'not-list', key: 'camera_in', value: `"${'x'.repeat(28)}…` }],
    ['a word where a list of words belongs', '{"gender_in": "male"}', { code: 'not-choice-list', key: 'gender_in', value: '"male"', detail: 'female, male' }],
    [
      'a word FindFace does not use',
      '{"glasses_in": ["none", "dark"]}',
      { code: 'not-choice', key: 'glasses_in', index: 1, value: '"dark"', detail: 'eye, none, sun' },
    ],
    [
      'a number in a list of words',
      '{"allowed_bs_types": [1]}',
      { code: 'not-choice', key: 'allowed_bs_types', index: 0, value: '1', detail: 'overall, realtime' },
    ],
    ['a word in the wrong case', '{"liveness_in": ["Real"]}', { code: 'not-choice', key: 'liveness_in', index: 0, value: '"Real"' }],
    ['a confidence above 1', '{"confidence_gte": 75}', { code: 'out-of-range', key: 'confidence_gte', value: '75', detail: '0…1' }],
    ['a negative liveness', '{"liveness_gte": -0.1}', { code: 'out-of-range', key: 'liveness_gte', value: '-0.1', detail: '0…1' }],
    ['a yaw past 180', '{"headpose_yaw_angle_lte": 181}', { code: 'out-of-range', key: 'headpose_yaw_angle_lte', value: '181', detail: '-180…180' }],
    ['a negative age', '{"age_gte": -1}', { code: 'out-of-range', key: 'age_gte', value: '-1', detail: '≥ 0' }],
    ['a temperature as text', '{"temperature_gte": "37"}', { code: 'not-number', key: 'temperature_gte', value: '"37"' }],
    ['a section that is not an object', '{"face_events": [1]}', { code: 'not-section', key: 'face_events', value: '[1]' }],
    ['a body_events section with keys', '{"face_events": {}, "body_events": {"camera_in": [1]}}', { code: 'unsupported-section', key: 'body_events' }],
    [
      "Multi's default filter as pasted",
      fs.readFileSync(path.join(repo, 'test', 'fixtures', 'multi-webhook-filter-defaults.json'), 'utf8'),
      { code: 'unsupported-section', key: 'body_events' },
    ],
    ['a flat key beside sections', '{"camera_in": [1], "face_events": {}}', { code: 'mixed-sections', key: 'camera_in' }],
    ['an unknown key beside sections', '{"face_events": {}, "faces": {}}', { code: 'unknown-key', key: 'faces' }],
    ['an unknown key in face_events', '{"face_events": {"headwear_in": []}}', { code: 'unknown-key', key: 'headwear_in' }],
    ['a bad value in face_events', '{"face_events": {"camera_in": 2}}', { code: 'not-list', key: 'camera_in', value: '2' }],
    ['sections without face_events', '{"car_events": {}}', { code: 'no-face-section' }],
    ['a key given twice in face_events', '{"face_events": {"camera_in": [1], "camera_in": [2]}}', { code: 'duplicate-key', key: 'camera_in' }],
    ['a section given twice', '{"face_events": {"camera_in": [1]}, "face_events": {}}', { code: 'duplicate-key', key: 'face_events' }],
  ];

  const groupErrors: Array<[string, unknown, Partial<ConfigProblem> & { code: ProblemCode }]> = [
    ['non-JSON text', '{2: 1}', { code: 'groups-not-json' }],
    ['a value that is not text', 7, { code: 'groups-not-json', detail: 'not text but 7' }],
    ['a JSON array', '[[2, 1]]', { code: 'groups-not-object', value: '[[2,1]]' }],
    ['JSON null', 'null', { code: 'groups-not-object', value: 'null' }],
    ['a camera id that is not a number', '{"a": 1}', { code: 'groups-bad-camera', key: 'a' }],
    ['a camera id with a leading zero', '{"02": 1}', { code: 'groups-bad-camera', key: '02' }],
    ['a fractional camera id', '{"1.5": 1}', { code: 'groups-bad-camera', key: '1.5' }],
    ['an unsafe camera id', '{"9007199254740993": 1}', { code: 'groups-bad-camera', key: '9007199254740993' }],
    ['a group given as a string', '{"2": "1"}', { code: 'groups-bad-group', key: '2', value: '"1"' }],
    ['a fractional group', '{"2": 1.5}', { code: 'groups-bad-group', key: '2', value: '1.5' }],
    ['a null group', '{"2": null}', { code: 'groups-bad-group', key: '2', value: 'null' }],
    ['a list of groups', '{"2": [1]}', { code: 'groups-bad-group', key: '2', value: '[1]' }],
    ['a camera given twice', '{"2": 1, "3": 1, "2": 3}', { code: 'groups-duplicate', key: '2' }],
  ];

  function expectProblem(actual: { ok: boolean; problem?: ConfigProblem }, expected: Partial<ConfigProblem>) {
    assert.equal(actual.ok, false, 'expected a configuration error');
    const problem = actual.problem!;
    for (const [field, value] of Object.entries(expected)) assert.deepEqual(problem[field as keyof ConfigProblem], value, field);
    if (problem.code.endsWith('not-json')) assert.equal(typeof problem.detail, 'string');
  }

  describe('configuration errors', () => {
    for (const [what, text, expected] of filterErrors) {
      it(`filters: ${what}`, () => expectProblem(parseFilters(text), expected));
    }
    for (const [what, text, expected] of groupErrors) {
      it(`cameraGroups: ${what}`, () => expectProblem(parseCameraGroups(text), expected));
    }

    it('every problem code has a message in English and Russian using only known parameters', () => {
      const codes = new Set([...filterErrors, ...groupErrors].map(([, , problem]) => problem.code));
      assert.equal(codes.size, 20, 'a problem code is not tested');
      for (const locale of ['en-US', 'ru']) {
        const catalog = JSON.parse(fs.readFileSync(path.join(repo, 'nodes', 'filter', 'locales', locale, 'findface-filter.json'), 'utf8'));
        for (const code of codes) {
          const message = catalog['findface-filter'].errors[code];
          assert.equal(typeof message, 'string', `${locale}: no message for ${code}`);
          for (const [, name] of message.matchAll(/__(\w+)__/g))
            assert.ok(['key', 'index', 'value', 'detail'].includes(name), `${locale} ${code}: __${name}__`);
        }
      }
    });
  });

  describe('summary', () => {
    const cases: Array<[string, string]> = [
      ['{}', 'all events'],
      ['{"camera_in": [2, 3], "matched": true}', 'cams 2,3 · matched'],
      [SEED_EXAMPLE, 'groups 1,3 · dossiers 12,25'],
      ['{"matched": false, "camera_in": []}', 'unmatched · cams none'],
      ['{"matched_lists_in": [1, 2, 3, 4]}', 'lists 1,2,3,4'],
      ['{"matched_card_in": [1, 2, 3, 4, 5, 6]}', 'cards 1,2,3,…+3'],
      ['{"confidence_gte": 0.8}', 'confidence ≥ 0.8'],
    ];
    for (const [text, expected] of cases) {
      it(`${text} -> ${expected}`, () => assert.equal(filterSummary(spec(text)), expected));
    }
    it('takes its words from a translation', () => {
      assert.equal(
        filterSummary(spec('{"camera_in": [2], "matched": true}'), (word) => `<${word}>`),
        '<cams> 2 · <matched>',
      );
    });
  });

  describe("the editor's rules (resources/filter.js, served to nodes/filter/findface-filter.html)", () => {
    const editor = editorRules();

    it('give the same problem as the runtime for every configuration error', () => {
      for (const [what, text] of filterErrors) assert.deepEqual(plain(editor.parseFilters(text)), plain(parseFilters(text)), what);
      for (const [what, text] of groupErrors) assert.deepEqual(plain(editor.parseCameraGroups(text)), runtimeGroups(text), what);
    });

    it('accept what the runtime accepts, with the same value', () => {
      const good = ['{}', SEED_EXAMPLE, '{"matched": false, "camera_in": []}', '{"confidence_gte": 0, "matched_lists_in": [-1, 0, 1]}'];
      for (const text of good) assert.deepEqual(plain(editor.parseFilters(text)), plain(parseFilters(text)), text);
      for (const text of [undefined, '', '{}', '{"2": 1, "10": 3, "-4": 2}'])
        assert.deepEqual(plain(editor.parseCameraGroups(text)), runtimeGroups(text), String(text));
    });

    it('summarise as the runtime does', () => {
      for (const text of ['{}', SEED_EXAMPLE, '{"matched": false, "camera_in": []}', '{"matched_card_in": [1, 2, 3, 4, 5, 6], "confidence_gte": 0.25}']) {
        const word = (name: SummaryWord) => `${name}!`;
        assert.equal(editor.filterSummary(spec(text), word), filterSummary(spec(text), word), text);
      }
    });
  });
});
