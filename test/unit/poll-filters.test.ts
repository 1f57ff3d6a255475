import assert from 'assert/strict';
import fs from 'fs';
import path from 'path';
import {
  compilePollSelection,
  parsePollFilters,
  PollFilterProblem,
  POLL_PARAMETERS,
  pollFilterProblemText,
  SERVER_ONLY_PARAMS,
} from '../../nodes/lib/findface/poll-filters';
import { RESERVED_PARAMS } from '../../nodes/lib/findface/poller';
import type { FaceEvent } from '../../nodes/lib/event/event';
import { makeEvent } from '../support/fake-findface';

const problem = (text: string) => {
  const parsed = parsePollFilters(text);
  assert.equal(parsed.ok, false, `${text} should be refused`);
  return (parsed as { ok: false; problem: PollFilterProblem }).problem;
};
const selection = (text: string, groupOf?: (camera: number) => number | undefined) => {
  const parsed = parsePollFilters(text);
  if (!parsed.ok) throw new Error(pollFilterProblemText(parsed.problem));
  return compilePollSelection(parsed.value, groupOf);
};
const passes = (text: string, event: Record<string, unknown>, groupOf?: (camera: number) => number | undefined) =>
  selection(text, groupOf).failing(event as FaceEvent) === null;

// The query parameters of GET /events/faces/ as FindFace Multi's OpenAPI description lists them (copied with their schemas).
const publishedFile = path.join(__dirname, '..', 'fixtures', 'multi-events-faces-params.json');

describe('poll filters: the published parameters of GET /events/faces/', () => {
  it('are exactly the OpenAPI query parameters, less the ones the poller sets, with their enums', () => {
    const published = (
      JSON.parse(fs.readFileSync(publishedFile, 'utf8')) as { parameters: Record<string, { type: string; items?: { enum?: string[] }; enum?: string[] }> }
    ).parameters;
    const expected = Object.keys(published)
      .filter((name) => !RESERVED_PARAMS.includes(name))
      .sort();
    assert.deepEqual(Object.keys(POLL_PARAMETERS).sort(), expected);
    for (const [name, kind] of Object.entries(POLL_PARAMETERS)) {
      const schema = published[name];
      const isList = schema.type === 'array';
      assert.equal(['integers', 'strings', 'enums'].includes(kind.type), isList, `${name} is a list`);
      const values = schema.items?.enum ?? schema.enum;
      if (values) assert.deepEqual('values' in kind ? [...kind.values] : undefined, values, `${name}'s values`);
    }
  });

  it('refuses "matched" (not in the API) naming it, with the parameter to use instead', () => {
    const p = problem('{"matched": true, "cameras": [2]}');
    assert.deepEqual([p.code, p.key], ['unknown-param', 'matched']);
    assert.match(p.detail ?? '', /no_match/);
    assert.match(pollFilterProblemText(p), /"matched" is not a parameter/);
  });

  it("refuses the webhook filter names, the poller's own parameters, bad types, empty lists and keys given twice", () => {
    assert.equal(problem('{"camera_in": [1]}').code, 'unknown-param');
    assert.equal(problem('{"id_gte": 5}').code, 'poller-param');
    assert.equal(problem('{"ordering": "-id"}').code, 'poller-param');
    assert.equal(problem('{"no_match": "false"}').code, 'not-boolean');
    assert.equal(problem('{"cameras": 2}').code, 'not-list');
    assert.equal(problem('{"cameras": [1.5]}').code, 'not-integer');
    assert.equal(problem('{"cameras": []}').code, 'empty-list');
    assert.equal(problem('{"matched_card": "7"}').code, 'not-integer');
    assert.equal(problem('{"gender": ["other"]}').code, 'not-in-enum');
    assert.equal(problem('{"bs_type": "best"}').code, 'not-in-enum');
    assert.equal(problem('{"created_date_gte": "yesterday"}').code, 'not-date');
    assert.equal(problem('{"cameras": [1], "cameras": [2]}').code, 'duplicate-param');
    assert.equal(problem('[1]').code, 'not-object');
    assert.equal(problem('{').code, 'not-json');
    assert.equal(problem('{"__proto__": 1}').code, 'unknown-param');
  });

  it('accepts blank text as no filter, and passes a valid query on as given', () => {
    for (const blank of ['', '  ', undefined]) {
      const parsed = parsePollFilters(blank);
      assert.ok(parsed.ok);
      assert.deepEqual(parsed.ok && parsed.value.query, {});
    }
    const parsed = parsePollFilters('{"no_match": false, "cameras": [1, 2], "matched_lists": [3], "created_date_gte": "2024-01-01T00:00:00Z"}');
    assert.ok(parsed.ok);
    assert.deepEqual(parsed.ok && parsed.value.query, { no_match: false, cameras: [1, 2], matched_lists: [3], created_date_gte: '2024-01-01T00:00:00Z' });
  });
});

describe('poll filters: the local re-check', () => {
  const matched = makeEvent(0); // camera 1, matched, dossier 1, lists [1]
  const unmatched = makeEvent(1); // camera 2, unmatched

  it('no_match=false never lets an unmatched face through, in each event shape; no_match=true the reverse', () => {
    const multiMatched = { id: '10', camera: 3, camera_group: 2, matched: true, matched_card: 7, matched_lists: [4] };
    const multiUnmatched = { id: '11', camera: 3, camera_group: 2, matched: false, matched_card: null, matched_lists: [] };
    const ffs4Matched = { id: '12', camera: { id: 3, group: 2 }, matched: true, matched_dossier: 9, matched_lists: [{ id: 4 }] };
    for (const event of [matched, multiMatched, ffs4Matched]) {
      assert.ok(passes('{"no_match": false}', event));
      assert.ok(!passes('{"no_match": true}', event));
    }
    for (const event of [unmatched, multiUnmatched]) {
      assert.ok(!passes('{"no_match": false}', event));
      assert.ok(passes('{"no_match": true}', event));
    }
  });

  it("checks cameras, camera groups (the event's, else the server's camera list), cards and watch lists", () => {
    assert.ok(passes('{"cameras": [1, 3]}', matched));
    assert.ok(!passes('{"cameras": [2]}', matched));
    assert.ok(passes('{"camera_groups": [2]}', { id: '1', camera: 3, camera_group: 2 }));
    assert.ok(!passes('{"camera_groups": [1]}', { id: '1', camera: 3, camera_group: 2 }));
    assert.ok(passes('{"camera_groups": [5]}', matched, (camera) => (camera === 1 ? 5 : undefined)));
    assert.ok(!passes('{"camera_groups": [5]}', matched), 'an unknown group fails');
    assert.ok(passes('{"matched_card": 1}', matched));
    assert.ok(!passes('{"matched_card": 2}', matched));
    assert.ok(!passes('{"matched_card": 1}', unmatched));
    assert.ok(passes('{"matched_lists": [9, 1]}', matched));
    assert.ok(!passes('{"matched_lists": [9]}', matched));
    assert.ok(!passes('{"matched_lists": [1]}', unmatched));
  });

  it('checks the features, temperature, dates and ids where the event has them; an event lacking the field fails', () => {
    const event = {
      id: '4173669353687265180',
      camera: 1,
      created_date: '2024-05-01T10:00:00Z',
      temperature: 36.9,
      bs_type: 'realtime',
      acknowledged: false,
      features: { gender: { name: 'female', confidence: 0.9 }, age: 31, headpose: { pitch: -5, yaw: 20 }, medmask: { name: 'none', confidence: 0.8 } },
    };
    assert.ok(passes('{"gender": ["female"], "gender_score_gte": 0.8}', event));
    assert.ok(!passes('{"gender": ["male"]}', event));
    assert.ok(!passes('{"gender_score_gte": 0.95}', event));
    assert.ok(passes('{"age_gte": 30, "age_lte": 31}', event));
    assert.ok(passes('{"age_gte": 30}', { ...event, features: { age: { name: 33, confidence: 0.5 } } }));
    assert.ok(!passes('{"age_gte": 32}', event));
    assert.ok(passes('{"headpose_yaw_angle_lte": 25, "headpose_pitch_angle_gte": -10}', event));
    assert.ok(!passes('{"headpose_yaw_angle_lte": 10}', event));
    assert.ok(passes('{"temperature_gte": 36.5}', event));
    assert.ok(!passes('{"temperature_lte": 36.5}', event));
    assert.ok(!passes('{"temperature_gte": 30}', matched), 'no temperature: fails');
    assert.ok(!passes('{"liveness": ["real"]}', event), 'no liveness: fails');
    assert.ok(passes('{"medmask": ["none", "correct"]}', event));
    assert.ok(passes('{"bs_type": "realtime", "acknowledged": false}', event));
    assert.ok(!passes('{"bs_type": "overall"}', event));
    assert.ok(passes('{"created_date_gte": "2024-05-01T10:00:00Z"}', event));
    assert.ok(!passes('{"created_date_lte": "2024-04-30T00:00:00Z"}', event));
    assert.ok(passes('{"id_in": ["4173669353687265180"]}', event));
    assert.ok(!passes('{"id_in": ["4173669353687265181"]}', event));
  });

  it('names the parameters it leaves to the server', () => {
    const s = selection('{"looks_like": "detection:abc", "threshold": 0.7, "no_match": false}');
    assert.deepEqual(s.serverOnly, ['looks_like', 'threshold']);
    assert.deepEqual(s.checked, ['no_match']);
    for (const name of SERVER_ONLY_PARAMS) assert.ok(name in POLL_PARAMETERS);
  });
});
