// A real Node-RED process with the packed package: events queued by the
// webhook node while its receiver is down survive a graceful restart and a
// kill -9, then all arrive in order, with at most the batch in flight at the
// crash sent twice.
import assert from 'assert/strict';
import fs from 'fs';
import { NodeRedProcess } from '../support/node-red-process';
import { Receiver } from '../support/receiver';
import { waitFor } from '../support/wait';
import { queueDirFor } from '../../nodes/lib/delivery/queue/queue-dir';

const BATCH = 10;

function flows(receiverUrl: string) {
  const nodes = [
    { id: 'tab', type: 'tab', label: 'webhook durability' },
    // POST /inject with a JSON array of events; answered once they are queued durably (Complete node).
    { id: 'in', type: 'http in', z: 'tab', url: '/inject', method: 'post', upload: false, wires: [['hook']] },
    {
      id: 'hook',
      type: 'findface-webhook',
      z: 'tab',
      name: '',
      title: 'e2e',
      url: receiverUrl,
      active: true,
      batchSize: BATCH,
      lingerMs: 0,
      timeout: 10000,
      backoffBase: 0.05,
      backoffFactor: 2,
      backoffMax: 0.5,
      maxAttempts: 0,
      successCodes: '200',
      queueMaxEvents: 100000,
      queueMaxMb: 64,
      wires: [[], []],
    },
    { id: 'queued', type: 'complete', z: 'tab', scope: ['hook'], uncaught: false, wires: [['answer']] },
    { id: 'refused', type: 'catch', z: 'tab', scope: ['hook'], uncaught: false, wires: [['fail']] },
    { id: 'fail', type: 'change', z: 'tab', rules: [{ t: 'set', p: 'statusCode', pt: 'msg', to: '500', tot: 'num' }], wires: [['answer']] },
    { id: 'answer', type: 'http response', z: 'tab', statusCode: '', headers: {}, wires: [] },
  ];
  // Flow nodes need a position (without one Node-RED takes them for config nodes).
  return nodes.map((node, i) => (node.type === 'tab' ? node : { ...node, x: 150 + 200 * (i % 3), y: 80 + 60 * Math.floor(i / 3) }));
}

function ev(i: number) {
  return { id: String(i), camera: 2, matched: false, matched_dossier: null, matched_lists: [], confidence: 0.5, created_date: new Date().toISOString() };
}

async function inject(red: NodeRedProcess, from: number, to: number): Promise<void> {
  for (let i = from; i < to; i += 5) {
    const events = [];
    for (let j = i; j < Math.min(i + 5, to); j++) events.push(ev(j));
    const response = await fetch(`${red.url}/inject`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(events),
    });
    assert.equal(response.status, 200, `inject ${i}: ${await response.text()}`);
  }
}

describe('findface-webhook durability (real Node-RED)', function () {
  this.timeout(180000);
  let receiver: Receiver;
  let red: NodeRedProcess | undefined;
  let userDir: string | undefined;

  before(async () => {
    receiver = await Receiver.start();
  });

  after(async () => {
    await red?.kill9();
    if (userDir) fs.rmSync(userDir, { recursive: true, force: true });
    await receiver.stop();
  });

  let step = 'start';
  afterEach(function () {
    if (this.currentTest?.state === 'failed') {
      console.log(
        `failed at step "${step}"; receiver got ${receiver.requests.length} requests; Node-RED log tail:\n${red?.log.split('\n').slice(-40).join('\n')}`,
      );
    }
  });

  it('delivers everything queued across a graceful restart and a kill -9, in order, at most one batch twice', async () => {
    await receiver.refuse();
    red = await NodeRedProcess.create({ flows: flows(receiver.url) });
    userDir = red.userDir;
    step = 'first start';
    await red.start();
    const queueDir = queueDirFor(userDir, 'hook');

    // Receiver down: 30 events queued, then a graceful restart.
    step = 'inject 0..30';
    await inject(red, 0, 30);
    await waitFor(() => red!.count('Backing off for') > 0, 10000, 'a backoff warning');
    assert.match(red.log, /Event 0 enqueued for webhook e2e \(1 items in queue\)/);
    assert.match(red.log, /Backing off for 0\.100 seconds after failure: ECONNREFUSED connect ECONNREFUSED 127\.0\.0\.1:\d+/);
    step = 'graceful stop';
    await red.stop();
    assert.ok(fs.existsSync(queueDir), 'the queue is kept on disk');

    red = await NodeRedProcess.create({ userDir });
    await red.start();
    // Still down: 30 more, then a crash.
    step = 'inject 30..60';
    await inject(red, 30, 60);
    await red.kill9();

    red = await NodeRedProcess.create({ userDir });
    await red.start();
    // The receiver comes back, slow on its first answer: the crash hits a batch in flight.
    step = 'crash with a batch in flight';
    receiver.script({ status: 200, delayMs: 3000 });
    await receiver.accept();
    await waitFor(() => receiver.requests.length >= 1, 15000, 'the first request');
    await red.kill9();

    red = await NodeRedProcess.create({ userDir });
    await red.start();
    step = 'final delivery';
    await waitFor(() => new Set(receiver.deliveredIds).size >= 60, 30000, 'all 60 events');
    await waitFor(() => red!.count('Sent ') > 0, 5000, 'a Sent line');

    const ids = receiver.deliveredIds.map(Number);
    // Remove repeats (ids not above the highest seen so far): they must be one request's batch at most.
    const firstTime: number[] = [];
    const repeated: number[] = [];
    for (const id of ids) (firstTime.length && id <= firstTime[firstTime.length - 1] ? repeated : firstTime).push(id);
    assert.deepEqual(
      firstTime,
      Array.from({ length: 60 }, (_, i) => i),
      'every event, in order',
    );
    assert.ok(repeated.length <= BATCH, `at most one batch twice, got ${repeated.length} repeats: ${repeated}`);
    const firstBatch = receiver.requests[0].body as Array<{ id: string }>;
    // The crash came before the receiver's (delayed) answer, so that batch must come again: at-least-once.
    assert.deepEqual(
      repeated,
      firstBatch.map((e) => Number(e.id)),
      'the repeat is exactly the batch in flight at the crash',
    );
    assert.ok(receiver.requests.every((r) => (r.body as unknown[]).length <= BATCH));
    assert.deepEqual(red.errorLines(), []);

    await red.stop();
    await red.dispose();
    red = undefined;
    userDir = undefined;
  });
});
