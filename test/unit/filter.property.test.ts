// Property-based tests of the webhook filter: the compiled predicate against
// a plain reference predicate written here from the seed's wording, on
// random filters, camera-group maps and events of the three FindFace shapes;
// and the editor's rules against the runtime's on random configuration text.
import assert from 'assert/strict';
import fc from 'fast-check';
import fs from 'fs';
import path from 'path';
import { FaceEvent, normaliseEvent } from '../../nodes/lib/event/event';
import { compileFilter, filterSummary, groupsFromMap, parseCameraGroups, parseFilters } from '../../nodes/lib/filter/filter';

const NUM_RUNS = 400;

type Shape = 'ffs3' | 'ffs4' | 'ffs4-camera-group' | 'multi';

interface Facts {
  shape: Shape;
  camera: number;
  /** The group the event itself carries (never in 3.x). */
  group: number | undefined;
  dossier: number | null;
  matched: boolean;
  lists: number[];
  confidence: number | undefined;
}

type Spec = Record<string, number[] | boolean | number>;

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
    else throw new Error(`unexpected key ${key}`);
    if (!ok) return 'fail';
  }
  return 'pass';
}

/** The facts as FindFace would send them. */
function render(facts: Facts, index: number): Record<string, unknown> {
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

const factsArb: fc.Arbitrary<Facts> = fc
  .record({
    shape: fc.constantFrom<Shape>('ffs3', 'ffs4', 'ffs4-camera-group', 'multi'),
    camera: id,
    group: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }),
    dossier: fc.option(id, { nil: null }),
    matched: fc.boolean(),
    lists: fc.uniqueArray(fc.integer({ min: 1, max: 4 }), { maxLength: 3 }),
    confidence: fc.option(confidence, { nil: undefined }),
  })
  .map((facts) => (facts.shape === 'ffs3' ? { ...facts, group: undefined } : facts));

const specArb: fc.Arbitrary<Spec> = fc.record(
  {
    camera_group_in: fc.uniqueArray(fc.integer({ min: 1, max: 4 }), { maxLength: 3 }),
    matched_dossier_in: idList,
    matched: fc.boolean(),
    camera_in: idList,
    matched_lists_in: fc.uniqueArray(fc.integer({ min: 1, max: 4 }), { maxLength: 3 }),
    confidence_gte: confidence,
    matched_card_in: idList,
  },
  { requiredKeys: [] },
) as fc.Arbitrary<Spec>;

const mapArb = fc.dictionary(
  id.map(String),
  fc.integer({ min: 1, max: 4 }),
  { maxKeys: 6 },
);

function editorRules() {
  const html = fs.readFileSync(path.join(__dirname, '..', '..', 'nodes', 'filter', 'findface-filter.html'), 'utf8');
  const block = /\/\/ BEGIN findface-filter rules([\s\S]*?)\/\/ END findface-filter rules/.exec(html);
  assert.ok(block);
  return new Function(`${block[1]}\nreturn { parseFilters: parseFilters, parseCameraGroups: parseCameraGroups, filterSummary: filterSummary };`)();
}

describe('webhook filter, property-based', () => {
  it('the compiled predicate agrees with the reference predicate', () => {
    fc.assert(
      fc.property(specArb, mapArb, fc.array(factsArb, { minLength: 1, maxLength: 8 }), (spec, map, events) => {
        const parsed = parseFilters(JSON.stringify(spec));
        const groups = parseCameraGroups(JSON.stringify(map));
        assert.ok(parsed.ok && groups.ok);
        const filter = compileFilter(parsed.value, groupsFromMap(groups.value));
        events.forEach((facts, index) => {
          const event = render(facts, index);
          assert.equal(filter.test(normaliseEvent(event as FaceEvent)), reference(spec, facts, map), JSON.stringify(event));
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

  const editor = editorRules();

  // Text near a filter: known and unknown keys, values of every JSON type, keys written twice.
  const jsonValue = fc.oneof(
    { depthSize: 'small' },
    fc.integer({ min: -3, max: 30 }),
    fc.constantFrom(0.5, 1.5, -0, 1e21, 9007199254740993, true, false, null, '1', 'x', 'matched'),
    fc.array(fc.oneof(fc.integer({ min: -3, max: 30 }), fc.constantFrom(1.5, '2', null, true, [1])), { maxLength: 4 }),
    fc.constant({ camera_in: [1] }),
  );
  const keyArb = fc.constantFrom(
    'camera_group_in', 'matched_dossier_in', 'matched', 'camera_in', 'matched_lists_in', 'confidence_gte', 'matched_card_in',
    'camera_id_in', '__proto__', 'Matched', '2', '', 'matched\\u005fcard_in',
  );
  const nearFilterText = fc
    .array(fc.tuple(keyArb, jsonValue), { maxLength: 5 })
    .map((entries) => `{${entries.map(([key, value]) => `"${key}": ${JSON.stringify(value)}`).join(', ')}}`);
  const anyText = fc.oneof(nearFilterText, fc.json({ maxDepth: 2 }), fc.string({ maxLength: 20 }), nearFilterText.map((text) => text.slice(0, -1)));

  it('the editor accepts and refuses exactly what the runtime does, with the same problem', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        assert.deepEqual(editor.parseFilters(text), parseFilters(text));
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('the editor reads camera groups as the runtime does', () => {
    const groupKey = fc.oneof(id.map(String), fc.constantFrom('-1', '02', 'a', '1.5', '', '9007199254740993'));
    const groupText = fc.oneof(
      fc.array(fc.tuple(groupKey, jsonValue), { maxLength: 5 }).map((entries) => `{${entries.map(([key, value]) => `"${key}": ${JSON.stringify(value)}`).join(', ')}}`),
      fc.json({ maxDepth: 2 }),
      fc.string({ maxLength: 12 }),
    );
    fc.assert(
      fc.property(groupText, (text) => {
        const runtime = parseCameraGroups(text);
        assert.deepEqual(editor.parseCameraGroups(text), runtime.ok ? { ok: true, value: [...runtime.value] } : runtime);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('the editor summarises every valid filter as the runtime does', () => {
    fc.assert(
      fc.property(specArb, (spec) => {
        const parsed = parseFilters(JSON.stringify(spec));
        assert.ok(parsed.ok);
        assert.equal(editor.filterSummary(parsed.value, (word: string) => word), filterSummary(parsed.value, (word) => word));
      }),
      { numRuns: NUM_RUNS },
    );
  });
});
