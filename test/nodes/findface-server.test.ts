import assert from 'assert/strict';
import path from 'path';
import helper, { nodeRedPath } from '../support/helper';
import { FakeFindFace, selfSignedCert } from '../support/fake-findface';
import { waitFor } from '../support/wait';
import type { FindFaceServerHandle } from '../../nodes/lib/findface/server-handle';

const serverNode = require('../../nodes/server/findface-server.js');

const TOKEN = 'node-test-token-8d1f3a5c9e7b';
const TEST_PATH = (id: string) => `/findface-server/${id}/test`;

/** Everything the runtime logged while the test ran (args of every log call). */
function logText(): string {
  const spy = helper.log() as { args: unknown[][] };
  return JSON.stringify(spy.args);
}

function server(id = 's1'): FindFaceServerHandle & { credentials: { token?: string } } {
  return helper.getNode(id);
}

describe('findface-server config node', function () {
  this.timeout(10000);
  let fake: FakeFindFace;

  beforeEach(async () => {
    fake = await FakeFindFace.start({ token: TOKEN });
  });

  afterEach(async () => {
    await helper.unload();
    await fake.close();
  });

  const flow = (props: Record<string, unknown> = {}) => [
    {
      id: 's1',
      type: 'findface-server',
      name: 'ff',
      url: fake.url,
      externalAddress: 'http://172.20.77.17',
      timeout: 2000,
      rejectUnauthorized: true,
      ca: '',
      ...props,
    },
  ];

  it('declares the token and the password as password credentials, the user name as text (kept out of flows.json)', async () => {
    await helper.load(serverNode, flow(), { s1: { token: TOKEN } });
    const definition = helper._RED.nodes.getCredentialDefinition
      ? helper._RED.nodes.getCredentialDefinition('findface-server')
      : (helper as unknown as { _redNodes: { getCredentialDefinition(type: string): unknown } })._redNodes.getCredentialDefinition('findface-server');
    assert.deepEqual(definition, { token: { type: 'password' }, username: { type: 'text' }, password: { type: 'password' } });
    const flows = (helper as unknown as { _redNodes: { getFlows(): unknown } })._redNodes.getFlows();
    assert.ok(!JSON.stringify(flows).includes(TOKEN));
  });

  it('gives a working client with the stored token and absolutises image URLs', async () => {
    await helper.load(serverNode, flow(), { s1: { token: TOKEN } });
    const node = server();
    assert.equal(node.configError, null);
    assert.equal(node.url, fake.url);
    const cameras = await node.client!.listCameras();
    assert.equal(cameras.length, 3);
    assert.equal(fake.requests[0].headers.authorization, `Token ${TOKEN}`);
    const event = node.absolutise({ id: '1', camera: 1, face: '/uploads/a.jpg', frame: 'http://x/b.jpg' });
    assert.equal(event.face, 'http://172.20.77.17/uploads/a.jpg');
    assert.equal(event.frame, 'http://x/b.jpg');
    assert.ok(!logText().includes(TOKEN));
  });

  it('reports a configuration error without a token, with a bad URL or a missing CA file', async () => {
    await helper.load(serverNode, flow(), {});
    assert.match(String(server().configError), /findface-server\.errors\.no-token/);
    assert.equal(server().client, null);
    await helper.unload();
    await helper.load(serverNode, flow({ url: 'ftp://x' }), { s1: { token: TOKEN } });
    assert.match(String(server().configError), /findface-server\.errors\.url-scheme/);
    await helper.unload();
    await helper.load(serverNode, flow({ ca: 'no/such/ca.pem' }), { s1: { token: TOKEN } });
    assert.match(String(server().configError), /findface-server\.errors\.ca-file/);
    await helper.unload();
    await helper.load(serverNode, flow({ externalAddress: 'not a url' }), { s1: { token: TOKEN } });
    assert.match(String(server().configError), /findface-server\.errors\.external-not-url/);
    assert.ok(!logText().includes(TOKEN));
  });

  it('shares one camera groups cache between leases and stops it with the last one', async () => {
    await helper.load(serverNode, flow(), { s1: { token: TOKEN } });
    const node = server();
    const a = node.acquireCameraGroups();
    const b = node.acquireCameraGroups();
    assert.equal(a.groups, b.groups);
    assert.equal(await a.groups.ready(), true);
    assert.equal(a.groups.groupOf(3), 2);
    a.release();
    a.release();
    assert.notEqual(b.groups.status.state, 'stopped');
    b.release();
    assert.equal(b.groups.status.state, 'stopped');
    const c = node.acquireCameraGroups();
    assert.notEqual(c.groups, a.groups);
    await c.groups.ready();
    await helper.unload();
    assert.equal(c.groups.status.state, 'stopped', 'closing the config node stops the cache');
    assert.equal(fake.requestsTo('/cameras/').length, 2);
  });

  it('warns when the camera groups cannot be loaded, never with the token', async () => {
    fake.echoAuthorization = true;
    await helper.load(serverNode, flow(), { s1: { token: 'wrong-token-5b6c7d8e' } });
    const lease = server().acquireCameraGroups();
    assert.equal(await lease.groups.ready(), false);
    await waitFor(() => /findface-server.errors.cameras: failed: GET \/cameras\/: HTTP 401/.test(logText()), 2000, 'the warning');
    assert.ok(!logText().includes('wrong-token-5b6c7d8e'));
    lease.release();
  });

  it('trusts a self-signed certificate given as CA PEM text', async function () {
    const cert = selfSignedCert();
    if (!cert) this.skip();
    const secure = await FakeFindFace.start({ token: TOKEN, tls: cert! });
    try {
      await helper.load(serverNode, flow({ url: secure.url, ca: cert!.cert }), { s1: { token: TOKEN } });
      assert.equal((await server().client!.listCameras()).length, 3);
      await helper.unload();
      await helper.load(serverNode, flow({ url: secure.url }), { s1: { token: TOKEN } });
      await assert.rejects(server().client!.listCameras(), (e: { kind: string }) => e.kind === 'tls');
    } finally {
      await secure.close();
    }
  });

  describe('test connection endpoint', () => {
    it('tests the deployed settings with the stored token ("__PWRD__")', async () => {
      await helper.load(serverNode, flow(), { s1: { token: TOKEN } });
      const res = await helper.request().post(TEST_PATH('s1')).send({ url: fake.url, token: '__PWRD__' }).expect(200);
      assert.deepEqual(res.body, { ok: true, status: 200, message: 'findface-server.test.ok', cameras: 3 });
      assert.equal(fake.requests.at(-1)!.headers.authorization, `Token ${TOKEN}`);
      const bare = await helper.request().post(TEST_PATH('s1')).send({}).expect(200);
      assert.equal(bare.body.ok, true);
    });

    it("tests the dialog's unsaved values (a new node, not deployed)", async () => {
      await helper.load(serverNode, flow(), { s1: { token: TOKEN } });
      const res = await helper
        .request()
        .post(TEST_PATH('new-node'))
        .send({ url: `${fake.url}/`, token: TOKEN, timeout: '2000' })
        .expect(200);
      assert.equal(res.body.ok, true);
      assert.equal(res.body.cameras, 3);
    });

    it("answers ok:false with FindFace's status for a wrong token, without echoing it", async () => {
      fake.echoAuthorization = true;
      await helper.load(serverNode, flow(), { s1: { token: TOKEN } });
      const res = await helper.request().post(TEST_PATH('s1')).send({ url: fake.url, token: 'typo-token-1234567' }).expect(200);
      assert.equal(res.body.ok, false);
      assert.equal(res.body.status, 401);
      assert.match(res.body.message, /GET \/cameras\/: HTTP 401 Unauthorized: Invalid token/);
      assert.ok(!JSON.stringify(res.body).includes('typo-token-1234567'));
    });

    it('never sends the stored token to another URL', async () => {
      const other = await FakeFindFace.start();
      try {
        await helper.load(serverNode, flow(), { s1: { token: TOKEN } });
        const res = await helper.request().post(TEST_PATH('s1')).send({ url: other.url, token: '__PWRD__' }).expect(400);
        assert.equal(res.body.ok, false);
        assert.equal(res.body.message, 'findface-server.test.token-for-other-url');
        assert.equal(other.requests.length, 0);
        const unknown = await helper.request().post(TEST_PATH('nope')).send({ url: fake.url, token: '__PWRD__' }).expect(400);
        assert.equal(unknown.body.message, 'findface-server.test.no-token');
      } finally {
        await other.close();
      }
    });

    it('says when the server does not answer, or the settings are unusable', async () => {
      await helper.load(serverNode, flow(), { s1: { token: TOKEN } });
      await fake.down();
      const res = await helper.request().post(TEST_PATH('s1')).send({ token: '__PWRD__' }).expect(200);
      assert.deepEqual([res.body.ok, res.body.status], [false, 0]);
      assert.match(res.body.message, /ECONNREFUSED/);
      const bad = await helper.request().post(TEST_PATH('s1')).send({ url: 'not a url', token: TOKEN }).expect(400);
      assert.match(bad.body.message, /findface-server\.errors\.not-url/);
      const noToken = await helper.request().post(TEST_PATH('s1')).send({ url: fake.url, token: '' }).expect(400);
      assert.match(noToken.body.message, /findface-server\.test\.no-token/);
    });

    it("is guarded by RED.auth.needsPermission('findface-server.write') (Node-RED's own check, with adminAuth)", async () => {
      // The test helper's RED.auth lets every request through (no adminAuth);
      // here the node gets Node-RED's real auth module, set up with adminAuth
      // and two API tokens: one with read-only scope, one with full scope.
      const realAuth = require(require.resolve('@node-red/editor-api/lib/auth', { paths: [path.dirname(nodeRedPath)] }));
      const asked: string[] = [];
      const auth = {
        needsPermission: (permission: string) => {
          asked.push(permission);
          return realAuth.needsPermission(permission);
        },
      };
      await realAuth.init(
        {
          adminAuth: {
            type: 'credentials',
            users: [
              { username: 'admin', password: 'x', permissions: '*' },
              { username: 'viewer', password: 'x', permissions: 'read' },
            ],
            tokens: [
              { token: 'admin-api-token', user: 'admin', scope: ['*'] },
              { token: 'viewer-api-token', user: 'viewer', scope: ['read'] },
            ],
          },
        },
        { getSessions: async () => ({}), saveSessions: async () => undefined },
      );
      try {
        const withAuth = (red: { auth: unknown }) => {
          red.auth = auth;
          return serverNode(red);
        };
        await helper.load(withAuth, flow(), { s1: { token: TOKEN } });
        // Test connection and the webhook set-up: both need the write permission.
        assert.deepEqual(asked, ['findface-server.write', 'findface-server.write']);
        const before = fake.requests.length;
        await helper.request().post(TEST_PATH('s1')).send({ token: '__PWRD__' }).expect(401);
        await helper.request().post(TEST_PATH('s1')).set('Authorization', 'Bearer viewer-api-token').send({ token: '__PWRD__' }).expect(401);
        assert.equal(fake.requests.length, before, 'refused requests never reach FindFace');
        const res = await helper.request().post(TEST_PATH('s1')).set('Authorization', 'Bearer admin-api-token').send({ token: '__PWRD__' }).expect(200);
        assert.equal(res.body.ok, true);
      } finally {
        await realAuth.init({}, {});
      }
    });
  });
});
