// Property-based tests of the webhook filter: the compiled predicate against
// a plain reference predicate written here from the seed's and FindFace's
// wording, on random filters (every key, flat or in Multi's sections),
// camera-group maps and events of the three FindFace shapes with face
// attributes in each place they are sent; and the editor's rules (the served
// resources/filter.js) against the runtime's on random configuration text.
import assert from 'assert/strict';
import fc from 'fast-check';
import { FaceEvent, normaliseEvent } from '../../nodes/lib/event/event';
import { CHOICES, compileFilter, filterSummary, groupsFromMap, parseCameraGroups, parseFilters, SECTIONS } from '../../nodes/lib/filter/filter';
import { editorRules, plain } from '../support/editor-rules';

const NUM_RUNS = 400;

type Shape = 'ffs3' | 'ffs4' | 'ffs4-camera-group' | 'multi';
/** Where the face attributes are: Multi's OpenAPI places, the Multi mock's, bare values, or none (3.x nulls). */
type Places = 'openapi' | 'mock' | 'bare' | 'none';

interface Face {
  places: Places;
  bsType: 'overall' | 'realtime' | undefined;
  temperature: number | undefined;
  age: number | undefined;
  gender: string | undefined;
  glasses: string | undefined;
  emotions: string | undefined;
  beard: string | undefined;
  medmask: string | undefined;
  liveness: { name: 'real' | 'fake'; score: number } | undefined;
  yaw: number | undefined;
  pitch: number | undefined;
}

interface Facts {
  shape: Shape;
  camera: number;
  /** The group the event itself carries (never in 3.x). */
  group: number | undefined;
  dossier: number | null;
  matched: boolean;
  lists: number[];
  confidence: number | undefined;
  face: Face;
}

type Spec = Record<string, number[] | string[] | boolean | number>;

const WORD_FEATURE: Record<string, 'gender' | 'glasses' | 'emotions' | 'beard' | 'medmask'> = {
  gender_in: 'gender',
  glasses_in: 'glasses',
  emotions_in: 'emotions',
  beard_in: 'beard',
  medmask_in: 'medmask',
};

/** FindFace's meaning of the attribute keys, on the facts: a key whose field the event lacks fails. */
function attributeHolds(key: string, value: unknown, face: Face): boolean {
  const atLeast = (actual: number | undefined) => actual !== undefined && actual >= (value as number);
  const atMost = (actual: number | undefined) => actual !== undefined && actual <= (value as number);
  const among = (actual: string | undefined) => actual !== undefined && (value as string[]).includes(actual);
  if (key === 'allowed_bs_types') return among(face.bsType);
  if (key === 'temperature_gte') return atLeast(face.temperature);
  if (face.places === 'none') return false;
  if (key in WORD_FEATURE) return among(face[WORD_FEATURE[key]]);
  switch (key) {
    case 'age_gte':
      return atLeast(face.age);
    case 'age_lte':
      return atMost(face.age);
    case 'headpose_yaw_angle_gte':
      return atLeast(face.yaw);
    case 'headpose_yaw_angle_lte':
      return atMost(face.yaw);
    case 'headpose_pitch_angle_gte':
      return atLeast(face.pitch);
    case 'headpose_pitch_angle_lte':
      return atMost(face.pitch);
    case 'liveness_in':
      // A bare liveness is a score without a word.
      return face.places !== 'bare' && among(face.liveness?.name);
    case 'liveness_gte':
      // A face called fake never passes; a bare score has no word to say so.
      if (face.liveness === undefined) return false;
      if (face.places !== 'bare' && face.liveness.name === 'fake') return false;
      return face.liveness.score >= (value as number);
  }
  throw new Error(`unexpected key ${key}`);
}

/** The seed, read literally: AND across keys, OR within a list, [] passes nothing, null dossier fails. */
function reference(spec: Spec, facts: Facts, map: Record<string, number>): 'pass' | 'fail' | 'unknown-group' {
  const group = facts.group !== undefined ? facts.group : map[String(facts.camera)];
  const groupList = spec.camera_group_in as number[] | undefined;
  if (groupList && groupList.length > 0 && group === undefined) return 'unknown-group';
  for (const key of Object.keys(spec)) {
    const value = spec[key];
    let ok: boolean;
    if (key === 'camera_in') ok = (value as number[]).includes(facts.camera);
    else if (key === 'camera_group_in') ok = group !== undefined && (value as number[]).includes(group);
    else if (key === 'matched_dossier_in' || key === 'matched_card_in') ok = facts.dossier !== null && (value as number[]).includes(facts.dossier);
    else if (key === 'matched_lists_in') ok = facts.lists.some((list) => (value as number[]).includes(list));
    else if (key === 'matched') ok = facts.matched === value;
    else if (key === 'confidence_gte') ok = facts.confidence !== undefined && facts.confidence >= (value as number);
    else if (Array.isArray(value) && value.length === 0) ok = false;
    else ok = attributeHolds(key, value, facts.face);
    if (!ok) return 'fail';
  }
  return 'pass';
}

/** The face attributes where `places` puts them. */
function renderFace(face: Face, event: Record<string, unknown>): Record<string, unknown> {
  if (face.bsType !== undefined) event.bs_type = face.bsType;
  event.temperature = face.temperature ?? null;
  const word = (name: string | undefined) => (name === undefined ? null : face.places === 'bare' ? name : { name, confidence: 0.9 });
  if (face.places === 'none') {
    event.features = { age: null, beard: null, emotions: null, gender: null, glasses: null, liveness: null };
    return event;
  }
  const features: Record<string, unknown> = {
    gender: word(face.gender),
    glasses: word(face.glasses),
    emotions: word(face.emotions),
    beard: word(face.beard),
    medmask: word(face.medmask),
  };
  if (face.liveness !== undefined)
    features.liveness = face.places === 'bare' ? face.liveness.score : { name: face.liveness.name, confidence: face.liveness.score };
  if (face.places === 'mock') {
    if (face.age !== undefined) features.age = { name: face.age, confidence: 1 };
    if (face.yaw !== undefined) features.headpose_yaw = { name: face.yaw, confidence: 1 };
    if (face.pitch !== undefined) features.headpose_pitch = { name: face.pitch, confidence: 1 };
  } else {
    if (face.age !== undefined) features.age = face.age;
    const headpose: Record<string, number> = {};
    if (face.yaw !== undefined) headpose.yaw = face.yaw;
    if (face.pitch !== undefined) headpose.pitch = face.pitch;
    features.headpose = headpose;
  }
  event.features = features;
  return event;
}

/** The facts as FindFace would send them. */
function render(facts: Facts, index: number): Record<string, unknown> {
  return renderFace(facts.face, renderIds(facts, index));
}

function renderIds(facts: Facts, index: number): Record<string, unknown> {
  const base = { id: String(4173669353687265180n + BigInt(index)), matched: facts.matched, created_date: '2019-04-09T12:29:23Z' };
  const withConfidence = (event: Record<string, unknown>) => {
    if (facts.confidence !== undefined) event.confidence = facts.confidence;
    return event;
  };
  switch (facts.shape) {
    case 'ffs3':
      return withConfidence({ ...base, camera: facts.camera, matched_dossier: facts.dossier, matched_lists: facts.lists });
    case 'ffs4':
    case 'ffs4-camera-group': {
      const event: Record<string, unknown> = {
        ...base,
        webhook_type: 'events',
        event_type: 'event_created',
        camera: { id: facts.camera, name: 'Camera' },
        matched_dossier: facts.dossier,
        dossier: facts.dossier === null ? null : { id: facts.dossier },
        matched_lists: facts.lists.map((id) => ({ id, name: `List ${id}` })),
      };
      if (facts.group !== undefined) {
        if (facts.shape === 'ffs4') event.camera_group = { id: facts.group, name: 'Group' };
        else (event.camera as Record<string, unknown>).group = facts.group;
      }
      return withConfidence(event);
    }
    case 'multi': {
      const event: Record<string, unknown> = { ...base, camera: facts.camera, matched_card: facts.dossier, matched_lists: facts.lists };
      if (facts.group !== undefined) event.camera_group = facts.group;
      return withConfidence(event);
    }
  }
}

// Small id ranges, so that events often hit the lists.
const id = fc.integer({ min: 1, max: 6 });
const idList = fc.uniqueArray(id, { maxLength: 4 });
const confidence = fc.oneof(fc.constantFrom(0, 0.5, 0.75, 0.9, 1), fc.double({ min: 0, max: 1, noNaN: true }));

const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined, freq: 4 });
const word = (key: keyof typeof CHOICES) => maybe(fc.constantFrom(...CHOICES[key]));
const faceArb: fc.Arbitrary<Face> = fc.record({
  places: fc.constantFrom<Places>('openapi', 'mock', 'bare', 'none'),
  bsType: word('allowed_bs_types') as fc.Arbitrary<Face['bsType']>,
  temperature: maybe(fc.constantFrom(35.5, 36.6, 37, 37.5, 38.2)),
  age: maybe(fc.integer({ min: 0, max: 90 })),
  gender: word('gender_in'),
  glasses: word('glasses_in'),
  emotions: word('emotions_in'),
  beard: word('beard_in'),
  medmask: word('medmask_in'),
  liveness: maybe(fc.record({ name: fc.constantFrom<'real' | 'fake'>('real', 'fake'), score: fc.constantFrom(0, 0.3, 0.65, 0.9, 1) })),
  yaw: maybe(fc.integer({ min: -90, max: 90 })),
  pitch: maybe(fc.integer({ min: -90, max: 90 })),
});

const factsArb: fc.Arbitrary<Facts> = fc
  .record({
    face: faceArb,
    shape: fc.constantFrom<Shape>('ffs3', 'ffs4', 'ffs4-camera-group', 'multi'),
    camera: id,
    group: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }),
    dossier: fc.option(id, { nil: null }),
    matched: fc.boolean(),
    lists: fc.uniqueArray(fc.integer({ min: 1, max: 4 }), { maxLength: 3 }),
    confidence: fc.option(confidence, { nil: undefined }),
  })
  .map((facts) => (facts.shape === 'ffs3' ? { ...facts, group: undefined } : facts));

const valueArbs = {
  camera_group_in: fc.uniqueArray(fc.integer({ min: 1, max: 4 }), { maxLength: 3 }),
  matched_dossier_in: idList,
  matched: fc.boolean(),
  camera_in: idList,
  matched_lists_in: fc.uniqueArray(fc.integer({ min: 1, max: 4 }), { maxLength: 3 }),
  confidence_gte: confidence,
  matched_card_in: idList,
  temperature_gte: fc.constantFrom(36, 36.6, 37, 37.5),
  liveness_gte: fc.constantFrom(0, 0.3, 0.65, 0.9),
  headpose_yaw_angle_gte: fc.integer({ min: -90, max: 90 }),
  headpose_yaw_angle_lte: fc.integer({ min: -90, max: 90 }),
  headpose_pitch_angle_gte: fc.integer({ min: -90, max: 90 }),
  headpose_pitch_angle_lte: fc.integer({ min: -90, max: 90 }),
  age_gte: fc.integer({ min: 0, max: 90 }),
  age_lte: fc.integer({ min: 0, max: 90 }),
  ...Object.fromEntries(Object.keys(CHOICES).map((key) => [key, fc.uniqueArray(fc.constantFrom(...CHOICES[key as keyof typeof CHOICES]), { maxLength: 3 })])),
};

/** Up to five keys in any order (more would make a pass too rare to test much). */
const specArb: fc.Arbitrary<Spec> = fc
  .tuple(fc.record(valueArbs as Record<string, fc.Arbitrary<Spec[string]>>), fc.shuffledSubarray(Object.keys(valueArbs), { maxLength: 5 }))
  .map(([values, keys]) => Object.fromEntries(keys.map((key) => [key, values[key]])));

/** A spec written flat, or as Multi's sections with face_events and any of the others empty, in any order. */
const writtenArb = fc
  .tuple(specArb, fc.boolean(), fc.subarray(SECTIONS.filter((name) => name !== 'face_events')), fc.nat())
  .map(([spec, sectioned, others, at]) => {
    if (!sectioned) return { spec, text: JSON.stringify(spec) };
    const entries: Array<[string, unknown]> = others.map((name) => [name, {}]);
    entries.splice(at % (entries.length + 1), 0, ['face_events', spec]);
    return { spec, text: JSON.stringify(Object.fromEntries(entries)) };
  });

const mapArb = fc.dictionary(id.map(String), fc.integer({ min: 1, max: 4 }), { maxKeys: 6 });

describe('webhook filter, property-based', () => {
  it('the compiled predicate agrees with the reference predicate', () => {
    fc.assert(
      fc.property(writtenArb, mapArb, fc.array(factsArb, { minLength: 1, maxLength: 8 }), ({ spec, text }, map, events) => {
        const parsed = parseFilters(text);
        const groups = parseCameraGroups(JSON.stringify(map));
        assert.ok(parsed.ok && groups.ok, text);
        const filter = compileFilter(parsed.value, groupsFromMap(groups.value));
        events.forEach((facts, index) => {
          const event = render(facts, index);
          assert.equal(filter.test(normaliseEvent(event as FaceEvent), event as FaceEvent), reference(spec, facts, map), `${text} on ${JSON.stringify(event)}`);
        });
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('the outcomes are not trivial: every outcome occurs', () => {
    // Guards the property above against generators that only ever pass or fail.
    const seen = new Set<string>();
    fc.assert(
      fc.property(specArb, mapArb, factsArb, (spec, map, facts) => {
        seen.add(reference(spec, facts, map));
      }),
      { numRuns: NUM_RUNS, seed: 7 },
    );
    assert.deepEqual([...seen].sort(), ['fail', 'pass', 'unknown-group']);
  });

  it('every attribute key both passes and fails some events', () => {
    // Guards the reference against a key whose field the generated events never carry.
    const outcomes = new Map<string, Set<boolean>>();
    fc.assert(
      fc.property(specArb, factsArb, (spec, facts) => {
        for (const key of Object.keys(spec)) {
          if (!outcomes.has(key)) outcomes.set(key, new Set());
          outcomes.get(key)!.add(reference({ [key]: spec[key] }, facts, {}) === 'pass');
        }
      }),
      { numRuns: NUM_RUNS * 4, seed: 11 },
    );
    for (const [key, seen] of outcomes) assert.deepEqual([...seen].sort(), [false, true], key);
    assert.equal(outcomes.size, 22);
  });

  const editor = editorRules();

  // Text near a filter: known and unknown keys, values of every JSON type, keys written twice.
  const jsonValue = fc.oneof(
    { depthSize: 'small' },
    fc.integer({ min: -3, max: 30 }),
    fc.constantFrom(0.5, 1.5, -0, 1e21, 9007199254740993, true, false, null, '1', 'x', 'matched', 181, -181),
    fc.array(fc.constantFrom('male', 'none', 'real', 'overall', 'Male', 1), { maxLength: 3 }),
    fc.constantFrom({}, { camera_in: [1] }, { gender_in: ['male'] }, { headwear_in: [] }),
    fc.array(fc.oneof(fc.integer({ min: -3, max: 30 }), fc.constantFrom(1.5, '2', null, true, [1])), { maxLength: 4 }),
    fc.constant({ camera_in: [1] }),
  );
  const keyArb = fc.constantFrom(
    'camera_group_in',
    'matched_dossier_in',
    'matched',
    'camera_in',
    'matched_lists_in',
    'confidence_gte',
    'matched_card_in',
    'camera_id_in',
    '__proto__',
    'Matched',
    '2',
    '',
    'matched\\u005fcard_in',
    'gender_in',
    'age_gte',
    'headpose_yaw_angle_lte',
    'liveness_in',
    'allowed_bs_types',
    'face_events',
    'body_events',
  );
  const nearFilterText = fc
    .array(fc.tuple(keyArb, jsonValue), { maxLength: 5 })
    .map((entries) => `{${entries.map(([key, value]) => `"${key}": ${JSON.stringify(value)}`).join(', ')}}`);
  const anyText = fc.oneof(
    nearFilterText,
    fc.json({ maxDepth: 2 }),
    fc.string({ maxLength: 20 }),
    nearFilterText.map((text) => text.slice(0, -1)),
  );

  it('the editor accepts and refuses exactly what the runtime does, with the same problem', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        assert.deepEqual(plain(editor.parseFilters(text)), plain(parseFilters(text)));
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('the editor reads camera groups as the runtime does', () => {
    const groupKey = fc.oneof(id.map(String), fc.constantFrom('-1', '02', 'a', '1.5', '', '9007199254740993'));
    const groupText = fc.oneof(
      fc
        .array(fc.tuple(groupKey, jsonValue), { maxLength: 5 })
        .map((entries) => `{${entries.map(([key, value]) => `"${key}": ${JSON.stringify(value)}`).join(', ')}}`),
      fc.json({ maxDepth: 2 }),
      fc.string({ maxLength: 12 }),
    );
    fc.assert(
      fc.property(groupText, (text) => {
        assert.deepEqual(plain(editor.parseCameraGroups(text)), plain(parseCameraGroups(text)));
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('the editor summarises every valid filter as the runtime does', () => {
    fc.assert(
      fc.property(specArb, (spec) => {
        const parsed = parseFilters(JSON.stringify(spec));
        assert.ok(parsed.ok);
        assert.equal(
          editor.filterSummary(parsed.value, (word) => word),
          filterSummary(parsed.value, (word) => word),
        );
      }),
      { numRuns: NUM_RUNS },
    );
  });
});
