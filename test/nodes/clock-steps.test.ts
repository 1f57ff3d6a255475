// The nodes while the system's wall clock steps (Date.now moves by 60 s;
// monotonic time runs on): lingering batches are not held, repeats are not
// let through. A real clock step needs root, so Date.now is shifted instead.
import assert from 'assert/strict';
import fs from 'fs';
import os from 'os';
import path from 'path';
import request from 'supertest';
import helper from '../support/helper';
import { Receiver } from '../support/receiver';
import { sleep } from '../support/wait';
import { seedEvent, multiEvent } from '../fixtures/events';

const webhookNode = require('../../nodes/webhook/findface-webhook.js');
const eventInModule = require('../../nodes/event-in/findface-event-in.js');

const STEP_MS = 60_000;
const realDateNow = Date.now;

function stepWallClock(ms: number): void {
  const previous = Date.now;
  Date.now = () => previous() + ms;
}

/** Waits on monotonic time (the wall clock is being stepped). */
async function within<T>(ms: number, check: () => T, what: string): Promise<void> {
  const deadline = performance.now() + ms;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`);
    await sleep(10);
  }
}

describe('nodes while the wall clock steps', function () {
  let userDir: string;
  before(() => {
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ff-clock-steps-'));
    helper.settings({ userDir });
    return helper.startServer();
  });
  after(async () => {
    await helper.stopServer();
    helper.settings({});
    fs.rmSync(userDir, { recursive: true, force: true });
  });
  afterEach(async () => {
    Date.now = realDateNow;
    await helper.unload();
  });

  it('webhook with lingerMs > 0: a wall step back of 60 s does not hold the batch', async () => {
    const receiver = await Receiver.start();
    try {
      await helper.load(webhookNode, [
        { id: 'tab', type: 'tab' },
        { id: 'hook', z: 'tab', type: 'findface-webhook', title: 'door', url: receiver.url, batchSize: 10, lingerMs: 500, timeout: 2000, wires: [[], []] },
      ]);
      const hook = helper.getNode('hook');
      const sentAt = performance.now();
      hook.receive({ payload: { ...seedEvent, id: 'a' } });
      await sleep(100);
      stepWallClock(-STEP_MS);
      hook.receive({ payload: { ...seedEvent, id: 'b' } });
      await within(3000, () => receiver.requests.length > 0, 'the lingering batch is sent');
      const heldMs = performance.now() - sentAt;
      assert.ok(heldMs >= 450, `held ${heldMs} ms, at least lingerMs`);
      assert.deepEqual(
        (receiver.requests[0].body as Array<{ id: string }>).map((e) => e.id),
        ['a', 'b'],
      );
    } finally {
      await helper.unload();
      await receiver.stop();
    }
  });

  it('event-in with dedupWindowS: a wall step forward of 60 s does not let a repeat through', async () => {
    let httpNode: any;
    const eventIn = (RED: any) => {
      httpNode = RED.httpNode;
      return eventInModule(RED);
    };
    await helper.load(eventIn, [
      { id: 'in', type: 'findface-event-in', mode: 'webhook', path: '/findface/clock-steps', dedupWindowS: 10, wires: [['out']] },
      { id: 'out', type: 'helper' },
    ]);
    const post = (events: unknown[]) => request(httpNode).post('/findface/clock-steps').set('Content-Type', 'application/json').send(JSON.stringify(events));
    assert.deepEqual((await post([seedEvent])).body, { accepted: 1 });
    stepWallClock(STEP_MS);
    assert.deepEqual((await post([seedEvent, multiEvent])).body, { accepted: 1, duplicates: 1 });
  });
});
