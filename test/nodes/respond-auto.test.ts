// respond "auto" (the default): the source waits for the webhook node's
// acknowledgement when one is wired behind it, and answers at once otherwise.
import assert from 'assert/strict';
import fs from 'fs';
import os from 'os';
import path from 'path';
import request from 'supertest';
import helper from '../support/helper';
import { Receiver } from '../support/receiver';
import { waitFor } from '../support/wait';
import { multiEvent, seedEvent } from '../fixtures/events';

const eventInModule = require('../../nodes/event-in/findface-event-in.js');
const webhookNode = require('../../nodes/webhook/findface-webhook.js');
const filterNode = require('../../nodes/filter/findface-filter.js');

let httpNode: any;
function eventIn(RED: any) {
  httpNode = RED.httpNode;
  return eventInModule(RED);
}

describe('findface-event-in respond "auto"', function () {
  this.timeout(15000);
  let userDir: string;
  let receiver: Receiver;
  before(async () => {
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ff-respond-auto-'));
    helper.settings({ userDir });
    await helper.startServer();
  });
  after(async () => {
    await helper.stopServer();
    helper.settings({});
    fs.rmSync(userDir, { recursive: true, force: true });
  });
  beforeEach(async () => (receiver = await Receiver.start()));
  afterEach(async () => {
    await helper.unload();
    await receiver.stop();
  });

  const source = (extra: Record<string, unknown>, wires: string[][]) => ({
    id: 'in',
    z: 'tab',
    type: 'findface-event-in',
    mode: 'webhook',
    path: '/ff/auto',
    queuedTimeoutS: 1,
    wires,
    ...extra,
  });
  // A webhook node that cannot queue (a header the transport owns): it acks every event with an error.
  const brokenHook = {
    id: 'hook',
    z: 'tab',
    type: 'findface-webhook',
    title: 'door',
    url: 'http://127.0.0.1:9/x',
    headers: '{"Connection": "close"}',
    wires: [[], []],
  };
  const post = () =>
    request(httpNode)
      .post('/ff/auto')
      .set('Content-Type', 'application/json')
      .send(JSON.stringify([seedEvent, multiEvent]));

  async function load(nodes: unknown[]) {
    await helper.load([eventIn, webhookNode, filterNode], [{ id: 'tab', type: 'tab' }, ...nodes]);
  }

  function sourceWarnings(): string[] {
    return helper
      .log()
      .args.map((args: any[]) => args[0])
      .filter((m: any) => m && m.type === 'findface-event-in' && m.level === helper.log().WARN)
      .map((m: any) => String(m.msg));
  }

  for (const respond of [undefined, 'auto']) {
    it(`${respond ?? 'unset'}: a webhook node wired behind must queue the events before the 200 (503 when it cannot)`, async () => {
      await load([source(respond ? { respond } : {}, [['hook']]), brokenHook]);
      const response = await post();
      assert.equal(response.status, 503);
      assert.match(response.body.error, /could not be queued/);
    });
  }

  it('auto: a webhook node that queues gets the 200 answered once queued, and delivers', async () => {
    await load([source({}, [['hook']]), { ...brokenHook, headers: '{}', url: receiver.url }]);
    const response = await post();
    assert.equal(response.status, 200);
    await waitFor(() => receiver.deliveredIds.length === 2, 5000, 'delivery');
  });

  it('auto: a source feeding only a debug-like node answers 200 at once, not after the timeout', async () => {
    await load([source({}, [['out']]), { id: 'out', z: 'tab', type: 'helper' }]);
    const started = performance.now();
    const response = await post();
    assert.equal(response.status, 200);
    assert.ok(performance.now() - started < 500, 'answered without waiting for an acknowledgement');
  });

  it('auto: through a one-output webhook filter that drops an event, to a webhook node: waits for it', async () => {
    await load([
      source({}, [['filter']]),
      { id: 'filter', z: 'tab', type: 'findface-filter', filters: '{"matched": true}', outputs: 1, wires: [['hook']] },
      brokenHook,
    ]);
    const response = await post();
    assert.equal(response.status, 503, 'the passing event reached the webhook node, which could not queue it');
  });

  it('auto: a two-output filter whose second output goes to a debug-like node: answers at once', async () => {
    await load([
      source({}, [['filter']]),
      { id: 'filter', z: 'tab', type: 'findface-filter', filters: '{"matched": true}', outputs: 2, wires: [['hook'], ['out']] },
      brokenHook,
      { id: 'out', z: 'tab', type: 'helper' },
    ]);
    assert.equal((await post()).status, 200);
  });

  it('emitted: answers 200 before the webhook node has the events, and warns once that a redeploy can lose them', async () => {
    await load([source({ respond: 'emitted' }, [['hook']]), brokenHook]);
    assert.equal((await post()).status, 200);
    assert.equal((await post()).status, 200);
    const warnings = sourceWarnings().filter((line) => line.includes('emitted-before-queued'));
    assert.equal(warnings.length, 1);
  });

  it('refuses an unknown answer mode', async () => {
    await load([source({ respond: 'sometimes' }, [[]])]);
    const status = helper.getNode('in').status.args.at(-1)[0];
    assert.equal(status.fill, 'red');
  });
});
