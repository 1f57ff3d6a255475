// FindFace face events in the three shapes the package accepts (FindFace
// Security 3.x, 4.x and Multi), validated and normalised in this one place.

/** A face event as FindFace sends it; unknown fields are kept untouched. */
export interface FaceEvent {
  id: string | number;
  camera: number | { id: number; group?: unknown; [key: string]: unknown };
  [key: string]: unknown;
}

/** The fields filters and routing need, read once from any event shape. */
export interface NormalisedEvent {
  id: string;
  cameraId: number;
  /** From `camera_group`, `camera_group.id` or `camera.group`; undefined when the event does not say. */
  cameraGroupId: number | undefined;
  /** From `matched_dossier` or `matched_card` (number or object with `id`); null when none. */
  dossierId: number | null;
  matched: boolean;
  /** `matched_lists` as ids, whether given as numbers or as objects with `id`. */
  listIds: number[];
  confidence: number | undefined;
}

const MAX_DEPTH = 32;
const FORBIDDEN_KEYS = ['__proto__', 'constructor', 'prototype'];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isSafeId(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value);
}

/** An id given as a number, or as an object whose `id` is one. */
function idOf(value: unknown): number | undefined {
  if (isSafeId(value)) return value;
  if (isRecord(value) && isSafeId(value.id)) return value.id;
  return undefined;
}

/** Finds a key that could pollute prototypes, or nesting too deep to be an event. */
function structureProblem(value: unknown, depth: number): string | null {
  if (depth > MAX_DEPTH) return `nested deeper than ${MAX_DEPTH} levels`;
  if (Array.isArray(value)) {
    for (const item of value) {
      if (typeof item === 'object' && item !== null) {
        const problem = structureProblem(item, depth + 1);
        if (problem) return problem;
      }
    }
  } else if (typeof value === 'object' && value !== null) {
    const record = value as Record<string, unknown>;
    // Three own-key lookups instead of one per key; JSON.parse makes "__proto__" an own key like any other.
    for (const key of FORBIDDEN_KEYS) if (Object.prototype.hasOwnProperty.call(record, key)) return `has the forbidden key "${key}"`;
    // for-in walks the object's keys without making an array of them (an event is a plain object: no inherited keys).
    for (const key in record) {
      const child = record[key];
      if (typeof child === 'object' && child !== null) {
        const problem = structureProblem(child, depth + 1);
        if (problem) return problem;
      }
    }
  }
  return null;
}

/** Why `value` is not a face event, or null when it is one. */
export function eventProblem(value: unknown): string | null {
  if (!isRecord(value)) return `is ${describe(value)}, not an event object`;
  const { id, camera } = value;
  if (id === undefined) return 'has no "id"';
  if (!((typeof id === 'string' && id.length > 0) || isSafeId(id))) {
    return '"id" must be a non-empty string or a safe integer';
  }
  if (camera === undefined) return 'has no "camera"';
  if (idOf(camera) === undefined) {
    return '"camera" must be a safe integer or an object whose "id" is one';
  }
  return structureProblem(value, 0);
}

export function isFaceEvent(value: unknown): value is FaceEvent {
  return eventProblem(value) === null;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

export type BodyCheck = { ok: true; events: FaceEvent[] } | { ok: false; error: string };

/**
 * Checks a webhook body: a JSON array of events (what FindFace sends) or one
 * event object. The error names the first bad element and why.
 */
export function eventsFromBody(body: unknown): BodyCheck {
  if (Array.isArray(body)) {
    if (body.length === 0) return { ok: false, error: 'the body is an empty array: expected at least one event' };
    for (let index = 0; index < body.length; index++) {
      const problem = eventProblem(body[index]);
      if (problem) return { ok: false, error: `event [${index}] ${problem}` };
    }
    return { ok: true, events: body as FaceEvent[] };
  }
  const problem = eventProblem(body);
  if (problem) return { ok: false, error: `the body ${problem}` };
  return { ok: true, events: [body as FaceEvent] };
}

/** Reads the fields every node needs from an event of any supported shape. */
export function normaliseEvent(event: FaceEvent): NormalisedEvent {
  const camera = event.camera;
  const cameraId = idOf(camera) as number;
  let cameraGroupId = idOf(event.camera_group);
  if (cameraGroupId === undefined && isRecord(camera)) cameraGroupId = idOf(camera.group);
  const dossierId = idOf(event.matched_dossier) ?? idOf(event.matched_card) ?? null;
  const lists = Array.isArray(event.matched_lists) ? event.matched_lists : [];
  const listIds: number[] = [];
  for (const list of lists) {
    const listId = idOf(list);
    if (listId !== undefined) listIds.push(listId);
  }
  const confidence = typeof event.confidence === 'number' ? event.confidence : undefined;
  const id = event.id;
  return {
    // String() of a string is not free in a hot loop (bench/access.ts 'decision').
    id: typeof id === 'string' ? id : String(id),
    cameraId,
    cameraGroupId,
    dossierId,
    matched: event.matched === true,
    listIds,
    confidence,
  };
}
