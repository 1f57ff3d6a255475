// findface-redis over TLS: a real redis-server that serves TLS only (the test
// certificates of test/fixtures/tls) and needs an ACL user; the config node
// takes its TLS from a core tls-config node. The webhook's Redis queue
// delivers through it; a tls-config that does not trust the server's
// certificate never connects (nothing is sent in the clear instead), and a
// tls id that names no deployed node is a configuration error. Skipped, with
// the reason, where redis-server is not installed.
import assert from 'assert/strict';
import fs from 'fs';
import os from 'os';
import path from 'path';
import helper, { coreNode } from '../support/helper';
import { Receiver } from '../support/receiver';
import { sleep, waitFor } from '../support/wait';
import { seedEvent } from '../fixtures/events';
import { tlsFixture, tlsFixtures } from '../support/port-client';
import { aclUserArgs, NO_REDIS_REASON, RedisServer, redisServerBinary } from '../support/redis-server';

const webhookNode = require('../../nodes/webhook/findface-webhook.js');
const redisNode = require('../../nodes/redis/findface-redis.js');
const tlsNode = coreNode('network/05-tls.js');

const ACL_USER = 'findface-tls';
const ACL_PASSWORD = `pw-${process.pid}-${Date.now().toString(36)}`;
const fixture = (name: string) => path.join(tlsFixtures, name);
const describeWithRedis = redisServerBinary() ? describe : describe.skip;
if (!redisServerBinary()) console.log(`  (skipped: ${NO_REDIS_REASON})`);

describeWithRedis('findface-redis over TLS (a tls-config node)', function () {
  this.timeout(30000);
  const server = new RedisServer(aclUserArgs(ACL_USER, ACL_PASSWORD), { cert: fixture('server.crt'), key: fixture('server.key'), ca: fixture('ca.crt') });
  let receiver: Receiver;
  let userDir: string;
  let prefixCount = 0;

  before(async () => {
    await server.start();
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ff-redis-tls-'));
    helper.settings({ userDir });
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
  });
  afterEach(async () => {
    await helper.unload();
    await receiver.stop();
  });

  const flow = (redis: Record<string, unknown>) => [
    { id: 'tab', type: 'tab' },
    { id: 'tlsconf', type: 'tls-config', name: 'redis tls', cert: '', key: '', ca: '', verifyservercert: true },
    { id: 'shared', type: 'findface-redis', url: server.url, prefix: `tls${process.pid}n${++prefixCount}`, leaseS: 1, tls: 'tlsconf', ...redis },
    {
      id: 'hook',
      z: 'tab',
      type: 'findface-webhook',
      title: 'door',
      url: receiver.url,
      queue: 'redis',
      redis: 'shared',
      batchSize: 10,
      maxAttempts: 0,
      wires: [[], []],
    },
  ];
  const credentials = (tls: Record<string, string>) => ({ shared: { username: ACL_USER, password: ACL_PASSWORD }, tlsconf: tls });
  const lastStatus = (): { fill?: string; text?: string } => {
    const calls = helper.getNode('hook').status.args as Array<[Record<string, string>]>;
    return calls.length ? calls[calls.length - 1][0] : {};
  };

  it('delivers the Redis queue over TLS, the server checked against the CA', async () => {
    await helper.load([webhookNode, redisNode, tlsNode], flow({}), credentials({ cadata: tlsFixture('ca.crt') }));
    await waitFor(() => lastStatus().fill === 'green', 10000, 'the holder over TLS');
    for (let i = 1; i <= 3; i++) helper.getNode('hook').receive({ payload: { ...seedEvent, id: String(i) } });
    await receiver.waitForDelivered(3);
    assert.deepEqual(receiver.deliveredIds, ['1', '2', '3']);
  });

  it('never connects when the tls-config does not trust the certificate: red status, nothing sent', async () => {
    await helper.load([webhookNode, redisNode, tlsNode], flow({}), credentials({}));
    await waitFor(() => lastStatus().fill === 'red', 10000, 'a red status');
    helper.getNode('hook').receive({ payload: { ...seedEvent, id: '9' } });
    await sleep(300);
    assert.equal(receiver.deliveredIds.length, 0);
  });

  it('a tls id that names no deployed node is a configuration error: never a plain connection', async () => {
    await helper.load(
      [webhookNode, redisNode, tlsNode],
      flow({ tls: 'missing-tls' }).filter((node) => node.id !== 'tlsconf'),
      credentials({}),
    );
    await waitFor(() => lastStatus().fill === 'red', 5000, 'a red status');
    const errors = helper
      .log()
      .args.filter((args: any[]) => args[0]?.level === 20)
      .map((args: any[]) => String(args[0].msg));
    assert.ok(
      errors.some((text: string) => /no-tls-config/.test(text)),
      JSON.stringify(errors),
    );
  });
});
