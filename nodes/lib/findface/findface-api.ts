// A small client for FindFace's REST API (FindFace Security 4.x / FindFace
// Multi; FindFace Security 3.x when the URL includes its API prefix): face
// events, cameras and camera groups, and the token login. No Node-RED import.
//
// Documented by NtechLab (docs.ntechlab.com, FindFace Multi 2.x "API"):
// - every request carries `Authorization: Token <token>`; a token comes from
//   `POST /auth/login/` sent with HTTP Basic credentials and a JSON body
//   `{"uuid": "<session id>"}`, answering `{token, user, token_expiration_datetime}`;
// - list endpoints (`GET /camera-groups/`, `/cameras/`, `/events/faces/` …) take
//   `limit` (results per page), `ordering` (a field, `-` for descending) and
//   `page` (a pagination cursor value) and answer
//   `{next_page: string|null, prev_page: string|null, results: [...]}`
//   (some versions add `count`).
// Assumed where the documentation is silent: `next_page` is either the bare
// cursor value or a URL/query string holding it; array filters
// (`cameras`, `camera_groups` …) are sent as repeated parameters
// (`cameras=1&cameras=2`, the Django-filter convention).
//
// This client makes single attempts: retrying is the caller's choice, guided by
// `FindFaceApiError.retryable`. The API token never appears in an error message,
// an error's properties or a log line: errors are built here, never wrapped
// around axios' errors (whose `config` holds the request headers).
import http from 'http';
import https from 'https';
import { randomUUID, X509Certificate } from 'crypto';
import type { AxiosInstance } from 'axios';
import { rawHttpClient } from '../common/raw-http';

/** Query parameters as FindFace takes them; arrays become repeated parameters. */
export type QueryValue = string | number | boolean | ReadonlyArray<string | number>;
export type Query = Record<string, QueryValue | undefined | null>;

export interface TlsOptions {
  /** Extra trusted CA certificate(s), PEM text (for a self-signed FindFace certificate). */
  ca?: string;
  /** Verify the server's certificate (default true). */
  rejectUnauthorized: boolean;
}

/**
 * Where a client gets its token when it is not fixed (session.ts's
 * LoginSession: logs in with a user name and password, renews the token).
 */
export interface TokenSource {
  /** The token to send now (logging in first when there is none or it is about to expire). */
  token(options: RequestOptions): Promise<string>;
  /** FindFace refused `token` (401): drop it. True when one more try with a new token may help. */
  refused(token: string): boolean;
  /** Texts that must never appear in a message (the password, tokens). */
  secrets(): string[];
}

export interface ClientOptions {
  /** FindFace's address, e.g. `https://findface.example:443` (a path prefix is kept). */
  baseUrl: string;
  /**
   * API token (sent as `Authorization: Token <token>`); '' sends none (for
   * login()); a TokenSource for a token that comes from a login.
   */
  token: string | TokenSource;
  /** Per request; 0 = no timeout. */
  timeoutMs: number;
  tls?: TlsOptions;
  /** Answers larger than this fail (default 64 MB). */
  maxResponseBytes?: number;
}

export interface RequestOptions {
  signal?: AbortSignal;
}

/** One page of a list endpoint. */
export interface Page<T> {
  results: T[];
  /** Pass to the next call to get the following page; null on the last page. */
  nextPage: string | null;
  /** Total count when the server gives one. */
  count?: number;
}

/** A face event as listed (validated by the caller with event.ts). */
export type RawEvent = Record<string, unknown>;

export interface Camera {
  id: number;
  /** The camera group's id (`group`, an integer or an object with `id`); undefined when absent. */
  group: number | undefined;
  name?: string;
  [key: string]: unknown;
}

/** A human card (`HumanCard` in Multi's OpenAPI); `watch_lists` as ids. */
export interface HumanCard {
  id: number;
  name: string;
  watch_lists: number[];
  [key: string]: unknown;
}

/** What a webhook is set up with (`WebhookRequest` in Multi's OpenAPI). */
export interface HookSettings {
  name: string;
  active: boolean;
  url: string;
  batch_size?: number;
  send_attempts?: number;
  /** Flat (Security 4.x) or in sections (Multi: `{"face_events": {...}}`), as the server takes it. */
  filters: Record<string, unknown>;
}

/** A webhook as FindFace answers it. */
export interface Hook extends Partial<HookSettings> {
  id: number;
  [key: string]: unknown;
}

export interface CameraGroup {
  id: number;
  name?: string;
  [key: string]: unknown;
}

export type ApiErrorKind =
  /** 401/403: the token is missing, wrong, expired or lacks permission. Retrying at once cannot help. */
  | 'auth'
  /** Connection refused/reset, DNS failure … the server or the network is down. Retry with backoff. */
  | 'network'
  /** No answer within the timeout. Retry with backoff. */
  | 'timeout'
  /** 5xx or 429. Retry with backoff. */
  | 'server'
  /** Certificate not trusted, wrong host name, handshake failure: a configuration problem. */
  | 'tls'
  /** Another 4xx (400 for a bad filter, 404 for a wrong URL …): a configuration problem. */
  | 'client'
  /** The answer is not what FindFace answers (not JSON, wrong shape, a redirect). */
  | 'protocol'
  /** Cancelled by the caller (AbortSignal). */
  | 'aborted'
  /** The options themselves are unusable (bad URL, token with control characters …). */
  | 'config';

type Method = 'GET' | 'POST' | 'PATCH';

const RETRYABLE: ReadonlySet<ApiErrorKind> = new Set(['network', 'timeout', 'server']);

/** Every failure of the client. Holds no request headers, so logging it is safe. */
export class FindFaceApiError extends Error {
  readonly kind: ApiErrorKind;
  /** FindFace's HTTP status, when it answered. */
  readonly status?: number;
  /** A Node.js/axios error code (ECONNREFUSED, ETIMEDOUT, DEPTH_ZERO_SELF_SIGNED_CERT …), when there is one. */
  readonly code?: string;
  /** True for failures that may go away by themselves (network, timeout, 5xx, 429). */
  readonly retryable: boolean;

  constructor(kind: ApiErrorKind, message: string, status?: number, code?: string) {
    super(message);
    this.name = 'FindFaceApiError';
    this.kind = kind;
    if (status !== undefined) this.status = status;
    if (code !== undefined) this.code = code;
    this.retryable = RETRYABLE.has(kind);
  }
}

export function isFindFaceApiError(error: unknown): error is FindFaceApiError {
  return error instanceof FindFaceApiError;
}

const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024;
/** Safety stops for "all pages" loops (a server whose cursor never ends). */
const MAX_PAGES = 10000;
const LIST_PAGE_SIZE = 1000;
const TLS_CODE = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ERR_TLS|ERR_SSL|EPROTO|HOSTNAME/i;
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EHOSTDOWN',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
]);

/** Checks a FindFace address: an http(s) URL without credentials, query or fragment. */
export function baseUrlProblem(url: string): string | null {
  if (typeof url !== 'string' || url.trim() === '') return 'the FindFace URL is empty';
  let parsed: URL;
  try {
    parsed = new URL(url.trim());
  } catch {
    return `the FindFace URL "${url}" is not a URL`;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return `the FindFace URL must start with http:// or https:// (got "${url}")`;
  if (parsed.username || parsed.password) return 'the FindFace URL must not contain a user name or password (use the API token)';
  if (parsed.search || parsed.hash) return 'the FindFace URL must not contain a query (?…) or fragment (#…)';
  return null;
}

/** Checks an API token: visible ASCII only (it goes into a header). Never echoes the token. */
export function tokenProblem(token: string): string | null {
  if (typeof token !== 'string' || token.length === 0) return 'no API token is set';
  if (!/^[\x21-\x7e]+$/.test(token)) return 'the API token contains spaces or characters that cannot be sent in an HTTP header';
  return null;
}

/** Checks PEM text for a CA: parsable by Node's TLS. Null when usable or empty. */
export function caProblem(ca: string | undefined): string | null {
  if (!ca || ca.trim() === '') return null;
  const blocks = ca.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g);
  if (!blocks) return 'the CA certificate is not PEM text (-----BEGIN CERTIFICATE----- …)';
  for (const block of blocks) {
    try {
      new X509Certificate(block);
    } catch (error) {
      return `the CA certificate cannot be read: ${(error as Error).message}`;
    }
  }
  return null;
}

/** `a=1&cameras=2&cameras=3`: arrays as repeated parameters, undefined/null left out. */
export function toSearchParams(query: Query): URLSearchParams {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null) continue;
    if (Array.isArray(value)) {
      for (const item of value) params.append(key, String(item));
    } else {
      params.append(key, String(value));
    }
  }
  return params;
}

/**
 * The page cursor in a `next_page` value: a bare cursor is kept as it is; a
 * URL or query string (`http://…/events/faces/?page=abc&limit=10`,
 * `?page=abc`) is kept as its query string (`?page=abc&limit=10`), which the
 * next call sends to the same endpoint of the configured server (never to the
 * host named in the URL). Null for the last page.
 */
export function nextPageCursor(nextPage: unknown): string | null {
  if (typeof nextPage !== 'string' || nextPage.trim() === '') return null;
  const value = nextPage.trim();
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value) || value.startsWith('/') || value.startsWith('?')) {
    let search: string;
    try {
      search = new URL(value, 'http://placeholder.invalid').search;
    } catch {
      return null;
    }
    return search.length > 1 ? search : null;
  }
  return value;
}

/** Parameters for a list request: `query` plus the cursor (see nextPageCursor). */
export function pageParams(query: Query, pageCursor?: string | null): URLSearchParams {
  // A next_page URL given as it is counts as its query string.
  const cursor = pageCursor && /^([a-z][a-z0-9+.-]*:\/\/|\/)/i.test(pageCursor) ? nextPageCursor(pageCursor) : pageCursor;
  if (cursor && cursor.startsWith('?')) return new URLSearchParams(cursor);
  const params = toSearchParams(query);
  if (cursor) params.set('page', cursor);
  return params;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function idOf(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
  if (isRecord(value) && typeof value.id === 'number' && Number.isSafeInteger(value.id)) return value.id;
  return undefined;
}

/** Removes every occurrence of `secret` from `text` (for texts echoed from the server). */
function scrub(text: string, secret: string | readonly string[]): string {
  let result = text;
  for (const one of typeof secret === 'string' ? [secret] : secret) {
    if (!one || one.length < 4) continue;
    result = result.split(one).join('***');
  }
  return result;
}

function short(text: string, max = 200): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > max ? `${oneLine.slice(0, max - 1)}…` : oneLine;
}

/** FindFace's error answer `{code, desc, param}` (or DRF's `{detail}`) in a few words. */
function describeErrorBody(body: string): string {
  try {
    const parsed: unknown = JSON.parse(body);
    if (isRecord(parsed)) {
      const parts: string[] = [];
      for (const key of ['desc', 'detail', 'message', 'error']) {
        if (typeof parsed[key] === 'string') {
          parts.push(parsed[key] as string);
          break;
        }
      }
      if (typeof parsed.param === 'string') parts.push(`(${parsed.param})`);
      if (parts.length) return parts.join(' ');
      if (typeof parsed.code === 'string') return parsed.code;
    }
  } catch {
    // not JSON: fall through
  }
  return body.trim().startsWith('<') ? '' : body;
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** Makes relative image URLs absolute; see absolutiseUrls. */
export const IMAGE_URL_FIELDS: readonly string[] = Object.freeze(['face', 'frame', 'normalized_photo', 'thumbnail', 'fullframe']);

const HAS_SCHEME = /^[a-z][a-z0-9+.-]*:/i;

/**
 * The event with its relative image URLs (`face`, `frame`, `normalized_photo`,
 * `thumbnail`, `fullframe`) made absolute with `externalAddress` (FindFace's
 * SERVICE_EXTERNAL_ADDRESS, e.g. `http://172.20.77.17`; a path prefix is kept:
 * `http://host/ff` + `/uploads/a.jpg` = `http://host/ff/uploads/a.jpg`).
 * Absolute URLs (any scheme) and non-string values stay as they are; a
 * protocol-relative `//host/a.jpg` takes the external address' scheme. The
 * input is not changed: the answer is a shallow copy differing only in those
 * fields, or the event itself when nothing needs changing (or
 * `externalAddress` is empty).
 */
export function absolutiseUrls<T extends Record<string, unknown>>(event: T, externalAddress: string | undefined | null): T {
  if (!externalAddress || !isRecord(event)) return event;
  const base = externalAddress.trim().replace(/\/+$/, '');
  if (!base) return event;
  const scheme = /^([a-z][a-z0-9+.-]*:)/i.exec(base)?.[1] ?? 'http:';
  let copy: Record<string, unknown> | undefined;
  for (const field of IMAGE_URL_FIELDS) {
    const value = event[field];
    if (typeof value !== 'string' || value === '' || HAS_SCHEME.test(value)) continue;
    let absolute: string;
    if (value.startsWith('//')) absolute = `${scheme}${value}`;
    else if (value.startsWith('/')) absolute = `${base}${value}`;
    else absolute = `${base}/${value}`;
    copy = copy ?? { ...event };
    copy[field] = absolute;
  }
  return (copy as T | undefined) ?? event;
}

/** The configured server's client. Create one per configuration; `destroy()` closes its sockets. */
export class FindFaceClient {
  readonly baseUrl: string;
  private readonly token: string;
  private readonly tokenSource: TokenSource | undefined;
  private readonly http: AxiosInstance;
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;

  /** Throws FindFaceApiError (kind `config`) for an unusable URL, token or CA. */
  constructor(options: ClientOptions) {
    const fixed = typeof options.token === 'string' ? options.token : '';
    const problem = baseUrlProblem(options.baseUrl) ?? (fixed === '' ? null : tokenProblem(fixed)) ?? caProblem(options.tls?.ca);
    if (problem) throw new FindFaceApiError('config', problem);
    this.baseUrl = options.baseUrl.trim().replace(/\/+$/, '');
    this.token = fixed;
    this.tokenSource = typeof options.token === 'string' ? undefined : options.token;
    this.httpAgent = new http.Agent({ keepAlive: true, maxSockets: 4 });
    this.httpsAgent = new https.Agent({
      keepAlive: true,
      maxSockets: 4,
      ca: options.tls?.ca && options.tls.ca.trim() ? options.tls.ca : undefined,
      rejectUnauthorized: options.tls?.rejectUnauthorized !== false,
    });
    // Redirects are not followed: the token must not travel to another address.
    this.http = rawHttpClient({
      httpAgent: this.httpAgent,
      httpsAgent: this.httpsAgent,
      timeoutMs: Number.isFinite(options.timeoutMs) ? options.timeoutMs : 0,
      maxResponseBytes: options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
    });
  }

  /** Closes the keep-alive sockets. */
  destroy(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  /**
   * `GET /events/faces/` with `query` (filters, `ordering`, `limit`, …
   * passed through as FindFace takes them) and, for the following pages, the
   * `nextPage` of the previous answer.
   */
  async listEvents(query: Query, pageCursor?: string | null, options: RequestOptions = {}): Promise<Page<RawEvent>> {
    return this.listPage<RawEvent>('/events/faces/', query, pageCursor, options, (item) => (isRecord(item) ? item : undefined));
  }

  /** Every camera (`GET /cameras/`, all pages), with its group id. */
  async listCameras(options: RequestOptions = {}): Promise<Camera[]> {
    return this.listAll<Camera>('/cameras/', options, (item) => {
      if (!isRecord(item)) return undefined;
      const id = idOf(item.id);
      if (id === undefined) return undefined;
      return { ...item, id, group: idOf(item.group) } as Camera;
    });
  }

  /** Every camera group (`GET /camera-groups/`, all pages). */
  async listCameraGroups(options: RequestOptions = {}): Promise<CameraGroup[]> {
    return this.listAll<CameraGroup>('/camera-groups/', options, (item) => {
      if (!isRecord(item)) return undefined;
      const id = idOf(item.id);
      return id === undefined ? undefined : ({ ...item, id } as CameraGroup);
    });
  }

  /** A human card (`GET /cards/humans/{id}/`): its name and watch lists, with every other field kept. */
  async getHumanCard(id: number, options: RequestOptions = {}): Promise<HumanCard> {
    if (!Number.isSafeInteger(id) || id < 0) throw new FindFaceApiError('config', `the card id ${String(id)} is not a whole number`);
    const path = `/cards/humans/${id}/`;
    const body = await this.authorised('GET', path, undefined, undefined, options);
    if (!isRecord(body) || idOf(body.id) === undefined) throw new FindFaceApiError('protocol', `GET ${path}: the answer is not a card`);
    const lists = Array.isArray(body.watch_lists) ? body.watch_lists.map(idOf).filter((v): v is number => v !== undefined) : [];
    return { ...body, id: idOf(body.id) as number, name: typeof body.name === 'string' ? body.name : '', watch_lists: lists };
  }

  /** Every webhook (`GET /hooks/`, all pages). */
  async listHooks(options: RequestOptions = {}): Promise<Hook[]> {
    return this.listAll<Hook>('/hooks/', options, (item) =>
      isRecord(item) && idOf(item.id) !== undefined ? ({ ...item, id: idOf(item.id) } as Hook) : undefined,
    );
  }

  /** Creates a webhook (`POST /hooks/`); answers it as FindFace stored it. */
  async createHook(hook: HookSettings, options: RequestOptions = {}): Promise<Hook> {
    return this.hookAnswer('POST /hooks/', await this.authorised('POST', '/hooks/', undefined, hook, options));
  }

  /** Changes a webhook (`PATCH /hooks/{id}/`); answers it as FindFace stored it. */
  async updateHook(id: number, hook: Partial<HookSettings>, options: RequestOptions = {}): Promise<Hook> {
    const path = `/hooks/${id}/`;
    return this.hookAnswer(`PATCH ${path}`, await this.authorised('PATCH', path, undefined, hook, options));
  }

  private hookAnswer(what: string, body: unknown): Hook {
    if (!isRecord(body) || idOf(body.id) === undefined) throw new FindFaceApiError('protocol', `${what}: the answer is not a webhook`);
    return { ...body, id: idOf(body.id) } as Hook;
  }

  private async listAll<T>(path: string, options: RequestOptions, convert: (item: unknown) => T | undefined): Promise<T[]> {
    const all: T[] = [];
    const seen = new Set<string>();
    let cursor: string | null = null;
    for (let pages = 0; pages < MAX_PAGES; pages++) {
      const page: Page<T> = await this.listPage<T>(path, { limit: LIST_PAGE_SIZE, ordering: 'id' }, cursor, options, convert);
      all.push(...page.results);
      if (!page.nextPage || seen.has(page.nextPage)) return all;
      seen.add(page.nextPage);
      cursor = page.nextPage;
    }
    throw new FindFaceApiError('protocol', `GET ${path}: more than ${MAX_PAGES} pages`);
  }

  private async listPage<T>(
    path: string,
    query: Query,
    cursor: string | null | undefined,
    options: RequestOptions,
    convert: (item: unknown) => T | undefined,
  ): Promise<Page<T>> {
    const params = pageParams(query, cursor);
    const body = await this.authorised('GET', path, params, undefined, options);
    if (!isRecord(body) || !Array.isArray(body.results)) {
      throw new FindFaceApiError('protocol', `GET ${path}: the answer has no "results" list; is the URL FindFace's API address?`);
    }
    const results: T[] = [];
    for (const item of body.results) {
      const converted = convert(item);
      if (converted !== undefined) results.push(converted);
    }
    const page: Page<T> = { results, nextPage: nextPageCursor(body.next_page) };
    if (typeof body.count === 'number' && Number.isFinite(body.count)) page.count = body.count;
    return page;
  }

  /**
   * `POST /auth/login/` with HTTP Basic credentials; answers the new token and
   * its expiry as FindFace gives them. (Login tokens expire; the node needs one
   * that lives as long as the poll should run.)
   */
  async login(username: string, password: string, options: RequestOptions & { uuid?: string } = {}): Promise<{ token: string; expires?: string }> {
    const basic = Buffer.from(`${username}:${password}`, 'utf8').toString('base64');
    const body = await this.request('POST', '/auth/login/', undefined, { uuid: options.uuid ?? randomUUID() }, options, `Basic ${basic}`, password);
    if (!isRecord(body) || typeof body.token !== 'string' || body.token === '') {
      throw new FindFaceApiError('protocol', 'POST /auth/login/: the answer holds no token');
    }
    const result: { token: string; expires?: string } = { token: body.token };
    if (typeof body.token_expiration_datetime === 'string') result.expires = body.token_expiration_datetime;
    return result;
  }

  /**
   * A request with the API token: the fixed one, or the token source's, which
   * after a 401 gets one more try with a new token (an expired login token
   * recovers by itself).
   */
  private async authorised(method: Method, path: string, params: URLSearchParams | undefined, data: unknown, options: RequestOptions): Promise<unknown> {
    const source = this.tokenSource;
    if (!source) return this.request(method, path, params, data, options);
    for (let attempt = 0; ; attempt++) {
      const token = await source.token(options);
      const problem = tokenProblem(token);
      if (problem) throw new FindFaceApiError('protocol', `POST /auth/login/: ${problem}`);
      try {
        return await this.request(method, path, params, data, options, `Token ${token}`, source.secrets());
      } catch (error) {
        if (attempt === 0 && isFindFaceApiError(error) && error.status === 401 && source.refused(token)) continue;
        throw error;
      }
    }
  }

  private async request(
    method: Method,
    path: string,
    params: URLSearchParams | undefined,
    data: unknown,
    options: RequestOptions,
    authorization: string | undefined = this.token ? `Token ${this.token}` : undefined,
    secret: string | readonly string[] = this.token,
  ): Promise<unknown> {
    const query = params && [...params.keys()].length ? `?${params.toString()}` : '';
    const url = `${this.baseUrl}${path}${query}`;
    const what = `${method} ${path}`;
    let response;
    try {
      response = await this.http.request({
        method,
        url,
        data: data === undefined ? undefined : JSON.stringify(data),
        signal: options.signal,
        headers: {
          ...(authorization ? { Authorization: authorization } : {}),
          Accept: 'application/json',
          ...(data === undefined ? {} : { 'Content-Type': 'application/json' }),
        },
      });
    } catch (error) {
      throw this.transportError(what, error, secret);
    }
    const status = response.status;
    const text = typeof response.data === 'string' ? response.data : '';
    if (status >= 200 && status < 300) {
      try {
        return JSON.parse(text);
      } catch {
        throw new FindFaceApiError('protocol', `${what}: the answer is not JSON; is the URL FindFace's API address?`, status);
      }
    }
    const statusText = response.statusText || STATUS_TEXT[status] || '';
    const detail = short(scrub(describeErrorBody(text), secret));
    const head = `${what}: HTTP ${status}${statusText ? ` ${statusText}` : ''}`;
    const message = detail ? `${head}: ${detail}` : head;
    if (status === 401 || status === 403) throw new FindFaceApiError('auth', message, status);
    if (status >= 300 && status < 400) {
      const location = response.headers?.location;
      const where = typeof location === 'string' ? ` to ${short(scrub(location, secret), 120)}` : '';
      throw new FindFaceApiError('protocol', `${head} redirect${where}: set the server URL to the address FindFace answers on`, status);
    }
    if (status >= 500 || status === 429) throw new FindFaceApiError('server', message, status);
    throw new FindFaceApiError('client', message, status);
  }

  private transportError(what: string, error: unknown, secret: string | readonly string[]): FindFaceApiError {
    const err = error as { code?: unknown; message?: unknown; name?: unknown; cause?: { code?: unknown } };
    const code = typeof err?.code === 'string' ? err.code : typeof err?.cause?.code === 'string' ? err.cause.code : undefined;
    const raw = typeof err?.message === 'string' ? err.message : String(error);
    const message = `${what}: ${short(scrub(raw, secret))}`;
    if (code === 'ERR_CANCELED' || err?.name === 'CanceledError' || err?.name === 'AbortError') {
      return new FindFaceApiError('aborted', `${what}: cancelled`, undefined, code);
    }
    if (code === 'ECONNABORTED' || code === 'ETIMEDOUT' || /timeout/i.test(raw)) {
      return new FindFaceApiError('timeout', message, undefined, code);
    }
    if (code === 'ERR_FR_MAX_CONTENT_LENGTH_EXCEEDED' || code === 'ERR_BAD_RESPONSE') {
      return new FindFaceApiError('protocol', message, undefined, code);
    }
    if (code && TLS_CODE.test(code)) return new FindFaceApiError('tls', message, undefined, code);
    if (code && NETWORK_CODES.has(code)) return new FindFaceApiError('network', message, undefined, code);
    if (/certificate|ssl|tls/i.test(raw)) return new FindFaceApiError('tls', message, undefined, code);
    if (code === 'ERR_INVALID_CHAR' || code === 'ERR_INVALID_URL') return new FindFaceApiError('config', message, undefined, code);
    // Unknown transport failures (socket hang up …) are treated as network trouble.
    return new FindFaceApiError('network', message, undefined, code);
  }
}
