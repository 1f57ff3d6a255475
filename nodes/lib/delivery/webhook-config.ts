// The findface-webhook node's properties, as stored in flows.json, parsed and
// checked once: the typed settings of the sender and its queue, or the first
// problem as an i18n code (`findface-webhook.errors.<code>`).
import { BackoffOptions } from './backoff';
import { HeaderProblemCode, parseHeaders as parseHeaderText } from './headers';
import { isBlank } from '../common/values';
import { Parsed, parsedValue, parseProblem, Problem, shownValue } from '../common/parsed';

export const WEBHOOK_DEFAULTS = Object.freeze({
  batchSize: 1,
  lingerMs: 0,
  timeout: 10000,
  backoffBase: 0.1,
  backoffFactor: 2.7,
  backoffMax: 100,
  maxAttempts: 10,
  maxInFlight: 1,
  queueMaxEvents: 1000000,
  queueMaxMb: 256,
});

export const AUTH_TYPES = ['none', 'basic', 'bearer'] as const;
export type AuthType = (typeof AUTH_TYPES)[number];

export type WebhookProblemCode =
  | 'not-text'
  | 'not-boolean'
  | 'bad-auth-type'
  | `headers.${HeaderProblemCode}`
  | 'not-integer'
  | 'not-number'
  | 'bad-success-code'
  | 'no-url'
  | 'not-url'
  | 'url-scheme'
  | 'bad-queue'
  | 'no-redis';

/** Where the queue lives: this instance's disk, or a Redis shared by several instances (a findface-redis config node). */
export const QUEUE_KINDS = ['disk', 'redis'] as const;
export type QueueKind = (typeof QUEUE_KINDS)[number];

/** The stored properties (what the editor saves; older flows may lack some). */
export interface WebhookProperties {
  id: string;
  name?: unknown;
  title?: unknown;
  url?: unknown;
  active?: unknown;
  logEvents?: unknown;
  batchSize?: unknown;
  lingerMs?: unknown;
  timeout?: unknown;
  backoffBase?: unknown;
  backoffFactor?: unknown;
  backoffMax?: unknown;
  maxAttempts?: unknown;
  maxInFlight?: unknown;
  successCodes?: unknown;
  queueMaxEvents?: unknown;
  queueMaxMb?: unknown;
  authType?: unknown;
  headers?: unknown;
  queue?: unknown;
  redis?: unknown;
}

export interface WebhookConfig {
  /** Names the webhook in log lines, messages and the status: `title`, else `name`, else the node id. */
  title: string;
  url: string;
  active: boolean;
  /** false: no per-event info lines (FindFace's "Event … enqueued", "Sent …"); warnings stay. */
  logEvents: boolean;
  authType: AuthType;
  headers: Record<string, string>;
  batchSize: number;
  lingerMs: number;
  timeoutMs: number;
  backoff: BackoffOptions;
  /** 0 = retry forever. */
  maxAttempts: number;
  /** Batches on the wire at once (1: FindFace's one request in strict order). */
  maxInFlight: number;
  successCodes: Set<number>;
  queueMaxEvents: number;
  /** undefined = no byte limit. */
  queueMaxBytes: number | undefined;
  queue: QueueKind;
  /** The findface-redis config node's id, with `queue` "redis". */
  redis: string | undefined;
}

type Result<T> = Parsed<T, WebhookProblemCode>;
type NumberKey = keyof typeof WEBHOOK_DEFAULTS;

function text(props: WebhookProperties, key: 'title' | 'url' | 'name'): Result<string> {
  const value = props[key];
  if (value === undefined || value === null) return parsedValue('');
  if (typeof value !== 'string') return parseProblem('not-text', { key, value: shownValue(value) });
  return parsedValue(value.trim());
}

function flag(props: WebhookProperties, key: 'active' | 'logEvents'): Result<boolean> {
  const value = props[key];
  if (value === undefined || value === null || value === true || value === 'true') return parsedValue(true);
  if (value === false || value === 'false') return parsedValue(false);
  return parseProblem('not-boolean', { key, value: shownValue(value) });
}

/** A number property; blank means the default. */
function numberOf(props: WebhookProperties, key: NumberKey, min: number, integer: boolean): Result<number> {
  const raw = props[key];
  if (isBlank(raw)) return parsedValue(WEBHOOK_DEFAULTS[key]);
  const value = typeof raw === 'number' || typeof raw === 'string' ? Number(raw) : NaN;
  if (!Number.isFinite(value) || value < min || (integer && !Number.isSafeInteger(value))) {
    return parseProblem(integer ? 'not-integer' : 'not-number', { key, min, value: shownValue(raw) });
  }
  return parsedValue(value);
}

/** Extra request headers (lib/delivery/headers.ts), as this node's problem codes (`headers.<code>`). */
export function parseHeaders(value: unknown): Result<Record<string, string>> {
  const parsed = parseHeaderText(value);
  if (parsed.ok) return parsedValue(parsed.value);
  const { code, ...params } = parsed.problem;
  return parseProblem(`headers.${code}` as const, params);
}

/** `"200"` / `"200, 202,204"` as status codes. */
export function parseSuccessCodes(value: unknown): Result<Set<number>> {
  const source = isBlank(value) ? '200' : String(value);
  const codes = new Set<number>();
  for (const part of source.split(',')) {
    const trimmed = part.trim();
    if (!/^\d{3}$/.test(trimmed) || Number(trimmed) < 100 || Number(trimmed) > 599) return parseProblem('bad-success-code', { value: trimmed });
    codes.add(Number(trimmed));
  }
  return parsedValue(codes);
}

/** An http:// or https:// URL to post to, or a path: this Node-RED's own httpNode (lib/delivery/target-url.ts). */
export function webhookUrlProblem(url: string): Problem<WebhookProblemCode> | null {
  if (isBlank(url)) return { code: 'no-url' };
  if (/^\/(?!\/)\S*$/.test(url)) return null;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { code: 'not-url', value: url };
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return { code: 'url-scheme', value: url };
  return null;
}

export function parseWebhookConfig(props: WebhookProperties): Result<WebhookConfig> {
  const title = text(props, 'title');
  if (!title.ok) return title;
  const name = text(props, 'name');
  if (!name.ok) return name;
  const url = text(props, 'url');
  if (!url.ok) return url;
  const active = flag(props, 'active');
  if (!active.ok) return active;
  const logEvents = flag(props, 'logEvents');
  if (!logEvents.ok) return logEvents;
  const authType = isBlank(props.authType) ? 'none' : props.authType;
  if (!AUTH_TYPES.includes(authType as AuthType)) return parseProblem('bad-auth-type', { value: shownValue(props.authType) });
  const headers = parseHeaders(props.headers);
  if (!headers.ok) return headers;
  const numbers: Array<[NumberKey, number, boolean]> = [
    ['batchSize', 1, true],
    ['lingerMs', 0, false],
    ['timeout', 0, false],
    ['backoffBase', 0, false],
    ['backoffFactor', 1, false],
    ['backoffMax', 0, false],
    ['maxAttempts', 0, true],
    ['maxInFlight', 1, true],
    ['queueMaxEvents', 1, true],
    ['queueMaxMb', 0, false],
  ];
  const value = {} as Record<NumberKey, number>;
  for (const [key, min, integer] of numbers) {
    const parsed = numberOf(props, key, min, integer);
    if (!parsed.ok) return parsed;
    value[key] = parsed.value;
  }
  const successCodes = parseSuccessCodes(props.successCodes);
  if (!successCodes.ok) return successCodes;
  const queue = isBlank(props.queue) ? 'disk' : props.queue;
  if (!QUEUE_KINDS.includes(queue as QueueKind)) return parseProblem('bad-queue', { value: shownValue(props.queue) });
  const redis = typeof props.redis === 'string' && props.redis.trim() ? props.redis.trim() : undefined;
  // A shared queue asked for but not named must not fall back to a local one silently.
  if (queue === 'redis' && !redis) return parseProblem('no-redis');
  // An inactive node sends nothing: its URL may be left empty.
  if (active.value) {
    const problem = webhookUrlProblem(url.value);
    if (problem) return { ok: false, problem };
  }
  return parsedValue({
    title: title.value || name.value || props.id,
    url: url.value,
    active: active.value,
    logEvents: logEvents.value,
    authType: authType as AuthType,
    headers: headers.value,
    batchSize: value.batchSize,
    lingerMs: value.lingerMs,
    timeoutMs: value.timeout,
    backoff: { base: value.backoffBase, factor: value.backoffFactor, max: value.backoffMax },
    maxAttempts: value.maxAttempts,
    maxInFlight: value.maxInFlight,
    successCodes: successCodes.value,
    queueMaxEvents: value.queueMaxEvents,
    queueMaxBytes: value.queueMaxMb > 0 ? Math.floor(value.queueMaxMb * 1024 * 1024) : undefined,
    queue: queue as QueueKind,
    redis: queue === 'redis' ? redis : undefined,
  });
}
