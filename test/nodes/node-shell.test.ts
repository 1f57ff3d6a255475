// What the shell gives every node: names in log lines, per-event logging on
// request, error texts that name what they mean, and a test helper that
// fails on a node type that is not registered.
import assert from 'assert/strict';
import fs from 'fs';
import os from 'os';
import path from 'path';
import request from 'supertest';
import helper from '../support/helper';
import { waitFor } from '../support/wait';
import { seedEvent } from '../fixtures/events';

const webhookModule = require('../../nodes/webhook/findface-webhook.js');
const eventInModule = require('../../nodes/event-in/findface-event-in.js');

/** The node module with a RED._ that shows its parameters (the test helper's returns the bare key). */
function withParams(module: (RED: any) => void) {
  return (RED: any) => {
    RED._ = (key: string, params?: Record<string, unknown>) => (params ? `${key} ${JSON.stringify(params)}` : key);
    return module(RED);
  };
}

let httpNode: any;
const eventIn = (RED: any) => {
  httpNode = RED.httpNode;
  return withParams(eventInModule)(RED);
};

function logged(type: string): Array<{ level: number; msg: string; name?: string; id: string }> {
  return helper
    .log()
    .args.map((args: any[]) => args[0])
    .filter((entry: any) => entry && entry.type === type);
}

describe('node shell', function () {
  this.timeout(10000);
  let userDir: string;
  before(async () => {
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ff-shell-test-'));
    helper.settings({ userDir, logging: { console: { level: 'info' } } });
    await helper.startServer();
  });
  after(async () => {
    await helper.stopServer();
    helper.settings({});
    fs.rmSync(userDir, { recursive: true, force: true });
  });
  afterEach(() => helper.unload());

  it('fails a test whose node type is not registered, instead of leaving it with no node', async () => {
    await assert.rejects(helper.load([], [{ id: 'x1', type: 'findface-no-such-node' }]), /not registered.*x1 \(findface-no-such-node\)/);
  });

  describe('webhook', () => {
    // Port 9 (discard) on 127.0.0.1 refuses: every attempt fails and backs off.
    const hook = (props: Record<string, unknown>) => [
      { id: 'hook', type: 'findface-webhook', url: 'http://127.0.0.1:9/hook', backoffBase: 0.01, maxAttempts: 0, wires: [[], []], ...props },
    ];
    const infoLines = () => logged('findface-webhook').filter((entry) => entry.level === helper.log().INFO);
    const warnLines = () => logged('findface-webhook').filter((entry) => entry.level === helper.log().WARN);

    it('names itself by its title in log lines and the debug sidebar, and logs per-event lines by default', async () => {
      await helper.load(webhookModule, hook({ title: 'door 1', name: '' }));
      helper.getNode('hook').receive({ payload: { ...seedEvent, id: 'e1' } });
      await waitFor(() => warnLines().length > 0, 5000, 'a backing-off warning');
      assert.match(warnLines()[0].msg, /^Backing off for \d+\.\d{3} seconds after failure: /);
      assert.equal(warnLines()[0].name, 'door 1');
      assert.ok(
        infoLines().some((entry) => entry.msg === 'Event e1 enqueued for webhook door 1 (1 items in queue)'),
        JSON.stringify(infoLines()),
      );
    });

    it('falls back to the name of an older flow', async () => {
      await helper.load(webhookModule, hook({ name: 'old door' }));
      helper.getNode('hook').receive({ payload: { ...seedEvent, id: 'e2' } });
      await waitFor(() => warnLines().length > 0, 5000, 'a backing-off warning');
      assert.equal(warnLines()[0].name, 'old door');
      assert.ok(infoLines().some((entry) => /^Event e2 enqueued for webhook old door \(\d+ items in queue\)$/.test(entry.msg)));
    });

    it('with logEvents false logs no per-event lines, and keeps the warnings', async () => {
      await helper.load(webhookModule, hook({ title: 'quiet', logEvents: false }));
      helper.getNode('hook').receive({ payload: { ...seedEvent, id: 'e3' } });
      helper.getNode('hook').receive({ payload: { ...seedEvent, id: 'e4' } });
      await waitFor(() => warnLines().length >= 2, 5000, 'backing-off warnings');
      assert.deepEqual(infoLines(), []);
    });

    it('says what is wrong with its configuration in the locale texts, with the parameters', async () => {
      await helper.load(withParams(webhookModule), hook({ batchSize: '0' }));
      const errors = logged('findface-webhook').filter((entry) => entry.level === helper.log().ERROR);
      assert.ok(
        errors.some((entry) => /findface-webhook\.errors\.not-integer \{"key":"batchSize","min":1,"value":"0"\}/.test(entry.msg)),
        JSON.stringify(errors),
      );
    });
  });

  describe('event-in', () => {
    it('names the node and the tab that already serve a path', async () => {
      await helper.load(eventIn, [
        { id: 'tab1', type: 'tab', label: 'Doors' },
        { id: 'in1', z: 'tab1', name: 'front door', type: 'findface-event-in', mode: 'webhook', path: '/shell/events', wires: [[]] },
        { id: 'in2', z: 'tab1', type: 'findface-event-in', mode: 'webhook', path: '/shell/events', wires: [[]] },
      ]);
      const errors = logged('findface-event-in').filter((entry) => entry.id === 'in2' && entry.level === helper.log().ERROR);
      assert.ok(
        errors.some((entry) => entry.msg.includes('"name":"front door"') && entry.msg.includes('"tab":"Doors"') && entry.msg.includes('"node":"in1"')),
        JSON.stringify(errors),
      );
      const response = await request(httpNode)
        .post('/shell/events')
        .set('Content-Type', 'application/json')
        .send(JSON.stringify([seedEvent]));
      assert.equal(response.status, 200);
    });

    it('words the poll status from the locale files and shows the count once', async () => {
      // No FindFace here: the poll fails and backs off; the status text is one locale key with its count.
      await helper.load(
        [eventIn, require('../../nodes/server/findface-server.js')],
        [
          { id: 'ffsrv1', type: 'findface-server', url: 'http://127.0.0.1:9' },
          { id: 'poller1', type: 'findface-event-in', mode: 'poll', server: 'ffsrv1', pollIntervalS: 1, wires: [[]] },
        ],
        { ffsrv1: { token: 'abcdef' } },
      );
      const node = helper.getNode('poller1');
      await waitFor(() => node.status.args.some(([s]: any[]) => /status\.poll\.backoff/.test(String(s.text))), 5000, 'a backoff status');
      const texts: string[] = node.status.args.map(([s]: any[]) => String(s.text ?? ''));
      for (const text of texts.filter((t) => t.includes('status.poll'))) {
        assert.match(text, /^findface-event-in\.status\.poll\.\w+( \{.*\})?$/, text);
        assert.ok((text.match(/"count"/g) ?? []).length <= 1, text);
      }
    });
  });
});
