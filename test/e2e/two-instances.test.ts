// Two real Node-RED processes with the packed package and one redis-server
// (append-only file on, ACL user): the webhook queue, the door cooldown and
// the credentials of the findface-redis config node, end to end.
// - FindFace-like load POSTed alternately to both instances (source answering
//   200 only once Redis has the events → webhook with queue "redis"), and
//   kill -9 of the delivering instance three times: every event answered 200
//   arrives, in order, repeats only of batches in flight, the survivor takes
//   over within the lease (measured from the kill to its first fenced hold).
// - Redis killed (kill -9) and restarted during the load, three times (append-only file
//   on, appendfsync always, the ACL user, the default user off but keeping
//   its permissions: see aclUserArgs): nothing answered 200 is lost; both
//   instances reconnect by themselves.
// - One door, one person walking up to a camera whose frames go to both
//   instances: one open.
// Skipped, with the reason, where redis-server is not installed.
import assert from 'assert/strict';
import fs from 'fs';
import path from 'path';
import { deliveryReport, EventLoad, pipelineFlows, SOURCE_PATH } from '../support/event-load';
import { NodeRedProcess } from '../support/node-red-process';
import { Receiver } from '../support/receiver';
import { aclUserArgs, NO_REDIS_REASON, RedisServer, redisServerBinary } from '../support/redis-server';
import { sleep, waitFor } from '../support/wait';

const BATCH = 5;
const LEASE_S = 2;
const KILLS = 3;
const REDIS_KILLS = 3;
const ACL_USER = 'findface-nodes';
const ACL_PASSWORD = `redis-pw-${process.pid}-${Math.random().toString(36).slice(2)}`;
const PREFIX = 'site-a';
const LEASE_KEY = `${PREFIX}:webhook:hook:lease`;
const DOOR_PATH = '/findface/door';

const describeWithRedis = redisServerBinary() ? describe : describe.skip;
if (!redisServerBinary()) console.log(`  (skipped: ${NO_REDIS_REASON})`);

/** The pipeline of the crash tests with its queue in Redis, plus one door behind a second source. */
function flows(receiverUrl: string, redisUrl: string): unknown[] {
  const pipeline = pipelineFlows({ receiverUrl, webhook: { batchSize: BATCH, queue: 'redis', redis: 'shared', queueMaxEvents: 100000 } }) as Array<
    Record<string, unknown>
  >;
  return [
    ...pipeline,
    {
      id: 'shared',
      type: 'findface-redis',
      name: 'site redis',
      url: redisUrl,
      prefix: PREFIX,
      leaseS: LEASE_S,
      credentials: { username: ACL_USER, password: ACL_PASSWORD },
    },
    { id: 'door-in', type: 'findface-event-in', z: 'tab', mode: 'webhook', path: DOOR_PATH, respond: 'emitted', x: 150, y: 400, wires: [['door']] },
    {
      id: 'door',
      type: 'findface-access',
      z: 'tab',
      door: 'entrance',
      allow: '{"matched": true}',
      maxAgeS: 30,
      cooldownS: 30,
      redis: 'shared',
      x: 350,
      y: 400,
      wires: [['door-open'], []],
    },
    {
      id: 'door-open',
      type: 'function',
      z: 'tab',
      name: 'door-open',
      func: "node.log('door-open ' + msg.payload.personId + ' ' + msg.payload.eventId);\nreturn null;",
      outputs: 1,
      x: 550,
      y: 400,
      wires: [[]],
    },
  ];
}

/** The pid of the instance holding the delivery lease (`host:pid:fence`), or undefined. */
function holderPid(redis: RedisServer): number | undefined {
  const value = redis.cli('GET', LEASE_KEY);
  return value ? Number(value.split(':')[1]) : undefined;
}

function repeatRequests(bodies: unknown[]): string[][] {
  const seen = new Set<string>();
  const out: string[][] = [];
  for (const body of bodies) {
    const ids = (body as Array<{ id: string }>).map((e) => String(e.id));
    const repeated = ids.filter((id) => seen.has(id));
    if (repeated.length) out.push(repeated);
    ids.forEach((id) => seen.add(id));
  }
  return out;
}

describeWithRedis('two Node-RED instances sharing one Redis', function () {
  this.timeout(90000);
  const redis = new RedisServer(['--appendfsync', 'always', ...aclUserArgs(ACL_USER, ACL_PASSWORD)]);
  redis.cliAuth = ['--user', ACL_USER];
  redis.cliPassword = ACL_PASSWORD;
  let receiver: Receiver;
  const instances: NodeRedProcess[] = [];
  const logs: string[] = [];

  before(async () => {
    await redis.start();
    receiver = await Receiver.start();
    receiver.respondWith({ status: 200, delayMs: 15 });
    for (let i = 0; i < 2; i++) {
      const red = await NodeRedProcess.create();
      await red.start();
      await red.deploy(flows(receiver.url, redis.url));
      instances.push(red);
    }
    await waitFor(() => holderPid(redis) !== undefined, 10000, 'a holder of the delivery lease');
  });

  after(async function () {
    if (this.currentTest?.state === 'failed' || instances.some((red) => red.errorLines().length)) {
      console.log(`Node-RED logs (tail):\n${[...logs, ...instances.map((red) => red.log)].join('\n').split('\n').slice(-80).join('\n')}`);
    }
    if (process.env.TWO_INSTANCES_LOGS)
      [...logs, ...instances.map((red) => red.log)].forEach((log, i) => fs.writeFileSync(path.join(process.env.TWO_INSTANCES_LOGS!, `instance-${i}.log`), log));
    for (const red of instances) await red.dispose().catch(() => red.kill9());
    await receiver.stop();
    await redis.dispose();
  });

  /** Restarts a killed instance on its user directory (its flows and encrypted credentials). */
  async function restart(index: number): Promise<void> {
    logs.push(instances[index].log);
    const red = await NodeRedProcess.create({ userDir: instances[index].userDir });
    await red.start();
    instances[index] = red;
  }

  let posted = 0;
  const alternately = () => instances[posted++ % 2].url + SOURCE_PATH;

  it('kill -9 of the delivering instance under load, three times: every event answered 200 arrives in order, repeats only of batches in flight, take-over within the lease', async () => {
    const load = new EventLoad({ url: alternately, perPost: 3, intervalMs: 10, requestTimeoutMs: 4000, errorPauseMs: 20, maxPosts: 20000 });
    const takeovers: number[] = [];
    load.start();
    try {
      for (let kill = 1; kill <= KILLS; kill++) {
        await sleep(1500);
        const pid = holderPid(redis);
        const index = instances.findIndex((red) => red.pid === pid);
        assert.ok(index >= 0, `the lease names a running instance (pid ${pid})`);
        const survivor = instances[1 - index];
        await instances[index].kill9();
        const killedAt = Date.now();
        await waitFor(() => holderPid(redis) === survivor.pid, LEASE_S * 1000 + 3000, 'the survivor to take the lease');
        takeovers.push(Date.now() - killedAt);
        await restart(index);
      }
      await sleep(1000);
    } finally {
      await load.stop();
    }
    const acked = new Set(load.acked);
    await waitFor(
      () => new Set(receiver.deliveredIds.map(Number).filter((id) => acked.has(id))).size >= acked.size,
      20000,
      `all ${acked.size} acknowledged events`,
    );
    await sleep(300);
    const report = deliveryReport(receiver.deliveredIds, load.acked);
    const repeats = repeatRequests(receiver.bodies);
    console.log(
      `      ${KILLS} kills, take-over after [${takeovers.join(', ')}] ms (lease ${LEASE_S} s); ${load.sent} events posted alternately: ` +
        `${JSON.stringify(load.statusCounts())}; received ${report.total} (${report.unique} distinct), ${report.duplicates} duplicates in ${repeats.length} repeated batches`,
    );
    assert.ok(load.acked.length > 200, `a steady load was acknowledged (${load.acked.length})`);
    assert.deepEqual(report.missing, [], 'every event answered 200 arrived');
    assert.deepEqual(report.outOfOrder, [], 'in order');
    assert.ok(repeats.length <= KILLS, `at most one batch sent again per kill: ${JSON.stringify(repeats)}`);
    for (const repeated of repeats) assert.ok(repeated.length <= BATCH);
    // The lease expires LEASE_S after the last renewal, which is at most a third of it before the kill; the survivor tries every third.
    for (const ms of takeovers) assert.ok(ms <= LEASE_S * 1000 + (LEASE_S * 1000) / 3 + 500, `taken over after ${ms} ms`);
  });

  it('Redis killed (kill -9) and restarted during the load, three times (appendfsync always): nothing answered 200 is lost, both instances reconnect', async () => {
    const before = receiver.deliveredIds.length;
    const load = new EventLoad({ url: alternately, firstId: 1_000_000, perPost: 3, intervalMs: 10, requestTimeoutMs: 4000, errorPauseMs: 20, maxPosts: 20000 });
    // A slower receiver than the load: events wait in the stream at every kill (what a restart must keep).
    receiver.respondWith({ status: 200, delayMs: 40 });
    const queuedAtKills: number[] = [];
    load.start();
    try {
      for (let kill = 1; kill <= REDIS_KILLS; kill++) {
        await sleep(1000);
        queuedAtKills.push(Number(redis.cli('XLEN', `${PREFIX}:webhook:hook:events`)));
        await redis.stop('SIGKILL');
        await sleep(1000);
        await redis.start();
      }
      await sleep(2000);
    } finally {
      await load.stop();
      receiver.respondWith({ status: 200, delayMs: 15 });
    }
    const acked = new Set(load.acked);
    await waitFor(
      () =>
        new Set(
          receiver.deliveredIds
            .slice(before)
            .map(Number)
            .filter((id) => acked.has(id)),
        ).size >= acked.size,
      20000,
      `all ${acked.size} acknowledged events`,
    ).catch((error: Error) => {
      const missing = deliveryReport(receiver.deliveredIds.slice(before), load.acked).missing;
      throw new Error(
        `${error.message}: ${missing.length} missing (first ${missing.slice(0, 10).join(', ')}), stream length ${redis.cli('XLEN', `${PREFIX}:webhook:hook:events`)}, lease ${redis.cli('GET', LEASE_KEY)}`,
      );
    });
    const report = deliveryReport(receiver.deliveredIds.slice(before), load.acked);
    const refused = load.statusCounts();
    console.log(
      `      Redis killed ${REDIS_KILLS} times, down about 1 s each, [${queuedAtKills.join(', ')}] events queued at the kills: ${load.sent} events posted: ${JSON.stringify(refused)}; received ${report.unique} distinct, ${report.duplicates} duplicates`,
    );
    assert.ok(
      queuedAtKills.every((queued) => queued > 0),
      'events were waiting in Redis at every kill',
    );
    assert.deepEqual(report.missing, [], 'every event answered 200 arrived');
    assert.deepEqual(report.outOfOrder, [], 'in order');
    assert.ok((refused['503'] ?? 0) > 0, 'while Redis was down the sources answered 503');
    assert.ok(
      load.acked.some((id) => id > load.lastId - 100),
      'events were acknowledged again after the restart',
    );
    for (const red of instances) assert.match(red.log, /Redis redis:\/\/127\.0\.0\.1:\d+ is reachable again/);
  });

  it('one door, one person walking up, frames posted to both instances: one open', async () => {
    const now = Date.now();
    const frames = Array.from({ length: 8 }, (_, i) => ({
      id: String(9_000_000 + i),
      camera: 3,
      matched: true,
      matched_dossier: 77,
      matched_lists: [1],
      confidence: 0.93,
      created_date: new Date(now + i * 120).toISOString(),
    }));
    const answers = await Promise.all(
      frames.map((frame, i) =>
        fetch(`${instances[i % 2].url}${DOOR_PATH}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify([frame]) }).then(
          (r) => r.status,
        ),
      ),
    );
    assert.deepEqual(
      answers,
      frames.map(() => 200),
    );
    await sleep(500);
    const opens = instances.flatMap((red) => red.log.split('\n').filter((line) => line.includes('door-open 77 ')));
    assert.equal(opens.length, 1, opens.join('\n'));
  });

  it('the Redis password and ACL user are in no flows.json, no log, and flows_cred.json holds them encrypted', async () => {
    for (const red of instances) {
      const flowsFile = fs.readFileSync(path.join(red.userDir, 'flows.json'), 'utf8');
      const credFile = fs.readFileSync(path.join(red.userDir, 'flows_cred.json'), 'utf8');
      assert.ok(!flowsFile.includes(ACL_PASSWORD) && !flowsFile.includes(ACL_USER), 'flows.json');
      assert.ok(!credFile.includes(ACL_PASSWORD), 'flows_cred.json is encrypted');
      const exported = await (await fetch(`${red.url}/flows`)).text();
      assert.ok(!exported.includes(ACL_PASSWORD), 'GET /flows');
    }
    for (const log of [...logs, ...instances.map((red) => red.log)]) assert.ok(!log.includes(ACL_PASSWORD), 'a log');
    const errors = [...logs, ...instances.map((red) => red.log)].flatMap((log) => log.split('\n').filter((line) => line.includes('[error]')));
    assert.deepEqual(
      errors.filter((line) => !/Redis|ECONNREFUSED|Connection is closed|Stream isn't writeable|could not be queued/.test(line)),
      [],
      'no error but those of the Redis outage',
    );
  });
});
