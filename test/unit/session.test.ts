import assert from 'assert/strict';
import { FindFaceApiError, FindFaceClient } from '../../nodes/lib/findface/findface-api';
import { authFrom, LoginSession, sessionUuid } from '../../nodes/lib/findface/session';
import { FakeFindFace } from '../support/fake-findface';

const PASSWORD = 'pass-word-9d1c7e';

describe('session: which credentials', () => {
  it('takes a token, or a user name and password, never both; says what is missing', () => {
    assert.deepEqual(authFrom({ token: ' abc ' }).auth, { kind: 'token', token: 'abc' });
    assert.deepEqual(authFrom({ username: 'admin', password: PASSWORD }).auth, { kind: 'login', username: 'admin', password: PASSWORD });
    assert.match(String(authFrom({ token: 'abc', username: 'admin', password: PASSWORD }).problem), /either/);
    assert.match(String(authFrom({ username: 'admin' }).problem), /no password/);
    assert.match(String(authFrom({ password: PASSWORD }).problem), /no user name/);
    assert.match(String(authFrom({}).problem), /no API token/);
    assert.match(String(authFrom({ username: 'a:b', password: 'x' }).problem), /":"/);
    for (const result of [authFrom({ username: 'admin' }), authFrom({ password: PASSWORD }), authFrom({ token: 't', password: PASSWORD })]) {
      assert.ok(!JSON.stringify(result).includes(PASSWORD));
    }
  });

  it('logs in with a uuid that is the same for a node across restarts and differs between nodes', () => {
    assert.equal(sessionUuid('a1b2'), sessionUuid('a1b2'));
    assert.notEqual(sessionUuid('a1b2'), sessionUuid('a1b3'));
    assert.match(sessionUuid('x'), /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});

describe('session: LoginSession on a clock', () => {
  it('logs in once, renews shortly before the expiry (a tenth of the life at most), and after a refusal', async () => {
    let now = 0;
    const logins: number[] = [];
    const session = new LoginSession({
      password: PASSWORD,
      clock: { now: () => now, monotonic: () => now, setTimeout: () => 0, clearTimeout: () => undefined },
      login: async () => {
        logins.push(now);
        return { token: `token-${logins.length}`, expires: new Date(now + 100000).toISOString() };
      },
    });
    const [a, b] = await Promise.all([session.token({}), session.token({})]);
    assert.deepEqual([a, b, logins.length], ['token-1', 'token-1', 1], 'one login for concurrent requests');
    now = 89000;
    assert.equal(await session.token({}), 'token-1');
    now = 90000;
    assert.equal(await session.token({}), 'token-2', 'renewed 10 s (a tenth of 100 s) before the expiry');
    assert.equal(session.refused('token-2'), true);
    assert.equal(await session.token({}), 'token-3', 'a refused token is replaced at once');
    assert.ok(session.secrets().includes(PASSWORD) && session.secrets().includes('token-3') && session.secrets().includes('token-1'));
  });

  it('a failed login is not kept: the next call tries again', async () => {
    let fail = true;
    const session = new LoginSession({
      password: PASSWORD,
      login: async () => {
        if (fail) throw new FindFaceApiError('network', 'POST /auth/login/: connect ECONNREFUSED');
        return { token: 'tok-ok-1234' };
      },
    });
    await assert.rejects(session.token({}), /ECONNREFUSED/);
    fail = false;
    assert.equal(await session.token({}), 'tok-ok-1234');
  });
});

describe('session: against the fake FindFace', function () {
  this.timeout(10000);
  let fake: FakeFindFace;
  let client: FindFaceClient;
  let session: LoginSession;

  beforeEach(async () => {
    fake = await FakeFindFace.start({ users: { admin: PASSWORD }, tokenLifetimeMs: 600 });
    fake.addEvents(3);
    session = new LoginSession({ password: PASSWORD, login: (options) => client.login('admin', PASSWORD, { ...options, uuid: sessionUuid('node-1') }) });
    client = new FindFaceClient({ baseUrl: fake.url, token: session, timeoutMs: 2000 });
  });
  afterEach(async () => {
    client.destroy();
    await fake.close();
  });

  it("logs in with HTTP Basic and the node's uuid, then sends the token it got", async () => {
    await client.listEvents({});
    const login = fake.requestsTo('/auth/login/')[0];
    assert.equal(login.headers.authorization, `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}`);
    assert.equal(JSON.parse(login.body).uuid, sessionUuid('node-1'));
    const list = fake.requestsTo('/events/faces/')[0];
    assert.ok(fake.issuedTokens.has(String(list.headers.authorization).replace('Token ', '')));
    assert.equal(list.status, 200);
  });

  it('renews the token before it expires: no request is refused', async () => {
    await client.listEvents({});
    for (let i = 0; i < 8; i++) {
      await new Promise((resolve) => setTimeout(resolve, 120));
      await client.listEvents({});
    }
    assert.ok(fake.logins.length >= 2, `${fake.logins.length} logins`);
    assert.equal(fake.requestsTo('/events/faces/').filter((r) => r.status === 401).length, 0);
    assert.ok(fake.logins.every((l) => l.uuid === sessionUuid('node-1')));
  });

  it('an expired or revoked token recovers by itself: a 401 logs in again and the request is retried once', async () => {
    await client.listEvents({});
    fake.issuedTokens.clear(); // FindFace forgot every token (a restart, a logout elsewhere)
    const page = await client.listEvents({});
    assert.equal(page.results.length, 3);
    const statuses = fake.requestsTo('/events/faces/').map((r) => r.status);
    assert.deepEqual(statuses, [200, 401, 200]);
    assert.equal(fake.logins.length, 2);
  });

  it('a token that keeps being refused fails after one retry, and no message names the password or a token', async () => {
    await client.listEvents({});
    fake.echoAuthorization = true;
    fake.tokenLifetimeMs = -1; // every new token is born expired
    fake.issuedTokens.clear();
    const error = await client.listEvents({}).then(
      () => assert.fail('should fail'),
      (e: unknown) => e as FindFaceApiError,
    );
    assert.equal(error.status, 401);
    assert.equal(fake.requestsTo('/events/faces/').length, 3, 'one try, one retry');
    const shown = `${error.message} ${JSON.stringify(error)} ${String(error.stack)}`;
    assert.ok(!shown.includes(PASSWORD));
    for (const token of fake.issuedTokens.keys()) assert.ok(!shown.includes(token), 'no token in the error');
  });

  it('a wrong password is an auth error that does not echo it', async () => {
    const wrong = new LoginSession({ password: 'wrong-pass-123', login: (o) => client.login('admin', 'wrong-pass-123', o) });
    const other = new FindFaceClient({ baseUrl: fake.url, token: wrong, timeoutMs: 2000 });
    try {
      const error = await other.listEvents({}).then(
        () => assert.fail('should fail'),
        (e: unknown) => e as FindFaceApiError,
      );
      assert.deepEqual([error.kind, error.status], ['auth', 401]);
      assert.ok(!error.message.includes('wrong-pass-123'));
    } finally {
      other.destroy();
    }
  });
});
