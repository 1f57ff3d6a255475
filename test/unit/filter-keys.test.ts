// The webhook filter's keys on face attributes (FindFace Security 4.2+ and
// Multi's FaceEventsFilters) and Multi's sectioned form: each key passes and
// fails the right events, wherever the event carries the field, and fails an
// event without it; face_events applies as the flat form does.
import assert from 'assert/strict';
import fs from 'fs';
import path from 'path';
import { FaceEvent, normaliseEvent } from '../../nodes/lib/event/event';
import {
  CHOICE_KEYS,
  compileFilter,
  FILTER_KEYS,
  filterSummary,
  FilterSpec,
  groupsFromMap,
  isSectioned,
  keyGroups,
  keyKind,
  NUMBER_KEYS,
  Outcome,
  parseFilters,
  SECTIONS,
} from '../../nodes/lib/filter/filter';
import { ffs4Event, multiEvent, seedEvent } from '../fixtures/events';
import { editorRules, plain } from '../support/editor-rules';

const repo = path.join(__dirname, '..', '..');

function spec(text: string): FilterSpec {
  const result = parseFilters(text);
  if (!result.ok) assert.fail(`expected a valid filter, got ${JSON.stringify(result.problem)}`);
  return result.value;
}

function outcome(filters: string, event: object): Outcome {
  return compileFilter(spec(filters), groupsFromMap(new Map([[2, 1]]))).test(normaliseEvent(event as FaceEvent), event as FaceEvent);
}

/** A Multi face event as its OpenAPI describes it (ExtendedFaceEvent, GET /events/faces/ parameters). */
function multiFace(features: Record<string, unknown>, extra: Record<string, unknown> = {}): object {
  return { ...multiEvent, bs_type: 'realtime', temperature: 36.6, features, ...extra };
}

const OPENAPI_FEATURES = {
  age: 33,
  gender: { name: 'male', confidence: 0.99 },
  glasses: { name: 'none', confidence: 0.98 },
  emotions: { name: 'neutral', confidence: 0.97 },
  beard: { name: 'beard', confidence: 0.89 },
  medmask: { name: 'none', confidence: 0.99 },
  liveness: { name: 'real', confidence: 0.91 },
  headpose: { yaw: 22, pitch: -15 },
};

/** The same face as the public Multi mock sends it: every feature `{name, confidence}`, head pose as two features. */
const MOCK_FEATURES = {
  headpose_yaw: { name: 22.01571, confidence: 1 },
  headpose_pitch: { name: -15.91327, confidence: 1 },
  beard: { name: 'beard', confidence: 0.894003 },
  glasses: { name: 'none', confidence: 0.988431 },
  age: { name: 33.0, confidence: 1 },
  gender: { name: 'male', confidence: 0.999998 },
  medmask: { name: 'none', confidence: 0.999999 },
  emotions: { name: 'neutral', confidence: 0.97469 },
  liveness: { name: 'real', confidence: 0.91 },
};

// Each key: a filter the face above passes, one it fails.
const KEY_CASES: Array<[string, string, string]> = [
  ['allowed_bs_types', '["realtime"]', '["overall"]'],
  ['temperature_gte', '36.6', '37'],
  ['liveness_gte', '0.65', '0.95'],
  ['headpose_yaw_angle_gte', '-30', '23'],
  ['headpose_yaw_angle_lte', '30', '20'],
  ['headpose_pitch_angle_gte', '-20', '-10'],
  ['headpose_pitch_angle_lte', '0', '-20'],
  ['gender_in', '["male"]', '["female"]'],
  ['age_gte', '18', '40'],
  ['age_lte', '33', '30'],
  ['glasses_in', '["none", "eye"]', '["sun"]'],
  ['emotions_in', '["happy", "neutral"]', '["angry", "sad"]'],
  ['beard_in', '["beard"]', '["none"]'],
  ['medmask_in', '["none"]', '["correct", "incorrect"]'],
  ['liveness_in', '["real"]', '["fake"]'],
];

describe('webhook filter: the keys on face attributes', () => {
  it('every key FaceEventsFilters lists is accepted, and tested below', () => {
    // The properties of FaceEventsFilters in FindFace Multi's OpenAPI, in its order.
    const listed = [
      'matched_lists_in',
      'camera_group_in',
      'camera_in',
      'matched_card_in',
      'matched',
      'confidence_gte',
      'allowed_bs_types',
      'temperature_gte',
      'liveness_gte',
      'headpose_yaw_angle_gte',
      'headpose_yaw_angle_lte',
      'headpose_pitch_angle_gte',
      'headpose_pitch_angle_lte',
      'gender_in',
      'age_lte',
      'age_gte',
      'glasses_in',
      'emotions_in',
      'beard_in',
      'medmask_in',
      'liveness_in',
    ];
    for (const key of listed) assert.ok((FILTER_KEYS as readonly string[]).includes(key), key);
    assert.deepEqual(KEY_CASES.map(([key]) => key).sort(), [...NUMBER_KEYS.filter((key) => key !== 'confidence_gte'), ...CHOICE_KEYS].sort());
  });

  for (const [key, passing, failing] of KEY_CASES) {
    describe(key, () => {
      for (const [where, features] of [
        ['OpenAPI places', OPENAPI_FEATURES],
        ["the Multi mock's places", MOCK_FEATURES],
      ] as const) {
        it(`passes and fails the right face (${where})`, () => {
          const face = multiFace(features);
          assert.equal(outcome(`{"${key}": ${passing}}`, face), 'pass', passing);
          assert.equal(outcome(`{"${key}": ${failing}}`, face), 'fail', failing);
          // Sectioned, the same.
          assert.equal(outcome(`{"face_events": {"${key}": ${passing}}}`, face), 'pass');
          assert.equal(outcome(`{"face_events": {"${key}": ${failing}}, "body_events": {}}`, face), 'fail');
        });
      }
      it('fails an event that lacks the field (3.x features null, 4.x and Multi without it)', () => {
        const events = [
          seedEvent,
          ffs4Event,
          multiEvent,
          multiFace({}, { bs_type: null, temperature: null }),
          multiFace(
            { age: null, gender: null, glasses: null, emotions: null, beard: null, medmask: null, liveness: null, headpose: null },
            { bs_type: 7, temperature: '36.6' },
          ),
          { ...multiEvent, features: 'none' },
        ];
        for (const event of events) assert.equal(outcome(`{"${key}": ${passing}}`, event), 'fail', JSON.stringify(event));
      });
      it('fails without the event as FindFace sent it', () => {
        const filter = compileFilter(spec(`{"${key}": ${passing}}`));
        assert.equal(filter.readsSource, true);
        assert.equal(filter.test(normaliseEvent(multiFace(OPENAPI_FEATURES) as FaceEvent)), 'fail');
      });
    });
  }

  it('reads a bare word or number at features.<name> too', () => {
    const face = multiFace({ gender: 'female', age: 70, liveness: 0.8 });
    assert.equal(outcome('{"gender_in": ["female"]}', face), 'pass');
    assert.equal(outcome('{"age_gte": 65}', face), 'pass');
    assert.equal(outcome('{"liveness_gte": 0.8}', face), 'pass');
    assert.equal(outcome('{"liveness_gte": 0.81}', face), 'fail');
  });

  it('liveness_gte never passes a face FindFace calls fake, whatever its confidence', () => {
    assert.equal(outcome('{"liveness_gte": 0.5}', multiFace({ liveness: { name: 'fake', confidence: 0.97 } })), 'fail');
    assert.equal(outcome('{"liveness_gte": 0.5}', multiFace({ liveness: { name: 'real', confidence: 0.97 } })), 'pass');
    assert.equal(outcome('{"liveness_gte": 0.5}', multiFace({ liveness: { confidence: 0.97 } })), 'pass');
  });

  it('the bounds are inclusive', () => {
    const face = multiFace(OPENAPI_FEATURES);
    for (const filter of [
      '{"age_gte": 33, "age_lte": 33}',
      '{"temperature_gte": 36.6}',
      '{"liveness_gte": 0.91}',
      '{"headpose_yaw_angle_gte": 22, "headpose_yaw_angle_lte": 22}',
    ]) {
      assert.equal(outcome(filter, face), 'pass', filter);
    }
  });

  it('a word list with [] passes nothing, and is listed as empty', () => {
    for (const key of CHOICE_KEYS) {
      const filter = compileFilter(spec(`{"${key}": []}`));
      assert.deepEqual(filter.emptyKeys, [key]);
      assert.equal(filter.test(normaliseEvent(multiFace(OPENAPI_FEATURES) as FaceEvent), multiFace(OPENAPI_FEATURES) as FaceEvent), 'fail');
    }
  });

  it('AND across attribute keys and the seed keys', () => {
    const face = multiFace(OPENAPI_FEATURES);
    const filter =
      '{"camera_in": [5], "matched": true, "gender_in": ["male"], "age_gte": 18, "liveness_in": ["real"], "allowed_bs_types": ["realtime", "overall"]}';
    assert.equal(outcome(filter, face), 'pass');
    assert.equal(outcome(filter, { ...face, camera: 6 }), 'fail');
    assert.equal(outcome(filter, multiFace({ ...OPENAPI_FEATURES, age: 17 })), 'fail');
    assert.equal(outcome(filter, multiFace({ ...OPENAPI_FEATURES, liveness: { name: 'fake', confidence: 0.9 } })), 'fail');
  });

  it('the same word in two keys is no key given twice', () => {
    assert.ok(parseFilters('{"glasses_in": ["none"], "beard_in": ["none"], "medmask_in": ["none"]}').ok);
    assert.ok(parseFilters('{"face_events": {"camera_in": [1]}, "body_events": {}, "car_events": {}}').ok);
  });

  it('the readers do not need the source for the seed keys', () => {
    assert.equal(compileFilter(spec('{"camera_in": [2], "confidence_gte": 0.5, "matched": true}')).readsSource, false);
  });
});

describe("webhook filter: FindFace Multi's sections", () => {
  const face = multiFace(OPENAPI_FEATURES);

  it('face_events applies with the same predicate as the flat form', () => {
    const filters = [
      '{}',
      '{"camera_in": [5]}',
      '{"camera_in": [6]}',
      '{"matched": false}',
      '{"matched_card_in": [25], "matched_lists_in": [3]}',
      '{"camera_group_in": [4]}',
    ];
    for (const flat of filters) {
      assert.deepEqual(spec(`{"face_events": ${flat}}`), spec(flat));
      assert.equal(outcome(`{"face_events": ${flat}}`, face), outcome(flat, face), flat);
    }
  });

  it('the issue\'s example: {"face_events": {"camera_group_in": [1]}}', () => {
    assert.equal(outcome('{"face_events": {"camera_group_in": [1]}}', { ...seedEvent, camera: 2 }), 'pass');
    assert.equal(outcome('{"face_events": {"camera_group_in": [1]}}', multiEvent), 'fail');
  });

  it('every other section may be there when empty', () => {
    const others = SECTIONS.filter((section) => section !== 'face_events')
      .map((section) => `"${section}": {}`)
      .join(', ');
    assert.deepEqual(spec(`{"face_events": {"camera_in": [5]}, ${others}}`), { camera_in: [5] });
    assert.deepEqual(spec(`{${others}, "face_events": {}}`), {});
  });

  it('a section with keys, other than face_events, is an error naming it', () => {
    for (const section of SECTIONS.filter((name) => name !== 'face_events')) {
      const result = parseFilters(`{"face_events": {}, "${section}": {"camera_in": [1]}}`);
      assert.deepEqual(result, { ok: false, problem: { code: 'unsupported-section', key: section } });
    }
  });

  it("Multi's default filter as pasted names body_events; with the other sections emptied, its face_events applies (its [] keys pass nothing)", () => {
    const defaults = JSON.parse(fs.readFileSync(path.join(repo, 'test', 'fixtures', 'multi-webhook-filter-defaults.json'), 'utf8'));
    assert.deepEqual(parseFilters(JSON.stringify(defaults)), { ok: false, problem: { code: 'unsupported-section', key: 'body_events' } });
    const faceOnly = { ...Object.fromEntries(Object.keys(defaults).map((section) => [section, {}])), face_events: defaults.face_events };
    const filter = compileFilter(spec(JSON.stringify(faceOnly)));
    assert.deepEqual(filter.emptyKeys, [
      'matched_lists_in',
      'camera_group_in',
      'camera_in',
      'matched_card_in',
      'gender_in',
      'glasses_in',
      'emotions_in',
      'beard_in',
      'medmask_in',
      'liveness_in',
    ]);
    assert.equal(filter.test(normaliseEvent(face as FaceEvent), face as FaceEvent), 'fail');
  });

  it('isSectioned tells the two forms apart', () => {
    assert.equal(isSectioned({ face_events: {} }), true);
    assert.equal(isSectioned({ camera_in: [1] }), false);
    assert.equal(isSectioned({}), false);
    assert.equal(isSectioned([{ face_events: {} }]), false);
  });
});

describe("webhook filter: the editor's key groups and summary", () => {
  for (const shape of ['security', 'multi'] as const) {
    it(`offers every key but matched exactly once, the common four first (${shape})`, () => {
      const keys = keyGroups(shape).flatMap((group) => group.keys);
      assert.deepEqual([...keys].sort(), FILTER_KEYS.filter((key) => key !== 'matched').sort());
      assert.equal(keyGroups(shape)[0].keys.length, 4);
      assert.equal(keys[0], 'camera_in');
    });
  }
  it('the dossier key under the name of the shape', () => {
    assert.equal(keyGroups('security')[0].keys[2], 'matched_dossier_in');
    assert.equal(keyGroups('multi')[0].keys[2], 'matched_card_in');
  });
  it('every key has a label, and every group a name, in English and Russian', () => {
    for (const locale of ['en-US', 'ru']) {
      const catalog = JSON.parse(fs.readFileSync(path.join(repo, 'nodes', 'filter', 'locales', locale, 'findface-filter.json'), 'utf8'))['findface-filter'];
      for (const key of FILTER_KEYS.filter((name) => name !== 'matched')) assert.equal(typeof catalog.keys[key], 'string', `${locale} ${key}`);
      for (const group of keyGroups('multi')) assert.equal(typeof catalog.groups[group.name], 'string', `${locale} ${group.name}`);
      for (const word of ['temperature', 'liveness', 'yaw', 'pitch', 'age', 'tracking', 'gender', 'glasses', 'emotions', 'beard', 'medmask']) {
        assert.equal(typeof catalog.summary[word], 'string', `${locale} summary ${word}`);
      }
      assert.equal(typeof catalog.warn.rowEmpty, 'string');
      assert.equal(typeof catalog.tip.sections, 'string');
    }
  });
  it('summarises the attribute keys', () => {
    assert.equal(
      filterSummary(spec('{"age_gte": 18, "age_lte": 65, "gender_in": ["female"], "headpose_yaw_angle_lte": 30}')),
      'age ≥ 18 · age ≤ 65 · gender female · yaw ≤ 30',
    );
    assert.equal(
      filterSummary(spec('{"face_events": {"liveness_in": ["real"], "temperature_gte": 37.5, "allowed_bs_types": []}}')),
      'liveness real · temperature ≥ 37.5 · tracking none',
    );
  });
  it('the editor reads kinds and summaries as the runtime does', () => {
    const editor = editorRules();
    for (const key of [...FILTER_KEYS, 'x']) assert.equal(editor.keyKind(key), keyKind(key), key);
    assert.deepEqual(plain(editor.keyGroups('multi')), plain(keyGroups('multi')));
    const text = '{"face_events": {"age_gte": 18, "gender_in": ["female"], "camera_in": [1, 2, 3, 4, 5]}, "areas": {}}';
    assert.deepEqual(plain(editor.parseFilters(text)), plain(parseFilters(text)));
    assert.equal(editor.filterSummary(spec(text)), filterSummary(spec(text)));
  });
});
