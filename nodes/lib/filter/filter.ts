// FindFace's webhook filters ("filters" of a webhook, seed step 5, and the
// keys FindFace Security 4.2+ and Multi added): parsed and checked once,
// compiled into a predicate over normalised events.
//
// This module is also the editor's copy of the rules: the build wraps its
// compiled output into resources/filter.js (scripts/build.js, served by
// Node-RED at resources/node-red-contrib-findface/filter.js) and the dialog
// calls window.FindFace.filter. So it must stay free of runtime imports
// (`import type` only) and of Node.js APIs.
import type { FaceEvent, NormalisedEvent } from '../event/event';

/** Keys whose value is a list of ids: an event passes when its value is any one of them. */
export const LIST_KEYS = ['camera_group_in', 'matched_dossier_in', 'camera_in', 'matched_lists_in', 'matched_card_in'] as const;

/**
 * Keys whose value is a list of FindFace's words: an event passes when its
 * value is any one of them. The words are those the Multi API publishes for
 * the same attribute (GET /events/faces/: `bs_type`, `gender`, `glasses`,
 * `emotions`, `beard`, `medmask`, `liveness`); another word is refused, as a
 * typo would otherwise pass nothing without a word.
 */
export const CHOICES = {
  allowed_bs_types: ['overall', 'realtime'],
  gender_in: ['female', 'male'],
  glasses_in: ['eye', 'none', 'sun'],
  emotions_in: ['angry', 'disgust', 'fear', 'happy', 'neutral', 'sad', 'surprise'],
  beard_in: ['beard', 'none'],
  medmask_in: ['correct', 'incorrect', 'none'],
  liveness_in: ['fake', 'real'],
} as const;
export const CHOICE_KEYS = Object.keys(CHOICES) as Array<keyof typeof CHOICES>;

/** Keys whose value is one number, with the bounds FaceEventsFilters gives it (Multi's OpenAPI). */
export const NUMBER_RANGES = {
  confidence_gte: { min: 0, max: 1 },
  temperature_gte: {},
  liveness_gte: { min: 0, max: 1 },
  headpose_yaw_angle_gte: { min: -180, max: 180 },
  headpose_yaw_angle_lte: { min: -180, max: 180 },
  headpose_pitch_angle_gte: { min: -180, max: 180 },
  headpose_pitch_angle_lte: { min: -180, max: 180 },
  age_gte: { min: 0 },
  age_lte: { min: 0 },
} as const satisfies Record<string, { min?: number; max?: number }>;
export const NUMBER_KEYS = Object.keys(NUMBER_RANGES) as Array<keyof typeof NUMBER_RANGES>;

export const FILTER_KEYS = [...LIST_KEYS, 'matched', ...NUMBER_KEYS, ...CHOICE_KEYS] as const;

/**
 * FindFace Multi's sections (WebhookFilters). Only `face_events` applies
 * here: the node takes every event it gets as a face event and cannot tell
 * a body or car event, an episode, a counter record or an area record apart
 * from one, so any other section must be empty.
 */
export const SECTIONS = ['face_events', 'body_events', 'car_events', 'human_episodes', 'car_episodes', 'counters', 'areas'] as const;
export const FACE_SECTION = 'face_events';

export type ListKey = (typeof LIST_KEYS)[number];
export type ChoiceKey = keyof typeof CHOICES;
export type NumberKey = keyof typeof NUMBER_RANGES;
export type FilterKey = (typeof FILTER_KEYS)[number];
export type KeyKind = 'ids' | 'choices' | 'number' | 'boolean';

export interface FilterSpec {
  camera_group_in?: number[];
  matched_dossier_in?: number[];
  camera_in?: number[];
  matched_lists_in?: number[];
  /** Multi's name for matched_dossier_in: both read the event's dossier. */
  matched_card_in?: number[];
  matched?: boolean;
  confidence_gte?: number;
  temperature_gte?: number;
  liveness_gte?: number;
  headpose_yaw_angle_gte?: number;
  headpose_yaw_angle_lte?: number;
  headpose_pitch_angle_gte?: number;
  headpose_pitch_angle_lte?: number;
  age_gte?: number;
  age_lte?: number;
  allowed_bs_types?: string[];
  gender_in?: string[];
  glasses_in?: string[];
  emotions_in?: string[];
  beard_in?: string[];
  medmask_in?: string[];
  liveness_in?: string[];
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
  | 'groups-duplicate'
  | 'not-choice-list'
  | 'not-choice'
  | 'out-of-range'
  | 'not-section'
  | 'unsupported-section'
  | 'mixed-sections'
  | 'no-face-section';

/**
 * What is wrong with a configuration, as an i18n code and its parameters
 * (`findface-filter.errors.<code>` in the locale files): `key` the filter key,
 * section or camera id, `index` the list position, `value` the offending
 * value as JSON (shortened), `detail` the JSON parser's message, the words a
 * key takes or the range of a number.
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
  /** True when a key reads the event as FindFace sent it (bs_type, temperature, features), so `test` needs `source`. */
  readonly readsSource: boolean;
  /**
   * The outcome for one event. `source` is the event as FindFace sent it
   * (what `event` was normalised from): the keys on face attributes read it,
   * and fail without it.
   */
  test(event: NormalisedEvent, source?: FaceEvent): Outcome;
}

const KNOWN_KEYS: ReadonlySet<string> = new Set(FILTER_KEYS);
const LIST_KEY_SET: ReadonlySet<string> = new Set(LIST_KEYS);
const SECTION_SET: ReadonlySet<string> = new Set(SECTIONS);
const VALUE_MAX = 30;

/** Which FindFace the form writes for: flat (Security's keys) or in Multi's sections. */
export type FilterShape = 'security' | 'multi';

export interface KeyGroup {
  /** i18n name of the group (`findface-filter.groups.<name>`). */
  name: 'common' | 'matching' | 'face' | 'headpose' | 'liveness';
  keys: Array<Exclude<FilterKey, 'matched'>>;
}

/**
 * The keys as the editor offers them, grouped, most used first: the seed's
 * keys and watch lists first (the dossier key under the name the shape
 * uses: `matched_dossier_in` for Security, `matched_card_in` for Multi),
 * then matching, then the face attributes. `matched` has a field of its own.
 */
export function keyGroups(shape: FilterShape): KeyGroup[] {
  const [person, alias] = shape === 'multi' ? (['matched_card_in', 'matched_dossier_in'] as const) : (['matched_dossier_in', 'matched_card_in'] as const);
  return [
    { name: 'common', keys: ['camera_in', 'camera_group_in', person, 'matched_lists_in'] },
    { name: 'matching', keys: ['confidence_gte', 'allowed_bs_types', alias] },
    { name: 'face', keys: ['gender_in', 'age_gte', 'age_lte', 'glasses_in', 'beard_in', 'emotions_in', 'medmask_in'] },
    { name: 'headpose', keys: ['headpose_yaw_angle_gte', 'headpose_yaw_angle_lte', 'headpose_pitch_angle_gte', 'headpose_pitch_angle_lte'] },
    { name: 'liveness', keys: ['liveness_gte', 'liveness_in', 'temperature_gte'] },
  ];
}

/** What kind of value a filter key takes, or undefined for an unknown key. */
export function keyKind(key: string): KeyKind | undefined {
  if (!KNOWN_KEYS.has(key)) return undefined;
  if (LIST_KEY_SET.has(key)) return 'ids';
  if (key === 'matched') return 'boolean';
  return Object.prototype.hasOwnProperty.call(CHOICES, key) ? 'choices' : 'number';
}

/** The range of a number key as text (`0…1`, `≥ 0`), or '' when it has none. */
export function rangeText(key: NumberKey): string {
  const range: { min?: number; max?: number } = NUMBER_RANGES[key];
  if (range.min !== undefined && range.max !== undefined) return `${range.min}…${range.max}`;
  if (range.min !== undefined) return `≥ ${range.min}`;
  if (range.max !== undefined) return `≤ ${range.max}`;
  return '';
}

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
 * The first key written twice in one object of `text` (JSON.parse keeps
 * only the last), in text order. Only for text JSON.parse accepted: a
 * string literal followed by `:` is then a key of the innermost open object.
 */
function duplicateKey(text: string): string | undefined {
  const open: Array<Set<string> | null> = [];
  const literal = /"(?:[^"\\]|\\.)*"/y;
  for (let at = 0; at < text.length; at++) {
    const char = text[at];
    if (char === '{') open.push(new Set());
    else if (char === '[') open.push(null);
    else if (char === '}' || char === ']') open.pop();
    else if (char === '"') {
      literal.lastIndex = at;
      const match = literal.exec(text);
      if (!match) return undefined;
      at += match[0].length - 1;
      let next = at + 1;
      while (next < text.length && /\s/.test(text[next])) next++;
      const keys = open[open.length - 1];
      if (text[next] === ':' && keys) {
        const key = JSON.parse(match[0]) as string;
        if (keys.has(key)) return key;
        keys.add(key);
      }
    }
  }
  return undefined;
}

function problem(code: ProblemCode, fields: Omit<ConfigProblem, 'code'> = {}): { ok: false; problem: ConfigProblem } {
  return { ok: false, problem: { code, ...fields } };
}

/** Checks the keys of one flat filter (the whole filter, or Multi's face_events) into a spec. */
function parseFaceKeys(input: Record<string, unknown>): Parsed<FilterSpec> {
  const spec: Record<string, unknown> = {};
  for (const key of Object.keys(input)) {
    const value = input[key];
    const kind = keyKind(key);
    if (kind === undefined) return problem('unknown-key', { key });
    if (kind === 'ids') {
      if (!Array.isArray(value)) return problem('not-list', { key, value: shown(value) });
      for (let index = 0; index < value.length; index++) {
        if (!Number.isSafeInteger(value[index])) return problem('not-id', { key, index, value: shown(value[index]) });
      }
      spec[key] = value.slice();
    } else if (kind === 'choices') {
      const words: readonly string[] = CHOICES[key as ChoiceKey];
      const detail = words.join(', ');
      if (!Array.isArray(value)) return problem('not-choice-list', { key, value: shown(value), detail });
      for (let index = 0; index < value.length; index++) {
        if (typeof value[index] !== 'string' || words.indexOf(value[index]) < 0) {
          return problem('not-choice', { key, index, value: shown(value[index]), detail });
        }
      }
      spec[key] = value.slice();
    } else if (kind === 'boolean') {
      if (typeof value !== 'boolean') return problem('not-boolean', { key, value: shown(value) });
      spec[key] = value;
    } else {
      if (typeof value !== 'number' || !Number.isFinite(value)) return problem('not-number', { key, value: shown(value) });
      const range: { min?: number; max?: number } = NUMBER_RANGES[key as NumberKey];
      if ((range.min !== undefined && value < range.min) || (range.max !== undefined && value > range.max)) {
        return problem('out-of-range', { key, value: shown(value), detail: rangeText(key as NumberKey) });
      }
      spec[key] = value;
    }
  }
  return { ok: true, value: spec as FilterSpec };
}

/** Whether a parsed filter object is in Multi's sectioned form (any top-level key is a section). */
export function isSectioned(input: unknown): boolean {
  return isPlainObject(input) && Object.keys(input).some((key) => SECTION_SET.has(key));
}

/** Multi's sectioned form: face_events is the filter; every other section must be empty. */
function parseSections(input: Record<string, unknown>): Parsed<FilterSpec> {
  let face: Parsed<FilterSpec> | undefined;
  for (const key of Object.keys(input)) {
    const value = input[key];
    if (!SECTION_SET.has(key)) return problem(keyKind(key) ? 'mixed-sections' : 'unknown-key', { key });
    if (!isPlainObject(value)) return problem('not-section', { key, value: shown(value) });
    if (key === FACE_SECTION) {
      face = parseFaceKeys(value);
      if (!face.ok) return face;
    } else if (Object.keys(value).length > 0) {
      return problem('unsupported-section', { key });
    }
  }
  return face ?? problem('no-face-section');
}

/**
 * Parses and checks the node's `filters` property: the webhook filter as
 * FindFace takes it, as a JSON string: flat (Security, and Multi's face
 * keys alone) or in Multi's sections, whose `face_events` is then the
 * filter. Refuses text that is not JSON, JSON that is not an object,
 * unknown keys, keys given twice, a list key whose value is not a list of
 * whole numbers (ids) or of FindFace's words, `matched` that is not one
 * boolean, a number key that is not a number in its range, and sections
 * the node cannot apply.
 */
export function parseFilters(text: unknown): Parsed<FilterSpec> {
  const parsed = parseJson(text);
  if (!parsed.ok) return problem('not-json', { detail: parsed.detail });
  const input = parsed.value;
  if (!isPlainObject(input)) return problem('not-object', { value: shown(input) });
  const result = isSectioned(input) ? parseSections(input) : parseFaceKeys(input);
  if (!result.ok) return result;
  const twice = duplicateKey(text as string);
  if (twice !== undefined) return problem('duplicate-key', { key: twice });
  return result;
}

/**
 * Parses the node's `cameraGroups` property: a JSON object mapping camera id
 * to camera group id, e.g. `{"2": 1}`. Blank or missing means no cameras.
 */
export function parseCameraGroups(text: unknown): Parsed<Map<number, number>> {
  if (text === undefined || text === null || (typeof text === 'string' && text.trim() === '')) return { ok: true, value: new Map() };
  const parsed = parseJson(text);
  if (!parsed.ok) return problem('groups-not-json', { detail: parsed.detail });
  const input = parsed.value;
  if (!isPlainObject(input)) return problem('groups-not-object', { value: shown(input) });
  const groups = new Map<number, number>();
  for (const key of Object.keys(input)) {
    const cameraId = Number(key);
    if (!/^-?\d+$/.test(key) || !Number.isSafeInteger(cameraId) || String(cameraId) !== key) {
      return problem('groups-bad-camera', { key });
    }
    const group = input[key];
    if (!Number.isSafeInteger(group)) return problem('groups-bad-group', { key, value: shown(group) });
    groups.set(cameraId, group as number);
  }
  const twice = duplicateKey(text as string);
  if (twice !== undefined) return problem('groups-duplicate', { key: twice });
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

// Where a face event carries what the attribute keys read. Multi's OpenAPI
// (GET /events/faces/ parameters) names `bs_type`, `temperature`,
// `features.<attribute>.name` for the words, `features.age` and
// `features.headpose.{yaw,pitch}`; the public Multi mock sends
// `features.age.name` and `features.headpose_{yaw,pitch}.name` instead, and
// Security 3.x sends `features.<attribute>` null when not detected. Each
// reader takes every one of these places; a field that is missing, null or
// of another type is no value, and the key fails.

function featureOf(source: FaceEvent | undefined, name: string): unknown {
  const features = source?.features;
  return isPlainObject(features) ? features[name] : undefined;
}

/** `features.<name>` as a word: `{name: "male", …}` or a bare "male". */
function featureWord(source: FaceEvent | undefined, name: string): string | undefined {
  const feature = featureOf(source, name);
  if (typeof feature === 'string') return feature;
  return isPlainObject(feature) && typeof feature.name === 'string' ? feature.name : undefined;
}

/** `features.<name>` as a number: a bare 33 or `{name: 33, …}`. */
function featureNumber(source: FaceEvent | undefined, name: string): number | undefined {
  const feature = featureOf(source, name);
  if (typeof feature === 'number') return Number.isFinite(feature) ? feature : undefined;
  return isPlainObject(feature) && typeof feature.name === 'number' && Number.isFinite(feature.name) ? feature.name : undefined;
}

/** The head's yaw or pitch in degrees: `features.headpose.<axis>`, else `features.headpose_<axis>`. */
export function headposeOf(source: FaceEvent | undefined, axis: 'yaw' | 'pitch'): number | undefined {
  const headpose = featureOf(source, 'headpose');
  if (isPlainObject(headpose) && typeof headpose[axis] === 'number' && Number.isFinite(headpose[axis])) return headpose[axis] as number;
  return featureNumber(source, `headpose_${axis}`);
}

/**
 * The liveness score for `liveness_gte`: `features.liveness.confidence`
 * (where Multi's API reads its liveness score), or a bare number at
 * `features.liveness`. FindFace does not publish whether that confidence
 * is the chance of a live face or the confidence in the word beside it, so
 * a face whose word is "fake" has no score: it never passes liveness_gte.
 */
export function livenessScoreOf(source: FaceEvent | undefined): number | undefined {
  const liveness = featureOf(source, 'liveness');
  if (typeof liveness === 'number') return Number.isFinite(liveness) ? liveness : undefined;
  if (!isPlainObject(liveness) || liveness.name === 'fake') return undefined;
  return typeof liveness.confidence === 'number' && Number.isFinite(liveness.confidence) ? liveness.confidence : undefined;
}

function topNumber(source: FaceEvent | undefined, name: string): number | undefined {
  const value = source?.[name];
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** The event field each attribute key reads (as a word or a number), for the checks and the help. */
const WORD_OF: Record<ChoiceKey, (source: FaceEvent | undefined) => string | undefined> = {
  allowed_bs_types: (source) => (typeof source?.bs_type === 'string' ? source.bs_type : undefined),
  gender_in: (source) => featureWord(source, 'gender'),
  glasses_in: (source) => featureWord(source, 'glasses'),
  emotions_in: (source) => featureWord(source, 'emotions'),
  beard_in: (source) => featureWord(source, 'beard'),
  medmask_in: (source) => featureWord(source, 'medmask'),
  liveness_in: (source) => featureWord(source, 'liveness'),
};

const NUMBER_OF: Record<Exclude<NumberKey, 'confidence_gte'>, (source: FaceEvent | undefined) => number | undefined> = {
  temperature_gte: (source) => topNumber(source, 'temperature'),
  liveness_gte: livenessScoreOf,
  headpose_yaw_angle_gte: (source) => headposeOf(source, 'yaw'),
  headpose_yaw_angle_lte: (source) => headposeOf(source, 'yaw'),
  headpose_pitch_angle_gte: (source) => headposeOf(source, 'pitch'),
  headpose_pitch_angle_lte: (source) => headposeOf(source, 'pitch'),
  age_gte: (source) => featureNumber(source, 'age'),
  age_lte: (source) => featureNumber(source, 'age'),
};

const noGroups: GroupResolver = () => undefined;
const never = () => false;

type Check = (event: NormalisedEvent, source: FaceEvent | undefined) => boolean;

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

function numberCheck(key: NumberKey, bound: number): Check {
  if (key === 'confidence_gte') return (event) => event.confidence !== undefined && event.confidence >= bound;
  const read = NUMBER_OF[key];
  if (key.endsWith('_lte')) {
    return (_event, source) => {
      const value = read(source);
      return value !== undefined && value <= bound;
    };
  }
  return (_event, source) => {
    const value = read(source);
    return value !== undefined && value >= bound;
  };
}

function choiceCheck(key: ChoiceKey, words: ReadonlySet<string>): Check {
  const read = WORD_OF[key];
  return (_event, source) => {
    const word = read(source);
    return word !== undefined && words.has(word);
  };
}

/**
 * Compiles a checked filter into a predicate: AND across the keys present,
 * OR within a list; `{}` passes every event, a key with `[]` none.
 * `camera_group_in` reads the event's own camera group where it has one,
 * else asks `groupOf` for the camera's; an event whose group neither knows
 * fails as `unknown-group` (checked first, so it is reported whatever the
 * other keys say). The keys on face attributes read `source`, the event as
 * FindFace sent it; an event without the field fails the key.
 */
export function compileFilter(spec: FilterSpec, groupOf: GroupResolver = noGroups): CompiledFilter {
  const emptyKeys: FilterKey[] = [];
  const emptyChecks: Check[] = [];
  const checks: Check[] = [];
  let groups: ReadonlySet<number> | undefined;
  let readsSource = false;
  for (const key of Object.keys(spec) as FilterKey[]) {
    const kind = keyKind(key);
    if (kind === 'boolean') {
      const matched = spec.matched as boolean;
      checks.push((event) => event.matched === matched);
    } else if (kind === 'number') {
      if (key !== 'confidence_gte') readsSource = true;
      checks.push(numberCheck(key as NumberKey, spec[key as NumberKey] as number));
    } else {
      const values = spec[key as ListKey | ChoiceKey] as Array<number | string>;
      if (values.length === 0) {
        emptyKeys.push(key);
        emptyChecks.push(never);
      } else if (kind === 'choices') {
        readsSource = true;
        checks.push(choiceCheck(key as ChoiceKey, new Set(values as string[])));
      } else if (key === 'camera_group_in') {
        groups = new Set(values as number[]);
      } else {
        checks.push(listCheck(key as Exclude<ListKey, 'camera_group_in'>, new Set(values as number[])));
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
    readsSource,
    test(event: NormalisedEvent, source?: FaceEvent): Outcome {
      if (groupSet !== undefined) {
        const group = event.cameraGroupId !== undefined ? event.cameraGroupId : groupOf(event.cameraId);
        if (group === undefined || group === null) return 'unknown-group';
        if (!groupSet.has(group)) return 'fail';
      }
      for (let index = 0; index < count; index++) if (!all[index](event, source)) return 'fail';
      return 'pass';
    },
  };
}

export type SummaryWord =
  | 'all'
  | 'cams'
  | 'groups'
  | 'dossiers'
  | 'cards'
  | 'lists'
  | 'matched'
  | 'unmatched'
  | 'confidence'
  | 'none'
  | 'temperature'
  | 'liveness'
  | 'yaw'
  | 'pitch'
  | 'age'
  | 'tracking'
  | 'gender'
  | 'glasses'
  | 'emotions'
  | 'beard'
  | 'medmask';

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
  temperature: 'temperature',
  liveness: 'liveness',
  yaw: 'yaw',
  pitch: 'pitch',
  age: 'age',
  tracking: 'tracking',
  gender: 'gender',
  glasses: 'glasses',
  emotions: 'emotions',
  beard: 'beard',
  medmask: 'mask',
};

const KEY_WORD: Record<Exclude<FilterKey, 'matched'>, SummaryWord> = {
  camera_in: 'cams',
  camera_group_in: 'groups',
  matched_dossier_in: 'dossiers',
  matched_card_in: 'cards',
  matched_lists_in: 'lists',
  confidence_gte: 'confidence',
  temperature_gte: 'temperature',
  liveness_gte: 'liveness',
  headpose_yaw_angle_gte: 'yaw',
  headpose_yaw_angle_lte: 'yaw',
  headpose_pitch_angle_gte: 'pitch',
  headpose_pitch_angle_lte: 'pitch',
  age_gte: 'age',
  age_lte: 'age',
  allowed_bs_types: 'tracking',
  gender_in: 'gender',
  glasses_in: 'glasses',
  emotions_in: 'emotions',
  beard_in: 'beard',
  medmask_in: 'medmask',
  liveness_in: 'liveness',
};

const SUMMARY_IDS = 4;

/**
 * A short summary for the node's status and label, keys in the filter's
 * order: e.g. `cams 2,3 · matched · age ≥ 18`, `{}` is `all events`, `[]` is `none`.
 */
export function filterSummary(spec: FilterSpec, word: (name: SummaryWord) => string = (name) => ENGLISH[name]): string {
  const parts: string[] = [];
  for (const key of Object.keys(spec) as FilterKey[]) {
    if (key === 'matched') {
      parts.push(word(spec.matched ? 'matched' : 'unmatched'));
    } else if (keyKind(key) === 'number') {
      parts.push(`${word(KEY_WORD[key])} ${key.endsWith('_lte') ? '≤' : '≥'} ${spec[key as NumberKey]}`);
    } else {
      const values = spec[key as ListKey | ChoiceKey] as Array<number | string>;
      let shownValues: string;
      if (values.length === 0) shownValues = word('none');
      else if (values.length <= SUMMARY_IDS) shownValues = values.join(',');
      else shownValues = `${values.slice(0, SUMMARY_IDS - 1).join(',')},…+${values.length - SUMMARY_IDS + 1}`;
      parts.push(`${word(KEY_WORD[key])} ${shownValues}`);
    }
  }
  return parts.length ? parts.join(' · ') : word('all');
}
