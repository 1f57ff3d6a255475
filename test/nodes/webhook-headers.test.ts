// The webhook node refuses, at deploy, headers that would break every request.
import assert from 'assert/strict';
import fs from 'fs';
import os from 'os';
import path from 'path';
import helper from '../support/helper';
import { Receiver } from '../support/receiver';
import { sleep, waitFor } from '../support/wait';
import { seedEvent } from '../fixtures/events';

const webhookNode = require('../../nodes/webhook/findface-webhook.js');

describe('findface-webhook node headers', function () {
  let userDir: string;
  let receiver: Receiver;
  before(() => {
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ff-webhook-headers-'));
    helper.settings({ userDir });
  });
  after(() => {
    helper.settings({});
    fs.rmSync(userDir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    receiver = await Receiver.start();
  });
  afterEach(async () => {
    await helper.unload();
    await receiver.stop();
  });

  async function deploy(headers: string) {
    await helper.load(webhookNode, [
      { id: 'tab', type: 'tab' },
      { id: 'hook', z: 'tab', type: 'findface-webhook', title: 'door', url: receiver.url, headers, wires: [[], []] },
      { id: 'catcher', z: 'tab', type: 'catch', scope: ['hook'], uncaught: false, wires: [['caught']] },
      { id: 'caught', z: 'tab', type: 'helper' },
    ]);
    const caught: Array<{ error: { message: string } }> = [];
    helper.getNode('caught').on('input', (msg: { error: { message: string } }) => caught.push(msg));
    return caught;
  }

  for (const [headers, code] of [
    ['{"Transfer-Encoding": "chunked"}', 'transport-header'],
    ['{"Connection": "close"}', 'transport-header'],
    ['{"Expect": "100-continue"}', 'transport-header'],
    ['{"X-Door": "ж"}', 'bad-value'],
    ['{"X-Door": "a\\u0000b"}', 'bad-value'],
  ]) {
    it(`refuses ${headers} at deploy (red status, an error for Catch nodes), sends nothing`, async () => {
      const caught = await deploy(headers);
      const hook = helper.getNode('hook');
      const statuses = hook.status.args.map((args: Array<{ fill?: string; text?: string }>) => args[0]);
      assert.ok(
        statuses.some((s: { fill?: string; text?: string }) => s.fill === 'red' && String(s.text).includes('config-error')),
        JSON.stringify(statuses),
      );
      hook.receive({ payload: seedEvent });
      await waitFor(() => caught.length === 1, 3000, 'the configuration error');
      assert.match(caught[0].error.message, new RegExp(`findface-webhook\\.errors\\.headers\\.${code}`));
      await sleep(50);
      assert.equal(receiver.requests.length, 0);
    });
  }

  it('sends a valid extra header as given', async () => {
    await deploy('{"X-Door": "entrance 1"}');
    helper.getNode('hook').receive({ payload: seedEvent });
    await waitFor(() => receiver.requests.length === 1, 3000, 'the request');
    assert.equal(receiver.requests[0].headers['x-door'], 'entrance 1');
  });
});
