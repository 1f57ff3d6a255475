// Property-based tests of the door's decision on random rules and random
// event sequences (people, ages, gaps, cameras, schedules around the 2026 DST
// changes of Europe/Berlin):
// - never two grants for one person within cooldownS;
// - never a grant for an event older than maxAgeS, dated too far ahead,
//   undated, or unmatched;
// - a grant for every allowed person once confirmations are met, exactly
//   when the door's schedule is open (checked against Berlin's offsets
//   worked out by hand, not through Intl).
import assert from 'assert/strict';
import fc from 'fast-check';
import type { FaceEvent } from '../../nodes/lib/event/event';
import { parseAccessConfig } from '../../nodes/lib/access/access-config';
import { AccessRules, decide, Decision, initialState } from '../../nodes/lib/access/decision';

const NUM_RUNS = 300;
// Around Berlin's 2026 changes: 29 March 01:00Z (to UTC+2) and 25 October 01:00Z (to UTC+1).
const SPRING = Date.parse('2026-03-29T01:00:00Z');
const AUTUMN = Date.parse('2026-10-25T01:00:00Z');

/** Berlin's local minute of the day and weekday (0 = Monday), from its 2026 offsets. */
function berlinLocal(wallMs: number): { day: number; minute: number } {
  const offsetMin = wallMs >= SPRING && wallMs < AUTUMN ? 120 : 60;
  const local = new Date(wallMs + offsetMin * 60_000);
  return { day: (local.getUTCDay() + 6) % 7, minute: local.getUTCHours() * 60 + local.getUTCMinutes() };
}

interface Step {
  gapMs: number;
  person: number | null;
  /** Event age when decided; undefined: no created_date. */
  ageMs: number | undefined;
  camera: number;
}

const stepArb: fc.Arbitrary<Step> = fc.record({
  gapMs: fc.integer({ min: 0, max: 4000 }),
  person: fc.option(fc.integer({ min: 1, max: 4 }), { nil: null, freq: 4 }),
  ageMs: fc.option(fc.integer({ min: -4000, max: 12_000 }), { nil: undefined, freq: 10 }),
  camera: fc.integer({ min: 1, max: 3 }),
});

const rulesArb = fc.record({
  maxAgeS: fc.integer({ min: 0, max: 8 }),
  futureToleranceS: fc.integer({ min: 0, max: 3 }),
  cooldownS: fc.integer({ min: 0, max: 10 }),
  confirmFrames: fc.integer({ min: 1, max: 4 }),
  confirmWindowS: fc.integer({ min: 1, max: 5 }),
  cameras: fc.constantFrom('{}', '{"camera_in": [1, 2]}', '{"matched": true}', '{"matched_dossier_in": [1, 2, 3]}'),
});

function rulesOf(def: Record<string, unknown>): AccessRules {
  const parsed = parseAccessConfig({ door: 'D', ...def });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problem));
  return { ...parsed.value.rules, startedAtMs: 0 };
}

function eventOf(index: number, step: Step, wallMs: number): FaceEvent {
  return {
    id: String(1000 + index),
    camera: step.camera,
    matched: step.person !== null,
    matched_dossier: step.person,
    confidence: 0.8,
    ...(step.ageMs === undefined ? {} : { created_date: new Date(wallMs - step.ageMs).toISOString() }),
  } as FaceEvent;
}

interface Decided {
  decision: Decision;
  step: Step;
  monoMs: number;
}

function run(rules: AccessRules, steps: Step[], startWall: number): Decided[] {
  const state = initialState();
  let monoMs = 50_000;
  let wallMs = startWall;
  return steps.map((step, index) => {
    monoMs += step.gapMs;
    wallMs += step.gapMs;
    return { decision: decide(rules, state, eventOf(index, step, wallMs), { wallMs, monoMs }).decision, step, monoMs };
  });
}

describe('door decision (properties)', function () {
  it('never grants twice for one person within cooldownS, nor a stale, future, undated or unmatched event', function () {
    fc.assert(
      fc.property(rulesArb, fc.array(stepArb, { minLength: 1, maxLength: 80 }), (def, steps) => {
        const rules = rulesOf({ ...def, allow: def.cameras });
        const lastGrant = new Map<number, number>();
        for (const { decision, step, monoMs } of run(rules, steps, SPRING - 3_600_000)) {
          if (decision.kind !== 'granted') continue;
          assert.ok(step.person !== null, 'granted an unmatched face');
          assert.ok(step.ageMs !== undefined, 'granted an undated event');
          assert.ok(step.ageMs <= rules.maxAgeMs, `granted an event ${step.ageMs} ms old (max ${rules.maxAgeMs})`);
          assert.ok(step.ageMs >= -rules.futureToleranceMs, `granted an event ${-step.ageMs} ms in the future`);
          const previous = lastGrant.get(step.person);
          if (previous !== undefined)
            assert.ok(monoMs - previous >= rules.cooldownMs, `two grants ${monoMs - previous} ms apart (cooldown ${rules.cooldownMs})`);
          lastGrant.set(step.person, monoMs);
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('grants every allowed person once confirmations are met, exactly when the schedule is open, across DST changes', function () {
    const around = fc.oneof(
      fc.integer({ min: SPRING - 6 * 3_600_000, max: SPRING + 6 * 3_600_000 }),
      fc.integer({ min: AUTUMN - 6 * 3_600_000, max: AUTUMN + 6 * 3_600_000 }),
    );
    const window = fc.record({ from: fc.integer({ min: 0, max: 23 }), to: fc.integer({ min: 1, max: 24 }) }).filter((w) => w.from !== w.to);
    fc.assert(
      fc.property(rulesArb, fc.array(stepArb, { maxLength: 30 }), around, window, fc.integer({ min: 1, max: 4 }), (def, prefix, startWall, hours, person) => {
        const pad = (h: number) => `${String(h).padStart(2, '0')}:00`;
        const schedule = `Europe/Berlin daily ${pad(hours.from)}-${pad(hours.to)}`;
        const rules = rulesOf({ ...def, allow: '{}', schedule });
        // After whatever came before, a pause longer than anything the state remembers…
        const quiet = Math.max(rules.cooldownMs, rules.maxAgeMs + rules.futureToleranceMs, rules.confirmWindowMs) + 1;
        const spacing = Math.floor(rules.confirmWindowMs / rules.confirmFrames / 2);
        // …then confirmFrames fresh events of one allowed person within the window.
        const burst: Step[] = Array.from({ length: rules.confirmFrames }, (_, index) => ({
          gapMs: index === 0 ? quiet : spacing,
          person,
          ageMs: Math.min(100, rules.maxAgeMs),
          camera: 1,
        }));
        const decided = run(rules, [...prefix, ...burst], startWall);
        const wallAtLast = startWall + [...prefix, ...burst].reduce((sum, step) => sum + step.gapMs, 0);
        const { minute } = berlinLocal(wallAtLast);
        const from = hours.from * 60;
        const to = hours.to * 60;
        const open = to > from ? minute >= from && minute < to : minute >= from || minute < to;
        const last = decided[decided.length - 1].decision;
        if (open) assert.equal(last.kind, 'granted', `expected a grant at local minute ${minute} in ${schedule}, got ${JSON.stringify(last)}`);
        else
          assert.ok(
            last.kind === 'denied' && last.reason === 'schedule',
            `expected schedule at local minute ${minute} in ${schedule}, got ${JSON.stringify(last)}`,
          );
        // The frames before the last one open nothing.
        for (const { decision } of decided.slice(decided.length - rules.confirmFrames, -1)) {
          assert.ok(decision.kind === 'denied' && (decision.reason === 'unconfirmed' || decision.reason === 'schedule'), JSON.stringify(decision));
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });
});
