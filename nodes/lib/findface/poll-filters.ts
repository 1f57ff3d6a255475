// Poll mode's `pollFilters`: FindFace's own query parameters of
// `GET /events/faces/`, by their published names (FindFace Multi's OpenAPI
// description, `findface-api/multi-openapi.json`, operation
// `events_faces_list`). An unknown name (such as `matched`, which the API does
// not have) is a configuration error, never passed on to a server that would
// ignore it.
//
// A server may ignore a parameter (an older version, a proxy, the public mock),
// so what can be checked on the event is checked again here before the event
// is emitted (`selectionFor`): an ignored `no_match=false` never lets an
// unmatched face through. Parameters whose meaning cannot be checked on the
// event (`looks_like`, `threshold`, the relative dates …) are passed to the
// server only: SERVER_ONLY_PARAMS lists them.
import { FaceEvent, normaliseEvent } from '../event/event';
import type { Query } from './findface-api';
import { RESERVED_PARAMS } from './poller';

type ParamKind =
  | { type: 'boolean' }
  | { type: 'number' }
  | { type: 'integer' }
  | { type: 'date' }
  | { type: 'string' }
  | { type: 'enum'; values: readonly string[] }
  | { type: 'integers' }
  | { type: 'strings' }
  | { type: 'enums'; values: readonly string[] };

const FEATURE_ENUMS: Record<string, readonly string[]> = {
  beard: ['beard', 'none'],
  emotions: ['angry', 'disgust', 'fear', 'happy', 'neutral', 'sad', 'surprise'],
  gender: ['female', 'male'],
  glasses: ['eye', 'none', 'sun'],
  liveness: ['fake', 'real'],
  medmask: ['correct', 'incorrect', 'none'],
};

/** Every query parameter of `GET /events/faces/` in Multi's OpenAPI, with its type, minus those the poller sets (RESERVED_PARAMS). */
export const POLL_PARAMETERS: Readonly<Record<string, ParamKind>> = Object.freeze({
  acknowledged: { type: 'boolean' },
  age_gte: { type: 'number' },
  age_lte: { type: 'number' },
  beard: { type: 'enums', values: FEATURE_ENUMS.beard },
  beard_score_gte: { type: 'number' },
  beard_score_lte: { type: 'number' },
  bs_type: { type: 'enum', values: ['overall', 'realtime'] },
  camera_groups: { type: 'integers' },
  cameras: { type: 'integers' },
  case_in: { type: 'integers' },
  created_date_gte: { type: 'date' },
  created_date_last_n_days: { type: 'number' },
  created_date_lte: { type: 'date' },
  created_date_nth_full_week: { type: 'number' },
  created_date_nth_work_week: { type: 'number' },
  emotions: { type: 'enums', values: FEATURE_ENUMS.emotions },
  emotions_score_gte: { type: 'number' },
  emotions_score_lte: { type: 'number' },
  episode: { type: 'integer' },
  external_detector: { type: 'boolean' },
  gender: { type: 'enums', values: FEATURE_ENUMS.gender },
  gender_score_gte: { type: 'number' },
  gender_score_lte: { type: 'number' },
  glasses: { type: 'enums', values: FEATURE_ENUMS.glasses },
  glasses_score_gte: { type: 'number' },
  glasses_score_lte: { type: 'number' },
  has_case: { type: 'boolean' },
  headpose_pitch_angle_gte: { type: 'number' },
  headpose_pitch_angle_lte: { type: 'number' },
  headpose_yaw_angle_gte: { type: 'number' },
  headpose_yaw_angle_lte: { type: 'number' },
  id: { type: 'integer' },
  id_in: { type: 'strings' },
  liveness: { type: 'enums', values: FEATURE_ENUMS.liveness },
  liveness_score_gte: { type: 'number' },
  liveness_score_lte: { type: 'number' },
  look: { type: 'strings' },
  look_score_gte: { type: 'number' },
  look_score_lte: { type: 'number' },
  looks_like: { type: 'string' },
  matched_card: { type: 'integer' },
  matched_lists: { type: 'integers' },
  medmask: { type: 'enums', values: FEATURE_ENUMS.medmask },
  medmask_score_gte: { type: 'number' },
  medmask_score_lte: { type: 'number' },
  no_match: { type: 'boolean' },
  temperature_gte: { type: 'number' },
  temperature_lte: { type: 'number' },
  threshold: { type: 'number' },
  video_archive: { type: 'integers' },
});

/** Published parameters that cannot be checked on the event: the server alone applies them. */
export const SERVER_ONLY_PARAMS: readonly string[] = Object.freeze([
  'created_date_last_n_days',
  'created_date_nth_full_week',
  'created_date_nth_work_week',
  'external_detector',
  'looks_like',
  'threshold',
]);

export type PollFilterProblemCode =
  | 'not-json'
  | 'not-object'
  | 'unknown-param'
  | 'poller-param'
  | 'duplicate-param'
  | 'not-boolean'
  | 'not-number'
  | 'not-integer'
  | 'not-date'
  | 'not-text'
  | 'not-list'
  | 'empty-list'
  | 'not-in-enum';

/**
 * What is wrong with pollFilters, as an i18n code
 * (`findface-event-in.errors.poll-filters.<code>`) and its parameters: `key`
 * the parameter, `value` the offending value as short JSON, `detail` the JSON
 * parser's message or the allowed values.
 */
export interface PollFilterProblem {
  code: PollFilterProblemCode;
  key?: string;
  value?: string;
  detail?: string;
}

/** The same shape as the filter's Parsed<T> (lib/filter/filter.ts), with this module's codes. */
export type PollParsed<T> = { ok: true; value: T } | { ok: false; problem: PollFilterProblem };

/** Checked pollFilters: the query sent to FindFace, and the local re-check of it. */
export interface PollFilterSpec {
  readonly query: Query;
}

/** English wording of each problem (the node words them from its locale files). */
export function pollFilterProblemText(problem: PollFilterProblem): string {
  const key = problem.key ?? '';
  switch (problem.code) {
    case 'not-json':
      return `pollFilters is not JSON: ${problem.detail ?? ''}`;
    case 'not-object':
      return `pollFilters must be a JSON object of GET /events/faces/ parameters (got ${problem.value ?? ''})`;
    case 'unknown-param':
      return `"${key}" is not a parameter of FindFace's GET /events/faces/${problem.detail ? ` (${problem.detail})` : ''}`;
    case 'poller-param':
      return `"${key}" is set by the poller itself and cannot be given`;
    case 'duplicate-param':
      return `"${key}" is given twice`;
    case 'not-boolean':
      return `"${key}" must be true or false (got ${problem.value ?? ''})`;
    case 'not-number':
      return `"${key}" must be a number (got ${problem.value ?? ''})`;
    case 'not-integer':
      return `"${key}" must be a whole number (got ${problem.value ?? ''})`;
    case 'not-date':
      return `"${key}" must be an ISO date and time such as 2024-01-31T12:00:00Z (got ${problem.value ?? ''})`;
    case 'not-text':
      return `"${key}" must be text (got ${problem.value ?? ''})`;
    case 'not-list':
      return `"${key}" must be a list (got ${problem.value ?? ''})`;
    case 'empty-list':
      return `"${key}" is an empty list, which selects nothing: remove it or list values`;
    case 'not-in-enum':
      return `"${key}" takes ${problem.detail ?? ''} (got ${problem.value ?? ''})`;
  }
}

const VALUE_MAX = 30;
function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > VALUE_MAX ? `${text.slice(0, VALUE_MAX - 1)}…` : text;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Names people reach for that the API spells otherwise. */
const HINTS: Record<string, string> = {
  matched: 'use "no_match": false for matched faces only, true for unmatched ones',
  camera: 'use "cameras": [<id>, …]',
  camera_in: 'use "cameras": [<id>, …]',
  camera_group: 'use "camera_groups": [<id>, …]',
  camera_group_in: 'use "camera_groups": [<id>, …]',
  matched_dossier: 'use "matched_card": <id>',
  matched_card_in: 'use "matched_card": <id>',
  matched_lists_in: 'use "matched_lists": [<id>, …]',
  gender_in: 'use "gender": [...]',
};

function duplicateKey(text: string): string | undefined {
  // Only the top level's keys matter; values hold no objects in a valid filter.
  const seen = new Set<string>();
  const keyPattern = /"((?:[^"\\]|\\.)*)"\s*:/g;
  for (const match of text.matchAll(keyPattern)) {
    const key = JSON.parse(`"${match[1]}"`) as string;
    if (seen.has(key)) return key;
    seen.add(key);
  }
  return undefined;
}

function checkValue(key: string, kind: ParamKind, value: unknown): PollFilterProblem | null {
  const bad = (code: PollFilterProblemCode, detail?: string): PollFilterProblem => {
    const problem: PollFilterProblem = { code, key, value: shown(value) };
    if (detail !== undefined) problem.detail = detail;
    return problem;
  };
  switch (kind.type) {
    case 'boolean':
      return typeof value === 'boolean' ? null : bad('not-boolean');
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) ? null : bad('not-number');
    case 'integer':
      return typeof value === 'number' && Number.isSafeInteger(value) ? null : bad('not-integer');
    case 'date':
      return typeof value === 'string' && /^\d{4}-\d{2}-\d{2}/.test(value) && !Number.isNaN(Date.parse(value)) ? null : bad('not-date');
    case 'string':
      return typeof value === 'string' && value !== '' ? null : bad('not-text');
    case 'enum':
      return typeof value === 'string' && kind.values.includes(value) ? null : bad('not-in-enum', kind.values.join(', '));
    case 'integers':
    case 'strings':
    case 'enums': {
      if (!Array.isArray(value)) return bad('not-list');
      if (value.length === 0) return bad('empty-list');
      for (const item of value) {
        if (kind.type === 'integers' && !(typeof item === 'number' && Number.isSafeInteger(item))) return bad('not-integer');
        if (kind.type === 'strings' && !(typeof item === 'string' && item !== '')) return bad('not-text');
        if (kind.type === 'enums' && !(typeof item === 'string' && kind.values.includes(item))) return bad('not-in-enum', kind.values.join(', '));
      }
      return null;
    }
  }
}

/**
 * Parses and checks pollFilters (a JSON object string; blank = `{}`): every
 * key a published parameter of `GET /events/faces/` with a value of its type,
 * lists not empty, no key twice, none the poller sets itself.
 */
export function parsePollFilters(text: unknown): PollParsed<PollFilterSpec> {
  const source = text === undefined || text === null || (typeof text === 'string' && text.trim() === '') ? '{}' : text;
  if (typeof source !== 'string') return { ok: false, problem: { code: 'not-json', detail: `not text but ${shown(source)}` } };
  let parsed: unknown;
  try {
    parsed = JSON.parse(source);
  } catch (error) {
    return { ok: false, problem: { code: 'not-json', detail: (error as Error).message } };
  }
  if (!isPlainObject(parsed)) return { ok: false, problem: { code: 'not-object', value: shown(parsed) } };
  const twice = duplicateKey(source);
  if (twice !== undefined) return { ok: false, problem: { code: 'duplicate-param', key: twice } };
  const query: Query = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (RESERVED_PARAMS.includes(key)) return { ok: false, problem: { code: 'poller-param', key } };
    const kind = Object.prototype.hasOwnProperty.call(POLL_PARAMETERS, key) ? POLL_PARAMETERS[key] : undefined;
    if (!kind) {
      const problem: PollFilterProblem = { code: 'unknown-param', key };
      if (HINTS[key]) problem.detail = HINTS[key];
      return { ok: false, problem };
    }
    const problem = checkValue(key, kind, value);
    if (problem) return { ok: false, problem };
    query[key] = value as Query[string];
  }
  return { ok: true, value: { query } };
}

/** A camera's group, or undefined when not known. */
export type CameraGroupOf = (cameraId: number) => number | undefined;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `features.<name>` of an event: a record `{name, confidence}`, or undefined. */
function feature(event: FaceEvent, name: string): Record<string, unknown> | undefined {
  const features = event.features;
  if (!isRecord(features)) return undefined;
  const value = features[name];
  return isRecord(value) ? value : undefined;
}

function numberAt(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** `features.age`: a number, or `{name: <number>}` as Multi words the other features. */
function ageOf(event: FaceEvent): number | undefined {
  const features = event.features;
  if (!isRecord(features)) return undefined;
  const age = features.age;
  if (typeof age === 'number') return numberAt(age);
  if (isRecord(age)) return numberAt(age.name) ?? numberAt(age.value);
  return undefined;
}

function headpose(event: FaceEvent, axis: 'pitch' | 'yaw'): number | undefined {
  const pose = feature(event, 'headpose');
  return pose ? numberAt(pose[axis]) : undefined;
}

type Check = (event: FaceEvent, groupOf: CameraGroupOf) => boolean;

const bound =
  (read: (event: FaceEvent) => number | undefined, limit: number, side: 'gte' | 'lte'): Check =>
  (event) => {
    const value = read(event);
    if (value === undefined) return false;
    return side === 'gte' ? value >= limit : value <= limit;
  };

function idKey(id: unknown): bigint | undefined {
  if (typeof id === 'number' && Number.isSafeInteger(id)) return BigInt(id);
  if (typeof id === 'string' && /^\d+$/.test(id)) return BigInt(id);
  return undefined;
}

/** The local check of one parameter, or undefined for a server-only one. */
function checkFor(key: string, value: Query[string]): Check | undefined {
  const list = Array.isArray(value) ? (value as ReadonlyArray<string | number>) : [];
  const scored = /^(beard|emotions|gender|glasses|liveness|medmask|look)_score_(gte|lte)$/.exec(key);
  if (scored) {
    const name = scored[1];
    return bound((event) => numberAt(feature(event, name)?.confidence), value as number, scored[2] as 'gte' | 'lte');
  }
  if (['beard', 'emotions', 'gender', 'glasses', 'liveness', 'medmask', 'look'].includes(key)) {
    return (event) => {
      const name = feature(event, key)?.name;
      return typeof name === 'string' && list.includes(name);
    };
  }
  switch (key) {
    case 'no_match':
      return (event) => {
        const normalised = normaliseEvent(event);
        const matched = normalised.matched || normalised.dossierId !== null;
        return value === true ? !matched : matched;
      };
    case 'matched_card':
      return (event) => normaliseEvent(event).dossierId === value;
    case 'matched_lists':
      return (event) => normaliseEvent(event).listIds.some((id) => list.includes(id));
    case 'cameras':
      return (event) => list.includes(normaliseEvent(event).cameraId);
    case 'camera_groups':
      return (event, groupOf) => {
        const normalised = normaliseEvent(event);
        const group = normalised.cameraGroupId ?? groupOf(normalised.cameraId);
        return group !== undefined && list.includes(group);
      };
    case 'acknowledged':
      return (event) => (event.acknowledged === true) === value;
    case 'bs_type':
      return (event) => event.bs_type === value;
    case 'age_gte':
    case 'age_lte':
      return bound(ageOf, value as number, key.endsWith('gte') ? 'gte' : 'lte');
    case 'temperature_gte':
    case 'temperature_lte':
      return bound((event) => numberAt(event.temperature), value as number, key.endsWith('gte') ? 'gte' : 'lte');
    case 'headpose_pitch_angle_gte':
    case 'headpose_pitch_angle_lte':
      return bound((event) => headpose(event, 'pitch'), value as number, key.endsWith('gte') ? 'gte' : 'lte');
    case 'headpose_yaw_angle_gte':
    case 'headpose_yaw_angle_lte':
      return bound((event) => headpose(event, 'yaw'), value as number, key.endsWith('gte') ? 'gte' : 'lte');
    case 'created_date_gte':
    case 'created_date_lte': {
      const limit = Date.parse(value as string);
      return (event) => {
        const at = typeof event.created_date === 'string' ? Date.parse(event.created_date) : NaN;
        if (Number.isNaN(at)) return false;
        return key.endsWith('gte') ? at >= limit : at <= limit;
      };
    }
    case 'id':
      return (event) => idKey(event.id) === BigInt(value as number);
    case 'id_in':
      return (event) => {
        const id = idKey(event.id);
        return id !== undefined && list.some((item) => idKey(item) === id);
      };
    case 'episode':
      return (event) => event.episode === value;
    case 'video_archive':
      return (event) => typeof event.video_archive === 'number' && list.includes(event.video_archive);
    case 'case_in':
      return (event) => typeof event.case === 'number' && list.includes(event.case);
    case 'has_case':
      return (event) => (typeof event.case === 'number') === value;
    default:
      return undefined;
  }
}

/** The local re-check of a PollFilterSpec. */
export interface PollSelection {
  /** The parameters checked locally, in the order given. */
  readonly checked: readonly string[];
  /** The parameters left to the server (SERVER_ONLY_PARAMS that are set). */
  readonly serverOnly: readonly string[];
  /** The first parameter the event fails, or null when it passes them all. */
  failing(event: FaceEvent): string | null;
}

/**
 * The local check of every parameter that can be read on the event: an event
 * lacking the field a parameter needs fails it (FindFace cannot select it
 * either). `camera_groups` uses the event's group, else `groupOf`.
 */
export function compilePollSelection(spec: PollFilterSpec, groupOf: CameraGroupOf = () => undefined): PollSelection {
  const checks: Array<{ key: string; check: Check }> = [];
  const serverOnly: string[] = [];
  for (const [key, value] of Object.entries(spec.query)) {
    if (value === undefined || value === null) continue;
    const check = checkFor(key, value);
    if (check) checks.push({ key, check });
    else serverOnly.push(key);
  }
  return {
    checked: checks.map((c) => c.key),
    serverOnly,
    failing(event: FaceEvent): string | null {
      for (const { key, check } of checks) if (!check(event, groupOf)) return key;
      return null;
    },
  };
}
