// A fake FindFace API for tests: real HTTP (or HTTPS with a self-signed
// certificate made at test time) on 127.0.0.1, following the documented API:
// `Authorization: Token <token>` (401 without or with a wrong token),
// `POST /auth/login/` with HTTP Basic and `{uuid}`, and the list endpoints
// `GET /events/faces/`, `/cameras/`, `/camera-groups/` with `limit`,
// `ordering` (`id` / `-id`), a `page` cursor and `{next_page, prev_page,
// results}` answers. It can be told to go down (connections refused), to
// answer errors (500 …), to answer late, or to redirect.
//
// `FakeEventSource` runs the same event query in memory (no HTTP) for pure
// poller tests on fake timers.
import { execFileSync } from 'child_process';
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
  return params.getAll(key).flatMap((v) => v.split(',')).filter((v) => v !== '');
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
  const matched = params.get('matched');
  if (matched !== null) {
    const want = /^(true|1|True)$/.test(matched);
    if (!/^(true|false|1|0|True|False)$/.test(matched)) throw new BadParam('matched', 'Must be a valid boolean.');
    if ((event.matched === true) !== want) return false;
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
  const remaining = after === undefined ? selected : selected.filter((item) => {
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
  const answer: Record<string, unknown> = { next_page: next, prev_page: cursorText ? 'previous' : null, results };
  if (options.withCount) answer.count = selected.length;
  return answer;
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
  /** Add `count` to list answers (default false: the documented answer has next_page/prev_page/results). */
  withCount?: boolean;
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

  private route(
    req: http.IncomingMessage,
    url: URL,
    body: string,
    send: (status: number, payload: unknown, headers?: Record<string, string>) => void,
  ): void {
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
    if (auth !== `Token ${this.token}`) {
      send(401, { code: 'UNAUTHORIZED', desc: this.echoAuthorization ? `Invalid token: ${auth}` : 'Invalid token.' });
      return;
    }
    if (this.redirectTo) {
      send(301, '', { Location: this.redirectTo });
      return;
    }
    const listOptions = (endpoint: string): ListOptions => ({
      maxLimit: this.maxLimit,
      defaultLimit: 20,
      nextPageStyle: this.nextPageStyle,
      endpoint: `${this.url}${endpoint}`,
      withCount: this.withCount,
    });
    if (method !== 'GET') {
      send(405, { code: 'METHOD_NOT_ALLOWED', desc: `Method "${method}" not allowed.` });
      return;
    }
    switch (url.pathname) {
      case '/events/faces/':
        send(200, listPage(this.events, url.searchParams, listOptions(url.pathname), (e) => eventMatches(e, url.searchParams, this.groupOfCamera)));
        return;
      case '/cameras/':
        send(200, listPage(this.cameras, url.searchParams, listOptions(url.pathname), () => true));
        return;
      case '/camera-groups/':
        send(200, listPage(this.cameraGroups, url.searchParams, listOptions(url.pathname), () => true));
        return;
      default:
        send(404, { code: 'NOT_FOUND', desc: 'Not found.' });
    }
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
    send(200, {
      token: this.token,
      user: { id: 1, name: user, active: true },
      token_expiration_datetime: new Date(Date.now() + 24 * 3600 * 1000).toISOString(),
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
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', '/CN=127.0.0.1',
        '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'],
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
    const effective = new URLSearchParams(params);
    if (this.ignoreIdFilters) for (const key of ['id_gte', 'id_gt', 'id_lte', 'id_lt']) effective.delete(key);
    let answer: Record<string, unknown>;
    try {
      answer = listPage(
        this.events,
        effective,
        { maxLimit: this.maxLimit, defaultLimit: 20, nextPageStyle: this.nextPageStyle, endpoint: 'http://fake/events/faces/', withCount: false },
        (e) => eventMatches(e, effective, (camera) => this.cameras.find((c) => c.id === camera)?.group),
      );
    } catch (error) {
      if (error instanceof BadParam) {
        throw new FindFaceApiError('client', `GET /events/faces/: HTTP 400 Bad Request: ${error.message} (${error.param})`, 400);
      }
      throw error;
    }
    let results = answer.results as Item[];
    if (this.shuffle) results = this.shuffle(results);
    return { results, nextPage: nextPageCursor(answer.next_page) };
  }
}
