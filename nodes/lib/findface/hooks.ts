// The webhook in FindFace that posts to this Node-RED (`POST /hooks/`,
// `PATCH /hooks/{id}/`; Multi's OpenAPI `WebhookRequest`: `name` 2–100
// characters, `active`, `url` at most 300 characters, `batch_size` ≥ 1
// (default 1), `send_attempts` ≥ 0 (default 10, 0 = retry forever),
// `filters`). The filter goes as the server takes it: flat for FindFace
// Security 4.x (`{"camera_group_in": [1]}`), in sections for FindFace Multi
// (`{"face_events": {"camera_group_in": [1]}}`). No Node-RED import.
import type { HookSettings } from './findface-api';

/** Multi's sections (findface-api/multi-webhook-filter-defaults.json). */
export const MULTI_FILTER_SECTIONS: readonly string[] = Object.freeze([
  'face_events',
  'body_events',
  'car_events',
  'human_episodes',
  'car_episodes',
  'counters',
  'areas',
]);

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `flat`, `sectioned`, or `mixed` (some keys sections, some not: FindFace takes neither). */
export function filterForm(filters: Record<string, unknown>): 'flat' | 'sectioned' | 'mixed' | 'empty' {
  const keys = Object.keys(filters);
  if (keys.length === 0) return 'empty';
  const sections = keys.filter((key) => MULTI_FILTER_SECTIONS.includes(key)).length;
  if (sections === keys.length) return 'sectioned';
  return sections === 0 ? 'flat' : 'mixed';
}

/**
 * The filter in the form the server takes: `sectioned` wraps a flat filter
 * as `{"face_events": …}`; `flat` unwraps `{"face_events": …}` (other
 * sections cannot be said flat: a problem). `as-is` keeps it.
 */
export function filtersFor(filters: Record<string, unknown>, form: 'as-is' | 'flat' | 'sectioned'): { filters?: Record<string, unknown>; problem?: string } {
  const current = filterForm(filters);
  if (current === 'mixed') return { problem: `the filter mixes Multi's sections (${MULTI_FILTER_SECTIONS.join(', ')}) with flat keys` };
  if (form === 'as-is' || current === 'empty' || current === form) return { filters };
  if (form === 'sectioned') return { filters: { face_events: filters } };
  const others = Object.keys(filters).filter((key) => key !== 'face_events');
  if (others.length) return { problem: `a flat filter (FindFace Security) has no place for the sections ${others.join(', ')}` };
  const face = filters.face_events;
  return isPlainObject(face) ? { filters: face } : { problem: 'face_events must be a JSON object' };
}

/**
 * Checks the webhook settings the editor sends: `filters` may be a JSON
 * object or its text, with `form` saying how the server takes it.
 */
export function hookSettingsFrom(value: unknown): { settings?: HookSettings; problem?: string } {
  if (!isPlainObject(value)) return { problem: 'no webhook settings given' };
  const name = typeof value.name === 'string' ? value.name.trim() : '';
  if (name.length < 2 || name.length > 100) return { problem: 'the webhook name must have 2 to 100 characters' };
  const url = typeof value.url === 'string' ? value.url.trim() : '';
  let parsedUrl: URL | undefined;
  try {
    parsedUrl = new URL(url);
  } catch {
    parsedUrl = undefined;
  }
  if (!parsedUrl || (parsedUrl.protocol !== 'http:' && parsedUrl.protocol !== 'https:')) {
    return { problem: `the webhook URL "${url}" is not an http(s) URL FindFace can post to` };
  }
  if (url.length > 300) return { problem: 'the webhook URL is longer than the 300 characters FindFace keeps' };
  const active = value.active === undefined ? true : value.active;
  if (typeof active !== 'boolean') return { problem: 'active must be true or false' };
  const whole = (key: 'batch_size' | 'send_attempts', min: number, fallback: number): number | string => {
    const raw = value[key];
    if (raw === undefined || raw === '' || raw === null) return fallback;
    const number = typeof raw === 'string' ? Number(raw) : raw;
    return typeof number === 'number' && Number.isSafeInteger(number) && number >= min ? number : `${key} must be a whole number of at least ${min}`;
  };
  const batchSize = whole('batch_size', 1, 1);
  if (typeof batchSize === 'string') return { problem: batchSize };
  const sendAttempts = whole('send_attempts', 0, 10);
  if (typeof sendAttempts === 'string') return { problem: sendAttempts };
  let filters: unknown = value.filters ?? {};
  if (typeof filters === 'string') {
    try {
      filters = JSON.parse(filters.trim() === '' ? '{}' : filters);
    } catch (error) {
      return { problem: `the filter is not JSON: ${(error as Error).message}` };
    }
  }
  if (!isPlainObject(filters)) return { problem: 'the filter must be a JSON object' };
  const form = value.form === 'flat' || value.form === 'sectioned' ? value.form : 'as-is';
  const shaped = filtersFor(filters, form);
  if (!shaped.filters) return { problem: shaped.problem };
  return { settings: { name, active, url, batch_size: batchSize, send_attempts: sendAttempts, filters: shaped.filters } };
}
