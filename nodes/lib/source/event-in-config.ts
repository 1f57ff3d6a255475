// The findface-event-in node's properties, parsed and checked once per mode:
// the typed settings of that mode, or the first problem as an i18n code
// (`findface-event-in.errors.<code>`).
import buffer from 'buffer';
import net from 'net';
import type { Query } from '../findface/findface-api';
import { pollerOptionsProblem } from '../findface/poller';
import { parsePollFilters, PollFilterProblemCode, PollFilterSpec } from '../findface/poll-filters';
import { EventShape } from './simulator';
import { isBlank, isPlainObject } from '../common/values';
import { isLiteralPath } from './raw-body-capture';
import { Parsed, parsedValue, parseProblem, shownValue } from '../common/parsed';

export type EventInMode = 'webhook' | 'simulate' | 'poll';

export type EventInProblemCode =
  | 'bad-mode'
  | 'no-path'
  | 'bad-path'
  | 'bad-size'
  | 'bad-respond'
  | 'bad-number'
  | 'bad-cameras'
  | 'no-cameras'
  | 'bad-camera-id'
  | 'bad-camera-group'
  | 'bad-dossiers'
  | 'no-dossiers'
  | 'bad-ratio'
  | 'bad-shape'
  | 'bad-rate'
  | 'bad-seed'
  | 'bad-simulation'
  | 'no-server'
  | 'bad-filters'
  | `poll-filters.${PollFilterProblemCode}`
  | 'bad-interval'
  | 'bad-listen'
  | 'bad-port'
  | 'bad-host'
  | 'bad-tls'
  | 'port-path-pattern';

type Result<T> = Parsed<T, EventInProblemCode>;

/** The stored properties (what the editor saves; older flows may lack some). */
export interface EventInProperties {
  mode?: unknown;
  path?: unknown;
  maxBodyMb?: unknown;
  dedupWindowS?: unknown;
  toleranceS?: unknown;
  respond?: unknown;
  queuedTimeoutS?: unknown;
  rate?: unknown;
  seed?: unknown;
  simulation?: unknown;
  lookupCards?: unknown;
  cameras?: unknown;
  dossiers?: unknown;
  matchedRatio?: unknown;
  shape?: unknown;
  autostart?: unknown;
  server?: unknown;
  pollIntervalS?: unknown;
  pollFilters?: unknown;
  startAt?: unknown;
  listen?: unknown;
  port?: unknown;
  host?: unknown;
  tls?: unknown;
}

/** "Who was seen" (webhook and poll modes): the findface-server node whose card cache names the matched person, when `lookupCards` is on. */
export interface CardSource {
  cardsFrom: string | undefined;
}

export interface WebhookModeConfig extends CardSource {
  mode: 'webhook';
  /** With a leading slash, as the route is served. */
  path: string;
  maxBodyBytes: number;
  /** 0 = repeats are not dropped. */
  dedupWindowMs: number;
  toleranceS: number;
  /**
   * Answer 200 once the events are sent on (emitted), once every sender has queued them (queued),
   * or (auto, the default) queued while a webhook node is wired behind the source, else emitted.
   */
  respond: 'emitted' | 'queued' | 'auto';
  queuedTimeoutMs: number;
  /** Where the route is served: Node-RED's httpNode, or a listener of the node's own. */
  listen: HttpNodeListen | OwnPortListen;
}

export interface HttpNodeListen {
  kind: 'httpNode';
}

export interface OwnPortListen {
  kind: 'port';
  /** 0: any free port (tests). */
  port: number;
  /** Bind address; empty: every interface. */
  host: string;
  /** The tls-config node's id; undefined: plain HTTP. */
  tls: string | undefined;
}

export interface SimulateModeConfig {
  mode: 'simulate';
  cameras: Record<string, number>;
  dossiers: number[];
  matchedRatio: number;
  shape: EventShape;
  rate: number;
  seed: number | undefined;
  autostart: boolean;
  /** "steady": independent events; "walk-up": each person a burst of frames (lib/source/walk-up.ts). */
  simulation: 'steady' | 'walk-up';
}

export interface PollModeConfig extends CardSource {
  mode: 'poll';
  /** The findface-server config node's id. */
  server: string;
  intervalMs: number;
  /** FindFace's own query parameters, checked against the published list (lib/findface/poll-filters.ts). */
  filters: Query;
  /** The same, for the local re-check of what a server may ignore. */
  selection: PollFilterSpec;
  startAt: 'now' | 'beginning';
}

export type EventInConfig = WebhookModeConfig | SimulateModeConfig | PollModeConfig;

/** The largest body a Buffer can hold: the highest size limit that means anything. */
export const MAX_BODY_MB = Math.floor(buffer.constants.MAX_LENGTH / 1024 / 1024);
export const MAX_RATE = 10000;
const SHAPES: readonly EventShape[] = ['ffs3', 'ffs4', 'multi'];

/** A number property as the editor stores it; blank = `fallback`; booleans, arrays, objects: NaN (refused). */
function numberOf(value: unknown, fallback: number): number {
  if (isBlank(value)) return fallback;
  if (typeof value === 'number') return value;
  return typeof value === 'string' ? Number(value) : NaN;
}

export function normaliseRoutePath(path: string): string {
  const trimmed = path.trim();
  return trimmed.startsWith('/') ? trimmed : `/${trimmed}`;
}

/** A simulator rate (events per second): above 0, at most MAX_RATE; also what `msg.rate` is checked with. */
export function parseRate(value: unknown): Result<number> {
  const rate = numberOf(value, 1);
  return rate > 0 && rate <= MAX_RATE ? parsedValue(rate) : parseProblem('bad-rate', { value: shownValue(value) });
}

function cardSource(props: EventInProperties): CardSource {
  const on = props.lookupCards === true || props.lookupCards === 'true';
  return { cardsFrom: on && typeof props.server === 'string' && props.server.trim() ? props.server : on ? '' : undefined };
}

/** A bind address: an IPv4 or IPv6 address (IPv6 also in brackets) or a host name. */
function bindAddress(text: string): string | undefined {
  const unbracketed = text.replace(/^\[(.*)\]$/, '$1');
  if (net.isIP(unbracketed)) return unbracketed;
  return /^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/.test(text) ? text : undefined;
}

function parseListen(props: EventInProperties, path: string): Result<HttpNodeListen | OwnPortListen> {
  const listen = isBlank(props.listen) ? 'httpNode' : props.listen;
  if (listen === 'httpNode') return parsedValue({ kind: 'httpNode' });
  if (listen !== 'port') return parseProblem('bad-listen', { value: shownValue(props.listen) });
  const port = typeof props.port === 'string' && props.port.trim() !== '' ? Number(props.port) : props.port;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535) return parseProblem('bad-port', { value: shownValue(props.port) });
  if (props.host !== undefined && props.host !== null && typeof props.host !== 'string') return parseProblem('bad-host', { value: shownValue(props.host) });
  const hostText = (props.host ?? '').trim();
  const host = hostText ? bindAddress(hostText) : '';
  if (host === undefined) return parseProblem('bad-host', { value: shownValue(props.host) });
  if (props.tls !== undefined && props.tls !== null && typeof props.tls !== 'string') return parseProblem('bad-tls', { value: shownValue(props.tls) });
  const tls = (props.tls ?? '').trim();
  // The own listener matches literal paths only (no express patterns such as :id or *).
  if (!isLiteralPath(path)) return parseProblem('port-path-pattern', { path });
  return parsedValue({ kind: 'port', port, host, tls: tls && tls !== '_ADD_' ? tls : undefined });
}

export function parseWebhookMode(props: EventInProperties): Result<WebhookModeConfig> {
  const path = props.path;
  if (path !== undefined && path !== null && typeof path !== 'string') return parseProblem('bad-path', { value: shownValue(path) });
  if (!path || !path.trim()) return parseProblem('no-path');
  const maxBodyMb = numberOf(props.maxBodyMb, 10);
  // A limit no Buffer can hold is no limit at all.
  if (!(maxBodyMb > 0) || maxBodyMb > MAX_BODY_MB) return parseProblem('bad-size', { value: shownValue(props.maxBodyMb), max: MAX_BODY_MB });
  // A mistyped answer mode must not silently weaken "queued" to "emitted".
  const respond = isBlank(props.respond) ? 'auto' : props.respond;
  if (respond !== 'emitted' && respond !== 'queued' && respond !== 'auto') return parseProblem('bad-respond', { value: shownValue(props.respond) });
  const dedupWindowS = numberOf(props.dedupWindowS, 0);
  const toleranceS = numberOf(props.toleranceS, 300);
  const queuedTimeoutS = numberOf(props.queuedTimeoutS, 10);
  if (!(dedupWindowS >= 0) || !(toleranceS > 0) || !(queuedTimeoutS > 0)) {
    return parseProblem('bad-number', { value: [props.dedupWindowS, props.toleranceS, props.queuedTimeoutS].map((v) => shownValue(v)).join(' / ') });
  }
  const listen = parseListen(props, normaliseRoutePath(path));
  if (!listen.ok) return listen;
  return parsedValue({
    ...cardSource(props),
    mode: 'webhook',
    path: normaliseRoutePath(path),
    maxBodyBytes: Math.floor(maxBodyMb * 1024 * 1024),
    dedupWindowMs: dedupWindowS * 1000,
    toleranceS,
    respond,
    queuedTimeoutMs: queuedTimeoutS * 1000,
    listen: listen.value,
  });
}

function parseCameraLayout(value: unknown): Result<Record<string, number>> {
  if (value !== undefined && value !== null && typeof value !== 'string') return parseProblem('bad-cameras', { error: shownValue(value) });
  let parsed: unknown;
  try {
    parsed = JSON.parse(value || '{}');
  } catch (error) {
    return parseProblem('bad-cameras', { error: (error as Error).message });
  }
  if (!isPlainObject(parsed)) return parseProblem('bad-cameras', { error: shownValue(parsed) });
  const ids = Object.keys(parsed);
  if (ids.length === 0) return parseProblem('no-cameras');
  for (const id of ids) {
    if (!/^\d+$/.test(id) || !Number.isSafeInteger(Number(id))) return parseProblem('bad-camera-id', { key: id });
    if (!Number.isSafeInteger(parsed[id])) return parseProblem('bad-camera-group', { key: id, value: shownValue(parsed[id]) });
  }
  return parsedValue(parsed as Record<string, number>);
}

export function parseSimulateMode(props: EventInProperties): Result<SimulateModeConfig> {
  const cameras = parseCameraLayout(props.cameras);
  if (!cameras.ok) return cameras;
  const dossierText = props.dossiers === undefined || props.dossiers === null ? '' : props.dossiers;
  if (typeof dossierText !== 'string' && typeof dossierText !== 'number') return parseProblem('bad-dossiers', { value: shownValue(props.dossiers) });
  const dossiers = String(dossierText)
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .map(Number);
  if (!dossiers.every((id) => Number.isSafeInteger(id))) return parseProblem('bad-dossiers', { value: shownValue(props.dossiers) });
  const matchedRatio = numberOf(props.matchedRatio, 0.3);
  if (!(matchedRatio >= 0 && matchedRatio <= 1)) return parseProblem('bad-ratio', { value: shownValue(props.matchedRatio) });
  if (matchedRatio > 0 && dossiers.length === 0) return parseProblem('no-dossiers');
  const shape = isBlank(props.shape) ? 'ffs3' : props.shape;
  if (!SHAPES.includes(shape as EventShape)) return parseProblem('bad-shape', { value: shownValue(props.shape) });
  const rate = parseRate(props.rate);
  if (!rate.ok) return rate;
  const seed = isBlank(props.seed) ? undefined : Number(props.seed);
  if (seed !== undefined && (typeof props.seed === 'boolean' || !Number.isSafeInteger(seed)))
    return parseProblem('bad-seed', { value: shownValue(props.seed) });
  const simulation = isBlank(props.simulation) ? 'steady' : props.simulation;
  if (simulation !== 'steady' && simulation !== 'walk-up') return parseProblem('bad-simulation', { value: shownValue(props.simulation) });
  return parsedValue({
    mode: 'simulate',
    cameras: cameras.value,
    dossiers,
    matchedRatio,
    shape: shape as EventShape,
    rate: rate.value,
    seed,
    autostart: props.autostart !== false && props.autostart !== 'false',
    simulation,
  });
}

export function parsePollMode(props: EventInProperties): Result<PollModeConfig> {
  if (typeof props.server !== 'string' || props.server.trim() === '') return parseProblem('no-server');
  const filters = parsePollFilters(props.pollFilters);
  if (!filters.ok) {
    const { code, ...params } = filters.problem;
    return parseProblem(`poll-filters.${code}` as const, { ...params, detail: params.detail ? ` (${params.detail})` : '' });
  }
  const intervalS = numberOf(props.pollIntervalS, 5);
  if (!(intervalS >= 0.1)) return parseProblem('bad-interval', { value: shownValue(props.pollIntervalS) });
  const startAt = props.startAt === 'beginning' ? 'beginning' : 'now';
  const config: PollModeConfig = {
    ...cardSource(props),
    mode: 'poll',
    server: props.server,
    intervalMs: intervalS * 1000,
    filters: filters.value.query,
    selection: filters.value,
    startAt,
  };
  // Whatever else the poller refuses (its own rules on FindFace's query parameters).
  const pollerIssue = pollerOptionsProblem({ intervalMs: config.intervalMs, filters: config.filters, startAt });
  if (pollerIssue) return parseProblem('bad-filters', { error: pollerIssue });
  return parsedValue(config);
}

export function parseEventInConfig(props: EventInProperties): Result<EventInConfig> {
  const mode = props.mode ?? 'webhook';
  if (mode === 'webhook') return parseWebhookMode(props);
  if (mode === 'simulate') return parseSimulateMode(props);
  if (mode === 'poll') return parsePollMode(props);
  return parseProblem('bad-mode', { mode: shownValue(mode) });
}
