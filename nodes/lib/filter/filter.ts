// FindFace's webhook filters ("filters" of a webhook, seed step 5): parsed
// and checked once, compiled into a predicate over normalised events.
//
// The editor (nodes/findface-filter.html) carries a small ES5 mirror of
// parseFilters / parseCameraGroups / filterSummary between the markers
// "BEGIN findface-filter rules" and "END findface-filter rules";
// test/unit/filter*.test.ts hold both to the same cases. This file is the
// reference: change a rule here, change it there.
import type { NormalisedEvent } from '../event/event';

/** Keys whose value is a list of ids: an event passes when its value is any one of them. */
export const LIST_KEYS = ['camera_group_in', 'matched_dossier_in', 'camera_in', 'matched_lists_in', 'matched_card_in'] as const;
export const FILTER_KEYS = [...LIST_KEYS, 'matched', 'confidence_gte'] as const;

export type ListKey = (typeof LIST_KEYS)[number];
export type FilterKey = (typeof FILTER_KEYS)[number];

export interface FilterSpec {
  camera_group_in?: number[];
  matched_dossier_in?: number[];
  camera_in?: number[];
  matched_lists_in?: number[];
  /** Multi's name for matched_dossier_in: both read the event's dossier. */
  matched_card_in?: number[];
  matched?: boolean;
  confidence_gte?: number;
}

export type ProblemCode =
  | 'not-json'
  | 'not-object'
  | 'unknown-key'
  | 'duplicate-key'
  | 'not-list'
  | 'not-id'
  | 'not-boolean'
  | 'not-number'
  | 'groups-not-json'
  | 'groups-not-object'
  | 'groups-bad-camera'
  | 'groups-bad-group'
  | 'groups-duplicate';

/**
 * What is wrong with a configuration, as an i18n code and its parameters
 * (`findface-filter.errors.<code>` in the locale files): `key` the filter key
 * or camera id, `index` the list position, `value` the offending value as
 * JSON (shortened), `detail` the JSON parser's message.
 */
export interface ConfigProblem {
  code: ProblemCode;
  key?: string;
  index?: number;
  value?: string;
  detail?: string;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; problem: ConfigProblem };

/** A camera's group, or undefined when it is not known. */
export type GroupResolver = (cameraId: number) => number | undefined;

/** `unknown-group`: the filter has `camera_group_in` and neither the event nor the resolver knows the group; it fails. */
export type Outcome = 'pass' | 'fail' | 'unknown-group';

export interface CompiledFilter {
  readonly spec: FilterSpec;
  /** Keys given an empty list: each passes nothing (FindFace's documented pitfall). */
  readonly emptyKeys: readonly FilterKey[];
  test(event: NormalisedEvent): Outcome;
}

const KNOWN_KEYS: ReadonlySet<string> = new Set(FILTER_KEYS);
const LIST_KEY_SET: ReadonlySet<string> = new Set(LIST_KEYS);
const VALUE_MAX = 30;

/** The value as short JSON, for messages. */
function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > VALUE_MAX ? `${text.slice(0, VALUE_MAX - 1)}…` : text;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** JSON.parse, with the parser's message on failure. */
function parseJson(text: unknown): { ok: true; value: unknown } | { ok: false; detail: string } {
  if (typeof text !== 'string') return { ok: false, detail: `not text but ${shown(text)}` };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    return { ok: false, detail: (error as Error).message };
  }
}

/**
 * The first key written twice in `text` (JSON.parse keeps only the last).
 * Only call it on text whose values hold no strings: then every string
 * literal in it is a key.
 */
function duplicateKey(text: string): string | undefined {
  const seen = new Set<string>();
  for (const literal of text.match(/"(?:[^"\\]|\\.)*"/g) ?? []) {
    const key = JSON.parse(literal) as string;
    if (seen.has(key)) return key;
    seen.add(key);
  }
  return undefined;
}

/**
 * Parses and checks the node's `filters` property: the webhook filter as
 * FindFace takes it, as a JSON string. Refuses text that is not JSON, JSON
 * that is not an object, unknown keys, keys given twice, a list key whose
 * value is not a list of whole numbers, `matched` that is not one boolean,
 * `confidence_gte` that is not a number.
 */
export function parseFilters(text: unknown): Parsed<FilterSpec> {
  const parsed = parseJson(text);
  if (!parsed.ok) return { ok: false, problem: { code: 'not-json', detail: parsed.detail } };
  const input = parsed.value;
  if (!isPlainObject(input)) return { ok: false, problem: { code: 'not-object', value: shown(input) } };
  const spec: Record<string, unknown> = {};
  for (const key of Object.keys(input)) {
    const value = input[key];
    if (!KNOWN_KEYS.has(key)) return { ok: false, problem: { code: 'unknown-key', key } };
    if (LIST_KEY_SET.has(key)) {
      if (!Array.isArray(value)) return { ok: false, problem: { code: 'not-list', key, value: shown(value) } };
      for (let index = 0; index < value.length; index++) {
        if (!Number.isSafeInteger(value[index])) return { ok: false, problem: { code: 'not-id', key, index, value: shown(value[index]) } };
      }
      spec[key] = value.slice();
    } else if (key === 'matched') {
      if (typeof value !== 'boolean') return { ok: false, problem: { code: 'not-boolean', key, value: shown(value) } };
      spec[key] = value;
    } else {
      if (typeof value !== 'number' || !Number.isFinite(value)) return { ok: false, problem: { code: 'not-number', key, value: shown(value) } };
      spec[key] = value;
    }
  }
  const twice = duplicateKey(text as string);
  if (twice !== undefined) return { ok: false, problem: { code: 'duplicate-key', key: twice } };
  return { ok: true, value: spec as FilterSpec };
}

/**
 * Parses the node's `cameraGroups` property: a JSON object mapping camera id
 * to camera group id, e.g. `{"2": 1}`. Blank or missing means no cameras.
 */
export function parseCameraGroups(text: unknown): Parsed<Map<number, number>> {
  if (text === undefined || text === null || (typeof text === 'string' && text.trim() === '')) return { ok: true, value: new Map() };
  const parsed = parseJson(text);
  if (!parsed.ok) return { ok: false, problem: { code: 'groups-not-json', detail: parsed.detail } };
  const input = parsed.value;
  if (!isPlainObject(input)) return { ok: false, problem: { code: 'groups-not-object', value: shown(input) } };
  const groups = new Map<number, number>();
  for (const key of Object.keys(input)) {
    const cameraId = Number(key);
    if (!/^-?\d+$/.test(key) || !Number.isSafeInteger(cameraId) || String(cameraId) !== key) {
      return { ok: false, problem: { code: 'groups-bad-camera', key } };
    }
    const group = input[key];
    if (!Number.isSafeInteger(group)) return { ok: false, problem: { code: 'groups-bad-group', key, value: shown(group) } };
    groups.set(cameraId, group as number);
  }
  const twice = duplicateKey(text as string);
  if (twice !== undefined) return { ok: false, problem: { code: 'groups-duplicate', key: twice } };
  return { ok: true, value: groups };
}

/** A resolver reading a camera id -> group id map. */
export function groupsFromMap(groups: ReadonlyMap<number, number>): GroupResolver {
  return (cameraId) => groups.get(cameraId);
}

/**
 * The first group any resolver knows, in order: e.g. the node's own map,
 * then groups loaded from a FindFace server, so the node's map wins.
 */
export function firstKnownGroup(...resolvers: GroupResolver[]): GroupResolver {
  if (resolvers.length === 1) return resolvers[0];
  return (cameraId) => {
    for (const resolve of resolvers) {
      const group = resolve(cameraId);
      if (group !== undefined && group !== null) return group;
    }
    return undefined;
  };
}

const noGroups: GroupResolver = () => undefined;
const never = () => false;

type Check = (event: NormalisedEvent) => boolean;

function listCheck(key: Exclude<ListKey, 'camera_group_in'>, ids: ReadonlySet<number>): Check {
  switch (key) {
    case 'camera_in':
      return (event) => ids.has(event.cameraId);
    case 'matched_dossier_in':
    case 'matched_card_in':
      // A null dossier (no match) is in no list.
      return (event) => event.dossierId !== null && ids.has(event.dossierId);
    case 'matched_lists_in':
      return (event) => {
        const lists = event.listIds;
        for (let index = 0; index < lists.length; index++) if (ids.has(lists[index])) return true;
        return false;
      };
  }
}

/**
 * Compiles a checked filter into a predicate: AND across the keys present,
 * OR within a list; `{}` passes every event, a key with `[]` none.
 * `camera_group_in` reads the event's own camera group where it has one,
 * else asks `groupOf` for the camera's; an event whose group neither knows
 * fails as `unknown-group` (checked first, so it is reported whatever the
 * other keys say).
 */
export function compileFilter(spec: FilterSpec, groupOf: GroupResolver = noGroups): CompiledFilter {
  const emptyKeys: FilterKey[] = [];
  const emptyChecks: Check[] = [];
  const checks: Check[] = [];
  let groups: ReadonlySet<number> | undefined;
  for (const key of Object.keys(spec) as FilterKey[]) {
    if (key === 'matched') {
      const matched = spec.matched as boolean;
      checks.push((event) => event.matched === matched);
    } else if (key === 'confidence_gte') {
      const least = spec.confidence_gte as number;
      checks.push((event) => event.confidence !== undefined && event.confidence >= least);
    } else {
      const ids = spec[key] as number[];
      if (ids.length === 0) {
        emptyKeys.push(key);
        emptyChecks.push(never);
      } else if (key === 'camera_group_in') {
        groups = new Set(ids);
      } else {
        checks.push(listCheck(key, new Set(ids)));
      }
    }
  }
  // Keys with [] reject before anything is looked at.
  const all = [...emptyChecks, ...checks];
  const count = all.length;
  const groupSet = groups;
  return {
    spec,
    emptyKeys,
    test(event: NormalisedEvent): Outcome {
      if (groupSet !== undefined) {
        const group = event.cameraGroupId !== undefined ? event.cameraGroupId : groupOf(event.cameraId);
        if (group === undefined || group === null) return 'unknown-group';
        if (!groupSet.has(group)) return 'fail';
      }
      for (let index = 0; index < count; index++) if (!all[index](event)) return 'fail';
      return 'pass';
    },
  };
}

export type SummaryWord = 'all' | 'cams' | 'groups' | 'dossiers' | 'cards' | 'lists' | 'matched' | 'unmatched' | 'confidence' | 'none';

const ENGLISH: Record<SummaryWord, string> = {
  all: 'all events',
  cams: 'cams',
  groups: 'groups',
  dossiers: 'dossiers',
  cards: 'cards',
  lists: 'lists',
  matched: 'matched',
  unmatched: 'unmatched',
  confidence: 'confidence',
  none: 'none',
};

const LIST_WORD: Record<ListKey, SummaryWord> = {
  camera_in: 'cams',
  camera_group_in: 'groups',
  matched_dossier_in: 'dossiers',
  matched_card_in: 'cards',
  matched_lists_in: 'lists',
};

const SUMMARY_IDS = 4;

/**
 * A short summary for the node's status and label, keys in the filter's
 * order: e.g. `cams 2,3 · matched`, `{}` is `all events`, `[]` is `none`.
 */
export function filterSummary(spec: FilterSpec, word: (name: SummaryWord) => string = (name) => ENGLISH[name]): string {
  const parts: string[] = [];
  for (const key of Object.keys(spec) as FilterKey[]) {
    if (key === 'matched') {
      parts.push(word(spec.matched ? 'matched' : 'unmatched'));
    } else if (key === 'confidence_gte') {
      parts.push(`${word('confidence')} ≥ ${spec.confidence_gte}`);
    } else {
      const ids = spec[key] as number[];
      let shownIds: string;
      if (ids.length === 0) shownIds = word('none');
      else if (ids.length <= SUMMARY_IDS) shownIds = ids.join(',');
      else shownIds = `${ids.slice(0, SUMMARY_IDS - 1).join(',')},…+${ids.length - SUMMARY_IDS + 1}`;
      parts.push(`${word(LIST_WORD[key])} ${shownIds}`);
    }
  }
  return parts.length ? parts.join(' · ') : word('all');
}
