import assert from 'assert/strict';
import util from 'util';
import {
  absolutiseUrls,
  baseUrlProblem,
  caProblem,
  FindFaceApiError,
  FindFaceClient,
  IMAGE_URL_FIELDS,
  nextPageCursor,
  pageParams,
  tokenProblem,
  toSearchParams,
} from '../../nodes/lib/findface/findface-api';
import { FakeFindFace, FIRST_EVENT_ID, selfSignedCert } from '../support/fake-findface';
import { ffs4Event, multiEvent, seedEvent } from '../fixtures/events';

/** Every way an error could end up in a log: message, stack, inspect, JSON. */
function everyRendering(error: unknown): string {
  const e = error as Error;
  return [String(e), e.message, e.stack ?? '', util.inspect(e, { depth: 10, showHidden: true }), JSON.stringify(e)].join('\n');
}

async function failure(promise: Promise<unknown>): Promise<FindFaceApiError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof FindFaceApiError, `expected a FindFaceApiError, got ${util.inspect(error)}`);
    return error;
  }
  assert.fail('expected a failure');
}

describe('findface-api: helpers', () => {
  it('serialises arrays as repeated parameters and leaves out undefined/null', () => {
    const params = toSearchParams({ cameras: [1, 2], matched: true, limit: 10, camera_groups: [], skip: undefined, none: null });
    assert.equal(params.toString(), 'cameras=1&cameras=2&matched=true&limit=10');
  });

  it('reads next_page as a bare cursor, a query string or a URL (keeping only its query)', () => {
    assert.equal(nextPageCursor(null), null);
    assert.equal(nextPageCursor(''), null);
    assert.equal(nextPageCursor('cD0xMjM'), 'cD0xMjM');
    assert.equal(nextPageCursor('?page=abc&limit=5'), '?page=abc&limit=5');
    assert.equal(nextPageCursor('http://evil.example/events/faces/?page=abc&limit=5'), '?page=abc&limit=5');
    assert.equal(nextPageCursor('/events/faces/?page=abc'), '?page=abc');
    assert.equal(nextPageCursor('http://host/events/faces/'), null);
    assert.equal(pageParams({ limit: 5, ordering: 'id' }, 'abc').toString(), 'limit=5&ordering=id&page=abc');
    assert.equal(pageParams({ limit: 5 }, '?page=x&limit=7').toString(), 'page=x&limit=7');
  });

  it('checks URLs, tokens and CA text without echoing the token', () => {
    assert.equal(baseUrlProblem('https://ff.example/api'), null);
    assert.match(String(baseUrlProblem('')), /empty/);
    assert.match(String(baseUrlProblem('ftp://x')), /http/);
    assert.match(String(baseUrlProblem('http://user:pw@host')), /user name/);
    assert.match(String(baseUrlProblem('http://host/?a=1')), /query/);
    assert.equal(tokenProblem('abcDEF0123456789'), null);
    const bad = tokenProblem('secret value\n');
    assert.ok(bad && !bad.includes('secret value'));
    assert.equal(caProblem(''), null);
    assert.match(String(caProblem('not a pem')), /PEM/);
    assert.match(String(caProblem('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n')), /cannot be read/);
  });

  it('refuses an unusable configuration with a config error', () => {
    assert.throws(
      () => new FindFaceClient({ baseUrl: 'nope', token: 't0k3n', timeoutMs: 1000 }),
      (e: FindFaceApiError) => e.kind === 'config',
    );
  });
});

describe('findface-api: absolutiseUrls', () => {
  const relative = {
    id: '1',
    camera: 2,
    face: '/uploads/2019/04/09/event/face.jpg',
    frame: 'uploads/frame.jpg',
    normalized_photo: '//cdn.example/n.png',
    thumbnail: '/uploads/t.jpg',
    fullframe: 'https://other.example/f.jpg',
    features: { age: null },
    matched_face: '/not/an/image/field',
  };

  it('makes relative image URLs absolute and leaves absolute ones and other fields alone', () => {
    const out = absolutiseUrls(relative, 'http://172.20.77.17');
    assert.equal(out.face, 'http://172.20.77.17/uploads/2019/04/09/event/face.jpg');
    assert.equal(out.frame, 'http://172.20.77.17/uploads/frame.jpg');
    assert.equal(out.normalized_photo, 'http://cdn.example/n.png');
    assert.equal(out.thumbnail, 'http://172.20.77.17/uploads/t.jpg');
    assert.equal(out.fullframe, 'https://other.example/f.jpg');
    assert.equal(out.matched_face, '/not/an/image/field');
    assert.equal(out.features, relative.features, 'other fields are the same objects');
    assert.deepEqual(Object.keys(out), Object.keys(relative));
    assert.equal(relative.face, '/uploads/2019/04/09/event/face.jpg', 'the input is not changed');
  });

  it('keeps a path prefix and ignores trailing slashes of the external address', () => {
    assert.equal(absolutiseUrls({ face: '/uploads/a.jpg' }, 'https://host/ff/').face, 'https://host/ff/uploads/a.jpg');
  });

  it('answers the event itself when nothing changes', () => {
    assert.equal(absolutiseUrls(seedEvent, 'http://x'), seedEvent);
    assert.equal(absolutiseUrls(relative, ''), relative);
    assert.equal(absolutiseUrls(relative, undefined), relative);
    assert.equal(absolutiseUrls({ face: 42, frame: null } as Record<string, unknown>, 'http://x').face, 42);
  });

  it('covers the image fields of all three event shapes', () => {
    const fields = new Set(IMAGE_URL_FIELDS);
    for (const event of [seedEvent, ffs4Event, multiEvent] as Record<string, unknown>[]) {
      for (const [key, value] of Object.entries(event)) {
        if (typeof value === 'string' && /^https?:\/\//.test(value)) assert.ok(fields.has(key), `${key} is an image URL field`);
      }
    }
  });
});

describe('findface-api: client against the fake FindFace', () => {
  let fake: FakeFindFace;
  let client: FindFaceClient;

  beforeEach(async () => {
    fake = await FakeFindFace.start();
    client = new FindFaceClient({ baseUrl: fake.url, token: fake.token, timeoutMs: 2000 });
  });

  afterEach(async () => {
    client.destroy();
    await fake.close();
  });

  it('sends the token as "Authorization: Token <token>" and the query as given', async () => {
    fake.addEvents(3);
    const page = await client.listEvents({ ordering: 'id', limit: 10, cameras: [1, 2], no_match: false });
    const request = fake.requestsTo('/events/faces/')[0];
    assert.equal(request.headers.authorization, `Token ${fake.token}`);
    assert.equal(request.headers.accept, 'application/json');
    assert.deepEqual(request.query.getAll('cameras'), ['1', '2']);
    assert.equal(request.query.get('no_match'), 'false');
    assert.deepEqual(
      page.results.map((e) => e.id),
      fake.events.filter((e) => e.matched === true && [1, 2].includes(e.camera as number)).map((e) => e.id),
    );
    assert.equal(page.nextPage, null);
  });

  for (const style of ['url', 'query', 'cursor'] as const) {
    it(`pages through every event following next_page (${style} style)`, async () => {
      fake.nextPageStyle = style;
      fake.addEvents(23);
      const seen: unknown[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page: Awaited<ReturnType<FindFaceClient['listEvents']>> = await client.listEvents({ ordering: 'id', limit: 5 }, cursor);
        seen.push(...page.results.map((e) => e.id));
        cursor = page.nextPage;
        pages++;
      } while (cursor && pages < 20);
      assert.equal(pages, 5);
      assert.deepEqual(
        seen,
        fake.events.map((e) => e.id),
      );
    });
  }

  it('never follows a next_page URL to another host', async () => {
    fake.addEvents(4);
    const page = await client.listEvents(
      { limit: 2 },
      'http://203.0.113.9:1/events/faces/?limit=2&page=' + Buffer.from(`p=${FIRST_EVENT_ID}`).toString('base64url'),
    );
    assert.equal(fake.requests.length, 1, 'the request went to the configured server');
    assert.equal(page.results.length, 2);
  });

  it('reads count when the server gives one', async () => {
    fake.withCount = true;
    fake.addEvents(7);
    const page = await client.listEvents({ limit: 2 });
    assert.equal(page.count, 7);
  });

  it('lists every camera over several pages, with its group', async () => {
    fake.maxLimit = 2;
    fake.cameras = Array.from({ length: 7 }, (_, i) => ({ id: i + 1, group: 10 + (i % 2), name: `cam ${i + 1}` }));
    const cameras = await client.listCameras();
    assert.deepEqual(
      cameras.map((c) => [c.id, c.group]),
      fake.cameras.map((c) => [c.id, c.group]),
    );
    assert.equal(fake.requestsTo('/cameras/').length, 4);
    const groups = await client.listCameraGroups();
    assert.deepEqual(
      groups.map((g) => g.id),
      [1, 2],
    );
  });

  it('reads a camera group given as an object', async () => {
    fake.cameras = [{ id: 4, group: { id: 9, name: 'x' } as unknown as number, name: 'obj' }];
    const cameras = await client.listCameras();
    assert.equal(cameras[0].group, 9);
  });

  it('classifies 401 as an auth error that is not retryable, with no token anywhere', async () => {
    fake.echoAuthorization = true;
    const wrong = new FindFaceClient({ baseUrl: fake.url, token: 'wrong-token-value-123', timeoutMs: 2000 });
    try {
      const error = await failure(wrong.listEvents({ limit: 1 }));
      assert.equal(error.kind, 'auth');
      assert.equal(error.status, 401);
      assert.equal(error.retryable, false);
      assert.match(error.message, /GET \/events\/faces\/: HTTP 401 Unauthorized: Invalid token/);
      assert.ok(!everyRendering(error).includes('wrong-token-value-123'), everyRendering(error));
    } finally {
      wrong.destroy();
    }
  });

  it('answers 401 to a request without a token', async () => {
    const none = new FindFaceClient({ baseUrl: fake.url, token: '', timeoutMs: 2000 });
    try {
      const error = await failure(none.listCameras());
      assert.equal(error.kind, 'auth');
      assert.match(error.message, /credentials were not provided/);
      assert.equal(fake.requests[0].headers.authorization, undefined);
    } finally {
      none.destroy();
    }
  });

  it('classifies 403, 5xx, 429, other 4xx, non-JSON answers and redirects', async () => {
    fake.failures.push(
      { status: 403, body: JSON.stringify({ code: 'PERMISSION_DENIED', desc: 'You do not have permission to perform this action.' }) },
      { status: 500 },
      { status: 503, body: '<html>bad gateway</html>' },
      { status: 429 },
      { status: 200, body: '<html>the web UI</html>' },
    );
    const forbidden = await failure(client.listEvents({}));
    assert.deepEqual([forbidden.kind, forbidden.status, forbidden.retryable], ['auth', 403, false]);
    const server = await failure(client.listEvents({}));
    assert.deepEqual([server.kind, server.status, server.retryable], ['server', 500, true]);
    const html = await failure(client.listEvents({}));
    assert.deepEqual([html.kind, html.status], ['server', 503]);
    assert.ok(!html.message.includes('<html>'));
    const tooMany = await failure(client.listEvents({}));
    assert.deepEqual([tooMany.kind, tooMany.retryable], ['server', true]);
    const notJson = await failure(client.listEvents({}));
    assert.deepEqual([notJson.kind, notJson.retryable], ['protocol', false]);
    const bad = await failure(client.listEvents({ ordering: 'name' }));
    assert.deepEqual([bad.kind, bad.status, bad.retryable], ['client', 400, false]);
    assert.match(bad.message, /Invalid ordering "name" \(ordering\)/);
    const missing = await failure(new FindFaceClient({ baseUrl: `${fake.url}/nope`, token: fake.token, timeoutMs: 1000 }).listCameras());
    assert.deepEqual([missing.kind, missing.status], ['client', 404]);
  });

  it('does not follow redirects (the token stays with the configured server)', async () => {
    const other = await FakeFindFace.start();
    try {
      fake.redirectTo = `${other.url}/events/faces/`;
      const error = await failure(client.listEvents({}));
      assert.equal(error.kind, 'protocol');
      assert.equal(error.status, 301);
      assert.match(error.message, /redirect to http:\/\/127\.0\.0\.1:\d+\/events\/faces\//);
      assert.equal(other.requests.length, 0);
    } finally {
      await other.close();
    }
  });

  it('classifies a refused connection and a timeout as retryable', async () => {
    fake.delayMs = 400;
    const slow = new FindFaceClient({ baseUrl: fake.url, token: fake.token, timeoutMs: 100 });
    try {
      const timeout = await failure(slow.listEvents({}));
      assert.deepEqual([timeout.kind, timeout.retryable], ['timeout', true]);
    } finally {
      slow.destroy();
    }
    fake.delayMs = 0;
    await fake.down();
    const refused = await failure(client.listEvents({}));
    assert.deepEqual([refused.kind, refused.code, refused.retryable], ['network', 'ECONNREFUSED', true]);
    assert.ok(!everyRendering(refused).includes(fake.token));
  });

  it('can be cancelled with an AbortSignal', async () => {
    fake.delayMs = 1000;
    const abort = new AbortController();
    const pending = client.listEvents({}, null, { signal: abort.signal });
    setTimeout(() => abort.abort(), 20);
    const error = await failure(pending);
    assert.equal(error.kind, 'aborted');
  });

  it('logs in with HTTP Basic and a uuid, and refuses a wrong password without echoing it', async () => {
    const anonymous = new FindFaceClient({ baseUrl: fake.url, token: '', timeoutMs: 2000 });
    try {
      const { token, expires } = await anonymous.login('admin', 'admin');
      assert.ok(fake.issuedTokens.has(token));
      assert.ok(expires);
      const request = fake.requestsTo('/auth/login/')[0];
      assert.equal(request.headers.authorization, `Basic ${Buffer.from('admin:admin').toString('base64')}`);
      assert.ok(JSON.parse(request.body).uuid);
      const error = await failure(anonymous.login('admin', 'password-guess-9'));
      assert.equal(error.kind, 'auth');
      assert.ok(!everyRendering(error).includes('password-guess-9'));
    } finally {
      anonymous.destroy();
    }
  });
});

describe('findface-api: TLS with a self-signed certificate', function () {
  this.timeout(30000);
  let fake: FakeFindFace;
  let cert: { key: string; cert: string } | null;

  before(async function () {
    cert = selfSignedCert();
    if (!cert) this.skip();
    fake = await FakeFindFace.start({ tls: cert });
  });

  after(async () => {
    await fake?.close();
  });

  it('fails by default, with a TLS error that is not retryable', async () => {
    const client = new FindFaceClient({ baseUrl: fake.url, token: fake.token, timeoutMs: 5000 });
    try {
      const error = await failure(client.listCameras());
      assert.equal(error.kind, 'tls');
      assert.equal(error.retryable, false);
      assert.ok(!everyRendering(error).includes(fake.token));
    } finally {
      client.destroy();
    }
  });

  it('passes with the certificate as a custom CA', async () => {
    const client = new FindFaceClient({ baseUrl: fake.url, token: fake.token, timeoutMs: 5000, tls: { ca: cert!.cert, rejectUnauthorized: true } });
    try {
      assert.equal((await client.listCameras()).length, 3);
    } finally {
      client.destroy();
    }
  });

  it('passes with rejectUnauthorized false', async () => {
    const client = new FindFaceClient({ baseUrl: fake.url, token: fake.token, timeoutMs: 5000, tls: { rejectUnauthorized: false } });
    try {
      assert.equal((await client.listCameras()).length, 3);
    } finally {
      client.destroy();
    }
  });
});
