// The door's decision, for one event at one time: open, deny (with a reason)
// or hold (the person was let in a moment ago). Everything it reads is in its
// arguments (no clock, no I/O, no randomness): the same rules, events and
// times in the same order always give the same decisions. The state (who was
// let in when, who is half-confirmed) is updated in place and returned, so
// that a busy door does not copy it per event; it lives in memory only,
// bounded: entries expire, and a cap refuses or evicts (see `admit`). It is
// never queued or written anywhere: an open that was not sent now is never
// sent later.
//
// The checks, in order (the first that fails decides):
//   allow filter                 → denied `not-allowed` (`unknown-group` when
//                                  the filter needs a camera group nobody knows)
//   a person: matched dossier (Security 3.x/4.x) or card (Multi)
//                                → denied `no-person` (an unmatched face is
//                                  never a person, whatever `allow` says)
//   created_date: present, with a zone
//                                → denied `no-date` (never opened on a guess)
//   not later than now + futureTolerance
//                                → denied `future` (FindFace's clock is ahead,
//                                  or the date is wrong: its age is unknown)
//   not older than maxAge        → denied `stale`
//   not before the node started  → denied `before-start` (an earlier run of
//                                  this node may have opened for it already)
//   schedule                     → denied `schedule`
//   the person's last grant      → held `cooldown` within cooldownS of it;
//                                  denied `replay` for an event dated no later
//                                  than the one that opened (a resent event)
//   confirmations                → denied `unconfirmed` until confirmFrames
//                                  allowed events fall within confirmWindowS
//   room in the state            → denied `busy` (see `admit`)
//   → granted.
// Ages are wall-clock (event dates are wall-clock dates); cooldowns and
// confirmation windows are measured on the monotonic clock.
import { FaceEvent, NormalisedEvent, normaliseEvent } from '../event/event';
import type { CompiledFilter } from '../filter/filter';
import { parseEventDate } from './event-date';

export type DenyReason =
  'not-allowed' | 'unknown-group' | 'no-person' | 'no-date' | 'future' | 'stale' | 'before-start' | 'schedule' | 'replay' | 'unconfirmed' | 'busy';

export const DENY_REASONS: readonly DenyReason[] = [
  'not-allowed',
  'unknown-group',
  'no-person',
  'no-date',
  'future',
  'stale',
  'before-start',
  'schedule',
  'replay',
  'unconfirmed',
  'busy',
];

interface DecisionBase {
  eventId: string;
  cameraId: number;
  /** The matched dossier or card; null for an unmatched face. */
  personId: number | null;
  confidence: number | undefined;
  /** Decision time minus created_date, ms; undefined when the event has no usable date. */
  ageMs: number | undefined;
}

export type Decision =
  | (DecisionBase & { kind: 'granted'; personId: number })
  | (DecisionBase & { kind: 'denied'; reason: DenyReason })
  | (DecisionBase & { kind: 'cooldown'; personId: number; /** ms left of the cooldown */ remainingMs: number });

export interface AccessRules {
  allow: CompiledFilter;
  maxAgeMs: number;
  /** How far in the future (FindFace's clock ahead of ours) a date may be and still count as "now". */
  futureToleranceMs: number;
  cooldownMs: number;
  confirmFrames: number;
  confirmWindowMs: number;
  /** May the door open by face at this wall time. */
  openAt: (wallMs: number) => boolean;
  /** Most people the state holds at once. */
  maxEntries: number;
  /** Wall time this node started; events dated before it are denied `before-start`. */
  startedAtMs: number;
}

/** When the decision is made: the wall clock for dates, the monotonic clock for durations. */
export interface DecisionTime {
  wallMs: number;
  monoMs: number;
}

interface PersonEntry {
  /** Monotonic time of the last grant; NaN when none is remembered. */
  grantedMono: number;
  /** created_date (wall ms) of the event that opened last. */
  grantCreatedMs: number;
  /** Monotonic times of allowed events still inside the confirmation window. */
  frames: number[];
  /** Monotonic time after which the entry says nothing any more. */
  keepUntil: number;
}

export interface AccessState {
  /** Person id → what is remembered of them, least recently touched first. */
  readonly people: Map<number, PersonEntry>;
  /** Consecutive events whose date was missing or out of range (future/stale). */
  skewStreak: number;
  /** The last such event: `future`/`stale`/`no-date`, and its age (negative: in the future). */
  lastSkew: { reason: 'future' | 'stale' | 'no-date'; ageMs: number | undefined } | null;
  /** The last date string read and its value: events of one second share it. */
  lastDateText: string | undefined;
  lastDateMs: number | undefined;
  /** Decisions left until the next sweep for expired entries. */
  untilSweep: number;
}

// Expired entries are swept every SWEEP_EVERY decisions, up to SWEEP_LIMIT
// of them: two per decision on average, O(1), and the Map iterator (the
// dearest part of a sweep) is made once per SWEEP_EVERY decisions. An expired
// entry left for a while changes no decision that opens or holds: its
// cooldown is over, its frames are out of the confirmation window, and an
// event it could call a replay is stale by then (at the cap it spares its
// person the room check, and `admit` sweeps everything expired first).
const SWEEP_EVERY = 16;
const SWEEP_LIMIT = 32;

export function initialState(): AccessState {
  return { people: new Map(), skewStreak: 0, lastSkew: null, lastDateText: undefined, lastDateMs: undefined, untilSweep: SWEEP_EVERY };
}

/** Events in a row out of range before the status warns of a clock skew. */
export const SKEW_STREAK = 5;

export function skewWarning(state: AccessState): AccessState['lastSkew'] {
  return state.skewStreak >= SKEW_STREAK ? state.lastSkew : null;
}

function sweep(people: Map<number, PersonEntry>, monoMs: number, limit: number): void {
  let looked = 0;
  for (const person of people.keys()) {
    if (looked++ >= limit || (people.get(person) as PersonEntry).keepUntil > monoMs) return;
    people.delete(person);
  }
}

/** Moves an entry to the end (most recently touched). */
function touch(people: Map<number, PersonEntry>, person: number, entry: PersonEntry): void {
  people.delete(person);
  people.set(person, entry);
}

/**
 * Room for one more person. Expired entries go first; then, at the cap, the
 * least recently touched entry is evicted if all it holds is pending
 * confirmations (losing them only asks that person for more frames). If it
 * still holds a cooldown, evicting it could open the door twice for that
 * person, so the newcomer is refused instead (`busy`): the door fails shut.
 */
function admit(people: Map<number, PersonEntry>, monoMs: number, maxEntries: number): boolean {
  if (people.size < maxEntries) return true;
  sweep(people, monoMs, people.size);
  if (people.size < maxEntries) return true;
  const oldest = people.entries().next().value as [number, PersonEntry];
  if (!Number.isNaN(oldest[1].grantedMono)) return false;
  people.delete(oldest[0]);
  return true;
}

function dateOf(state: AccessState, value: unknown): number | undefined {
  if (typeof value === 'string' && value === state.lastDateText) return state.lastDateMs;
  const ms = parseEventDate(value);
  if (typeof value === 'string') {
    state.lastDateText = value;
    state.lastDateMs = ms;
  }
  return ms;
}

export interface DecisionResult {
  decision: Decision;
  state: AccessState;
}

// Decisions are built field by field, each kind with one fixed shape: an
// object spread (`{ ...base, kind }`) cost more than all the rest of a
// decision (bench/access.ts, 'decision').
function denied(event: NormalisedEvent, ageMs: number | undefined, reason: DenyReason): Decision {
  return { eventId: event.id, cameraId: event.cameraId, personId: event.dossierId, confidence: event.confidence, ageMs, kind: 'denied', reason };
}

export function decide(rules: AccessRules, state: AccessState, event: FaceEvent, time: DecisionTime): DecisionResult {
  const normalised = normaliseEvent(event);
  const { monoMs, wallMs } = time;
  const people = state.people;
  if (--state.untilSweep <= 0) {
    state.untilSweep = SWEEP_EVERY;
    sweep(people, monoMs, SWEEP_LIMIT);
  }
  const personId = normalised.dossierId;
  const createdMs = dateOf(state, event.created_date);
  const ageMs = createdMs === undefined ? undefined : wallMs - createdMs;

  // The raw event too: the face-attribute keys (gender_in, liveness_gte …) read it (lib/filter/filter.ts).
  const outcome = rules.allow.test(normalised, event);
  if (outcome !== 'pass') return { decision: denied(normalised, ageMs, outcome === 'unknown-group' ? 'unknown-group' : 'not-allowed'), state };
  if (personId === null) return { decision: denied(normalised, ageMs, 'no-person'), state };

  if (ageMs === undefined || ageMs < -rules.futureToleranceMs || ageMs > rules.maxAgeMs) {
    const reason = ageMs === undefined ? 'no-date' : ageMs > rules.maxAgeMs ? 'stale' : 'future';
    state.skewStreak++;
    state.lastSkew = { reason, ageMs };
    return { decision: denied(normalised, ageMs, reason), state };
  }
  state.skewStreak = 0;
  if ((createdMs as number) < rules.startedAtMs) return { decision: denied(normalised, ageMs, 'before-start'), state };
  if (!rules.openAt(wallMs)) return { decision: denied(normalised, ageMs, 'schedule'), state };

  let entry = people.get(personId);
  if (entry && !Number.isNaN(entry.grantedMono)) {
    const remainingMs = entry.grantedMono + rules.cooldownMs - monoMs;
    if (remainingMs > 0) {
      touch(people, personId, entry);
      return {
        decision: { eventId: normalised.id, cameraId: normalised.cameraId, personId, confidence: normalised.confidence, ageMs, kind: 'cooldown', remainingMs },
        state,
      };
    }
    if ((createdMs as number) <= entry.grantCreatedMs) return { decision: denied(normalised, ageMs, 'replay'), state };
  }

  if (rules.confirmFrames > 1) {
    const windowStart = monoMs - rules.confirmWindowMs;
    if (!entry) {
      if (!admit(people, monoMs, rules.maxEntries)) return { decision: denied(normalised, ageMs, 'busy'), state };
      entry = { grantedMono: Number.NaN, grantCreatedMs: Number.NEGATIVE_INFINITY, frames: [], keepUntil: 0 };
    }
    const frames = entry.frames;
    let keep = 0;
    while (keep < frames.length && frames[keep] <= windowStart) keep++;
    if (keep > 0) frames.splice(0, keep);
    frames.push(monoMs);
    if (frames.length < rules.confirmFrames) {
      entry.keepUntil = Math.max(entry.keepUntil, monoMs + rules.confirmWindowMs);
      touch(people, personId, entry);
      return { decision: denied(normalised, ageMs, 'unconfirmed'), state };
    }
    frames.length = 0;
  } else if (!entry && !admit(people, monoMs, rules.maxEntries)) {
    return { decision: denied(normalised, ageMs, 'busy'), state };
  }

  const granted: PersonEntry = entry ?? { grantedMono: Number.NaN, grantCreatedMs: Number.NEGATIVE_INFINITY, frames: [], keepUntil: 0 };
  granted.grantedMono = monoMs;
  granted.grantCreatedMs = createdMs as number;
  // Kept while its cooldown runs, and while the event that opened could still come again un-stale.
  granted.keepUntil = monoMs + Math.max(rules.cooldownMs, rules.maxAgeMs + rules.futureToleranceMs);
  touch(people, personId, granted);
  return { decision: { eventId: normalised.id, cameraId: normalised.cameraId, personId, confidence: normalised.confidence, ageMs, kind: 'granted' }, state };
}
