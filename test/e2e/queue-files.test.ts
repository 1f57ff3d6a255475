// A real Node-RED process with the packed package, real files: the queue
// directory of a webhook node, named from the node's id, never reaches
// outside `findface-queues/` and never belongs to two nodes (issue 19 items
// 1 and 2, as the probe reproduced them), and the probe's corruption table
// (item 3): queued events of 10 KB, receiver down, Node-RED stopped, a
// segment file damaged in each listed way, Node-RED started, receiver up:
// every intact event arrives exactly once, no damaged one, one warning per
// damaged range. The test finds records by their JSON, so it reads queues of
// either format (it fails, as it should, on the code before the fix).
import assert from 'assert/strict';
import fs from 'fs';
import path from 'path';
import { freePort, NodeRedProcess } from '../support/node-red-process';
import { Receiver } from '../support/receiver';
import { waitFor } from '../support/wait';

const QUEUES = 'findface-queues';

function webhook(id: string, url: string, extra: Record<string, unknown> = {}) {
  return { id, type: 'findface-webhook', z: 't1', url, x: 300, y: 100, wires: [[], []], ...extra };
}

/** Position the nodes (Node-RED takes flow nodes without x/y for config nodes). */
function placed(nodes: Record<string, unknown>[]): Record<string, unknown>[] {
  return nodes.map((node, i) => (node.type === 'tab' ? node : { x: 150 + 200 * (i % 3), y: 80 + 60 * Math.floor(i / 3), ...node }));
}

function ev(i: number, pad = '') {
  return { id: String(i), camera: 2, matched: false, confidence: 0.5, created_date: '2026-12-01T10:00:00.000Z', ...(pad ? { pad } : {}) };
}

async function post(red: NodeRedProcess, route: string, events: unknown[]): Promise<void> {
  const response = await fetch(`${red.url}${route}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(events) });
  assert.equal(response.status, 200, `${route}: ${await response.text()}`);
}

/** Ack markers (one per open queue) anywhere a queue of either version could be: the user directory, findface-queues/ and its subdirectories. */
function ackMarkers(userDir: string): number {
  const root = path.join(userDir, QUEUES);
  const dirs = [userDir, root, ...queueDirs(userDir).map((name) => path.join(root, name))];
  return dirs.reduce(
    (sum, dir) => sum + (fs.existsSync(dir) && fs.statSync(dir).isDirectory() ? fs.readdirSync(dir).filter((f) => f.startsWith('acked-')).length : 0),
    0,
  );
}

const queueDirs = (userDir: string): string[] => (fs.existsSync(path.join(userDir, QUEUES)) ? fs.readdirSync(path.join(userDir, QUEUES)).sort() : []);

describe('queue files (real Node-RED)', function () {
  this.timeout(180000);
  let receiver: Receiver;
  let red: NodeRedProcess | undefined;

  // A receiver of its own for each test: what it counts is that test's deliveries only.
  beforeEach(async () => {
    receiver = await Receiver.start();
  });
  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && red) console.log(red.log.split('\n').slice(-60).join('\n'));
    await red?.kill9();
    if (red) fs.rmSync(red.userDir, { recursive: true, force: true });
    red = undefined;
    await receiver.stop();
  });

  it('removing a webhook node with id ".." (or ".") deletes nothing but its own queue: settings.js, flows.json, node_modules and other queues stay', async () => {
    const nowhere = `http://127.0.0.1:${await freePort()}/x`;
    const keep = [{ id: 't1', type: 'tab' }, webhook('w1', nowhere)];
    red = await NodeRedProcess.create({ flows: placed(keep) });
    await red.start();
    const userDir = red.userDir;
    await waitFor(() => ackMarkers(userDir) === 1, 10000, "w1's queue open");
    const w1Queue = queueDirs(userDir);
    for (const id of ['..', '.']) {
      await red.deploy(placed([...keep, webhook(id, nowhere)]));
      await waitFor(() => ackMarkers(userDir) === 2, 10000, `the queue of "${id}" open`);
      await red.deploy(placed(keep));
      await waitFor(() => ackMarkers(userDir) <= 1, 10000, `the queue of "${id}" deleted`);
      for (const file of ['settings.js', 'flows.json', 'node_modules', QUEUES])
        assert.ok(fs.existsSync(path.join(userDir, file)), `${file} is still there after removing "${id}"`);
      assert.deepEqual(queueDirs(userDir), w1Queue, "w1's queue is still there, and nothing else");
      assert.equal(ackMarkers(userDir), 1);
    }
    assert.deepEqual(red.errorLines(), []);
  });

  it('"a/b" and "a_b": each has its own queue; removing one leaves the other\'s queued events, which then arrive', async () => {
    await receiver.refuse();
    const base = [
      { id: 't1', type: 'tab' },
      { id: 'in', type: 'http in', z: 't1', url: '/to-ab', method: 'post', upload: false, wires: [['a_b']] },
      { id: 'ok', type: 'complete', z: 't1', scope: ['a_b'], uncaught: false, wires: [['answer']] },
      { id: 'answer', type: 'http response', z: 't1', statusCode: '', headers: {}, wires: [] },
      webhook('a_b', receiver.url, { batchSize: 10, backoffBase: 0.05, backoffMax: 0.2 }),
    ];
    red = await NodeRedProcess.create({ flows: placed([...base, webhook('a/b', receiver.url)]) });
    await red.start();
    await post(red, '/to-ab', [ev(1), ev(2), ev(3)]);
    await waitFor(() => red!.count('Backing off for') > 0, 10000, 'a backoff');
    const firstLog = red.log;
    // removing a/b (on the code before the fix: the one whose open failed, sharing a_b's directory)
    await red.deploy(placed(base));
    await red.stop();
    red = await NodeRedProcess.create({ userDir: red.userDir });
    await red.start();
    await receiver.accept();
    await waitFor(() => new Set(receiver.deliveredIds).size >= 3, 15000, "a_b's queued events");
    assert.deepEqual(receiver.deliveredIds, ['1', '2', '3']);
    assert.ok(!firstLog.includes('already open'), 'each node opened a queue of its own');
    assert.equal(queueDirs(red.userDir).length, 1, "a/b's queue went with it, a_b's stayed");
  });

  it('a deleted ack marker is detected and reported once; nothing queued is lost (what is still on disk is sent again)', async () => {
    const flows = placed([
      { id: 't1', type: 'tab' },
      { id: 'in', type: 'http in', z: 't1', url: '/inject', method: 'post', upload: false, wires: [['hook']] },
      webhook('hook', receiver.url, { batchSize: 10, backoffBase: 0.05, backoffMax: 0.2 }),
      { id: 'ok', type: 'complete', z: 't1', scope: ['hook'], uncaught: false, wires: [['answer']] },
      { id: 'answer', type: 'http response', z: 't1', statusCode: '', headers: {}, wires: [] },
    ]);
    await receiver.accept();
    red = await NodeRedProcess.create({ flows });
    await red.start();
    await post(
      red,
      '/inject',
      Array.from({ length: 30 }, (_, i) => ev(i)),
    );
    await waitFor(() => receiver.deliveredIds.length >= 30, 15000, 'the first 30 delivered');
    await receiver.refuse();
    await post(
      red,
      '/inject',
      Array.from({ length: 10 }, (_, i) => ev(30 + i)),
    );
    await red.stop();
    const [queueName] = queueDirs(red.userDir);
    const dir = path.join(red.userDir, QUEUES, queueName);
    const markers = fs.readdirSync(dir).filter((f) => f.startsWith('acked-'));
    assert.equal(markers.length, 1);
    fs.unlinkSync(path.join(dir, markers[0]));
    const before = receiver.deliveredIds.length;

    red = await NodeRedProcess.create({ userDir: red.userDir });
    await red.start();
    await receiver.accept();
    await waitFor(() => receiver.deliveredIds.length >= before + 40, 20000, 'every event on disk');
    const again = receiver.deliveredIds.slice(before).map(String);
    assert.deepEqual(
      again,
      Array.from({ length: 40 }, (_, i) => String(i)),
      'the 10 undelivered ones and, as it cannot know, the 30 delivered ones still on disk',
    );
    const warnings = red.log.split('\n').filter((line) => /\[warn\].*ack marker/.test(line));
    assert.equal(warnings.length, 1, red.log);
    assert.match(warnings[0], /delivered again/);
  });

  describe('the corruption table (10 KB events, receiver down, files damaged while Node-RED is stopped)', () => {
    const EVENTS = 1000;
    const DELIVERED_FIRST = 100;
    const PAD = 'x'.repeat(10 * 1024);

    /** Finds event `id`'s record: its file, the offset of its JSON, and where the record starts (its frame header, if any). */
    function locate(dir: string, id: number): { file: string; json: number; record: number; data: Buffer } {
      for (const name of fs.readdirSync(dir)) {
        if (name.startsWith('acked-')) continue;
        const file = path.join(dir, name);
        const data = fs.readFileSync(file);
        const json = data.indexOf(`{"id":"${id}"`);
        if (json >= 0) {
          // framed records carry a 20-byte header before the JSON; the JSON-lines format does not
          const record = name.endsWith('.ndjson') ? json : json - 20;
          return { file, json, record, data };
        }
      }
      throw new Error(`event ${id} not found in ${dir}`);
    }

    /** The probe's table: each way of damaging a file, the events it damages (never to be delivered), and whether it warns. */
    const table: { name: string; id: number; lost: number[]; warns: boolean; apply: (where: ReturnType<typeof locate>) => Buffer }[] = [
      {
        name: 'a \\n inside an undelivered record',
        id: 200,
        lost: [200],
        warns: true,
        apply: ({ data, json }) => Buffer.concat([data.subarray(0, json + 40), Buffer.from('\n'), data.subarray(json + 40)]),
      },
      {
        name: 'a \\n inside an already delivered record',
        id: 50,
        lost: [],
        warns: false,
        apply: ({ data, json }) => Buffer.concat([data.subarray(0, json + 40), Buffer.from('\n'), data.subarray(json + 40)]),
      },
      {
        name: '100 KB of Z (no newline) in the middle of a record',
        id: 300,
        lost: [300],
        warns: true,
        apply: ({ data, json }) => Buffer.concat([data.subarray(0, json + 5000), Buffer.alloc(100 * 1024, 'Z'), data.subarray(json + 5000)]),
      },
      {
        name: 'a digit changed inside a record (still valid JSON)',
        id: 400,
        lost: [400],
        warns: true,
        apply: ({ data, json }) => {
          const out = Buffer.from(data);
          out[json + 7] = '7'.charCodeAt(0); // {"id":"400" → {"id":"700" (an event that exists)
          return out;
        },
      },
      {
        name: 'garbage lines that parse as JSON (0, 9) between records',
        id: 501,
        lost: [],
        warns: true,
        apply: ({ data, record }) => Buffer.concat([data.subarray(0, record), Buffer.from('0\n9\n'), data.subarray(record)]),
      },
      {
        name: 'a digit changed in a record of the segment being written',
        id: 950,
        lost: [950],
        warns: true,
        apply: ({ data, json }) => {
          const out = Buffer.from(data);
          out[json + 8] = '1'.charCodeAt(0); // {"id":"950" → {"id":"910" (an event that exists)
          return out;
        },
      },
    ];

    it('every intact event arrives exactly once, no damaged one, one warning per damaged range', async () => {
      const flows = placed([
        { id: 't1', type: 'tab' },
        { id: 'in', type: 'http in', z: 't1', url: '/inject', method: 'post', upload: false, wires: [['hook']] },
        webhook('hook', receiver.url, { batchSize: 50, backoffBase: 0.05, backoffMax: 0.2, maxAttempts: 0, queueMaxEvents: 100000, queueMaxMb: 256 }),
        { id: 'ok', type: 'complete', z: 't1', scope: ['hook'], uncaught: false, wires: [['answer']] },
        { id: 'answer', type: 'http response', z: 't1', statusCode: '', headers: {}, wires: [] },
      ]);
      await receiver.accept();
      red = await NodeRedProcess.create({ flows });
      await red.start();
      for (let i = 0; i < DELIVERED_FIRST; i += 20)
        await post(
          red,
          '/inject',
          Array.from({ length: 20 }, (_, k) => ev(i + k, PAD)),
        );
      await waitFor(() => receiver.deliveredIds.length >= DELIVERED_FIRST, 30000, 'the first events delivered');
      await receiver.refuse();
      for (let i = DELIVERED_FIRST; i < EVENTS; i += 20)
        await post(
          red,
          '/inject',
          Array.from({ length: 20 }, (_, k) => ev(i + k, PAD)),
        );
      await red.stop();
      // (a batch or two may still have gone out while the receiver was going down)
      const deliveredBefore = receiver.deliveredIds.length;
      assert.deepEqual(
        receiver.deliveredIds,
        Array.from({ length: deliveredBefore }, (_, i) => String(i)),
      );
      assert.ok(deliveredBefore >= DELIVERED_FIRST && deliveredBefore < 200, `${deliveredBefore} delivered before the stop`);

      const [queueName] = queueDirs(red.userDir);
      const dir = path.join(red.userDir, QUEUES, queueName);
      assert.ok(fs.readdirSync(dir).filter((f) => !f.startsWith('acked-')).length >= 2, 'a sealed segment and the one being written');
      for (const row of table) {
        const where = locate(dir, row.id);
        fs.writeFileSync(where.file, row.apply(where));
      }

      red = await NodeRedProcess.create({ userDir: red.userDir });
      await red.start();
      await receiver.accept();
      const lost = new Set(table.flatMap((row) => row.lost));
      const expected = Array.from({ length: EVENTS - deliveredBefore }, (_, i) => String(deliveredBefore + i)).filter((id) => !lost.has(Number(id)));
      await waitFor(() => receiver.deliveredIds.length >= deliveredBefore + expected.length, 60000, `the ${expected.length} intact events`);
      await new Promise((r) => setTimeout(r, 1000)); // anything more would arrive now
      const after = receiver.bodies.slice(0);
      const ids = receiver.deliveredIds.slice(deliveredBefore).map(String);
      assert.ok(
        receiver.delivered.every((e) => typeof e === 'object' && e !== null && typeof (e as { id?: unknown }).id === 'string'),
        'only events are posted, never garbage that parses as JSON',
      );
      assert.deepEqual(ids, expected, 'every intact event exactly once, in order; no damaged or delivered one again');
      const padsIntact = receiver.delivered.slice(deliveredBefore).every((e) => (e as { pad?: string }).pad === PAD);
      assert.ok(padsIntact, 'no delivered event is altered');
      const warnings = red.log.split('\n').filter((line) => /\[warn\].*Queue: /.test(line));
      assert.equal(warnings.length, table.filter((row) => row.warns).length, `one warning per damaged range:\n${warnings.join('\n')}`);
      assert.ok(after.length > 0);
      assert.deepEqual(red.errorLines(), []);
    });
  });
});
