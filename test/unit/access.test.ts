// The door's decision and what it reads: FindFace dates in every form,
// weekly schedules across DST, the node's properties, and one example per
// reason (test/unit/access.property.test.ts holds the invariants).
import assert from 'assert/strict';
import type { FaceEvent } from '../../nodes/lib/event/event';
import { parseEventDate } from '../../nodes/lib/access/event-date';
import { compileSchedule, parseSchedule } from '../../nodes/lib/access/schedule';
import { parseAccessConfig } from '../../nodes/lib/access/access-config';
import { httpNodeUrl } from '../../nodes/lib/access/http-node-url';
import { AccessRules, decide, initialState, skewWarning, SKEW_STREAK } from '../../nodes/lib/access/decision';

const T0 = Date.parse('2026-03-02T09:00:00Z');

function rulesOf(def: Record<string, unknown> = {}): AccessRules {
  const parsed = parseAccessConfig({ door: 'Main', ...def });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problem));
  return { ...parsed.value.rules, startedAtMs: 0 };
}

function event(fields: Partial<FaceEvent> & Record<string, unknown> = {}): FaceEvent {
  return { id: 'e1', camera: 1, matched: true, matched_dossier: 12, confidence: 0.9, created_date: new Date(T0).toISOString(), ...fields } as FaceEvent;
}

describe('FindFace event dates', function () {
  const cases: Array<[string, number | undefined]> = [
    ['2019-04-09T12:29:23Z', Date.UTC(2019, 3, 9, 12, 29, 23)],
    ['2019-04-09T12:29:23.123Z', Date.UTC(2019, 3, 9, 12, 29, 23, 123)],
    ['2023-05-10T09:00:01.123456Z', Date.UTC(2023, 4, 10, 9, 0, 1, 123)],
    ['2023-05-10T12:00:01.123456+03:00', Date.UTC(2023, 4, 10, 9, 0, 1, 123)],
    ['2023-05-10T12:00:01+0300', Date.UTC(2023, 4, 10, 9, 0, 1)],
    ['2023-05-10T04:00:01-05:00', Date.UTC(2023, 4, 10, 9, 0, 1)],
    ['2023-05-10 09:00:01+00:00', Date.UTC(2023, 4, 10, 9, 0, 1)],
    ['2023-05-10T09:00:01', undefined],
    ['2023-02-30T09:00:01Z', undefined],
    ['2023-05-10T25:00:01Z', undefined],
    ['yesterday', undefined],
    ['', undefined],
  ];
  for (const [text, expected] of cases) {
    it(`reads ${JSON.stringify(text)}`, function () {
      assert.equal(parseEventDate(text), expected);
    });
  }
  it('refuses what is not text', function () {
    assert.equal(parseEventDate(1554812963), undefined);
    assert.equal(parseEventDate(null), undefined);
  });
});

describe('door schedule', function () {
  it('parses zone and windows, and refuses what it cannot read', function () {
    const parsed = parseSchedule('Europe/Moscow Mon–Fri 08:00-19:00, Sat+Sun 10:00-14:00; daily 22:00-06:00');
    assert.ok(parsed.ok);
    assert.deepEqual(parsed.value, {
      timeZone: 'Europe/Moscow',
      windows: [
        { days: [0, 1, 2, 3, 4], from: 480, to: 1140 },
        { days: [5, 6], from: 600, to: 840 },
        { days: [0, 1, 2, 3, 4, 5, 6], from: 1320, to: 360 },
      ],
    });
    assert.deepEqual(parseSchedule(''), { ok: true, value: null });
    const codes = [
      'Mars/Olympus Mon 08:00-09:00',
      'Europe/Moscow',
      'Europe/Moscow Mon 8-9',
      'Europe/Moscow Funday 08:00-09:00',
      'Europe/Moscow Mon 08:00-25:00',
      'Europe/Moscow Mon 08:00-08:00',
    ].map((text) => {
      const result = parseSchedule(text);
      return result.ok ? 'ok' : result.problem.code;
    });
    assert.deepEqual(codes, [
      'schedule-bad-zone',
      'schedule-no-windows',
      'schedule-bad-window',
      'schedule-bad-days',
      'schedule-bad-time',
      'schedule-empty-window',
    ]);
  });

  it('follows the local clock across a DST change (Europe/Berlin, 2026-03-29 and 2026-10-25)', function () {
    const parsed = parseSchedule('Europe/Berlin Mon-Sun 08:00-19:00');
    assert.ok(parsed.ok);
    const open = compileSchedule(parsed.value);
    // Before the change Berlin is UTC+1, after it UTC+2: 08:00 local moves from 07:00Z to 06:00Z.
    assert.equal(open(Date.parse('2026-03-28T06:59:00Z')), false);
    assert.equal(open(Date.parse('2026-03-28T07:00:00Z')), true);
    assert.equal(open(Date.parse('2026-03-29T05:59:00Z')), false);
    assert.equal(open(Date.parse('2026-03-29T06:00:00Z')), true);
    assert.equal(open(Date.parse('2026-03-29T16:59:00Z')), true);
    assert.equal(open(Date.parse('2026-03-29T17:00:00Z')), false);
    // And back in October.
    assert.equal(open(Date.parse('2026-10-25T06:30:00Z')), false);
    assert.equal(open(Date.parse('2026-10-25T07:00:00Z')), true);
  });

  it('runs a window past midnight into the next day only', function () {
    const parsed = parseSchedule('UTC Fri 22:00-06:00');
    assert.ok(parsed.ok);
    const open = compileSchedule(parsed.value);
    assert.equal(open(Date.parse('2026-03-06T23:00:00Z')), true); // Friday night
    assert.equal(open(Date.parse('2026-03-07T05:59:00Z')), true); // Saturday morning
    assert.equal(open(Date.parse('2026-03-07T06:00:00Z')), false);
    assert.equal(open(Date.parse('2026-03-07T23:00:00Z')), false); // Saturday night
    assert.equal(open(Date.parse('2026-03-06T05:00:00Z')), false); // Friday morning: Thursday has no window
  });
});

describe('door access properties', function () {
  it('takes the contract defaults', function () {
    const parsed = parseAccessConfig({ door: 'Main' });
    assert.ok(parsed.ok);
    const { rules } = parsed.value;
    assert.deepEqual(
      [rules.maxAgeMs, rules.cooldownMs, rules.confirmFrames, rules.confirmWindowMs, rules.allow.spec],
      [5000, 5000, 1, 3000, { matched: true }],
    );
    assert.equal(parsed.value.schedule, null);
  });

  it('names each problem with its namespace and code', function () {
    const problem = (def: Record<string, unknown>) => {
      const parsed = parseAccessConfig(def);
      return parsed.ok ? 'ok' : `${parsed.problem.namespace}:${parsed.problem.problem.code}`;
    };
    assert.equal(problem({ door: '' }), 'findface-access:no-door');
    assert.equal(problem({ door: 'D', allow: '{"matched": [true]}' }), 'findface-filter:not-boolean');
    assert.equal(problem({ door: 'D', allow: '{"who": 1}' }), 'findface-filter:unknown-key');
    assert.equal(problem({ door: 'D', cameraGroups: '{"x": 1}' }), 'findface-filter:groups-bad-camera');
    assert.equal(problem({ door: 'D', maxAgeS: 'soon' }), 'findface-access:bad-number');
    assert.equal(problem({ door: 'D', cooldownS: -1 }), 'findface-access:bad-number');
    assert.equal(problem({ door: 'D', confirmFrames: 1.5 }), 'findface-access:bad-whole-number');
    assert.equal(problem({ door: 'D', schedule: 'Nowhere 08:00-09:00' }), 'findface-access:schedule-bad-zone');
    assert.equal(problem({ door: 'D', maxAgeS: '10', cooldownS: '' }), 'ok');
  });
});

describe('door decision', function () {
  const at = (offsetMs: number) => ({ wallMs: T0 + offsetMs, monoMs: 1_000_000 + offsetMs });

  it('grants an allowed, fresh, matched event, then holds the same person for cooldownS', function () {
    const rules = rulesOf();
    const state = initialState();
    const first = decide(rules, state, event(), at(500)).decision;
    assert.equal(first.kind, 'granted');
    assert.equal(first.personId, 12);
    assert.equal(first.ageMs, 500);
    const again = decide(rules, state, event({ id: 'e2', created_date: new Date(T0 + 4000).toISOString() }), at(4500)).decision;
    assert.equal(again.kind, 'cooldown');
    assert.ok(again.kind === 'cooldown' && again.remainingMs === 1000);
    const later = decide(rules, state, event({ id: 'e3', created_date: new Date(T0 + 5000).toISOString() }), at(5500)).decision;
    assert.equal(later.kind, 'granted');
  });

  it('reads the person from a Multi card and from a 4.x dossier object event alike', function () {
    const rules = rulesOf();
    const multi = decide(rules, initialState(), event({ matched_dossier: undefined, matched_card: 7 }), at(0)).decision;
    assert.equal(multi.kind === 'granted' && multi.personId, 7);
    const ffs4 = decide(rules, initialState(), event({ camera: { id: 1, group: 2 }, matched_dossier: 8 }), at(0)).decision;
    assert.equal(ffs4.kind === 'granted' && ffs4.personId, 8);
  });

  const denied = (rules: AccessRules, fields: Record<string, unknown>, time = at(0)) => {
    const decision = decide(rules, initialState(), event(fields), time).decision;
    return decision.kind === 'denied' ? decision.reason : decision.kind;
  };

  it('denies with the reason of the first check that fails', function () {
    const rules = rulesOf({ allow: '{"camera_in": [1]}' });
    assert.equal(denied(rules, { camera: 2 }), 'not-allowed');
    assert.equal(denied(rulesOf({ allow: '{"camera_group_in": [1]}' }), {}), 'unknown-group');
    assert.equal(denied(rulesOf({ allow: '{}' }), { matched: false, matched_dossier: null }), 'no-person');
    assert.equal(denied(rules, { created_date: undefined }), 'no-date');
    assert.equal(denied(rules, { created_date: '2026-03-02T09:00:00' }), 'no-date');
    assert.equal(denied(rules, {}, at(-2001)), 'future');
    assert.equal(denied(rules, {}, at(-2000)), 'granted');
    assert.equal(denied(rules, {}, at(5001)), 'stale');
    assert.equal(denied(rules, {}, at(5000)), 'granted');
    assert.equal(denied({ ...rules, startedAtMs: T0 + 1 }, {}), 'before-start');
    assert.equal(denied(rulesOf({ schedule: 'UTC Sat+Sun 00:00-24:00' }), {}), 'schedule');
    assert.equal(denied(rulesOf({ schedule: 'UTC Mon 08:00-10:00' }), {}), 'granted');
  });

  it('waits for confirmFrames allowed events within confirmWindowS', function () {
    const rules = rulesOf({ confirmFrames: 3, confirmWindowS: 2 });
    const state = initialState();
    const kinds = [0, 900, 2950, 3000, 3100].map((offset, index) => {
      const decision = decide(rules, state, event({ id: `e${index}`, created_date: new Date(T0 + offset).toISOString() }), at(offset)).decision;
      return decision.kind === 'denied' ? decision.reason : decision.kind;
    });
    // 0 and 900 fall out of the window by 2950; 2950, 3000, 3100 are three within 2 s.
    assert.deepEqual(kinds, ['unconfirmed', 'unconfirmed', 'unconfirmed', 'unconfirmed', 'granted']);
  });

  it('denies a resent event that opened before, once its cooldown is over', function () {
    const rules = rulesOf({ cooldownS: 1, maxAgeS: 30 });
    const state = initialState();
    assert.equal(decide(rules, state, event(), at(0)).decision.kind, 'granted');
    const replay = decide(rules, state, event(), at(2000)).decision;
    assert.ok(replay.kind === 'denied' && replay.reason === 'replay');
  });

  it('after a restart (state lost, as with kill -9), opens for nothing dated before it, and again for a person seen after it', function () {
    const rules = rulesOf({ cooldownS: 60, maxAgeS: 30 });
    const before = initialState();
    assert.equal(decide(rules, before, event({ id: 'opened' }), at(100)).decision.kind, 'granted');
    // The new run: empty state, started 5 s after the grant; FindFace resends and late frames are still within maxAgeS.
    const restartedAt = T0 + 5000;
    const run = { ...rules, startedAtMs: restartedAt };
    const after = initialState();
    const reason = (fields: Record<string, unknown>, offsetMs: number) => {
      const decision = decide(run, after, event(fields), { wallMs: T0 + offsetMs, monoMs: 50 + offsetMs }).decision;
      return decision.kind === 'denied' ? decision.reason : decision.kind;
    };
    assert.equal(reason({ id: 'opened' }, 5100), 'before-start');
    assert.equal(reason({ id: 'late', created_date: new Date(restartedAt - 1).toISOString() }, 5200), 'before-start');
    assert.equal(reason({ id: 'other', matched_dossier: 13, created_date: new Date(restartedAt - 400).toISOString() }, 5300), 'before-start');
    // Cooldowns are this run's memory: the same person seen after the restart opens (the contract keeps state out of queues and files).
    assert.equal(reason({ id: 'new', created_date: new Date(restartedAt + 200).toISOString() }, 5400), 'granted');
    assert.equal(reason({ id: 'new2', created_date: new Date(restartedAt + 300).toISOString() }, 5500), 'cooldown');
  });

  it('warns of a clock skew after several events in a row out of range, and forgets it on one in range', function () {
    const rules = rulesOf();
    const state = initialState();
    for (let index = 0; index < SKEW_STREAK; index++) {
      assert.equal(skewWarning(state), null);
      decide(rules, state, event({ id: `s${index}` }), at(60_000));
    }
    assert.deepEqual(skewWarning(state), { reason: 'stale', ageMs: 60_000 });
    decide(rules, state, event({ id: 'fresh', matched_dossier: 99 }), at(100));
    assert.equal(skewWarning(state), null);
  });

  it('keeps its state bounded: expired people are dropped, and a full state fails shut', function () {
    const rules = { ...rulesOf({ cooldownS: 10 }), maxEntries: 3 };
    const state = initialState();
    for (const person of [1, 2, 3]) assert.equal(decide(rules, state, event({ id: `p${person}`, matched_dossier: person }), at(0)).decision.kind, 'granted');
    const full = decide(rules, state, event({ id: 'p4', matched_dossier: 4 }), at(100)).decision;
    assert.ok(full.kind === 'denied' && full.reason === 'busy');
    assert.equal(state.people.size, 3);
    // Past every cooldown, the entries expire and room comes back.
    const fresh = decide(rules, state, event({ id: 'p5', matched_dossier: 5, created_date: new Date(T0 + 11_000).toISOString() }), at(11_000)).decision;
    assert.equal(fresh.kind, 'granted');
    assert.ok(state.people.size <= 3);
  });

  it('evicts the oldest half-confirmed person at the cap (they only need more frames)', function () {
    const rules = { ...rulesOf({ confirmFrames: 2 }), maxEntries: 2 };
    const state = initialState();
    for (const person of [1, 2, 3]) decide(rules, state, event({ id: `p${person}`, matched_dossier: person }), at(person));
    assert.deepEqual([...state.people.keys()], [2, 3]);
  });
});

describe("this Node-RED's own URL for flows", function () {
  it('follows port, bind address, TLS and the roots', function () {
    assert.equal(httpNodeUrl({}), 'http://127.0.0.1:1880');
    assert.equal(httpNodeUrl({ uiPort: 1881, httpNodeRoot: '/api/' }), 'http://127.0.0.1:1881/api');
    assert.equal(httpNodeUrl({ uiPort: '1990', uiHost: '0.0.0.0', httpNodeRoot: 'nodes' }), 'http://127.0.0.1:1990/nodes');
    assert.equal(httpNodeUrl({ uiHost: '10.0.0.5', https: { key: 'k' } }), 'https://10.0.0.5:1880');
    assert.equal(httpNodeUrl({ uiHost: '::1' }), 'http://[::1]:1880');
    assert.equal(httpNodeUrl({ uiPort: 1881, httpAdminRoot: '/admin', httpNodeRoot: '/api' }, 'httpAdminRoot'), 'http://127.0.0.1:1881/admin');
  });
});
