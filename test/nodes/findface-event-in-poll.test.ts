// Poll mode of findface-event-in against the fake FindFace API on 127.0.0.1:
// events emitted once, in creation order, across a redeploy; image URLs made
// absolute; a wrong token halts polling with an error that Catch nodes get.
import assert from 'assert/strict';
import fs from 'fs';
import os from 'os';
import path from 'path';
import helper, { coreNode } from '../support/helper';
import { sleep, waitFor } from '../support/wait';
import { FakeFindFace } from '../support/fake-findface';

const eventIn = require('../../nodes/event-in/findface-event-in.js');
const serverNode = require('../../nodes/server/findface-server.js');
const catchNode = coreNode('common/25-catch.js');

type Msg = { payload: Record<string, unknown>; findface: Record<string, unknown>; error?: { message: string } };

describe('findface-event-in node, poll mode', function () {
  this.timeout(20000);
  let fake: FakeFindFace;
  let userDir: string;

  before(() => {
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ff-poll-test-'));
    helper.settings({ userDir });
  });
  after(() => {
    helper.settings({});
    fs.rmSync(userDir, { recursive: true, force: true });
  });
  beforeEach(async () => (fake = await FakeFindFace.start()));
  afterEach(async () => {
    await helper.unload();
    await fake.close();
  });

  const flow = (props: Record<string, unknown> = {}) => [
    { id: 'tab', type: 'tab' },
    { id: 's1', type: 'findface-server', name: 'ff', url: fake.url, externalAddress: 'http://172.20.77.17', timeout: 2000, rejectUnauthorized: true, ca: '' },
    {
      id: 'source',
      type: 'findface-event-in',
      z: 'tab',
      mode: 'poll',
      server: 's1',
      pollIntervalS: 0.1,
      pollFilters: '{}',
      startAt: 'beginning',
      wires: [['out']],
      ...props,
    },
    { id: 'out', type: 'helper', z: 'tab' },
    { id: 'catcher', type: 'catch', z: 'tab', scope: ['source'], uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper', z: 'tab' },
  ];

  async function load(token: string | Record<string, string>, props: Record<string, unknown> = {}) {
    await helper.load([serverNode, eventIn, catchNode], flow(props), { s1: typeof token === 'string' ? { token } : token });
    const out: Msg[] = [];
    const caught: Msg[] = [];
    helper.getNode('out').on('input', (msg: Msg) => out.push(msg));
    helper.getNode('caught').on('input', (msg: Msg) => caught.push(msg));
    return { out, caught };
  }

  it('emits every event once, oldest first, across a redeploy, with absolute image URLs', async () => {
    fake.addEvents(150, {}, true);
    let { out } = await load(fake.token);
    await waitFor(() => out.length === 150, 10000, '150 events');
    const firstIds = out.map((msg) => String(msg.payload.id));
    assert.deepEqual(
      firstIds,
      [...firstIds].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1)),
    );
    assert.match(String(out[0].payload.face), /^http:\/\/172\.20\.77\.17\//);
    assert.equal(out[0].findface.source, 'poll');
    await helper.unload();
    fake.addEvents(5);
    ({ out } = await load(fake.token));
    await waitFor(() => out.length === 5, 10000, 'the 5 new events');
    await sleep(300);
    assert.equal(out.length, 5, 'nothing emitted twice after the redeploy');
    assert.ok(out.every((msg) => !firstIds.includes(String(msg.payload.id))));
  });

  it('halts on a wrong token with an error for Catch nodes, without hammering the server', async () => {
    fake.addEvents(3);
    const { out, caught } = await load('wrong-token');
    await waitFor(() => caught.length === 1, 5000, 'the auth error');
    assert.match(caught[0].error!.message, /401|auth|token/i);
    await sleep(500);
    assert.equal(out.length, 0);
    assert.ok(fake.requestsTo('/events/faces/').length <= 2, `${fake.requestsTo('/events/faces/').length} requests`);
  });

  it('passes FindFace query filters through by their API names', async () => {
    await load(fake.token, { pollFilters: '{"cameras": [1, 2], "no_match": false}' });
    await waitFor(() => fake.requestsTo('/events/faces/').length > 0, 5000, 'a poll');
    const query = fake.requestsTo('/events/faces/')[0].query;
    assert.deepEqual(query.getAll('cameras'), ['1', '2']);
    assert.equal(query.get('no_match'), 'false');
  });

  for (const sloppy of [false, true]) {
    it(`emits every matched face once, oldest first, and never an unmatched one (${sloppy ? 'sloppy, like the public mock' : 'published API'})`, async () => {
      fake.sloppy = sloppy;
      fake.addEvents(12);
      const { out } = await load(fake.token, { pollFilters: '{"no_match": false}' });
      await waitFor(() => out.length === 6, 5000, 'the 6 matched events');
      fake.addEvents(8);
      await waitFor(() => out.length === 10, 5000, 'the 4 new matched events');
      await sleep(300);
      assert.deepEqual(
        out.map((m) => m.payload.id),
        fake.events.filter((e) => e.matched === true).map((e) => e.id),
      );
    });
  }

  it('a server that ignores no_match: the node holds the unmatched faces back and warns once', async () => {
    fake.addEvents(10);
    fake.ignoredParams = ['no_match'];
    const { out } = await load(fake.token, { pollFilters: '{"no_match": false}' });
    await waitFor(() => out.length === 5, 5000, 'the 5 matched events');
    await sleep(300);
    assert.equal(out.length, 5);
    assert.ok(out.every((msg) => msg.payload.matched === true));
    const warnings = helper
      .log()
      .args.filter((args: any[]) => args[0]?.level === 30)
      .map((args: any[]) => String(args[0].msg));
    assert.equal(warnings.filter((w: string) => /does not match "no_match"/.test(w)).length, 1, warnings.join('\n'));
  });

  it('logs in with a user name and password, keeps polling while tokens expire, and never logs a secret', async () => {
    const password = 'door-pass-5c1e9a77';
    await fake.close();
    fake = await FakeFindFace.start({ users: { operator: password }, tokenLifetimeMs: 700 });
    fake.addEvents(4);
    const { out, caught } = await load({ username: 'operator', password });
    await waitFor(() => out.length === 4, 5000, 'the first 4 events');
    for (let round = 0; round < 3; round++) {
      await sleep(400);
      fake.addEvents(2);
    }
    await waitFor(() => out.length === 10, 5000, 'the 6 events that came while tokens expired');
    await sleep(200);
    assert.equal(caught.length, 0, 'no error');
    assert.ok(fake.logins.length >= 2, `${fake.logins.length} logins`);
    assert.equal(new Set(fake.logins.map((l) => l.uuid)).size, 1, 'the same uuid each time');
    assert.deepEqual(
      out.map((m) => m.payload.id),
      fake.events.map((e) => e.id),
    );
    const secrets = [password, ...fake.issuedTokens.keys()];
    const logged = JSON.stringify(helper.log().args);
    const flows = JSON.stringify((helper as unknown as { _redNodes: { getFlows(): unknown } })._redNodes.getFlows());
    for (const secret of secrets) {
      assert.ok(!logged.includes(secret), 'a secret in a log line');
      assert.ok(!flows.includes(secret), 'a secret in the flows');
    }
  });

  it('a revoked login token recovers by itself (401, login, retry) without an error for Catch nodes', async () => {
    const password = 'door-pass-77a0b1c2';
    await fake.close();
    fake = await FakeFindFace.start({ users: { operator: password } });
    fake.addEvents(2);
    const { out, caught } = await load({ username: 'operator', password });
    await waitFor(() => out.length === 2, 5000, 'the first events');
    fake.issuedTokens.clear();
    fake.addEvents(3);
    await waitFor(() => out.length === 5, 5000, 'the events after the revocation');
    assert.equal(caught.length, 0);
    assert.ok(fake.requestsTo('/events/faces/').some((r) => r.status === 401));
    assert.equal(fake.logins.length, 2);
  });

  it('refuses a missing server and bad filters with an error on deploy', async () => {
    await helper.load(
      [serverNode, eventIn],
      [
        { id: 'tab', type: 'tab' },
        { id: 'a', type: 'findface-event-in', z: 'tab', mode: 'poll', server: '', wires: [] },
        { id: 'b', type: 'findface-event-in', z: 'tab', mode: 'poll', server: 's1', pollFilters: '[1]', wires: [] },
        { id: 'c', type: 'findface-event-in', z: 'tab', mode: 'poll', server: 's1', pollFilters: '{"matched": true, "cameras": [2]}', wires: [] },
        { id: 's1', type: 'findface-server', url: fake.url },
      ],
      { s1: { token: fake.token } },
    );
    const errors = helper
      .log()
      .args.filter((args: any[]) => args[0]?.level === 20)
      .map((args: any[]) => `${args[0].id} ${args[0].msg}`);
    assert.ok(
      errors.some((line: string) => /^a .*no-server|^a .*needs a FindFace server/.test(line)),
      errors.join('\n'),
    );
    assert.ok(
      errors.some((line: string) => /^b .*poll-filters\.not-object/.test(line)),
      errors.join('\n'),
    );
    assert.ok(
      errors.some((line: string) => /^c .*poll-filters\.unknown-param/.test(line)),
      errors.join('\n'),
    );
  });
});
