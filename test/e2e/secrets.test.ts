// Secrets stay secret. Flows with credentials (the source's shared secret and
// Standard Webhooks signing keys, the FindFace API token of findface-server,
// the webhook sender's credentials when it declares any) are deployed through
// the admin API as the editor does; the nodes are exercised with right and
// wrong secrets; then no secret value may appear in the flow export
// (GET /flows), flows.json, flows_cred.json (encrypted with the
// credentialSecret that NodeRedProcess sets) or anywhere in the log, and the
// admin API gives only has_<name> flags for password credentials.
import assert from 'assert/strict';
import { createDecipheriv, createHash, createHmac, randomBytes } from 'crypto';
import fs from 'fs';
import http from 'http';
import net from 'net';
import path from 'path';
import { NodeRedProcess, repoRoot } from '../support/node-red-process';
import { waitFor } from '../support/wait';
import { seedEvent } from '../fixtures/events';
import { FakeFindFace } from '../support/fake-findface';

const random = (label: string) => `${label}-${randomBytes(12).toString('hex')}`;
const EVENT_SECRET = random('event-in-secret');
const SIGNING_KEY = 'whsec_' + randomBytes(32).toString('base64');
const OLD_SIGNING_KEY = 'whsec_' + randomBytes(32).toString('base64');
const SERVER_TOKEN = random('findface-token');
const SERVER_PASSWORD = random('findface-password');

/** The webhook sender's password credentials, read from its editor file (none: that part is skipped). */
function webhookCredentialNames(): string[] {
  const file = path.join(repoRoot, 'nodes', 'webhook', 'findface-webhook.html');
  if (!fs.existsSync(file)) return [];
  const block = /credentials\s*:\s*\{([^}]*\})*?\s*\}/.exec(fs.readFileSync(file, 'utf8'));
  if (!block) return [];
  return [...block[0].matchAll(/(\w+)\s*:\s*\{\s*type\s*:\s*["']password["']/g)].map((match) => match[1]);
}
const WEBHOOK_CREDENTIALS = Object.fromEntries(webhookCredentialNames().map((name) => [name, random(`webhook-${name}`)]));

/** Every secret value, and the parts a leak could show on its own (a signing key's base64 body). */
const SECRETS = [
  EVENT_SECRET,
  SIGNING_KEY,
  OLD_SIGNING_KEY,
  SIGNING_KEY.slice('whsec_'.length),
  OLD_SIGNING_KEY.slice('whsec_'.length),
  SERVER_TOKEN,
  SERVER_PASSWORD,
  ...Object.values(WEBHOOK_CREDENTIALS),
];

function sign(key: string, id: string, timestamp: string, body: string): string {
  return createHmac('sha256', Buffer.from(key.slice('whsec_'.length), 'base64'))
    .update(`${id}.${timestamp}.${body}`)
    .digest('base64');
}

function leaks(text: string): string[] {
  return SECRETS.filter((secret) => text.includes(secret));
}

/** Node-RED's own decryption of flows_cred.json (aes-256-ctr, key sha256(credentialSecret), IV first). */
function decryptCredentials(file: string, credentialSecret: string): Record<string, Record<string, string>> {
  const stored = JSON.parse(fs.readFileSync(file, 'utf8')) as { $: string };
  const key = createHash('sha256').update(credentialSecret).digest();
  const decipher = createDecipheriv('aes-256-ctr', key, Buffer.from(stored.$.slice(0, 32), 'hex'));
  return JSON.parse(decipher.update(stored.$.slice(32), 'base64', 'utf8') + decipher.final('utf8'));
}

/** A FindFace API stand-in: `GET /cameras/` with `Authorization: Token <SERVER_TOKEN>`, 401 otherwise. */
function fakeFindFace(seen: string[]): http.Server {
  return http.createServer((req, res) => {
    seen.push(String(req.headers.authorization ?? ''));
    res.setHeader('Content-Type', 'application/json');
    if (req.headers.authorization !== `Token ${SERVER_TOKEN}`) {
      res.writeHead(401).end(JSON.stringify({ code: 'UNAUTHORIZED', desc: 'Invalid token.' }));
      return;
    }
    res.end(JSON.stringify({ next_page: null, prev_page: null, results: [{ id: 2, group: 1, name: 'Entrance' }] }));
  });
}

async function listen(server: http.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as net.AddressInfo).port;
}

async function close(server: http.Server): Promise<void> {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
}

describe('secrets in a real Node-RED', function () {
  this.timeout(120000);
  let nodeRed: NodeRedProcess;
  let registered: Set<string>;
  const findFace = { server: undefined as http.Server | undefined, seen: [] as string[], port: 0 };
  const receiver = { server: undefined as http.Server | undefined, batches: [] as Array<{ headers: http.IncomingHttpHeaders; body: unknown }>, port: 0 };
  const outFile = () => path.join(nodeRed.userDir, 'events.ndjson');
  // A FindFace to log in to with a user name and password; its short-lived tokens are secrets too.
  let loginFindFace: FakeFindFace | undefined;

  const deploy = async (flows: unknown[]) => {
    const startedBefore = nodeRed.count('Started flows');
    const response = await fetch(`${nodeRed.url}/flows`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Node-RED-Deployment-Type': 'full' },
      body: JSON.stringify(flows),
    });
    assert.ok(response.status === 200 || response.status === 204, `deploy answered ${response.status}: ${await response.text()}`);
    await waitFor(() => nodeRed.count('Started flows') > startedBefore, 15000, 'the deployed flows to start');
  };
  const post = (target: string, headers: Record<string, string> = {}, body = JSON.stringify([seedEvent])) =>
    fetch(`${nodeRed.url}${target}`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body });

  before(async () => {
    findFace.server = fakeFindFace(findFace.seen);
    findFace.port = await listen(findFace.server);
    receiver.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        receiver.batches.push({ headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString()) });
        res.writeHead(200).end();
      });
    });
    receiver.port = await listen(receiver.server);

    // The most talkative log level, so that a secret in any log line is seen.
    nodeRed = await NodeRedProcess.create({ settings: { logging: { console: { level: 'trace', metrics: false, audit: true } } } });
    await nodeRed.start();
    const response = await fetch(`${nodeRed.url}/nodes`, { headers: { Accept: 'application/json' } });
    const sets = (await response.json()) as Array<{ module: string; types: string[]; err?: string }>;
    registered = new Set(sets.filter((set) => set.module === 'node-red-contrib-findface' && !set.err).flatMap((set) => set.types));

    const webhook = registered.has('findface-webhook')
      ? [
          {
            id: 'hook',
            type: 'findface-webhook',
            z: 'tab',
            title: 'secrets',
            url: `http://127.0.0.1:${receiver.port}/hook`,
            active: true,
            batchSize: 1,
            lingerMs: 0,
            timeout: 5000,
            backoffBase: 0.1,
            backoffFactor: 2.7,
            backoffMax: 1,
            maxAttempts: 3,
            successCodes: '200',
            credentials: WEBHOOK_CREDENTIALS,
            wires: [[], []],
          },
        ]
      : [];
    loginFindFace = await FakeFindFace.start({ users: { operator: SERVER_PASSWORD }, tokenLifetimeMs: 1500 });
    loginFindFace.addEvents(3);
    const server = registered.has('findface-server')
      ? [
          {
            id: 'srv',
            type: 'findface-server',
            name: 'secrets',
            url: `http://127.0.0.1:${findFace.port}`,
            externalAddress: '',
            timeout: 5000,
            credentials: { token: SERVER_TOKEN },
          },
          {
            id: 'srv-login',
            type: 'findface-server',
            name: 'login',
            url: loginFindFace.url,
            externalAddress: '',
            timeout: 5000,
            credentials: { username: 'operator', password: SERVER_PASSWORD },
          },
          {
            id: 'poll-in',
            type: 'findface-event-in',
            z: 'tab',
            mode: 'poll',
            server: 'srv-login',
            pollIntervalS: 0.3,
            pollFilters: '{}',
            startAt: 'beginning',
            wires: [[]],
          },
        ]
      : [];
    await deploy([
      { id: 'tab', type: 'tab', label: 'secrets' },
      {
        id: 'sec-in',
        type: 'findface-event-in',
        z: 'tab',
        mode: 'webhook',
        path: '/secrets/shared',
        maxBodyMb: 1,
        credentials: { secret: EVENT_SECRET },
        wires: [['to-file', ...webhook.map((node) => node.id)]],
      },
      {
        id: 'sig-in',
        type: 'findface-event-in',
        z: 'tab',
        mode: 'webhook',
        path: '/secrets/signed',
        maxBodyMb: 1,
        credentials: { signingSecrets: `${SIGNING_KEY} ${OLD_SIGNING_KEY}` },
        wires: [['to-file']],
      },
      {
        id: 'to-file',
        type: 'file',
        z: 'tab',
        filename: path.join(nodeRed.userDir, 'events.ndjson'),
        filenameType: 'str',
        appendNewline: true,
        createDir: true,
        overwriteFile: 'false',
        encoding: 'utf8',
        wires: [],
      },
      ...webhook,
      ...server,
    ]);
  });
  afterEach(function () {
    if (this.currentTest?.state === 'failed') console.log(nodeRed.log.slice(-15000));
  });
  after(async () => {
    await nodeRed?.dispose();
    if (findFace.server) await close(findFace.server);
    await loginFindFace?.close();
    if (receiver.server) await close(receiver.server);
  });

  const emitted = () => (fs.existsSync(outFile()) ? fs.readFileSync(outFile(), 'utf8').split('\n').filter(Boolean).length : 0);

  it('the source takes its shared secret in the header or the query and refuses wrong ones', async () => {
    const wrong: Array<[string, Record<string, string>]> = [
      ['/secrets/shared', {}],
      ['/secrets/shared', { Authorization: `Bearer ${EVENT_SECRET}x` }],
      ['/secrets/shared', { Authorization: `Bearer x${EVENT_SECRET}` }],
      ['/secrets/shared', { Authorization: `Basic ${Buffer.from(`user:${EVENT_SECRET}`).toString('base64')}` }],
      ['/secrets/shared', { Authorization: EVENT_SECRET }],
      [`/secrets/shared?token=${EVENT_SECRET}x`, {}],
      [`/secrets/shared?token=${EVENT_SECRET.toUpperCase()}`, {}],
      // The shared secret is not a signature.
      ['/secrets/signed', { Authorization: `Bearer ${EVENT_SECRET}` }],
    ];
    for (const [target, headers] of wrong) {
      const response = await post(target, headers);
      assert.equal(response.status, 401, `${target} ${JSON.stringify(headers)}`);
      const answer = await response.text();
      assert.deepEqual(leaks(answer), [], answer);
    }
    assert.equal(emitted(), 0);
    assert.equal((await post('/secrets/shared', { Authorization: `Bearer ${EVENT_SECRET}` })).status, 200);
    assert.equal((await post(`/secrets/shared?token=${encodeURIComponent(EVENT_SECRET)}`)).status, 200);
    await waitFor(() => emitted() === 2, 10000, 'two events');
  });

  it('the source takes a request signed with either signing key and refuses other signatures', async () => {
    const body = JSON.stringify([seedEvent]);
    const now = String(Math.floor(Date.now() / 1000));
    const headers = (key: string, id = 'msg_1') => ({ 'webhook-id': id, 'webhook-timestamp': now, 'webhook-signature': `v1,${sign(key, id, now, body)}` });
    const before = emitted();
    const otherKey = 'whsec_' + randomBytes(32).toString('base64');
    for (const wrong of [headers(otherKey), { ...headers(SIGNING_KEY), 'webhook-id': 'msg_2' }, { 'webhook-signature': `v1,${SIGNING_KEY}` }]) {
      const response = await post('/secrets/signed', wrong, body);
      assert.equal(response.status, 401);
      assert.deepEqual(leaks(await response.text()), []);
    }
    assert.equal((await post('/secrets/signed', headers(SIGNING_KEY), body)).status, 200);
    assert.equal((await post('/secrets/signed', headers(OLD_SIGNING_KEY, 'msg_3'), body)).status, 200);
    await waitFor(() => emitted() === before + 2, 10000, 'two signed events');
  });

  it('the webhook sender delivers with its credentials', async function () {
    if (!registered.has('findface-webhook') || Object.keys(WEBHOOK_CREDENTIALS).length === 0) this.skip();
    await waitFor(() => receiver.batches.length >= 2, 15000, 'the webhook to deliver the two events');
    for (const batch of receiver.batches) assert.deepEqual(batch.body, [seedEvent]);
  });

  it('findface-server uses its stored token, which the editor never sees again', async function () {
    if (!registered.has('findface-server')) this.skip();
    // The editor's "Test connection" with the stored password ("__PWRD__" stands for it).
    const stored = await fetch(`${nodeRed.url}/findface-server/srv/test`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ url: `http://127.0.0.1:${findFace.port}`, token: '__PWRD__' }),
    });
    const storedAnswer = await stored.text();
    assert.equal(stored.status, 200, storedAnswer);
    assert.equal((JSON.parse(storedAnswer) as { ok: boolean }).ok, true, storedAnswer);
    assert.ok(findFace.seen.includes(`Token ${SERVER_TOKEN}`), 'the token did not reach FindFace');
    assert.deepEqual(leaks(storedAnswer), []);
    // A wrong token typed into the editor: refused by FindFace, and the stored one is not revealed.
    const wrong = await fetch(`${nodeRed.url}/findface-server/srv/test`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ url: `http://127.0.0.1:${findFace.port}`, token: `${SERVER_TOKEN}-wrong` }),
    });
    const wrongAnswer = await wrong.text();
    assert.equal((JSON.parse(wrongAnswer) as { ok: boolean }).ok, false, wrongAnswer);
    assert.deepEqual(leaks(wrongAnswer), []);
    // The stored token never goes to another address.
    const elsewhere = await fetch(`${nodeRed.url}/findface-server/srv/test`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ url: 'http://127.0.0.1:9', token: '__PWRD__' }),
    });
    assert.deepEqual(leaks(await elsewhere.text()), []);
  });

  it('the admin API gives has_<name> flags for the credentials, never their values', async () => {
    const expected: Array<[string, string, Record<string, boolean>]> = [
      ['findface-event-in', 'sec-in', { has_secret: true, has_signingSecrets: false }],
      ['findface-event-in', 'sig-in', { has_secret: false, has_signingSecrets: true }],
    ];
    if (registered.has('findface-server'))
      expected.push(
        ['findface-server', 'srv', { has_token: true, has_password: false }],
        ['findface-server', 'srv-login', { has_token: false, has_password: true }],
      );
    if (registered.has('findface-webhook') && Object.keys(WEBHOOK_CREDENTIALS).length) {
      expected.push(['findface-webhook', 'hook', Object.fromEntries(Object.keys(WEBHOOK_CREDENTIALS).map((name) => [`has_${name}`, true]))]);
    }
    for (const [type, id, flags] of expected) {
      const response = await fetch(`${nodeRed.url}/credentials/${type}/${id}`);
      const text = await response.text();
      assert.equal(response.status, 200, text);
      assert.deepEqual(leaks(text), [], text);
      const answer = JSON.parse(text) as Record<string, unknown>;
      // Text-type credentials (the webhook's basic-auth user name) are no secret: Node-RED returns them as they are.
      const secretFlags = Object.fromEntries(Object.entries(answer).filter(([name]) => name.startsWith('has_')));
      assert.deepEqual(secretFlags, flags);
      // The FindFace user name (a text credential) is no secret either.
      assert.deepEqual(
        Object.keys(answer)
          .filter((name) => !name.startsWith('has_'))
          .filter((name) => name !== 'user' && name !== 'username'),
        [],
      );
    }
  });

  it('keeps the secrets through a redeploy of the exported flow, which carries none', async () => {
    const exported = await fetch(`${nodeRed.url}/flows`, { headers: { 'Node-RED-API-Version': 'v1' } });
    const text = await exported.text();
    assert.deepEqual(leaks(text), []);
    const flows = JSON.parse(text) as Array<Record<string, unknown>>;
    assert.ok(
      flows.every((node) => node.credentials === undefined),
      'the export carries credentials',
    );
    await deploy(flows);
    const before = emitted();
    assert.equal((await post('/secrets/shared')).status, 401);
    assert.equal((await post('/secrets/shared', { Authorization: `Bearer ${EVENT_SECRET}` })).status, 200);
    await waitFor(() => emitted() === before + 1, 10000, 'the event after the redeploy');
    const flags = await (await fetch(`${nodeRed.url}/credentials/findface-event-in/sec-in`)).json();
    assert.deepEqual(flags, { has_secret: true, has_signingSecrets: false });
  });

  it('no secret appears in GET /flows, flows.json, flows_cred.json (encrypted) or the log', async () => {
    if (registered.has('findface-server')) {
      // The poll source has logged in, and again once its token neared its expiry.
      await waitFor(() => (loginFindFace?.logins.length ?? 0) >= 2, 10000, 'a login and a renewal');
      SECRETS.push(...(loginFindFace?.issuedTokens.keys() ?? []));
    }
    for (const version of ['v1', 'v2']) {
      const exported = await (await fetch(`${nodeRed.url}/flows`, { headers: { 'Node-RED-API-Version': version } })).text();
      assert.deepEqual(leaks(exported), [], `GET /flows (${version})`);
    }
    const flowsJson = fs.readFileSync(path.join(nodeRed.userDir, 'flows.json'), 'utf8');
    assert.deepEqual(leaks(flowsJson), [], 'flows.json');
    const credFile = path.join(nodeRed.userDir, 'flows_cred.json');
    const credText = fs.readFileSync(credFile, 'utf8');
    assert.deepEqual(leaks(credText), [], 'flows_cred.json');
    assert.deepEqual(Object.keys(JSON.parse(credText)), ['$'], 'flows_cred.json is not encrypted');
    // Encrypted, not lost: Node-RED's own decryption with the credentialSecret gives them back.
    const settings = require(path.join(nodeRed.userDir, 'settings.js')) as { credentialSecret: string };
    const credentials = decryptCredentials(credFile, settings.credentialSecret);
    assert.equal(credentials['sec-in'].secret, EVENT_SECRET);
    assert.equal(credentials['sig-in'].signingSecrets, `${SIGNING_KEY} ${OLD_SIGNING_KEY}`);
    if (registered.has('findface-server')) assert.equal(credentials.srv.token, SERVER_TOKEN);
    if (registered.has('findface-server')) assert.deepEqual(credentials['srv-login'], { username: 'operator', password: SERVER_PASSWORD });
    for (const [name, value] of Object.entries(WEBHOOK_CREDENTIALS)) if (registered.has('findface-webhook')) assert.equal(credentials.hook[name], value);
    // Stopping writes the last log lines too.
    await nodeRed.stop();
    assert.ok(nodeRed.log.length > 1000 && nodeRed.log.includes('[trace]'), 'the log is not at trace level');
    const lines = nodeRed.log.split('\n').filter((line) => leaks(line).length > 0);
    assert.deepEqual(lines, [], 'secrets in the log');
  });
});
