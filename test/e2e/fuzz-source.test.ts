// Fuzz test of the webhook-mode source in a real Node-RED process: thousands
// of generated hostile requests (truncated JSON, wrong types, huge numbers,
// deep nesting, prototype-pollution keys, non-UTF-8 bytes, bodies of MBs,
// empty and mixed batches, wrong content types, methods, secrets and
// signatures), each built to be refused. Every one must get a 4xx with the
// node's JSON answer `{"error": "..."}`, no message may come out, the process
// must stay up with steady memory, and a valid event must still go through.
//
// The generator is a seeded PRNG: the seed is printed, and FUZZ_SEED=<n>
// replays a run; FUZZ_COUNT=<n> changes the number of requests.
//
// Where Node-RED answers before the node: with both roots "/" (the default)
// the admin app's CORS handler answers every OPTIONS request with 204 and no
// body; it is asserted as such (nothing reaches the node, nothing is
// emitted). HEAD gets the node's 405 without a body, as HTTP has it. The node
// reads the body of every other request to its path before Node-RED's admin
// parsers, so unparseable JSON, bodies over Node-RED's 5 MB limit and PUTs of
// broken JSON all get the node's own JSON answer.
import assert from 'assert/strict';
import { createHmac } from 'crypto';
import fs from 'fs';
import http from 'http';
import path from 'path';
import { defaultNodeRedDir, NodeRedProcess } from '../support/node-red-process';
import { sleep, waitFor } from '../support/wait';
import { ffs4Event, multiEvent, seedEvent } from '../fixtures/events';

/** Node-RED before 5 answers an OPTIONS on the admin app with its own CORS handler (see the options-admin-cors case). */
const ADMIN_CORS_BY_DEFAULT = Number(JSON.parse(fs.readFileSync(path.join(defaultNodeRedDir, 'package.json'), 'utf8')).version.split('.')[0]) < 5;

const SEED = Number(process.env.FUZZ_SEED ?? 20240607);
const COUNT = Number(process.env.FUZZ_COUNT ?? 10000);
const CONCURRENCY = 8;
/** The size limit of the fuzzed nodes: bodies of MBs fit under it, larger ones go over it (and over Node-RED's 5 MB API limit). */
const LIMIT_MB = 4;
const LIMIT = LIMIT_MB * 1024 * 1024;

const PLAIN = '/findface/fuzz';
const SECURED = '/findface/fuzz-secured';
const SIGNED = '/findface/fuzz-signed';
const SECRET = 'fuzz-shared-secret-7f3a';
const SIGNING_KEY = 'whsec_' + Buffer.from('fuzz signing key, 32 bytes long!').toString('base64');

// ---- a seeded PRNG (mulberry32) ---------------------------------------------------------------
function prng(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)];
  /** Log-uniform integer in [min, max]: small and huge values alike. */
  const logInt = (min: number, max: number) => Math.min(max, Math.floor(Math.exp(Math.log(min) + next() * (Math.log(max + 1) - Math.log(min)))));
  return { next, int, pick, logInt, chance: (p: number) => next() < p };
}
type Rng = ReturnType<typeof prng>;

// ---- JSON text with raw number tokens and keys JavaScript objects cannot hold ----------------
class Raw {
  constructor(readonly text: string) {}
}
class Obj {
  constructor(readonly pairs: Array<[string, Json]>) {}
}
type Json = null | boolean | number | string | Raw | Obj | Json[];

function fromJs(value: unknown): Json {
  if (Array.isArray(value)) return value.map(fromJs);
  if (value !== null && typeof value === 'object') return new Obj(Object.entries(value).map(([key, item]) => [key, fromJs(item)]));
  return value as Json;
}

function toText(value: Json): string {
  if (value instanceof Raw) return value.text;
  if (value instanceof Obj) return `{${value.pairs.map(([key, item]) => `${JSON.stringify(key)}:${toText(item)}`).join(',')}}`;
  if (Array.isArray(value)) return `[${value.map(toText).join(',')}]`;
  return JSON.stringify(value);
}

const without = (event: Obj, key: string) => new Obj(event.pairs.filter(([name]) => name !== key));
const withPair = (event: Obj, key: string, value: Json, rng: Rng) => {
  const pairs = event.pairs.filter(([name]) => name !== key);
  pairs.splice(rng.int(0, pairs.length), 0, [key, value]);
  return new Obj(pairs);
};

// ---- valid events (only ever part of a request that is refused for another reason) -----------
function goodEvent(rng: Rng): Obj {
  const id = rng.chance(0.5) ? String(4173669353687265180n + BigInt(rng.int(0, 1e9))) : rng.int(1, 2 ** 40);
  switch (rng.int(0, 3)) {
    case 0:
      return withPair(fromJs(seedEvent) as Obj, 'id', id, rng);
    case 1:
      return withPair(fromJs(ffs4Event) as Obj, 'id', id, rng);
    case 2:
      return withPair(fromJs(multiEvent) as Obj, 'id', id, rng);
    default:
      return new Obj([
        ['id', id],
        ['camera', rng.chance(0.5) ? rng.int(0, 1000) : new Obj([['id', rng.int(0, 1000)]])],
      ]);
  }
}
const goodBatch = (rng: Rng, max = 3): Json[] => Array.from({ length: rng.int(1, max) }, () => goodEvent(rng));

// Values that make an id or a camera invalid. Careful: 1.0, 1E2 and -0 parse to safe integers.
const BAD_IDS: Json[] = [
  null,
  true,
  false,
  '',
  1.5,
  -2.25,
  2 ** 53,
  -(2 ** 53),
  new Raw('1e400'),
  new Raw('-1e400'),
  new Raw('18446744073709551616'),
  new Raw('9007199254740993'),
  new Raw('1' + '0'.repeat(400)),
  new Raw('0.' + '0'.repeat(300) + '1'),
  new Raw('1e308'),
  [],
  ['1'],
  new Obj([]),
  new Obj([['id', '1']]),
];
const BAD_CAMERAS: Json[] = [
  null,
  true,
  '2',
  '',
  2.5,
  new Raw('1e400'),
  new Raw('18446744073709551616'),
  new Raw('-9007199254740992'),
  [2],
  [],
  new Obj([]),
  new Obj([['id', '2']]),
  new Obj([['id', null]]),
  new Obj([['id', 2.5]]),
  new Obj([['id', new Raw('1e400')]]),
  new Obj([['group', 1]]),
  new Obj([['id', new Obj([['id', 2]])]]),
];
const NOT_OBJECTS: Json[] = [null, true, false, 0, 42, -7.5, '', 'event', [], new Raw('1e400'), new Raw('18446744073709551616')];

function badEvent(rng: Rng): Json {
  const event = goodEvent(rng);
  switch (rng.int(0, 4)) {
    case 0:
      return rng.pick(NOT_OBJECTS);
    case 1:
      return without(event, rng.pick(['id', 'camera']));
    case 2:
      return withPair(event, 'id', rng.pick(BAD_IDS), rng);
    case 3:
      return withPair(event, 'camera', rng.pick(BAD_CAMERAS), rng);
    default:
      return [event]; // an array where an event belongs
  }
}

/** Good events with one bad element at a random place; or one bad element as the body. */
function batchWithOneBad(rng: Rng, bad: Json): Json {
  // An array alone would be a batch: it only goes inside one.
  if (!Array.isArray(bad) && rng.chance(0.2)) return bad;
  const batch = goodBatch(rng, 6);
  batch.splice(rng.int(0, batch.length), 0, bad);
  return batch;
}

function deepText(rng: Rng, depth: number): string {
  return rng.chance(0.5) ? '['.repeat(depth) + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
}

const FORBIDDEN = ['__proto__', 'constructor', 'prototype'];
/** A JSON-escaped spelling of a key: JSON.parse decodes it to the key itself. */
const escaped = (key: string) => key.replace(/_|o|t/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** A valid event carrying a forbidden key at some depth (below the depth limit). */
function pollutedEvent(rng: Rng): string {
  const key = rng.pick(FORBIDDEN);
  const value: Json = rng.pick<Json>([new Obj([['polluted', true]]), new Obj([['prototype', new Obj([['polluted', 1]])]]), null, 1, 'x', []]);
  const marker = `@@KEY${rng.int(0, 1e6)}@@`;
  let inner: Json = new Obj([[marker, value]]);
  for (let level = rng.int(0, 20); level > 0; level--) inner = rng.chance(0.5) ? [inner] : new Obj([['n', inner]]);
  const event = rng.chance(0.3)
    ? withPair(goodEvent(rng), marker, value, rng) // at the top level
    : withPair(goodEvent(rng), rng.pick(['features', 'scores', 'extra']), inner, rng);
  const text = toText(rng.chance(0.7) ? [event] : event);
  return text.replace(JSON.stringify(marker), `"${rng.chance(0.2) ? escaped(key) : key}"`);
}

const INVALID_UTF8: number[][] = [
  [0xff],
  [0xfe],
  [0xc0, 0xaf],
  [0xc1, 0xbf],
  [0xe0, 0x80, 0xaf],
  [0xed, 0xa0, 0x80],
  [0xed, 0xbf, 0xbf],
  [0xf8, 0x88, 0x80, 0x80, 0x80],
  [0xf4, 0x90, 0x80, 0x80],
  [0x80],
  [0xbf],
  [0xe2, 0x82],
  [0xf0, 0x9f, 0x98],
];

/** A valid batch whose bytes are not UTF-8. */
function nonUtf8Body(rng: Rng): Buffer {
  const marker = '@@BYTES@@';
  const batch = goodBatch(rng);
  batch[rng.int(0, batch.length - 1)] = withPair(goodEvent(rng), rng.pick(['face', 'note', 'name']), `before ${marker} after`, rng);
  const text = toText(batch);
  switch (rng.int(0, 4)) {
    case 0:
    case 1: {
      const [head, tail] = text.split(marker);
      return Buffer.concat([Buffer.from(head), Buffer.from(rng.pick(INVALID_UTF8)), Buffer.from(tail)]);
    }
    case 2: // Latin-1, as a misconfigured sender would encode "Zoë"
      return Buffer.from(text.replace(marker, 'Zo\u00eb M\u00fcller'), 'latin1');
    case 3: // UTF-16 with its byte order mark
      return Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text.replace(marker, 'x'), 'utf16le')]);
    default: // the last character cut in half
      return Buffer.concat([Buffer.from(text.replace(marker, 'x')), Buffer.from([0xc3])]);
  }
}

const TOKENS = ['[', ']', '{', '}', ',', ':', '"id"', '"camera"', '1', '"x"', 'null', 'true', '1e400', '-', '.', ' ', '\n', '"', '\\'];

/** Text or bytes that are not a batch of events (checked: a chance hit would be sent as a valid body). */
function junk(rng: Rng): Buffer {
  switch (rng.int(0, 3)) {
    case 0:
      return Buffer.from(Array.from({ length: rng.logInt(1, 4000) }, () => rng.int(0, 255)));
    case 1:
      return Buffer.from(Array.from({ length: rng.logInt(1, 600) }, () => String.fromCharCode(rng.int(32, 126))).join(''));
    case 2:
      return Buffer.from(Array.from({ length: rng.int(1, 60) }, () => rng.pick(TOKENS)).join(''));
    default:
      return Buffer.from(toText(rng.pick<Json>([...NOT_OBJECTS, ...BAD_IDS])));
  }
}

/** True when `body` could pass as events: the generator then throws that body away. */
function looksValid(body: Buffer): boolean {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch {
    return false;
  }
  const items = Array.isArray(value) ? value : [value];
  return items.length > 0 && items.every((item) => item !== null && typeof item === 'object' && 'id' in item && 'camera' in item);
}

// ---- requests --------------------------------------------------------------------------------
interface Case {
  index: number;
  kind: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
  /** Send without Content-Length (chunked). */
  chunked?: boolean;
  expect: number[];
}

const JSON_TYPE = { 'Content-Type': 'application/json' };

function sign(key: string, id: string, timestamp: string, body: Buffer): string {
  const secret = Buffer.from(key.slice('whsec_'.length), 'base64');
  return createHmac('sha256', secret).update(`${id}.${timestamp}.`).update(body).digest('base64');
}

/** Paths that reach the plain node (the query is ignored; express ignores a trailing slash). */
const PLAIN_VARIANTS = [`${PLAIN}/`, `${PLAIN}?x=1`, `${PLAIN}?token=anything`, `${PLAIN}/?a=b&a=c`, `${PLAIN}?__proto__[polluted]=1`];
const CASE_VARIANTS = [PLAIN.toUpperCase(), '/FindFace/Fuzz'];

const WRONG_TYPES: Array<string | undefined> = [
  undefined,
  'text/plain',
  'text/plain; charset=utf-8',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=fuzzboundary',
  'application/xml',
  'text/json',
  'text/html',
  'application/octet-stream',
  'application/javascript',
  'application/json; charset=iso-8859-1',
  'application/json; charset=utf-16',
  'application/jsonx',
  'application/json+xml',
  'application/+json',
  'json',
  '*/*',
  'application/*',
  ';',
];

function bodyCase(rng: Rng, kind: string, body: Buffer, expect = 400): Omit<Case, 'index'> {
  let path = PLAIN;
  const roll = rng.next();
  if (roll < 0.1) path = rng.pick(PLAIN_VARIANTS);
  else if (roll < 0.13) path = rng.pick(CASE_VARIANTS);
  return { kind, method: 'POST', path, headers: { ...JSON_TYPE }, body, expect: [expect] };
}

function bigCase(rng: Rng): Omit<Case, 'index'> {
  const head = (pad: number, camera: Json) =>
    toText([
      new Obj([
        ['id', 'big'],
        ['camera', camera],
        ['pad', 'x'.repeat(pad)],
      ]),
    ]);
  const overhead = head(0, 2).length;
  switch (rng.int(0, 5)) {
    case 5: // broken JSON over Node-RED's 5 MB API limit, with a method the node refuses
      return {
        kind: 'big-method',
        method: rng.pick(['PUT', 'PATCH', 'DELETE']),
        path: PLAIN,
        headers: { ...JSON_TYPE },
        body: Buffer.from(`[${'1,'.repeat(rng.int(2_700_000, 3_000_000))}`),
        expect: [405],
        chunked: rng.chance(0.5),
      };
    case 0: // within the limit, refused for its camera
      return bodyCase(rng, 'big-invalid', Buffer.from(head(rng.int(100_000, LIMIT - overhead - 100), rng.pick(BAD_CAMERAS))));
    case 1: // within the limit, cut short
      return bodyCase(rng, 'big-truncated', Buffer.from(head(rng.int(100_000, LIMIT - overhead), 2).slice(0, -rng.int(1, 50))));
    case 2: // valid, one byte over the limit
      return { ...bodyCase(rng, 'big-over-by-one', Buffer.from(head(LIMIT - overhead + 1, 2)), 413), chunked: rng.chance(0.5) };
    default: // valid, MBs over the limit (and over Node-RED's 5 MB), with and without Content-Length
      return { ...bodyCase(rng, 'big-over', Buffer.from(head(rng.int(LIMIT, Math.floor(2.5 * LIMIT)), 2)), 413), chunked: rng.chance(0.5) };
  }
}

/** Cases sent first in every run, whatever the seed: the extremes the brief names. */
const LANDMARKS: Array<Omit<Case, 'index'>> = [
  { kind: 'deep-unclosed', method: 'POST', path: PLAIN, headers: JSON_TYPE, body: Buffer.from('['.repeat(100_000)), expect: [400] },
  { kind: 'deep-body', method: 'POST', path: PLAIN, headers: JSON_TYPE, body: Buffer.from('['.repeat(100_000) + ']'.repeat(100_000)), expect: [400] },
  {
    kind: 'deep-in-event',
    method: 'POST',
    path: PLAIN,
    headers: JSON_TYPE,
    body: Buffer.from(`[{"id":"1","camera":2,"x":${'['.repeat(100_000)}${']'.repeat(100_000)}}]`),
    expect: [400],
  },
  {
    kind: 'deep-in-event',
    method: 'POST',
    path: PLAIN,
    headers: JSON_TYPE,
    body: Buffer.from(`[{"id":"1","camera":2,"x":${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}}]`),
    expect: [400],
  },
  {
    kind: 'prototype-key',
    method: 'POST',
    path: PLAIN,
    headers: JSON_TYPE,
    body: Buffer.from('[{"id":"1","camera":2,"__proto__":{"polluted":true}}]'),
    expect: [400],
  },
  {
    kind: 'prototype-key',
    method: 'POST',
    path: PLAIN,
    headers: JSON_TYPE,
    body: Buffer.from('{"id":"1","camera":{"id":2,"constructor":{"prototype":{"polluted":true}}}}'),
    expect: [400],
  },
  { kind: 'huge-number', method: 'POST', path: PLAIN, headers: JSON_TYPE, body: Buffer.from('[{"id":1e400,"camera":2}]'), expect: [400] },
  { kind: 'huge-number', method: 'POST', path: PLAIN, headers: JSON_TYPE, body: Buffer.from(`[{"id":${2n ** 64n},"camera":2}]`), expect: [400] },
  { kind: 'huge-number', method: 'POST', path: PLAIN, headers: JSON_TYPE, body: Buffer.from(`[{"id":"1","camera":${2n ** 64n}}]`), expect: [400] },
  { kind: 'empty', method: 'POST', path: PLAIN, headers: JSON_TYPE, body: Buffer.alloc(0), expect: [400] },
  { kind: 'empty', method: 'POST', path: PLAIN, headers: JSON_TYPE, body: Buffer.from('[]'), expect: [400] },
  {
    kind: 'wrong-type',
    method: 'POST',
    path: PLAIN,
    headers: JSON_TYPE,
    body: Buffer.from(JSON.stringify([seedEvent, ffs4Event, { ...multiEvent, camera: '5' }, seedEvent])),
    expect: [400],
  },
  { kind: 'big-over-by-one', method: 'POST', path: PLAIN, headers: JSON_TYPE, body: Buffer.alloc(LIMIT + 1, ' '), expect: [413] },
  { kind: 'big-over-by-one', method: 'POST', path: PLAIN, headers: JSON_TYPE, body: Buffer.alloc(LIMIT + 1, ' '), chunked: true, expect: [413] },
  { kind: 'content-type', method: 'POST', path: PLAIN, headers: {}, body: Buffer.from(JSON.stringify([seedEvent])), expect: [415] },
];

/**
 * One hostile request. `sharedRoot`: Node-RED's admin app shares "/" with the
 * node routes, and its CORS handler answers every OPTIONS request itself.
 */
function makeCase(rng: Rng, sharedRoot: boolean): Omit<Case, 'index'> {
  const roll = rng.int(0, 99);
  const valid = () => Buffer.from(toText(goodBatch(rng)));
  if (roll < 12) {
    const text = toText(rng.chance(0.8) ? goodBatch(rng, 4) : goodEvent(rng));
    return bodyCase(rng, 'truncated', Buffer.from(text.slice(0, rng.int(0, text.length - 1))));
  }
  if (roll < 32) return bodyCase(rng, 'wrong-type', Buffer.from(toText(batchWithOneBad(rng, badEvent(rng)))));
  if (roll < 38) {
    const event = goodEvent(rng);
    const number = rng.pick([
      new Raw('1e400'),
      new Raw('-1e400'),
      new Raw('18446744073709551616'),
      new Raw('9007199254740993'),
      new Raw('1' + '0'.repeat(rng.int(20, 5000))),
    ]);
    const bad = rng.chance(0.5) ? withPair(event, 'id', number, rng) : withPair(event, 'camera', rng.chance(0.5) ? number : new Obj([['id', number]]), rng);
    return bodyCase(rng, 'huge-number', Buffer.from(toText(rng.chance(0.1) ? number : batchWithOneBad(rng, bad))));
  }
  if (roll < 42) {
    const depth = rng.logInt(33, 100_000);
    const where = rng.int(0, 3);
    if (where === 0) return bodyCase(rng, 'deep-unclosed', Buffer.from('['.repeat(depth)));
    if (where === 1) return bodyCase(rng, 'deep-body', Buffer.from(deepText(rng, depth)));
    const event = toText(goodEvent(rng));
    const inside = `${event.slice(0, -1)},"deep":${deepText(rng, depth)}}`;
    return bodyCase(rng, 'deep-in-event', Buffer.from(rng.chance(0.5) ? `[${inside}]` : inside));
  }
  if (roll < 50) return bodyCase(rng, 'prototype-key', Buffer.from(pollutedEvent(rng)));
  if (roll < 58) return bodyCase(rng, 'non-utf8', nonUtf8Body(rng));
  if (roll < 62) {
    const empty = rng.pick(['', ' ', '\n', '[]', '[ ]', '[[]]', '{}', '[{}]', '[[],[]]', '""', 'null', '[null]', '0', 'true', 'false', '[]' + ' '.repeat(100)]);
    return bodyCase(rng, 'empty', Buffer.from(empty));
  }
  if (roll < 67) {
    let body = junk(rng);
    while (looksValid(body)) body = junk(rng);
    return bodyCase(rng, 'junk', body);
  }
  if (roll < 75) {
    const type = rng.pick(WRONG_TYPES);
    let body = valid();
    if (type?.startsWith('multipart/')) {
      body = Buffer.from(
        `--fuzzboundary\r\nContent-Disposition: form-data; name="events"\r\nContent-Type: application/json\r\n\r\n${body}\r\n--fuzzboundary--\r\n`,
      );
    } else if (type === 'application/x-www-form-urlencoded') {
      body = Buffer.from(`events=${encodeURIComponent(body.toString())}`);
    }
    return { kind: 'content-type', method: 'POST', path: PLAIN, headers: type === undefined ? {} : { 'Content-Type': type }, body, expect: [415] };
  }
  if (roll < 83) {
    const method = rng.pick(['GET', 'HEAD', 'DELETE', 'OPTIONS', 'PUT', 'PATCH', 'PROPFIND']);
    const withBody = !['GET', 'HEAD'].includes(method) && rng.chance(0.8);
    const badJson = withBody && rng.chance(0.3);
    const body = withBody ? (badJson ? Buffer.from(toText(goodBatch(rng)).slice(0, -2)) : valid()) : undefined;
    if (method === 'OPTIONS' && sharedRoot && ADMIN_CORS_BY_DEFAULT) {
      // Node-RED before 5 puts a CORS handler (cors({origin: "*"})) on the admin app, which answers the preflight
      // with 204 and no body before any node route; nothing reaches the node and nothing is emitted. Node-RED 5
      // has none unless httpAdminCors is set: the OPTIONS reaches the node, which answers 405 like any other method.
      return { kind: 'options-admin-cors', method, path: PLAIN, headers: withBody ? { ...JSON_TYPE } : {}, body, expect: [204] };
    }
    return { kind: badJson ? 'method-bad-json' : 'method', method, path: PLAIN, headers: withBody ? { ...JSON_TYPE } : {}, body, expect: [405] };
  }
  if (roll < 89) {
    const body = valid();
    const auth = rng.pick<Record<string, string>>([
      {},
      { Authorization: 'Bearer wrong' },
      { Authorization: `Bearer ${SECRET}x` },
      { Authorization: `Bearer ${SECRET.toUpperCase()}` },
      { Authorization: `Basic ${Buffer.from(`user:${SECRET}`).toString('base64')}` },
      { Authorization: `Token ${SECRET}` },
      { Authorization: SECRET },
      { Authorization: 'Bearer' },
      { Authorization: `Bearer ${'s'.repeat(4000)}` },
    ]);
    const query = rng.pick([
      '',
      '?token=wrong',
      '?token=',
      `?Token=${SECRET}`,
      `?token[]=${SECRET}`,
      `?token=wrong&token=${SECRET}`,
      `?token=${SECRET}%00`,
      `?tok=${SECRET}`,
    ]);
    return { kind: 'secret', method: 'POST', path: SECURED + query, headers: { ...JSON_TYPE, ...auth }, body, expect: [401] };
  }
  if (roll < 95) {
    const body = valid();
    const now = Math.floor(Date.now() / 1000);
    const id = `msg_${rng.int(0, 1e9)}`;
    const good = (timestamp = String(now)) => ({
      'webhook-id': id,
      'webhook-timestamp': timestamp,
      'webhook-signature': `v1,${sign(SIGNING_KEY, id, timestamp, body)}`,
    });
    const otherKey = 'whsec_' + Buffer.from(`other key ${rng.int(0, 1e6)}`).toString('base64');
    const headers = rng.pick<() => Record<string, string>>([
      () => ({}),
      () => ({ 'webhook-id': id, 'webhook-timestamp': String(now) }),
      () => ({ ...good(), 'webhook-signature': `v1,${sign(otherKey, id, String(now), body)}` }),
      () => ({ ...good(), 'webhook-signature': `v1,${Buffer.from(Array.from({ length: 32 }, () => rng.int(0, 255))).toString('base64')}` }),
      () => ({ ...good(), 'webhook-signature': 'v1,!!!not base64!!!' }),
      () => ({ ...good(), 'webhook-signature': good()['webhook-signature'].replace('v1,', 'v2,') }),
      () => ({ ...good(), 'webhook-signature': Array.from({ length: 100 }, () => `v1,${Buffer.from(String(rng.next())).toString('base64')}`).join(' ') }),
      () => ({ ...good(), 'webhook-id': `${id}x` }),
      () => good(String(now - 3600)),
      () => good(String(now + 3600)),
      () => ({ ...good(), 'webhook-timestamp': rng.pick(['', 'abc', '-1', '1e9', '9'.repeat(13), `${now}.5`, `+${now}`, '0x10']) }),
      () => ({ ...good(), 'webhook-signature': `v1,${sign(SIGNING_KEY, id, String(now), Buffer.from(toText(goodBatch(rng))))}` }),
    ])();
    return { kind: 'signature', method: 'POST', path: SIGNED, headers: { ...JSON_TYPE, ...headers }, body, expect: [401] };
  }
  if (roll < 99) {
    // Several defects at once: any of the node's refusals will do.
    const type = rng.pick(WRONG_TYPES);
    const body = rng.chance(0.5) ? junk(rng) : Buffer.from(toText(batchWithOneBad(rng, badEvent(rng))));
    return {
      kind: 'mixed',
      method: 'POST',
      path: rng.pick([PLAIN, SECURED]),
      headers: type === undefined ? {} : { 'Content-Type': type },
      body,
      expect: [400, 401, 415],
    };
  }
  return bigCase(rng);
}

interface Answer {
  status: number;
  contentType: string;
  body: Buffer;
}

function send(agent: http.Agent, port: number, request: Case): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...request.headers };
    // Node's client frames a body without Content-Length as chunked only when told to for DELETE and OPTIONS.
    if (request.body) headers[request.chunked ? 'Transfer-Encoding' : 'Content-Length'] = request.chunked ? 'chunked' : request.body.length;
    const req = http.request({ host: '127.0.0.1', port, method: request.method, path: request.path, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.setTimeout(30000, () => req.destroy(new Error('no answer within 30 s')));
    req.on('error', reject);
    if (request.body && request.chunked) {
      // Several chunks, so the node meets the limit while reading.
      const size = Math.max(1, Math.ceil(request.body.length / 4));
      for (let offset = 0; offset < request.body.length; offset += size) req.write(request.body.subarray(offset, offset + size));
      req.end();
    } else {
      req.end(request.body);
    }
  });
}

/** Why the answer is not the node's own JSON refusal; null when it is. */
function answerProblem(request: Case, answer: Answer): string | null {
  if (!request.expect.includes(answer.status)) return `status ${answer.status}, expected ${request.expect.join('/')}: ${answer.body.toString().slice(0, 200)}`;
  if (answer.status === 204) return answer.body.length === 0 ? null : 'a body with 204';
  if (!/^application\/json\b/.test(answer.contentType)) return `Content-Type "${answer.contentType}": ${answer.body.toString().slice(0, 200)}`;
  if (request.method === 'HEAD') return answer.body.length === 0 ? null : 'a body in the answer to HEAD';
  let parsed: unknown;
  try {
    parsed = JSON.parse(answer.body.toString());
  } catch {
    return `the body is not JSON: ${answer.body.toString().slice(0, 200)}`;
  }
  const keys = parsed && typeof parsed === 'object' ? Object.keys(parsed) : [];
  const error = (parsed as { error?: unknown })?.error;
  if (keys.length !== 1 || typeof error !== 'string' || error === '') return `the body is not {"error": "..."}: ${answer.body.toString().slice(0, 200)}`;
  return null;
}

/** VmRSS of a process, from /proc. */
function rssKb(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  assert.ok(match, 'no VmRSS');
  return Number(match[1]);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function flows(outFile: string) {
  // The canary records the main realm's Object and Array prototypes as a valid event sees them.
  // It never throws, so that any message at all reaches the file.
  const canary = `
    const event = msg.payload;
    const protoOf = (value) => {
      try { return Object.getOwnPropertyNames(Object.getPrototypeOf(value)).sort(); } catch (error) { return String(error); }
    };
    msg.payload = { id: event && event.id, objectProto: protoOf(event), arrayProto: protoOf(event && event.matched_lists) };
    return msg;`;
  const source = (id: string, path: string, credentials?: Record<string, string>) => ({
    id,
    type: 'findface-event-in',
    z: 'tab',
    mode: 'webhook',
    path,
    maxBodyMb: LIMIT_MB,
    dedupWindowS: 0,
    toleranceS: 300,
    ...(credentials ? { credentials } : {}),
    wires: [['canary']],
  });
  return [
    { id: 'tab', type: 'tab', label: 'fuzz' },
    source('plain', PLAIN),
    source('secured', SECURED, { secret: SECRET }),
    source('signed', SIGNED, { signingSecrets: SIGNING_KEY }),
    { id: 'canary', type: 'function', z: 'tab', func: canary, outputs: 1, wires: [['to-file']] },
    {
      id: 'to-file',
      type: 'file',
      z: 'tab',
      filename: outFile,
      filenameType: 'str',
      appendNewline: true,
      createDir: true,
      overwriteFile: 'false',
      encoding: 'utf8',
      wires: [],
    },
  ];
}

interface MemorySample {
  gc: boolean;
  rss: number;
  heapUsed: number;
  arrayBuffers: number;
  procRss: number;
}

/**
 * Test only: an inject node (triggered through the admin API) and a function
 * that reaches the main realm through the message (a main-realm object) to
 * force a full GC (Node-RED runs with --expose-gc here) and read the memory.
 */
function memoryProbe(memoryFile: string) {
  const probe = `
    const realm = msg.constructor.constructor('return globalThis')();
    const gc = typeof realm.gc === 'function';
    if (gc) { realm.gc(); realm.gc(); }
    const usage = realm.process.memoryUsage();
    msg.payload = { gc, rss: usage.rss, heapUsed: usage.heapUsed, arrayBuffers: usage.arrayBuffers };
    return msg;`;
  return [
    {
      id: 'memory-probe',
      type: 'inject',
      z: 'tab',
      props: [{ p: 'payload' }],
      payload: '',
      payloadType: 'date',
      repeat: '',
      once: false,
      wires: [['memory-read']],
    },
    { id: 'memory-read', type: 'function', z: 'tab', func: probe, outputs: 1, wires: [['memory-file']] },
    {
      id: 'memory-file',
      type: 'file',
      z: 'tab',
      filename: memoryFile,
      filenameType: 'str',
      appendNewline: true,
      createDir: true,
      overwriteFile: 'false',
      encoding: 'utf8',
      wires: [],
    },
  ];
}

async function deploy(nodeRed: NodeRedProcess, adminRoot: string, flowList: unknown[]): Promise<void> {
  const startedBefore = nodeRed.count('Started flows');
  const response = await fetch(`${nodeRed.url}${adminRoot}/flows`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'Node-RED-Deployment-Type': 'full' },
    body: JSON.stringify(flowList),
  });
  assert.ok(response.status === 200 || response.status === 204, `deploy answered ${response.status}: ${await response.text()}`);
  await waitFor(() => nodeRed.count('Started flows') > startedBefore, 15000, 'the deployed flows to start');
}

const lines = (file: string) => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean) : []);

for (const setup of [
  { label: 'shared root "/" (the default)', settings: {}, admin: '', count: COUNT, seed: SEED },
  { label: 'separate admin root /admin', settings: { httpAdminRoot: '/admin' }, admin: '/admin', count: Math.ceil(COUNT / 5), seed: SEED + 1 },
]) {
  describe(`fuzzing the webhook source in a real Node-RED, ${setup.label}`, function () {
    this.timeout(180000);
    let nodeRed: NodeRedProcess;
    let outFile: string;
    let pid: number;
    let agent: http.Agent;

    let memoryFile: string;

    /** Forces a full GC in Node-RED (through the probe flow) and reads its memory. */
    const memory = async (): Promise<MemorySample> => {
      const before = lines(memoryFile).length;
      const response = await fetch(`${nodeRed.url}${setup.admin}/inject/memory-probe`, { method: 'POST' });
      assert.equal(response.status, 200, await response.text());
      const line = await waitFor(() => lines(memoryFile)[before], 10000, 'the memory probe');
      return { ...(JSON.parse(line) as Omit<MemorySample, 'procRss'>), procRss: rssKb(pid) * 1024 };
    };

    before(async () => {
      nodeRed = await NodeRedProcess.create({ settings: setup.settings });
      outFile = path.join(nodeRed.userDir, 'emitted.ndjson');
      memoryFile = path.join(nodeRed.userDir, 'memory.ndjson');
      // --expose-gc, for the memory probe; the variable is read when the process is spawned.
      const options = process.env.NODE_OPTIONS;
      process.env.NODE_OPTIONS = `${options ?? ''} --expose-gc`.trim();
      const starting = nodeRed.start();
      if (options === undefined) delete process.env.NODE_OPTIONS;
      else process.env.NODE_OPTIONS = options;
      await starting;
      pid = nodeRed.pid!;
      try {
        await deploy(nodeRed, setup.admin, [...flows(outFile), ...memoryProbe(memoryFile)]);
      } catch (error) {
        console.log(nodeRed.log);
        throw error;
      }
      agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
    });
    afterEach(function () {
      if (this.currentTest?.state === 'failed') console.log(nodeRed.log.slice(-20000));
    });
    after(async () => {
      agent?.destroy();
      await nodeRed?.dispose();
    });

    it(`answers ${setup.count} generated hostile requests with a 4xx JSON error, emits nothing, stays up with steady memory`, async () => {
      console.log(`      fuzz seed ${setup.seed} (FUZZ_SEED=${setup.seed} replays it), ${setup.count} requests, ${CONCURRENCY} in flight`);
      const rng = prng(setup.seed);
      let generated = 0;
      const failures: string[] = [];
      const byKind = new Map<string, number>();
      const byStatus = new Map<number, number>();
      let bytesSent = 0;

      /** Sends requests until `until` have been generated, CONCURRENCY at a time. */
      const run = async (until: number) => {
        const worker = async () => {
          while (generated < until) {
            const index = generated++;
            const request: Case = { index, ...(index < LANDMARKS.length ? LANDMARKS[index] : makeCase(rng, setup.admin === '')) };
            byKind.set(request.kind, (byKind.get(request.kind) ?? 0) + 1);
            bytesSent += request.body?.length ?? 0;
            let problem: string | null;
            try {
              const answer = await send(agent, nodeRed.port, request);
              byStatus.set(answer.status, (byStatus.get(answer.status) ?? 0) + 1);
              problem = answerProblem(request, answer);
            } catch (error) {
              problem = `request failed: ${(error as Error).message}`;
            }
            if (problem && failures.length < Number(process.env.FUZZ_SHOW ?? 20)) {
              const preview = request.body ? JSON.stringify(request.body.subarray(0, 120).toString('latin1')) : '(no body)';
              const size = request.body && request.body.length > 120 ? `… (${request.body.length} bytes)` : '';
              failures.push(
                `#${request.index} ${request.kind} ${request.method} ${request.path} ${JSON.stringify(request.headers).slice(0, 160)} ${preview}${size}: ${problem}`,
              );
            }
            if (!alive(pid)) throw new Error(`Node-RED died at request #${request.index} (${request.kind})`);
          }
        };
        await Promise.all(Array.from({ length: CONCURRENCY }, worker));
      };

      const atStart = await memory();
      const warmUp = Math.floor(setup.count / 10);
      const started = Date.now();
      await run(warmUp);
      const afterWarmUp = await memory();
      await run(setup.count);
      const seconds = (Date.now() - started) / 1000;
      const atEnd = await memory();
      // A GC-friendly pause: nothing arrives, idle sockets stay open.
      await sleep(1000);
      const afterPause = await memory();

      const mb = (bytes: number) => Math.round(bytes / 1048576);
      const row = (name: string, pick: (sample: MemorySample) => number) =>
        `${name} ${[atStart, afterWarmUp, atEnd, afterPause].map((sample) => mb(pick(sample))).join(' / ')}`;
      console.log(`      ${setup.count} requests in ${seconds.toFixed(1)} s (${Math.round(setup.count / seconds)}/s), ${mb(bytesSent)} MB sent`);
      console.log(`      statuses ${JSON.stringify(Object.fromEntries([...byStatus].sort()))}`);
      console.log(`      kinds ${JSON.stringify(Object.fromEntries([...byKind].sort()))}`);
      console.log(`      Node-RED memory in MB at start / after ${warmUp} requests / at the end / after a pause, each after a full GC:`);
      console.log(
        `        ${row('RSS (/proc)', (sample) => sample.procRss)}; ${row('heap used', (sample) => sample.heapUsed)}; ${row('array buffers', (sample) => sample.arrayBuffers)}`,
      );

      if (failures.length) assert.fail(`wrong answers (at most 20 shown):\n${failures.join('\n')}`);
      assert.ok(alive(pid), 'Node-RED is not running');
      assert.deepEqual(lines(outFile), [], 'a message was emitted');
      assert.ok(atStart.gc, 'the memory probe could not force a GC');
      // Steady memory. The run pushes well over 100 MB of bodies through the node (up to 4 MB
      // each). After a full GC the JS heap and the buffers must be back where the warm-up left
      // them: keeping even 1 kB per request, or a few of the large bodies, would exceed 10 MB.
      // RSS also holds what the allocator keeps for reuse after the largest bodies: on Node.js 24 that
      // was 21, 32 and 80 MB in three runs today with the heap flat, hence 150 MB (a leak shows in the heap check).
      if (setup.count >= COUNT) assert.ok(bytesSent > 100 * 1048576, `only ${mb(bytesSent)} MB sent`);
      const grown = (pick: (sample: MemorySample) => number) => mb(pick(afterPause) - pick(afterWarmUp));
      assert.ok(
        grown((sample) => sample.heapUsed + sample.arrayBuffers) < 10,
        `heap and buffers grew by ${grown((sample) => sample.heapUsed + sample.arrayBuffers)} MB after the warm-up`,
      );
      assert.ok(grown((sample) => sample.procRss) < 150, `RSS grew by ${grown((sample) => sample.procRss)} MB after the warm-up`);
      // A flood of bad requests does not flood the log: each node warns at most once a second.
      const warnings = nodeRed.count('rejected a request with');
      assert.ok(warnings <= 3 * (Math.ceil(seconds) + 2), `${warnings} warnings in ${seconds.toFixed(1)} s`);
      assert.deepEqual(nodeRed.errorLines(), []);
    });

    it('still takes valid events afterwards, on every node, and nothing polluted a prototype', async () => {
      const body = Buffer.from(JSON.stringify([seedEvent]));
      const now = String(Math.floor(Date.now() / 1000));
      const requests: Array<[string, Record<string, string>]> = [
        [PLAIN, {}],
        [SECURED, { Authorization: `Bearer ${SECRET}` }],
        [`${SECURED}?token=${SECRET}`, {}],
        [SIGNED, { 'webhook-id': 'msg_ok', 'webhook-timestamp': now, 'webhook-signature': `v1,${sign(SIGNING_KEY, 'msg_ok', now, body)}` }],
      ];
      for (const [target, headers] of requests) {
        const answer = await send(agent, nodeRed.port, {
          index: -1,
          kind: 'valid',
          method: 'POST',
          path: target,
          headers: { ...JSON_TYPE, ...headers },
          body,
          expect: [200],
        });
        assert.equal(answer.status, 200, `${target}: ${answer.body}`);
        assert.deepEqual(JSON.parse(answer.body.toString()), { accepted: 1 });
      }
      const emitted = await waitFor(() => (lines(outFile).length === requests.length ? lines(outFile) : undefined), 10000, 'the valid events');
      for (const line of emitted) {
        const seen = JSON.parse(line) as { id: string; objectProto: string[]; arrayProto: string[] };
        assert.equal(seen.id, seedEvent.id);
        assert.deepEqual(seen.objectProto, Object.getOwnPropertyNames(Object.prototype).sort());
        assert.deepEqual(seen.arrayProto, Object.getOwnPropertyNames(Array.prototype).sort());
      }
      assert.ok(alive(pid));
      assert.deepEqual(nodeRed.errorLines(), []);
    });
  });
}
