// The webhook's queue in Redis (`queue: "redis"`, a findface-redis config
// node) in a Node-RED runtime, against a real redis-server that needs an ACL
// user: delivery in order with FindFace's log lines, output 2 after
// maxAttempts, the queue limit refusing and dropping nothing, the source's
// "queued" answer given only once Redis has the events and 503 while Redis is
// down, the red status and the reconnect by itself, and the configuration
// errors. Skipped, with the reason, where redis-server is not installed.
import assert from 'assert/strict';
import fs from 'fs';
import os from 'os';
import path from 'path';
import request from 'supertest';
import helper from '../support/helper';
import { Receiver } from '../support/receiver';
import { sleep, waitFor } from '../support/wait';
import { seedEvent } from '../fixtures/events';
import { aclUserArgs, NO_REDIS_REASON, RedisServer, redisServerBinary } from '../support/redis-server';
import { FakeFindFace } from '../support/fake-findface';

const eventInModule = require('../../nodes/event-in/findface-event-in.js');
const webhookNode = require('../../nodes/webhook/findface-webhook.js');
const redisNode = require('../../nodes/redis/findface-redis.js');
const serverNode = require('../../nodes/server/findface-server.js');
const accessNode = require('../../nodes/access/findface-access.js');

type Msg = { payload: any; error?: any; topic?: string; [key: string]: unknown };

let httpNode: any;
function eventIn(RED: any) {
  httpNode = RED.httpNode;
  return eventInModule(RED);
}

const ACL_USER = 'findface-test';
const ACL_PASSWORD = `pw-${process.pid}-${Date.now().toString(36)}`;
const describeWithRedis = redisServerBinary() ? describe : describe.skip;
if (!redisServerBinary()) console.log(`  (skipped: ${NO_REDIS_REASON})`);

describeWithRedis('the shared backend (findface-redis) in a Node-RED runtime', function () {
  this.timeout(30000);
  const server = new RedisServer(aclUserArgs(ACL_USER, ACL_PASSWORD));
  server.cliAuth = ['--user', ACL_USER];
  server.cliPassword = ACL_PASSWORD;
  let receiver: Receiver;
  let userDir: string;
  let prefixCount = 0;
  let prefix = '';

  before(async () => {
    await server.start();
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ff-redis-node-'));
    helper.settings({ userDir, logging: { console: { level: 'info' } } });
    await helper.startServer();
  });
  after(async () => {
    await helper.stopServer();
    helper.settings({});
    fs.rmSync(userDir, { recursive: true, force: true });
    await server.dispose();
  });
  beforeEach(async () => {
    receiver = await Receiver.start();
    prefix = `t${process.pid}n${++prefixCount}`;
  });
  afterEach(async () => {
    await helper.unload();
    await receiver.stop();
  });

  const redisConfig = (extra: Record<string, unknown> = {}) => ({ id: 'shared', type: 'findface-redis', url: server.url, prefix, leaseS: 1, ...extra });
  const credentials = { shared: { username: ACL_USER, password: ACL_PASSWORD } };
  const hook = (extra: Record<string, unknown> = {}) => ({
    id: 'hook',
    z: 'tab',
    type: 'findface-webhook',
    title: 'door',
    url: receiver.url,
    queue: 'redis',
    redis: 'shared',
    batchSize: 2,
    timeout: 2000,
    backoffBase: 0.01,
    backoffFactor: 2,
    backoffMax: 0.1,
    maxAttempts: 0,
    wires: [['ok'], ['fail']],
    ...extra,
  });
  const around = [
    { id: 'ok', z: 'tab', type: 'helper' },
    { id: 'fail', z: 'tab', type: 'helper' },
    { id: 'catcher', z: 'tab', type: 'catch', scope: ['hook'], uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'tab', type: 'helper' },
  ];
  const streamKey = () => `${prefix}:webhook:hook:events`;

  async function load(nodes: unknown[], creds: unknown = credentials) {
    await helper.load([eventIn, webhookNode, redisNode, serverNode, accessNode], [{ id: 'tab', type: 'tab' }, redisConfig(), ...around, ...nodes], creds);
  }
  const collect = (id: string) => {
    const received: Msg[] = [];
    helper.getNode(id).on('input', (msg: Msg) => received.push(msg));
    return received;
  };
  const lastStatus = (id = 'hook'): { fill?: string; text?: string } => {
    const calls = helper.getNode(id).status.args as Array<[Record<string, string>]>;
    return calls.length ? calls[calls.length - 1][0] : {};
  };
  const logLines = (type: string): string[] =>
    helper
      .log()
      .args.map((args: any[]) => args[0])
      .filter((m: any) => m && m.type === type)
      .map((m: any) => String(m.msg));
  const ev = (id: number) => ({ ...seedEvent, id: String(id) });

  it("delivers in arrival order with the disk queue's log lines, holding the delivery lease", async () => {
    await load([hook()]);
    const ok = collect('ok');
    await waitFor(() => lastStatus().fill === 'green', 5000, "the holder's green status");
    for (let i = 1; i <= 6; i++) helper.getNode('hook').receive({ payload: ev(i) });
    await receiver.waitForDelivered(6);
    assert.deepEqual(receiver.deliveredIds, ['1', '2', '3', '4', '5', '6']);
    await waitFor(() => ok.length === 3, 3000, 'three delivered reports');
    assert.deepEqual(
      ok.map((msg) => msg.payload.ids),
      [
        ['1', '2'],
        ['3', '4'],
        ['5', '6'],
      ],
    );
    const lines = logLines('findface-webhook');
    assert.ok(lines.includes('Event 1 enqueued for webhook door (1 items in queue)'), lines.join('\n'));
    assert.ok(lines.includes("Received 2 events from queue: ['1', '2']"), lines.join('\n'));
    assert.ok(lines.includes('Attempting to send 2 events'));
    assert.ok(lines.includes("Sent 2 events: ['5', '6']"));
    await waitFor(() => server.cli('XLEN', streamKey()) === '0', 3000, 'an empty stream');
    assert.match(server.cli('GET', `${prefix}:webhook:hook:lease`), new RegExp(`^${os.hostname()}:${process.pid}:\\d+$`));
  });

  it('gives a batch up after maxAttempts on output 2, and it leaves the stream', async () => {
    receiver.respondWith({ status: 500 });
    await load([hook({ maxAttempts: 2, batchSize: 1 })]);
    const fail = collect('fail');
    await waitFor(() => lastStatus().fill === 'green', 5000);
    helper.getNode('hook').receive({ payload: ev(7) });
    await waitFor(() => fail.length === 1, 5000, 'the given-up message');
    assert.deepEqual(fail[0].ids, ['7']);
    assert.equal(fail[0].attempts, 2);
    assert.equal(fail[0].error.code, 'HTTP_500');
    assert.ok(logLines('findface-webhook').some((line) => /^Backing off for 0\.020 seconds after failure: HTTP 500/.test(line)));
    await waitFor(() => server.cli('XLEN', streamKey()) === '0', 3000);
  });

  it('refuses, and drops nothing, over queueMaxEvents', async () => {
    await receiver.refuse();
    await load([hook({ queueMaxEvents: 3, batchSize: 1 })]);
    const caught = collect('caught');
    await waitFor(() => lastStatus().fill === 'green', 5000, 'connected');
    helper.getNode('hook').receive({ payload: [ev(1), ev(2)] });
    helper.getNode('hook').receive({ payload: [ev(3), ev(4)] });
    await waitFor(() => caught.length === 1, 3000, 'the refusal at Catch');
    assert.match(caught[0].error.message, /limit is 3 events, \d+ bytes: 2 more refused/);
    assert.equal(server.cli('XLEN', streamKey()), '2', 'the refused message added nothing, dropped nothing');
    await waitFor(() => lastStatus().fill === 'red', 3000, 'queue full: red');
    await receiver.accept();
    await receiver.waitForDelivered(2);
    assert.deepEqual(receiver.deliveredIds, ['1', '2']);
  });

  it('source "queued": 200 only once Redis has the events; 503 while Redis is down (red status); reconnects by itself, nothing accepted lost', async () => {
    const source = {
      id: 'in',
      z: 'tab',
      type: 'findface-event-in',
      mode: 'webhook',
      path: '/ff/redis',
      respond: 'queued',
      queuedTimeoutS: 3,
      wires: [['hook']],
    };
    await receiver.refuse();
    await load([source, hook({ batchSize: 10 })]);
    await waitFor(() => lastStatus().fill === 'green' || lastStatus().fill === 'yellow', 5000);
    const post = (ids: number[]) =>
      request(httpNode)
        .post('/ff/redis')
        .set('Content-Type', 'application/json')
        .send(JSON.stringify(ids.map(ev)));
    const first = await post([1, 2, 3]);
    assert.equal(first.status, 200);
    // The answer came after the append: the events are in the stream (the receiver refuses, so they wait there).
    assert.equal(server.cli('XLEN', streamKey()), '3');

    await server.stop('SIGKILL');
    const down = await post([4, 5]);
    assert.equal(down.status, 503, JSON.stringify(down.body));
    await waitFor(() => lastStatus().fill === 'red' && /redis-down/.test(String(lastStatus().text)), 5000, 'the red Redis status');
    assert.ok(
      logLines('findface-redis').some((line) => /findface-redis\.log\.down/.test(line)),
      'the outage is logged once',
    );

    await server.start();
    await receiver.accept();
    // FindFace sends the refused batch again; the sender resumes with what it had.
    await waitFor(async () => (await post([4, 5])).status === 200, 10000, 'a 200 once Redis is back');
    await receiver.waitForDelivered(5, 10000);
    assert.deepEqual([...new Set(receiver.deliveredIds)], ['1', '2', '3', '4', '5']);
    assert.ok(logLines('findface-redis').some((line) => /findface-redis\.log\.up/.test(line)));
    const everything = JSON.stringify(helper.log().args);
    assert.ok(!everything.includes(ACL_PASSWORD), 'the password is in no log line');
  });

  it('a wrong password: red status, the events refused, the password in no log line', async () => {
    await load([hook()], { shared: { username: ACL_USER, password: 'not-the-password' } });
    const caught = collect('caught');
    await waitFor(() => lastStatus().fill === 'red', 5000, 'a red status');
    helper.getNode('hook').receive({ payload: ev(1) });
    await waitFor(() => caught.length === 1, 3000);
    await sleep(300);
    assert.equal(server.cli('EXISTS', streamKey()), '0');
    assert.ok(!JSON.stringify(helper.log().args).includes('not-the-password'));
  });

  it("warns once when Redis's default user may not write the queue (its append-only file replay would drop the queue on a Redis without the fix of redis/redis#14545); not when it may", async () => {
    await load([hook()]);
    await waitFor(() => lastStatus().fill === 'green', 5000, 'connected');
    await sleep(300);
    assert.deepEqual(
      logLines('findface-redis').filter((line) => /aof-default-user/.test(line)),
      [],
      'the default user keeps its permissions here (aclUserArgs)',
    );
    await helper.unload();
    // The usual hardening, `user default off` alone: the default user has no permissions at all.
    const bare = new RedisServer(['--user', 'default', 'off', '--user', ACL_USER, 'on', `>${ACL_PASSWORD}`, '~*', '&*', '+@all']);
    try {
      await bare.start();
      await helper.load([webhookNode, redisNode], [{ id: 'tab', type: 'tab' }, { ...redisConfig(), url: bare.url }, ...around, hook()], credentials);
      await waitFor(() => logLines('findface-redis').some((line) => /aof-default-user/.test(line)), 5000, 'the warning');
      await sleep(300);
      assert.equal(logLines('findface-redis').filter((line) => /aof-default-user/.test(line)).length, 1, 'once');
      assert.ok(
        helper.log().args.some((args: any[]) => args[0]?.type === 'findface-redis' && args[0]?.level === 30),
        'a warning',
      );
    } finally {
      await helper.unload();
      await bare.dispose();
    }
  });

  it('configuration errors: queue redis without a Redis, a Redis that is not deployed, a password in the URL', async () => {
    await load([hook({ redis: '' })]);
    assert.match(String(lastStatus().text), /config-error/);
    assert.ok(logLines('findface-webhook').some((line) => /errors\.no-redis/.test(line)));
    await helper.unload();
    await load([hook({ redis: 'nowhere' })]);
    assert.ok(logLines('findface-webhook').some((line) => /errors\.redis-missing/.test(line)));
    await helper.unload();
    await helper.load(
      [webhookNode, redisNode],
      [{ id: 'tab', type: 'tab' }, redisConfig({ url: `redis://:${ACL_PASSWORD}@127.0.0.1:${server.port}` }), hook({ wires: [[], []] })],
    );
    assert.ok(logLines('findface-webhook').some((line) => /errors\.redis-config/.test(line)));
    assert.ok(!JSON.stringify(helper.log().args).includes(ACL_PASSWORD), 'the refused URL is not repeated with its password');
  });
  describe('poll, repeats and doors shared through Redis', () => {
    it('poll: idle while another instance holds the poll lease, saying who; takes over when it is free; the cursor in Redis', async () => {
      const fake = await FakeFindFace.start();
      try {
        fake.addEvents(5);
        const leaseKey = `${prefix}:poll:source:lease`;
        server.cli('SET', leaseKey, 'other-host:4242:1', 'PX', '60000');
        const poll = {
          id: 'source',
          z: 'tab',
          type: 'findface-event-in',
          mode: 'poll',
          server: 's1',
          redis: 'shared',
          pollIntervalS: 0.1,
          pollFilters: '{}',
          startAt: 'beginning',
          wires: [['out']],
        };
        await load([poll, { id: 's1', type: 'findface-server', url: fake.url, timeout: 2000 }, { id: 'out', z: 'tab', type: 'helper' }], {
          ...credentials,
          s1: { token: fake.token },
        });
        const out = collect('out');
        await waitFor(() => /findface-redis\.status\.standby/.test(String(lastStatus('source').text)), 5000, 'the standby status');
        await sleep(400);
        assert.equal(out.length, 0, 'the other instance polls');
        assert.equal(fake.requestsTo('/events/faces/').length, 0);
        server.cli('DEL', leaseKey);
        await waitFor(() => out.length === 5, 5000, 'the five events, once this instance holds the lease');
        await waitFor(() => server.cli('GET', `${prefix}:poll:source:cursor`) !== '', 3000);
        const cursor = JSON.parse(server.cli('GET', `${prefix}:poll:source:cursor`));
        assert.equal(cursor.lastId, String(out[4].payload.id));
      } finally {
        await helper.unload();
        await fake.close();
      }
    });

    it('repeats: an event another instance already took within the window is dropped', async () => {
      const source = {
        id: 'in',
        z: 'tab',
        type: 'findface-event-in',
        mode: 'webhook',
        path: '/ff/dedup',
        respond: 'emitted',
        dedupWindowS: 30,
        redis: 'shared',
        wires: [['out']],
      };
      await load([source, { id: 'out', z: 'tab', type: 'helper' }]);
      const out = collect('out');
      await waitFor(() => server.cli('PING') === 'PONG' && lastStatus('in').fill !== undefined, 3000);
      // The other instance took event 2 a moment ago.
      server.cli('SET', `${prefix}:repeats:in:seen:2`, '1', 'PX', '30000');
      const post = (ids: number[]) =>
        request(httpNode)
          .post('/ff/dedup')
          .set('Content-Type', 'application/json')
          .send(JSON.stringify(ids.map(ev)));
      let answer = await post([1, 2, 3]);
      for (let i = 0; i < 20 && answer.status === 503; i++) answer = await post([1, 2, 3]).then(async (a) => (await sleep(100), a));
      assert.equal(answer.status, 200);
      assert.deepEqual(answer.body, { accepted: 2, duplicates: 1 });
      assert.deepEqual((await post([1, 3])).body, { accepted: 0, duplicates: 2 });
      assert.deepEqual(
        out.map((msg) => msg.payload.id),
        ['1', '3'],
      );
    });

    it('door: one open per person within the cooldown across instances; the instance that loses holds', async () => {
      const door = {
        id: 'door',
        z: 'tab',
        type: 'findface-access',
        door: 'entrance',
        allow: '{"matched": true}',
        cooldownS: 30,
        maxAgeS: 60,
        redis: 'shared',
        wires: [['opened'], ['denied']],
      };
      await load([door, { id: 'opened', z: 'tab', type: 'helper' }, { id: 'denied', z: 'tab', type: 'helper' }]);
      const opened = collect('opened');
      await waitFor(() => server.cli('PING') === 'PONG', 3000);
      await sleep(200);
      // Another instance opened for person 11 a moment ago.
      server.cli('SET', `${prefix}:access:door:person:11`, '1', 'PX', '30000');
      const walkUp = (id: number, person: number) => ({
        ...seedEvent,
        id: String(id),
        matched: true,
        matched_dossier: person,
        created_date: new Date().toISOString(),
      });
      helper.getNode('door').receive({ payload: walkUp(1, 11) });
      helper.getNode('door').receive({ payload: walkUp(2, 12) });
      await waitFor(() => opened.length === 1, 3000, 'the open for person 12');
      await sleep(200);
      assert.deepEqual(
        opened.map((msg) => msg.payload.personId),
        [12],
      );
      assert.equal(server.cli('EXISTS', `${prefix}:access:door:person:12`), '1');
    });
  });
});
