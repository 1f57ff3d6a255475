import assert from 'assert/strict';
import fs from 'fs';
import os from 'os';
import path from 'path';
import helper from '../support/helper';
import { Receiver } from '../support/receiver';
import { sleep, waitFor } from '../support/wait';
import { seedEvent } from '../fixtures/events';
import { queueDirFor } from '../../nodes/lib/delivery/queue/queue-dir';

const webhookNode = require('../../nodes/webhook/findface-webhook.js');

type Msg = { payload: any; error?: any; topic?: string; [key: string]: unknown };

/** A deploy through the runtime (node-red-node-test-helper ≥ 0.3.3). */
const setFlows = (flows: unknown[], type: 'full' | 'nodes' | 'flows'): Promise<void> =>
  (helper as unknown as { setFlows(f: unknown[], t: string): Promise<void> }).setFlows(flows, type);

let receiver: Receiver;
let userDir: string;

function queueDir(id = 'hook'): string {
  return queueDirFor(userDir, id);
}

/** The webhook node wired to collectors, plus Catch and Complete nodes scoped to it. */
function flow(props: Record<string, unknown> = {}) {
  const nodes = [
    {
      id: 'hook',
      type: 'findface-webhook',
      name: '',
      title: 'door',
      url: receiver.url,
      active: true,
      batchSize: 1,
      lingerMs: 0,
      timeout: 2000,
      backoffBase: 0.01,
      backoffFactor: 2,
      backoffMax: 0.2,
      maxAttempts: 0,
      successCodes: '200',
      wires: [['ok'], ['fail']],
      ...props,
    },
    { id: 'ok', type: 'helper' },
    { id: 'fail', type: 'helper' },
    { id: 'catcher', type: 'catch', scope: ['hook'], uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper' },
    { id: 'completer', type: 'complete', scope: ['hook'], uncaught: false, wires: [['completed']] },
    { id: 'completed', type: 'helper' },
  ];
  return [{ id: 'tab', type: 'tab' }, ...nodes.map((node) => ({ ...node, z: 'tab' }))];
}

function collect(id: string): Msg[] {
  const received: Msg[] = [];
  helper.getNode(id).on('input', (msg: Msg) => received.push(msg));
  return received;
}

interface Collected {
  ok: Msg[];
  fail: Msg[];
  caught: Msg[];
  completed: Msg[];
}

async function load(props: Record<string, unknown> = {}): Promise<Collected> {
  await helper.load(webhookNode, flow(props));
  return { ok: collect('ok'), fail: collect('fail'), caught: collect('caught'), completed: collect('completed') };
}

function ev(id: string | number) {
  return { ...seedEvent, id: String(id) };
}

type Level = 'info' | 'warn' | 'error';

/** The webhook node's log entries, in the order written. */
function logEntries(): { level: Level | undefined; msg: string }[] {
  const log = helper.log();
  const names = new Map<unknown, Level>([
    [log.INFO, 'info'],
    [log.WARN, 'warn'],
    [log.ERROR, 'error'],
  ]);
  return log.args
    .map((args: any[]) => args[0])
    .filter((m: any) => m && m.type === 'findface-webhook')
    .map((m: any) => ({ level: names.get(m.level), msg: String(m.msg) }));
}

/** The webhook node's log lines at `level` (all levels when absent). */
function lines(level?: Level): string[] {
  return logEntries()
    .filter((entry) => level === undefined || entry.level === level)
    .map((entry) => entry.msg);
}

function lastStatus(): { fill?: string; shape?: string; text?: string } {
  const node = helper.getNode('hook');
  const calls = node.status.args as Array<[Record<string, string>]>;
  return calls.length ? calls[calls.length - 1][0] : {};
}

function send(payload: unknown, extra: Record<string, unknown> = {}): void {
  helper.getNode('hook').receive({ payload, ...extra });
}

describe('findface-webhook node', function () {
  this.timeout(20000);

  before(() => {
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ff-webhook-test-'));
    // As Node-RED's default console logger: the per-event lines are made only when info is logged.
    helper.settings({ userDir, logging: { console: { level: 'info' } } });
  });
  after(() => {
    helper.settings({});
    fs.rmSync(userDir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    receiver = await Receiver.start();
    fs.rmSync(path.join(userDir, 'findface-queues'), { recursive: true, force: true });
  });
  afterEach(async () => {
    await helper.unload();
    await receiver.stop();
  });

  it('POSTs the seed event as a JSON array and logs as FindFace does', async () => {
    const out = await load();
    send(seedEvent);
    await waitFor(() => out.ok.length === 1, 5000, 'the delivery report');
    assert.equal(receiver.requests.length, 1);
    const request = receiver.requests[0];
    assert.equal(request.method, 'POST');
    assert.equal(request.headers['content-type'], 'application/json');
    assert.deepEqual(request.body, [seedEvent]);
    const report = out.ok[0].payload;
    assert.equal(report.statusCode, 200);
    assert.deepEqual(report.ids, ['4173669353687265180']);
    assert.equal(report.count, 1);
    assert.equal(report.attempts, 1);
    assert.equal(typeof report.latencyMs, 'number');
    assert.equal(out.ok[0].topic, 'door');
    assert.deepEqual(lines('info'), [
      'Event 4173669353687265180 enqueued for webhook door (1 items in queue)',
      "Received 1 events from queue: ['4173669353687265180']",
      'Attempting to send 1 events',
      "Sent 1 events: ['4173669353687265180']",
    ]);
    assert.equal(out.completed.length, 1, 'done() once the payload is queued');
    assert.equal(out.fail.length + out.caught.length, 0);
    await waitFor(() => lastStatus().fill === 'green', 3000, 'a green status');
  });

  it('makes no per-event log lines when no logger prints info, and still warns', async () => {
    helper.settings({ userDir, logging: { console: { level: 'warn' } } });
    try {
      receiver.script({ status: 500 });
      const out = await load();
      send(seedEvent);
      await waitFor(() => out.ok.length === 1, 5000, 'the delivery report');
      assert.deepEqual(lines('info'), []);
      assert.deepEqual(lines('warn'), ['Backing off for 0.020 seconds after failure: HTTP 500 Internal Server Error']);
    } finally {
      helper.settings({ userDir, logging: { console: { level: 'info' } } });
    }
  });

  it('batches under load: every event arrives once, in order, at most batchSize per request', async () => {
    receiver.respondWith({ status: 200, delayMs: 20 });
    const out = await load({ batchSize: 50 });
    const total = 600;
    for (let i = 0; i < total; i++) send(ev(i));
    await receiver.waitForDelivered(total, 15000);
    assert.deepEqual(
      receiver.deliveredIds,
      Array.from({ length: total }, (_, i) => String(i)),
    );
    assert.ok(receiver.requests.every((r) => Array.isArray(r.body) && r.body.length >= 1 && r.body.length <= 50));
    assert.ok(receiver.requests.length < total / 5, `batched: ${receiver.requests.length} requests for ${total} events`);
    await waitFor(() => out.completed.length === total, 5000, 'every message completed');
    await waitFor(() => out.ok.reduce((n, m) => n + m.payload.count, 0) === total, 5000, 'delivery reports');
    assert.equal(lines('info').filter((l) => l.startsWith('Event ')).length, total);
    assert.ok(
      lines('info').includes(
        `Event 599 enqueued for webhook door (${
          lines('info')
            .find((l) => l.startsWith('Event 599'))!
            .match(/\((\d+) items/)![1]
        } items in queue)`,
      ),
    );
  });

  it('with maxInFlight keeps that many requests on the wire against a slow receiver, and one by default', async () => {
    const widest = async (props: Record<string, unknown>) => {
      receiver.respondWith({ status: 200, delayMs: 300 });
      const out = await load(props);
      for (let i = 0; i < 12; i++) send(ev(`w${i}`));
      await waitFor(() => out.ok.length === 12, 10000, 'every event delivered');
      // Requests that overlap: those received before the first answer (300 ms) came back.
      const first = receiver.requests[0].at;
      const overlapping = receiver.requests.filter((request) => request.at < first + 250).length;
      await helper.unload();
      receiver.requests.length = 0;
      receiver.respondWith({ status: 200 });
      return overlapping;
    };
    assert.equal(await widest({}), 1, 'FindFace behaviour: one request at a time');
    assert.equal(await widest({ maxInFlight: 4 }), 4);
    await helper.load(webhookNode, flow({ maxInFlight: 0 }));
    await waitFor(() => /maxInFlight/.test(String(lastStatus().text ?? '')) || helper.getNode('hook').status.args.length > 0, 5000);
    assert.equal(lastStatus().fill, 'red', 'maxInFlight 0 is a configuration error');
  });

  it('sends an array payload as its elements, and any JSON payload', async () => {
    const out = await load({ batchSize: 10, lingerMs: 200 });
    send([ev('a'), ev('b')]);
    send({ temperature: 21.5 });
    await waitFor(() => out.ok.length >= 1, 5000, 'a delivery');
    assert.deepEqual(receiver.bodies[0], [ev('a'), ev('b'), { temperature: 21.5 }]);
    assert.ok(lines('info').includes("Received 3 events from queue: ['a', 'b', -]"), lines('info').join('\n'));
    assert.deepEqual(out.ok[0].payload.ids, ['a', 'b', null]);
  });

  it('backs off after connection errors with the configured numbers, then delivers', async () => {
    await receiver.refuse();
    const out = await load({ backoffBase: 0.01, backoffFactor: 2, backoffMax: 10 });
    send(ev(1));
    await waitFor(() => lines('warn').length >= 3, 5000, 'three backoff warnings');
    const warns = lines('warn');
    assert.equal(warns[0], `Backing off for 0.020 seconds after failure: ECONNREFUSED connect ECONNREFUSED 127.0.0.1:${receiver.port}`);
    assert.match(warns[1], /^Backing off for 0\.040 seconds after failure: ECONNREFUSED/);
    assert.match(warns[2], /^Backing off for 0\.080 seconds after failure: ECONNREFUSED/);
    await waitFor(() => lastStatus().fill === 'yellow', 3000, 'a yellow status');
    await receiver.accept();
    await waitFor(() => out.ok.length === 1, 10000, 'the delivery');
    assert.ok(out.ok[0].payload.attempts > 3);
    assert.deepEqual(receiver.deliveredIds, ['1']);
    assert.equal(out.completed.length, 1);
  });

  it('retries HTTP 500 and reports it; gives the batch up after maxAttempts on output 2', async () => {
    receiver.respondWith({ status: 500 });
    const out = await load({ maxAttempts: 3, batchSize: 2, lingerMs: 100 });
    send(ev('x'));
    send(ev('y'));
    await waitFor(() => out.fail.length === 1, 5000, 'the given-up batch');
    assert.equal(receiver.requests.length, 3);
    assert.deepEqual(out.fail[0].payload, [ev('x'), ev('y')]);
    assert.deepEqual(out.fail[0].error, { message: 'HTTP 500 Internal Server Error', code: 'HTTP_500', statusCode: 500 });
    assert.equal(out.fail[0].attempts, 3);
    assert.deepEqual(lines('warn').slice(0, 2), [
      'Backing off for 0.020 seconds after failure: HTTP 500 Internal Server Error',
      'Backing off for 0.040 seconds after failure: HTTP 500 Internal Server Error',
    ]);
    assert.equal(out.ok.length, 0);
    // The queue moved on: the next event is delivered when the receiver recovers.
    receiver.respondWith({ status: 200 });
    send(ev('z'));
    await waitFor(() => out.ok.length === 1, 5000, 'the next delivery');
    assert.deepEqual(receiver.deliveredIds, ['z']);
  });

  it('treats only successCodes as success', async () => {
    receiver.script({ status: 200 }, { status: 200 });
    receiver.respondWith({ status: 202 });
    const out = await load({ successCodes: '202, 204' });
    send(ev(1));
    await waitFor(() => out.ok.length === 1, 5000, 'the delivery');
    assert.equal(out.ok[0].payload.statusCode, 202);
    assert.equal(out.ok[0].payload.attempts, 3);
    assert.equal(receiver.requests.length, 3);
    assert.match(lines('warn')[0], /after failure: HTTP 200 OK$/);
  });

  it('gives up at once on 422 (the receiver rejects this very request)', async () => {
    receiver.script({ status: 422 });
    const out = await load({ maxAttempts: 0 });
    send(ev('bad'));
    send(ev('good'));
    await waitFor(() => out.fail.length === 1 && out.ok.length === 1, 5000, 'one given up, one delivered');
    assert.equal(out.fail[0].error.statusCode, 422);
    assert.equal(out.fail[0].attempts, 1);
    assert.deepEqual(out.ok[0].payload.ids, ['good']);
  });

  it('waits what a 429 Retry-After asks', async () => {
    receiver.script({ status: 429, headers: { 'Retry-After': '1' } });
    const out = await load({ backoffMax: 5 });
    send(ev(1));
    await waitFor(() => out.ok.length === 1, 5000, 'the delivery');
    assert.equal(lines('warn')[0], 'Backing off for 1.000 seconds after failure: HTTP 429 Too Many Requests (Retry-After 1.000 s)');
    const [first, second] = receiver.requests;
    assert.ok(second.at - first.at >= 950, `waited ${second.at - first.at} ms`);
  });

  it('times a slow request out after `timeout` ms and retries it', async () => {
    receiver.script({ status: 200, delayMs: 1000 });
    const out = await load({ timeout: 100 });
    send(ev(1));
    await waitFor(() => out.ok.length === 1, 5000, 'the delivery');
    assert.equal(lines('warn')[0], 'Backing off for 0.020 seconds after failure: ETIMEDOUT timeout of 100ms exceeded');
    assert.equal(out.ok[0].payload.attempts, 2);
  });

  it('stops on 410 Gone: keeps the queue, red status, error to Catch; a redeploy resumes', async () => {
    receiver.script({ status: 410 });
    const out = await load();
    send(ev(1));
    await waitFor(() => out.caught.length === 1, 5000, 'the caught error');
    assert.match(out.caught[0].error.message, /HTTP 410 Gone/);
    send(ev(2));
    await waitFor(() => out.completed.length === 2, 5000, 'the second event queued');
    await waitFor(() => lastStatus().fill === 'red', 3000, 'a red status');
    await sleep(200);
    assert.equal(receiver.requests.length, 1, 'nothing more is sent');
    await setFlows(flow(), 'full');
    const ok = collect('ok');
    await waitFor(() => receiver.delivered.length === 2, 5000, 'the kept events after redeploy');
    assert.deepEqual(receiver.deliveredIds, ['1', '2']);
    await waitFor(() => ok.length === 2, 5000, 'the reports');
  });

  it('logs its lines in the order made, and an error after the lines made before it (410 Gone, no Catch node)', async () => {
    receiver.script({ status: 410 });
    await helper.load(
      webhookNode,
      flow().filter((node) => node.id !== 'catcher' && node.id !== 'caught'),
    );
    const written = () => logEntries().map((entry) => `${entry.level} ${entry.msg}`);
    send(ev(1));
    await waitFor(() => written().some((line) => line.startsWith('error ')), 5000, 'the error in the log');
    const expected = [
      /^info Event 1 enqueued for webhook door /,
      /^info Received 1 events from queue: \['1'\]$/,
      /^info Attempting to send 1 events$/,
      /^warn Webhook door answered HTTP 410 Gone: stopped sending/,
      /^error HTTP 410 Gone/,
    ];
    const logged = written();
    assert.equal(logged.length, expected.length, logged.join('\n'));
    expected.forEach((pattern, i) => assert.match(logged[i], pattern));
  });

  it('drops input when inactive, and says so', async () => {
    const out = await load({ active: false });
    send(ev(1));
    await waitFor(() => out.completed.length === 1, 3000, 'the message completed');
    await sleep(100);
    assert.equal(receiver.requests.length, 0);
    assert.equal(lastStatus().fill, 'grey');
    assert.match(String(lastStatus().text), /inactive/);
    assert.equal(fs.existsSync(queueDir()), false, 'an inactive node opens no queue');
  });

  it('refuses a bad configuration with a red status and an error per message', async () => {
    const out = await load({ url: 'ftp://example.com/' });
    await waitFor(() => lastStatus().fill === 'red', 3000, 'a red status');
    send(ev(1));
    await waitFor(() => out.caught.length === 1, 3000, 'the caught error');
    // The text comes from the locale files (the test helper's RED._ answers the key).
    assert.match(out.caught[0].error.message, /findface-webhook\.errors\.url-scheme/);
    await helper.unload();
    const again = await load({ successCodes: '200,ok' });
    send(ev(2));
    await waitFor(() => again.caught.length === 1, 3000, 'the caught error');
    assert.match(again.caught[0].error.message, /findface-webhook\.errors\.bad-success-code/);
  });

  it('keeps the queue and delivering across a redeploy', async () => {
    await receiver.refuse();
    const out = await load();
    for (const id of ['1', '2', '3']) send(ev(id));
    await waitFor(() => out.completed.length === 3, 5000, 'three events queued');
    await setFlows(flow({ name: 'renamed' }), 'full');
    assert.ok(fs.existsSync(queueDir()), 'the queue directory is kept');
    const ok = collect('ok');
    await receiver.accept();
    await waitFor(() => receiver.delivered.length === 3, 10000, 'the events after redeploy');
    assert.deepEqual(receiver.deliveredIds, ['1', '2', '3']);
    await waitFor(() => ok.length === 3, 5000, 'the reports');
  });

  it('deletes the queue of a node removed from the flows', async () => {
    await receiver.refuse();
    const out = await load();
    send(ev(1));
    await waitFor(() => out.completed.length === 1, 5000, 'the event queued');
    assert.ok(fs.existsSync(queueDir()));
    await setFlows(
      [
        { id: 'tab', type: 'tab' },
        { id: 'other', type: 'helper', z: 'tab' },
      ],
      'full',
    );
    await waitFor(() => !fs.existsSync(queueDir()), 3000, 'the queue directory to go');
  });

  it('keeps queued events across a Node-RED restart (unload/load) and delivers them in order', async () => {
    await receiver.refuse();
    let out = await load({ batchSize: 2 });
    for (let i = 0; i < 5; i++) send(ev(i));
    await waitFor(() => out.completed.length === 5, 5000, 'five events queued');
    await helper.unload();
    await receiver.accept();
    out = await load({ batchSize: 2 });
    await waitFor(() => receiver.delivered.length === 5, 10000, 'the events after restart');
    assert.deepEqual(receiver.deliveredIds, ['0', '1', '2', '3', '4']);
    assert.ok(receiver.requests.every((r) => (r.body as unknown[]).length <= 2));
  });

  it('reports a full queue to Catch and rejects only what does not fit', async () => {
    await receiver.refuse();
    const out = await load({ queueMaxEvents: 2 });
    for (const id of ['1', '2', '3']) send(ev(id));
    await waitFor(() => out.caught.length === 1 && out.completed.length === 2, 5000, 'two queued, one refused');
    await waitFor(() => /full/.test(String(lastStatus().text)), 3000, 'a queue-full status');
    await receiver.accept();
    await waitFor(() => receiver.delivered.length === 2, 10000, 'the two queued events');
    assert.deepEqual(receiver.deliveredIds, ['1', '2']);
  });
  describe('authentication, signatures and headers', () => {
    // Verified by the standardwebhooks package, an independent implementation.
    const { Webhook } = require('standardwebhooks');
    const key = 'whsec_' + Buffer.from('a signing key of 32 bytes.......').toString('base64');
    const nextKey = 'whsec_' + Buffer.from('the next key during its rotation').toString('base64');

    it('signs every request with each key, and a batch sent again keeps its webhook-id', async () => {
      receiver.script({ status: 500 });
      await helper.load(webhookNode, flow({ authType: 'bearer' }), { hook: { token: 'door-token', signingSecrets: `${key} ${nextKey}` } });
      const ok = collect('ok');
      send(seedEvent);
      await waitFor(() => ok.length === 1, 5000, 'the delivery after one failure');
      assert.equal(receiver.requests.length, 2);
      const [failed, delivered] = receiver.requests;
      assert.equal(delivered.headers.authorization, 'Bearer door-token');
      assert.equal(failed.headers['webhook-id'], delivered.headers['webhook-id']);
      const raw = JSON.stringify(delivered.body);
      const headers = {
        'webhook-id': String(delivered.headers['webhook-id']),
        'webhook-timestamp': String(delivered.headers['webhook-timestamp']),
        'webhook-signature': String(delivered.headers['webhook-signature']),
      };
      assert.deepEqual(new Webhook(key).verify(raw, headers), [seedEvent]);
      assert.deepEqual(new Webhook(nextKey).verify(raw, headers), [seedEvent]);
      const stranger = 'whsec_' + Buffer.from('not one of the keys').toString('base64');
      assert.throws(() => new Webhook(stranger).verify(raw, headers));
    });

    it('sends basic authentication and extra headers from the node', async () => {
      await helper.load(webhookNode, flow({ authType: 'basic', headers: '{"X-Site": "entrance"}' }), { hook: { user: 'door', password: 'pa:ss' } });
      const ok = collect('ok');
      send(seedEvent);
      await waitFor(() => ok.length === 1);
      const request = receiver.requests[0];
      assert.equal(request.headers.authorization, 'Basic ' + Buffer.from('door:pa:ss').toString('base64'));
      assert.equal(request.headers['x-site'], 'entrance');
      assert.equal(request.headers['webhook-signature'], undefined);
    });

    it('refuses headers it sets itself, and text where an object belongs', async () => {
      for (const headers of ['{"Authorization": "x"}', '[1]', '{"X-A": 5}', 'not json']) {
        const out = await load({ headers });
        send(seedEvent);
        await waitFor(() => out.caught.length === 1, 3000, `the error for ${headers}`);
        await helper.unload();
      }
      assert.equal(receiver.requests.length, 0);
    });
  });

  describe('configuration of the wrong type', () => {
    for (const [what, props] of [
      ['a title that is not text', { title: 42 }],
      ['a url that is not text', { url: { href: 'http://x' } }],
      ['active that is not a boolean', { active: 'yes' }],
      ['an unknown authType', { authType: 'digest' }],
    ] as Array<[string, Record<string, unknown>]>) {
      it(`reports ${what} on every message instead of crashing or going quiet`, async () => {
        const out = await load(props);
        send(seedEvent);
        await waitFor(() => out.caught.length === 1, 3000, 'the configuration error');
        assert.equal(receiver.requests.length, 0);
      });
    }
  });

  it('acknowledges a queued event to a source waiting for it, and an error when it cannot queue', async () => {
    await receiver.refuse();
    await load({ queueMaxEvents: 1 });
    const first: Array<Error | undefined> = [];
    const second: Array<Error | undefined> = [];
    send(ev('1'), { _findfaceAck: (error?: Error) => first.push(error) });
    send(ev('2'), { _findfaceAck: (error?: Error) => second.push(error) });
    await waitFor(() => first.length === 1 && second.length === 1, 3000, 'both acknowledgements');
    assert.equal(first[0], undefined);
    assert.match(String(second[0]?.message), /limit|full/i);
  });

  describe('the "send test event" admin endpoint', () => {
    before(() => helper.startServer());
    after(() => helper.stopServer());

    it('posts the seed sample event to the URL given and reports the answer', async () => {
      await load();
      const response = await helper.request().post('/findface-webhook/hook/test').send({ url: receiver.url }).expect(200);
      assert.equal(response.body.ok, true);
      assert.equal(response.body.status, 200);
      assert.deepEqual(receiver.requests.at(-1)!.body, [seedEvent]);
    });

    it("uses the deployed node's credentials only for its own URL", async () => {
      await helper.load(webhookNode, flow({ authType: 'bearer' }), { hook: { token: 'door-token' } });
      await helper.request().post('/findface-webhook/hook/test').send({}).expect(200);
      assert.equal(receiver.requests.at(-1)!.headers.authorization, 'Bearer door-token');
      const other = await Receiver.start();
      try {
        await helper.request().post('/findface-webhook/hook/test').send({ url: other.url }).expect(200);
        assert.equal(other.requests.length, 1);
        assert.equal(other.requests[0].headers.authorization, undefined);
      } finally {
        await other.stop();
      }
    });

    it('reports a receiver that is down, and refuses a bad URL', async () => {
      await load();
      await receiver.refuse();
      const down = await helper.request().post('/findface-webhook/hook/test').send({ url: receiver.url }).expect(200);
      assert.equal(down.body.ok, false);
      assert.match(down.body.message, /ECONNREFUSED/);
      await helper.request().post('/findface-webhook/hook/test').send({ url: 'ftp://x' }).expect(400);
    });
  });
});
