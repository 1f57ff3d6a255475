// A fake FindFace API for tests: real HTTP (or HTTPS with a self-signed
// certificate made at test time) on 127.0.0.1, following FindFace Multi's
// published OpenAPI description (`findface-api/multi-openapi.json`):
// `Authorization: Token <token>` (401 without, with a wrong or an expired
// token); `POST /auth/login/` with HTTP Basic and `{uuid}`, answering
// `{token, user, token_expiration_datetime}` (a new token per login, valid
// `tokenLifetimeMs`); `GET /events/faces/` with `limit`, `ordering`
// (`id` / `-id`), a `page` cursor, `id_gte`… and the event filters it knows
// (`no_match`, `matched_card`, `matched_lists`, `cameras`, `camera_groups`,
// `created_date_gte/lte`, `id_in`), answering `{next_page, count, results}`;
// `GET /cameras/` (`{next_page, prev_page, results}`); `GET /camera-groups/`
// (`{results}`, no paging: its schema has none); `GET /cards/humans/{id}/`;
// `GET|POST /hooks/`, `GET|PATCH|DELETE /hooks/{id}/`. Unknown query
// parameters are ignored, as Django REST framework's filters do.
//
// `sloppy: true` behaves like the public Multi mock (digital-divas/
// FindFace-Multi-mock, src/routes/events.ts): events newest first whatever
// `ordering` says, `id_gte` ignored, `page` an offset and `next_page` the next
// offset. It can also be told to go down (connections refused), to answer
// errors (500 …), to answer late, or to redirect.
//
// `FakeEventSource` runs the same event query in memory (no HTTP) for pure
// poller tests on fake timers.
import { execFileSync } from 'child_process';
import { randomBytes } from 'crypto';
import fs from 'fs';
import http from 'http';
import https from 'https';
import net from 'net';
import os from 'os';
import path from 'path';
import { FindFaceApiError, nextPageCursor, Page, pageParams, Query, RawEvent, RequestOptions } from '../../nodes/lib/findface/findface-api';

export const FIRST_EVENT_ID = 4173669353687265180n;
const BASE_TIME = Date.parse('2019-04-09T12:29:23Z');

/**
 * The `seq`-th fake event, shaped like the seed's sample (FindFace Security
 * 3.x): id "4173669353687265180" + seq × 1000 (uint64 above 2^53, growing),
 * cameras 1..3, image URLs relative (`/uploads/…`) when `relative`.
 */
export function makeEvent(seq: number, overrides: Record<string, unknown> = {}, relative = false): Record<string, unknown> {
  const host = relative ? '' : 'http://172.20.77.17';
  const created = new Date(BASE_TIME + seq * 1000).toISOString().replace('.000Z', 'Z');
  return {
    acknowledged: false,
    acknowledged_by: null,
    acknowledged_date: null,
    acknowledged_reaction: null,
    camera: 1 + (seq % 3),
    confidence: 0.9098,
    created_date: created,
    face: `${host}/uploads/2019/04/09/event/${seq}_face.jpg`,
    features: { age: null, beard: null, emotions: null, gender: null, glasses: null, liveness: null },
    frame: `${host}/uploads/2019/04/09/event/${seq}_image.jpg`,
    frame_coords_bottom: 981,
    frame_coords_left: 1630,
    frame_coords_right: 1911,
    frame_coords_top: 701,
    id: String(FIRST_EVENT_ID + BigInt(seq) * 1000n),
    looks_like_confidence: null,
    matched: seq % 2 === 0,
    matched_dossier: seq % 2 === 0 ? 1 : null,
    matched_face: seq % 2 === 0 ? '4173665826982243136' : null,
    matched_lists: seq % 2 === 0 ? [1] : [],
    normalized_photo: `${host}/uploads/2019/04/09/event/${seq}_face0.png`,
    quality: -0.000158,
    scores: { direction_score: -2.62964, frame_no: 800 + seq, score: -0.000158435, tracking_duration: 34000 },
    ...overrides,
  };
}

export interface FakeCamera {
  id: number;
  group: number;
  name: string;
  [key: string]: unknown;
}

export type NextPageStyle = 'url' | 'query' | 'cursor';

export interface ListOptions {
  maxLimit: number;
  /** `{next_page, prev_page, results}` (cameras, hooks), `{next_page, count, results}` (events), `{results}` (camera groups). */
  answer: 'prev' | 'count' | 'plain';
  defaultLimit: number;
  nextPageStyle: NextPageStyle;
  /** Absolute URL of the endpoint, for `url` style next pages. */
  endpoint: string;
  withCount: boolean;
}

type Item = Record<string, unknown>;

function bigId(value: unknown): bigint | undefined {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
  if (typeof value === 'string' && /^\d+$/.test(value)) return BigInt(value);
  return undefined;
}

function encodeCursor(id: bigint): string {
  return Buffer.from(`p=${id}`).toString('base64url');
}

function decodeCursor(cursor: string): bigint | undefined {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const match = /^p=(\d+)$/.exec(text);
  return match ? BigInt(match[1]) : undefined;
}

/** A bad request as FindFace answers it. */
export class BadParam extends Error {
  constructor(
    readonly param: string,
    desc: string,
  ) {
    super(desc);
  }
}

function listValues(params: URLSearchParams, key: string): string[] {
  return params
    .getAll(key)
    .flatMap((v) => v.split(','))
    .filter((v) => v !== '');
}

/** Filters events by the FindFace query parameters the fake knows. */
export function eventMatches(event: Item, params: URLSearchParams, groupOfCamera: (camera: number) => number | undefined): boolean {
  const id = bigId(event.id);
  if (id === undefined) return true;
  const bound = (key: string) => {
    const value = params.get(key);
    if (value === null) return undefined;
    const parsed = bigId(value);
    if (parsed === undefined || parsed < 1n) throw new BadParam(key, 'ID must be non-zero uint64 number.');
    return parsed;
  };
  const gte = bound('id_gte');
  const gt = bound('id_gt');
  const lte = bound('id_lte');
  const lt = bound('id_lt');
  if (gte !== undefined && id < gte) return false;
  if (gt !== undefined && id <= gt) return false;
  if (lte !== undefined && id > lte) return false;
  if (lt !== undefined && id >= lt) return false;
  const cameraId = typeof event.camera === 'number' ? event.camera : (event.camera as { id?: number } | null)?.id;
  const cameras = listValues(params, 'cameras');
  if (cameras.length && !cameras.includes(String(cameraId))) return false;
  const groups = listValues(params, 'camera_groups');
  if (groups.length) {
    const group = typeof event.camera_group === 'number' ? event.camera_group : cameraId === undefined ? undefined : groupOfCamera(cameraId);
    if (group === undefined || !groups.includes(String(group))) return false;
  }
  const boolean = (key: string): boolean | undefined => {
    const value = params.get(key);
    if (value === null) return undefined;
    if (!/^(true|false|1|0|True|False)$/.test(value)) throw new BadParam(key, 'Must be a valid boolean.');
    return /^(true|1|True)$/.test(value);
  };
  const dossier = typeof event.matched_card === 'number' ? event.matched_card : typeof event.matched_dossier === 'number' ? event.matched_dossier : null;
  const noMatch = boolean('no_match');
  if (noMatch !== undefined) {
    const matched = event.matched === true || dossier !== null;
    if (noMatch === matched) return false;
  }
  const card = params.get('matched_card');
  if (card !== null) {
    if (!/^\d+$/.test(card)) throw new BadParam('matched_card', 'A valid integer is required.');
    if (dossier !== Number(card)) return false;
  }
  const lists = listValues(params, 'matched_lists');
  if (lists.length) {
    const eventLists = Array.isArray(event.matched_lists)
      ? event.matched_lists.map((l) => String(typeof l === 'object' && l ? (l as { id?: unknown }).id : l))
      : [];
    if (!eventLists.some((l) => lists.includes(l))) return false;
  }
  const ids = listValues(params, 'id_in');
  if (ids.length && !ids.includes(String(event.id))) return false;
  const createdLte = params.get('created_date_lte');
  if (createdLte !== null) {
    const at = Date.parse(createdLte);
    if (Number.isNaN(at)) throw new BadParam('created_date_lte', 'Enter a valid date/time.');
    if (Date.parse(String(event.created_date)) > at) return false;
  }
  const createdGte = params.get('created_date_gte');
  if (createdGte !== null) {
    const at = Date.parse(createdGte);
    if (Number.isNaN(at)) throw new BadParam('created_date_gte', 'Enter a valid date/time.');
    if (Date.parse(String(event.created_date)) < at) return false;
  }
  return true;
}

/** One page of `items` for `params` (limit, ordering id/-id, page cursor), FindFace-style. */
export function listPage(items: Item[], params: URLSearchParams, options: ListOptions, filter: (item: Item) => boolean): Record<string, unknown> {
  const ordering = params.get('ordering') ?? 'id';
  if (ordering !== 'id' && ordering !== '-id') throw new BadParam('ordering', `Invalid ordering "${ordering}"`);
  const descending = ordering === '-id';
  const rawLimit = params.get('limit');
  let limit = options.defaultLimit;
  if (rawLimit !== null) {
    limit = Number(rawLimit);
    if (!Number.isInteger(limit) || limit < 1) throw new BadParam('limit', 'A valid integer is required.');
  }
  limit = Math.min(limit, options.maxLimit);
  const cursorText = params.get('page');
  let after: bigint | undefined;
  if (cursorText !== null) {
    after = decodeCursor(cursorText);
    if (after === undefined) throw new BadParam('page', 'Invalid cursor');
  }
  const selected = items.filter(filter);
  selected.sort((a, b) => {
    const x = bigId(a.id) ?? 0n;
    const y = bigId(b.id) ?? 0n;
    return descending ? (x > y ? -1 : x < y ? 1 : 0) : x < y ? -1 : x > y ? 1 : 0;
  });
  const remaining =
    after === undefined
      ? selected
      : selected.filter((item) => {
          const id = bigId(item.id) ?? 0n;
          return descending ? id < after! : id > after!;
        });
  const results = remaining.slice(0, limit);
  let next: string | null = null;
  if (remaining.length > limit) {
    const cursor = encodeCursor(bigId(results[results.length - 1].id) ?? 0n);
    const nextParams = new URLSearchParams(params);
    nextParams.set('page', cursor);
    if (options.nextPageStyle === 'cursor') next = cursor;
    else if (options.nextPageStyle === 'query') next = `?${nextParams.toString()}`;
    else next = `${options.endpoint}?${nextParams.toString()}`;
  }
  return shaped(results, next, cursorText, selected.length, options);
}

function shaped(results: Item[], next: string | null, cursorText: string | null, count: number, options: ListOptions): Record<string, unknown> {
  if (options.answer === 'plain') return { results };
  const answer: Record<string, unknown> = { next_page: next };
  if (options.answer === 'prev') answer.prev_page = cursorText ? `${options.endpoint}?page=${encodeURIComponent(cursorText)}` : null;
  if (options.answer === 'count' || options.withCount) answer.count = count;
  answer.results = results;
  return answer;
}

/**
 * A page the way the public Multi mock answers: newest first whatever
 * `ordering` asks, `page` an offset (default 0), `next_page` the next
 * offset (or null at the end). `id_gte` and friends are not applied (the
 * caller leaves them out of `filter`).
 */
export function sloppyPage(items: Item[], params: URLSearchParams, options: ListOptions, filter: (item: Item) => boolean): Record<string, unknown> {
  const rawLimit = params.get('limit');
  const limit = Math.min(Math.max(1, Number(rawLimit) || 10), options.maxLimit);
  const offset = Math.max(0, Number(params.get('page')) || 0);
  const selected = items.filter(filter).sort((a, b) => {
    const x = bigId(a.id) ?? 0n;
    const y = bigId(b.id) ?? 0n;
    return x > y ? -1 : x < y ? 1 : 0;
  });
  const results = selected.slice(offset, offset + limit);
  const next = offset + limit < selected.length ? String(offset + limit) : null;
  return shaped(results, next, params.get('page'), selected.length, options);
}

/** The query without the id bounds a sloppy server ignores. */
export function withoutIdBounds(params: URLSearchParams): URLSearchParams {
  const effective = new URLSearchParams(params);
  for (const key of ['id_gte', 'id_gt', 'id_lte', 'id_lt']) effective.delete(key);
  return effective;
}

export interface FakeOptions {
  /** The valid API token (default "test-token-0123456789abcdef"). */
  token?: string;
  /** Users for /auth/login/ (default admin:admin). */
  users?: Record<string, string>;
  /** Serve HTTPS with this key and certificate (see selfSignedCert). */
  tls?: { key: string; cert: string };
  /** Most results per page, whatever `limit` asks (default 1000). */
  maxLimit?: number;
  nextPageStyle?: NextPageStyle;
  /** Add `count` to every list answer (events always have it, as documented). */
  withCount?: boolean;
  /** Behave like the public Multi mock (see sloppyPage). */
  sloppy?: boolean;
  /** How long a token from /auth/login/ is valid (default 24 h). The `token` option never expires. */
  tokenLifetimeMs?: number;
}

/** A human card as `GET /cards/humans/{id}/` answers it. */
export interface FakeCard {
  id: number;
  name: string;
  watch_lists: number[];
  [key: string]: unknown;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  body: string;
  status: number;
}

export interface Failure {
  status: number;
  body?: string;
  headers?: Record<string, string>;
}

export class FakeFindFace {
  readonly token: string;
  readonly users: Record<string, string>;
  events: Item[] = [];
  cameras: FakeCamera[] = [
    { id: 1, group: 1, name: 'Entrance' },
    { id: 2, group: 1, name: 'Lobby' },
    { id: 3, group: 2, name: 'Parking' },
  ];
  cameraGroups: Item[] = [
    { id: 1, name: 'Main building', active: true },
    { id: 2, name: 'Outdoor', active: true },
  ];
  readonly requests: RecordedRequest[] = [];
  /** Scripted failures, answered to the next requests (any path but /auth/login/). */
  failures: Failure[] = [];
  /** When set, every request (but /auth/login/) is answered with it. */
  outage: Failure | undefined;
  /** Answer this late (ms). */
  delayMs = 0;
  /** Answer list requests with a 301 to this URL. */
  redirectTo: string | undefined;
  /** Put the received Authorization header in 401 answers (to test that clients scrub it). */
  echoAuthorization = false;
  /** Human cards by id. */
  cards = new Map<number, FakeCard>();
  /** Webhooks by id, as `/hooks/` keeps them. */
  hooks = new Map<number, Item>();
  /** Tokens handed out by /auth/login/, with their expiry (ms since the epoch). */
  readonly issuedTokens = new Map<string, number>();
  /** Logins answered, with the uuid each one gave. */
  readonly logins: Array<{ user: string; uuid: string }> = [];
  sloppy: boolean;
  tokenLifetimeMs: number;
  /** Query parameters of /events/faces/ this server does not know (ignored, as a server ignores them). */
  ignoredParams: string[] = [];
  private nextHookId = 1;
  maxLimit: number;
  nextPageStyle: NextPageStyle;
  withCount: boolean;
  private server: http.Server | https.Server;
  private sockets = new Set<net.Socket>();
  private port = 0;
  private listening = false;
  private nextSeq = 0;

  private constructor(readonly options: FakeOptions) {
    this.token = options.token ?? 'test-token-0123456789abcdef';
    this.users = options.users ?? { admin: 'admin' };
    this.maxLimit = options.maxLimit ?? 1000;
    this.nextPageStyle = options.nextPageStyle ?? 'url';
    this.withCount = options.withCount ?? false;
    this.sloppy = options.sloppy ?? false;
    this.tokenLifetimeMs = options.tokenLifetimeMs ?? 24 * 3600 * 1000;
    const handler = (req: http.IncomingMessage, res: http.ServerResponse) => this.handle(req, res);
    this.server = options.tls ? https.createServer({ key: options.tls.key, cert: options.tls.cert }, handler) : http.createServer(handler);
    this.server.on('connection', (socket: net.Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    this.server.on('secureConnection', (socket: net.Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  static async start(options: FakeOptions = {}): Promise<FakeFindFace> {
    const fake = new FakeFindFace(options);
    await fake.up();
    return fake;
  }

  get url(): string {
    return `${this.options.tls ? 'https' : 'http'}://127.0.0.1:${this.port}`;
  }

  /** Appends `count` seed-shaped events with growing ids; answers them. */
  addEvents(count: number, overrides: Record<string, unknown> = {}, relative = false): Item[] {
    const added: Item[] = [];
    for (let i = 0; i < count; i++) added.push(makeEvent(this.nextSeq++, overrides, relative));
    this.events.push(...added);
    return added;
  }

  /** Requests to `path` (e.g. "/events/faces/"). */
  requestsTo(pathname: string): RecordedRequest[] {
    return this.requests.filter((r) => r.path === pathname);
  }

  /** Starts (again) listening, on the same port after down(). */
  async up(): Promise<void> {
    if (this.listening) return;
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.port, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.port = (this.server.address() as net.AddressInfo).port;
    this.listening = true;
  }

  /** Stops listening and drops open connections: requests now fail with ECONNREFUSED. */
  async down(): Promise<void> {
    if (!this.listening) return;
    this.listening = false;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  async close(): Promise<void> {
    await this.down();
  }

  private groupOfCamera = (camera: number): number | undefined => this.cameras.find((c) => c.id === camera)?.group;

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const record: RecordedRequest = { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: req.headers, body, status: 0 };
      this.requests.push(record);
      const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
        record.status = status;
        const text = typeof payload === 'string' ? payload : JSON.stringify(payload);
        const write = () => {
          if (res.destroyed) return;
          res.writeHead(status, { 'Content-Type': typeof payload === 'string' ? 'text/html' : 'application/json', ...headers });
          res.end(text);
        };
        if (this.delayMs > 0) setTimeout(write, this.delayMs);
        else write();
      };
      try {
        this.route(req, url, body, send);
      } catch (error) {
        if (error instanceof BadParam) send(400, { traceback: '', code: 'BAD_PARAM', desc: error.message, param: error.param });
        else send(500, { code: 'INTERNAL', desc: (error as Error).message });
      }
    });
  }

  private route(req: http.IncomingMessage, url: URL, body: string, send: (status: number, payload: unknown, headers?: Record<string, string>) => void): void {
    const method = req.method ?? 'GET';
    if (url.pathname === '/auth/login/' && method === 'POST') {
      this.login(req, body, send);
      return;
    }
    const failure = this.failures.shift() ?? this.outage;
    if (failure) {
      send(failure.status, failure.body ?? { code: 'INTERNAL', desc: 'Internal Server Error' }, failure.headers);
      return;
    }
    const auth = req.headers.authorization;
    if (!auth) {
      send(401, { code: 'UNAUTHORIZED', desc: 'Authentication credentials were not provided.' });
      return;
    }
    const given = auth.startsWith('Token ') ? auth.slice(6) : '';
    const expires = this.issuedTokens.get(given);
    if (given !== this.token && (expires === undefined || expires <= Date.now())) {
      const desc = expires !== undefined ? 'Token has expired.' : this.echoAuthorization ? `Invalid token: ${auth}` : 'Invalid token.';
      send(401, { code: 'UNAUTHORIZED', desc });
      return;
    }
    if (this.redirectTo) {
      send(301, '', { Location: this.redirectTo });
      return;
    }
    const listOptions = (endpoint: string, answer: ListOptions['answer']): ListOptions => ({
      maxLimit: this.maxLimit,
      answer,
      defaultLimit: 20,
      nextPageStyle: this.nextPageStyle,
      endpoint: `${this.url}${endpoint}`,
      withCount: this.withCount,
    });
    const hookMatch = /^\/hooks\/(\d+)\/$/.exec(url.pathname);
    if (url.pathname === '/hooks/' || hookMatch) {
      this.routeHooks(method, hookMatch ? Number(hookMatch[1]) : undefined, url, body, send, listOptions('/hooks/', 'prev'));
      return;
    }
    if (method !== 'GET') {
      send(405, { code: 'METHOD_NOT_ALLOWED', desc: `Method "${method}" not allowed.` });
      return;
    }
    const cardMatch = /^\/cards\/humans\/(\d+)\/$/.exec(url.pathname);
    if (cardMatch) {
      const card = this.cards.get(Number(cardMatch[1]));
      if (card) send(200, card);
      else send(404, { code: 'NOT_FOUND', desc: 'No HumanCard matches the given query.' });
      return;
    }
    switch (url.pathname) {
      case '/events/faces/': {
        const options = listOptions(url.pathname, 'count');
        const effective = this.sloppy ? withoutIdBounds(url.searchParams) : new URLSearchParams(url.searchParams);
        for (const key of this.ignoredParams) effective.delete(key);
        const page = this.sloppy ? sloppyPage : listPage;
        send(
          200,
          page(this.events, effective, options, (e) => eventMatches(e, effective, this.groupOfCamera)),
        );
        return;
      }
      case '/cameras/':
        send(
          200,
          listPage(this.cameras, url.searchParams, listOptions(url.pathname, 'prev'), () => true),
        );
        return;
      case '/camera-groups/':
        // Documented without paging: every group in one answer.
        send(200, { results: this.cameraGroups });
        return;
      default:
        send(404, { code: 'NOT_FOUND', desc: 'Not found.' });
    }
  }

  private routeHooks(
    method: string,
    id: number | undefined,
    url: URL,
    body: string,
    send: (status: number, payload: unknown) => void,
    options: ListOptions,
  ): void {
    if (id === undefined) {
      if (method === 'GET') {
        send(
          200,
          listPage([...this.hooks.values()], url.searchParams, options, () => true),
        );
        return;
      }
      if (method !== 'POST') {
        send(405, { code: 'METHOD_NOT_ALLOWED', desc: `Method "${method}" not allowed.` });
        return;
      }
    }
    const existing = id === undefined ? undefined : this.hooks.get(id);
    if (id !== undefined && !existing) {
      send(404, { code: 'NOT_FOUND', desc: 'No WebHook matches the given query.' });
      return;
    }
    if (method === 'GET') {
      send(200, existing);
      return;
    }
    if (method === 'DELETE') {
      this.hooks.delete(id as number);
      send(204, '');
      return;
    }
    if (method !== 'POST' && method !== 'PATCH') {
      send(405, { code: 'METHOD_NOT_ALLOWED', desc: `Method "${method}" not allowed.` });
      return;
    }
    let given: Record<string, unknown>;
    try {
      given = JSON.parse(body || '{}') as Record<string, unknown>;
    } catch {
      send(400, { code: 'BAD_PARAM', desc: 'JSON parse error' });
      return;
    }
    const required = method === 'POST' ? ['name', 'active', 'url', 'filters'] : [];
    for (const key of required) {
      if (!(key in given)) {
        send(400, { traceback: '', code: 'BAD_PARAM', desc: 'This field is required.', param: key });
        return;
      }
    }
    const checks: Array<[string, (v: unknown) => boolean, string]> = [
      ['name', (v) => typeof v === 'string' && v.length >= 2 && v.length <= 100, 'Ensure this field has 2 to 100 characters.'],
      ['active', (v) => typeof v === 'boolean', 'Must be a valid boolean.'],
      ['url', (v) => typeof v === 'string' && /^https?:\/\/[^\s]+$/.test(v) && v.length <= 300, 'Enter a valid URL.'],
      ['batch_size', (v) => Number.isInteger(v) && (v as number) >= 1, 'Ensure this value is greater than or equal to 1.'],
      ['send_attempts', (v) => Number.isInteger(v) && (v as number) >= 0, 'Ensure this value is greater than or equal to 0.'],
      ['filters', (v) => typeof v === 'object' && v !== null && !Array.isArray(v), 'Expected a dictionary of items.'],
    ];
    for (const [key, ok, desc] of checks) {
      if (key in given && !ok(given[key])) {
        send(400, { traceback: '', code: 'BAD_PARAM', desc, param: key });
        return;
      }
    }
    const now = new Date().toISOString();
    const writable = ['name', 'active', 'url', 'batch_size', 'send_attempts', 'filters'];
    const fields: Item = {};
    for (const key of writable) if (key in given) fields[key] = given[key];
    if (existing) {
      Object.assign(existing, fields, { modified_date: now });
      send(200, existing);
      return;
    }
    const hook: Item = { id: this.nextHookId++, batch_size: 1, send_attempts: 10, ...fields, created_by: 1, created_date: now, modified_date: now };
    this.hooks.set(hook.id as number, hook);
    send(201, hook);
  }

  private login(req: http.IncomingMessage, body: string, send: (status: number, payload: unknown) => void): void {
    let parsed: Record<string, unknown> = {};
    try {
      parsed = JSON.parse(body || '{}');
    } catch {
      send(400, { code: 'BAD_PARAM', desc: 'JSON parse error' });
      return;
    }
    if (!parsed.uuid) {
      send(400, { traceback: '', code: 'BAD_PARAM', desc: 'This field is required.', param: 'uuid' });
      return;
    }
    const auth = req.headers.authorization ?? '';
    if (!auth.startsWith('Basic ')) {
      send(401, { code: 'UNAUTHORIZED', desc: 'Authentication credentials were not provided.' });
      return;
    }
    const [user, ...rest] = Buffer.from(auth.slice(6), 'base64').toString('utf8').split(':');
    if (this.users[user] === undefined || this.users[user] !== rest.join(':')) {
      send(401, { code: 'UNAUTHORIZED', desc: 'Invalid username/password.' });
      return;
    }
    const token = randomBytes(20).toString('hex');
    const expires = Date.now() + this.tokenLifetimeMs;
    this.issuedTokens.set(token, expires);
    this.logins.push({ user, uuid: String(parsed.uuid) });
    send(200, {
      token,
      user: { id: 1, name: user, active: true },
      token_expiration_datetime: new Date(expires).toISOString(),
    });
  }
}

let cachedCert: { key: string; cert: string } | null | undefined;

/**
 * A self-signed certificate for 127.0.0.1 (and localhost), made with the
 * openssl CLI in a temporary directory; null when openssl is missing.
 */
export function selfSignedCert(): { key: string; cert: string } | null {
  if (cachedCert !== undefined) return cachedCert;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fake-findface-tls-'));
  try {
    const keyFile = path.join(dir, 'key.pem');
    const certFile = path.join(dir, 'cert.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        keyFile,
        '-out',
        certFile,
        '-days',
        '2',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
      ],
      { stdio: 'ignore', timeout: 20000 },
    );
    cachedCert = { key: fs.readFileSync(keyFile, 'utf8'), cert: fs.readFileSync(certFile, 'utf8') };
  } catch {
    cachedCert = null;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return cachedCert;
}

/**
 * The event query of FakeFindFace, in memory: an EventSource for pure poller
 * tests. `fail` scripts failures (FindFaceApiError) for the next calls.
 */
export class FakeEventSource {
  events: Item[] = [];
  cameras: FakeCamera[] = [];
  calls: Array<{ params: URLSearchParams }> = [];
  failures: FindFaceApiError[] = [];
  outage: FindFaceApiError | undefined;
  maxLimit = 1000;
  nextPageStyle: NextPageStyle = 'cursor';
  /** When set, results come in this order regardless of `ordering` (a misbehaving server). */
  shuffle: ((items: Item[]) => Item[]) | undefined;
  /** When true, id_gte and friends are ignored (a server that does not know them). */
  ignoreIdFilters = false;
  /** Behave like the public Multi mock (see sloppyPage). */
  sloppy = false;
  /** Query parameters the server does not know (left out before filtering, as a server ignores them). */
  ignoredParams: string[] = [];
  /** Answer next_page null always (the public mock does). */
  noNextPage = false;
  private nextSeq = 0;

  addEvents(count: number, overrides: Record<string, unknown> = {}): Item[] {
    const added: Item[] = [];
    for (let i = 0; i < count; i++) added.push(makeEvent(this.nextSeq++, overrides));
    this.events.push(...added);
    return added;
  }

  async listEvents(query: Query, pageCursor?: string | null, options: RequestOptions = {}): Promise<Page<RawEvent>> {
    const params = pageParams(query, pageCursor);
    this.calls.push({ params });
    await Promise.resolve();
    if (options.signal?.aborted) throw new FindFaceApiError('aborted', 'GET /events/faces/: cancelled');
    const failure = this.failures.shift() ?? this.outage;
    if (failure) throw failure;
    let effective = new URLSearchParams(params);
    if (this.ignoreIdFilters || this.sloppy) effective = withoutIdBounds(effective);
    for (const key of this.ignoredParams) effective.delete(key);
    const list: ListOptions = {
      maxLimit: this.maxLimit,
      answer: 'count',
      defaultLimit: 20,
      nextPageStyle: this.nextPageStyle,
      endpoint: 'http://fake/events/faces/',
      withCount: false,
    };
    const filter = (e: Item) => eventMatches(e, effective, (camera) => this.cameras.find((c) => c.id === camera)?.group);
    let answer: Record<string, unknown>;
    try {
      answer = this.sloppy ? sloppyPage(this.events, effective, list, filter) : listPage(this.events, effective, list, filter);
    } catch (error) {
      if (error instanceof BadParam) {
        throw new FindFaceApiError('client', `GET /events/faces/: HTTP 400 Bad Request: ${error.message} (${error.param})`, 400);
      }
      throw error;
    }
    let results = answer.results as Item[];
    if (this.shuffle) results = this.shuffle(results);
    return { results, nextPage: this.noNextPage ? null : nextPageCursor(answer.next_page) };
  }
}
