// Where the filter, the webhook and the door access node read the event
// (`property`, CONTRACT.md "Where nodes read the event"): msg.payload when
// unset, another message property such as msg.event, a flow or global
// context key for the webhook, and an error naming the property when it holds
// no event, which Catch nodes receive.
import assert from 'assert/strict';
import fs from 'fs';
import os from 'os';
import path from 'path';
import helper, { coreNode } from '../support/helper';
import { Receiver } from '../support/receiver';
import { sleep, waitFor } from '../support/wait';
import { seedEvent } from '../fixtures/events';

const filterModule = require('../../nodes/filter/findface-filter.js');
const webhookModule = require('../../nodes/webhook/findface-webhook.js');
const accessModule = require('../../nodes/access/findface-access.js');
const catchNode = coreNode('common/25-catch.js');

type Msg = Record<string, any>;

/** The node module with a RED._ that shows its parameters (the test helper's returns the bare key), so an error can be seen to name the property. */
function withParams(module: (RED: any) => void) {
  return (RED: any) => {
    RED._ = (key: string, params?: Record<string, unknown>) => (params ? `${key} ${JSON.stringify(params)}` : key);
    return module(RED);
  };
}

/** A caught error's text (Node-RED versions differ on an "Error: " prefix). */
const errorText = (msg: Msg): string => String(msg.error.message).replace(/^Error: /, '');

const event = (id: string, camera = 2, extra: Record<string, unknown> = {}) => ({
  ...seedEvent,
  id,
  camera,
  matched: true,
  matched_dossier: 12,
  created_date: new Date().toISOString(),
  ...extra,
});

interface Loaded {
  node: any;
  outputs: Msg[][];
  caught: Msg[];
}

/** One node under test with two collected outputs and a Catch node scoped to it. */
async function load(module: unknown, props: Record<string, unknown>): Promise<Loaded> {
  const flow = [
    { id: 'tab', type: 'tab', label: 'test' },
    { id: 'subject', z: 'tab', wires: [['out1'], ['out2']], ...props },
    { id: 'out1', type: 'helper', z: 'tab' },
    { id: 'out2', type: 'helper', z: 'tab' },
    { id: 'catcher', type: 'catch', z: 'tab', scope: ['subject'], uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper', z: 'tab' },
  ];
  await helper.load([withParams(module as (RED: any) => void), catchNode], flow);
  const loaded: Loaded = { node: helper.getNode('subject'), outputs: [[], []], caught: [] };
  helper.getNode('out1').on('input', (msg: Msg) => loaded.outputs[0].push(msg));
  helper.getNode('out2').on('input', (msg: Msg) => loaded.outputs[1].push(msg));
  helper.getNode('caught').on('input', (msg: Msg) => loaded.caught.push(msg));
  return loaded;
}

describe('where nodes read the event (property)', function () {
  this.timeout(20000);
  let userDir: string;
  before(() => {
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ff-property-test-'));
    helper.settings({ userDir });
    return helper.startServer();
  });
  after(async () => {
    await helper.stopServer();
    helper.settings({});
    fs.rmSync(userDir, { recursive: true, force: true });
  });
  afterEach(() => helper.unload());

  describe('findface-filter', () => {
    const filter = (props: Record<string, unknown> = {}) =>
      load(filterModule, { type: 'findface-filter', outputs: 2, filters: '{"camera_in": [2]}', cameraGroups: '{}', ...props });

    it('reads msg.payload when no property is saved (flows saved before it)', async () => {
      const { node, outputs } = await filter();
      node.receive({ payload: event('a') });
      node.receive({ payload: event('b', 3) });
      await waitFor(() => outputs[0].length === 1 && outputs[1].length === 1, 3000, 'one message on each output');
      assert.equal(outputs[0][0].payload.id, 'a');
      assert.equal(outputs[1][0].payload.id, 'b');
    });

    it('reads msg.event: a passing message leaves whole and unchanged', async () => {
      const { node, outputs } = await filter({ property: 'event' });
      node.receive({ payload: 'the door log line', event: event('a'), topic: 'cam' });
      node.receive({ payload: 'other', event: event('b', 3) });
      await waitFor(() => outputs[0].length === 1 && outputs[1].length === 1, 3000, 'one message on each output');
      assert.deepEqual(outputs[0][0].event, event('a', 2, { created_date: outputs[0][0].event.created_date }));
      assert.equal(outputs[0][0].payload, 'the door log line');
      assert.equal(outputs[0][0].topic, 'cam');
      assert.equal(outputs[1][0].event.id, 'b');
      assert.equal(outputs[1][0].payload, 'other');
    });

    it('with an array in msg.data.events, each output gets its share in that property and the payload as it was', async () => {
      const { node, outputs } = await filter({ property: 'msg.data.events' });
      node.receive({ payload: 'kept', data: { events: [event('a'), event('b', 3), event('c')], source: 'poll' } });
      await waitFor(() => outputs[0].length === 1 && outputs[1].length === 1, 3000, 'one message on each output');
      assert.deepEqual(
        outputs[0][0].data.events.map((e: Msg) => e.id),
        ['a', 'c'],
      );
      assert.deepEqual(
        outputs[1][0].data.events.map((e: Msg) => e.id),
        ['b'],
      );
      for (const msg of [outputs[0][0], outputs[1][0]]) {
        assert.equal(msg.payload, 'kept');
        assert.equal(msg.data.source, 'poll');
      }
      assert.notEqual(outputs[0][0]._msgid, undefined);
    });

    it('a message whose property holds no event is an error naming the property, sent nowhere', async () => {
      const { node, outputs, caught } = await filter({ property: 'data.event' });
      node.receive({ payload: event('a') });
      node.receive({ payload: event('b'), data: { event: 'text' } });
      node.receive({ data: { event: [event('c'), 7] } });
      await waitFor(() => caught.length === 3, 3000, 'three errors');
      assert.equal(errorText(caught[0]), 'findface-filter.errors.no-event {"property":"msg.data.event"}');
      assert.match(errorText(caught[1]), /^findface-filter\.errors\.not-event: msg\.data\.event is a string, not an event object$/);
      assert.match(errorText(caught[2]), /^findface-filter\.errors\.not-event: msg\.data\.event\[1\] is a number/);
      await sleep(50);
      assert.deepEqual(outputs, [[], []]);
    });

    it('refuses a property it cannot read, and a context type it does not offer, on every message', async () => {
      let loaded = await filter({ property: 'event..id' });
      loaded.node.receive({ payload: event('a') });
      await waitFor(() => loaded.caught.length === 1, 3000, 'the error');
      assert.match(errorText(loaded.caught[0]), /^findface-filter\.errors\.bad-property \{"property":"msg\.event\.\.id","detail":"Invalid property expression/);
      await helper.unload();
      loaded = await filter({ property: 'event', propertyType: 'flow' });
      loaded.node.receive({ payload: event('a') });
      await waitFor(() => loaded.caught.length === 1, 3000, 'the error');
      assert.equal(errorText(loaded.caught[0]), 'findface-filter.errors.bad-property-type {"type":"flow","types":"msg"}');
      assert.deepEqual(loaded.outputs, [[], []]);
    });
  });

  describe('findface-webhook', () => {
    let receiver: Receiver;
    beforeEach(async () => {
      receiver = await Receiver.start();
      fs.rmSync(path.join(userDir, 'findface-queues'), { recursive: true, force: true });
    });
    afterEach(() => receiver.stop());
    const webhook = (props: Record<string, unknown> = {}) =>
      load(webhookModule, { type: 'findface-webhook', title: 'door', url: receiver.url, batchSize: 10, lingerMs: 0, timeout: 2000, maxAttempts: 0, ...props });

    it('queues msg.payload when no property is saved', async () => {
      const { node } = await webhook();
      node.receive({ payload: event('a'), event: event('not-this') });
      await receiver.waitForDelivered(1, 5000);
      assert.deepEqual(receiver.deliveredIds, ['a']);
    });

    it('queues msg.event, an array as its elements', async () => {
      const { node } = await webhook({ property: 'event', propertyType: 'msg' });
      node.receive({ payload: 'not sent', event: event('a') });
      node.receive({ payload: 'not sent', event: [event('b'), event('c')] });
      await receiver.waitForDelivered(3, 5000);
      assert.deepEqual(receiver.deliveredIds, ['a', 'b', 'c']);
    });

    it('queues a flow context value when a message arrives', async () => {
      const { node } = await webhook({ property: 'pending', propertyType: 'flow' });
      node.context().flow.set('pending', [event('f1'), event('f2')]);
      node.receive({ payload: 'tick' });
      await receiver.waitForDelivered(2, 5000);
      assert.deepEqual(receiver.deliveredIds, ['f1', 'f2']);
    });

    it('queues a global context value when a message arrives', async () => {
      const { node } = await webhook({ property: 'lastEvent', propertyType: 'global' });
      node.context().global.set('lastEvent', event('g1'));
      node.receive({ payload: 'tick' });
      await receiver.waitForDelivered(1, 5000);
      assert.deepEqual(receiver.deliveredIds, ['g1']);
    });

    it('a property that is not set is an error naming it, and nothing is queued', async () => {
      const { node, caught } = await webhook({ property: 'event.face', propertyType: 'msg' });
      node.receive({ payload: event('a') });
      node.receive({ payload: event('b'), event: {} });
      await waitFor(() => caught.length === 2, 3000, 'two errors');
      assert.equal(errorText(caught[0]), 'findface-webhook.errors.no-event {"property":"msg.event.face"}');
      assert.equal(errorText(caught[1]), 'findface-webhook.errors.no-event {"property":"msg.event.face"}');
      node.receive({ payload: 'x', event: { face: event('c') } });
      await receiver.waitForDelivered(1, 5000);
      assert.deepEqual(receiver.deliveredIds, ['c']);
    });

    it('an unset global key is an error naming it; an unknown property type refuses every message', async () => {
      let loaded = await webhook({ property: 'missing', propertyType: 'global' });
      loaded.node.receive({ payload: event('a') });
      await waitFor(() => loaded.caught.length === 1, 3000, 'the error');
      assert.equal(errorText(loaded.caught[0]), 'findface-webhook.errors.no-event {"property":"global.missing"}');
      await helper.unload();
      loaded = await webhook({ property: 'x', propertyType: 'jsonata' });
      loaded.node.receive({ payload: event('a') });
      await waitFor(() => loaded.caught.length === 1, 3000, 'the error');
      assert.equal(
        errorText(loaded.caught[0]),
        'findface-webhook.status.config-error: findface-webhook.errors.bad-property-type {"type":"jsonata","types":"msg, flow, global"}',
      );
      await sleep(100);
      assert.equal(receiver.requests.length, 0);
    });
  });

  describe('findface-access', () => {
    const door = (props: Record<string, unknown> = {}) => load(accessModule, { type: 'findface-access', door: 'Main entrance', cooldownS: 5, ...props });

    it('reads msg.payload when no property is saved', async () => {
      const { node, outputs } = await door();
      node.receive({ payload: event('a') });
      await waitFor(() => outputs[0].length === 1, 3000, 'the open');
      assert.equal(outputs[0][0].payload.eventId, 'a');
    });

    it('reads msg.event: opens for the event there, with the contract message', async () => {
      const { node, outputs } = await door({ property: 'event' });
      const face = event('a');
      node.receive({ payload: 'from the turnstile flow', event: face });
      node.receive({ payload: 'x', event: event('b', 2, { matched: false, matched_dossier: null }) });
      await waitFor(() => outputs[0].length === 1 && outputs[1].length === 1, 3000, 'an open and a denial');
      assert.equal(outputs[0][0].payload.eventId, 'a');
      assert.equal(outputs[0][0].payload.door, 'Main entrance');
      assert.deepEqual(outputs[0][0].event, face);
      assert.equal(outputs[1][0].payload.id, 'b');
      assert.equal(outputs[1][0].reason, 'not-allowed');
    });

    it('a message whose property holds no event is an error naming it, and the door stays shut', async () => {
      const { node, outputs, caught } = await door({ property: 'event' });
      node.receive({ payload: event('a') });
      node.receive({ event: 'a string' });
      await waitFor(() => caught.length === 2, 3000, 'two errors');
      assert.equal(errorText(caught[0]), 'findface-access.errors.no-event {"property":"msg.event"}');
      assert.match(errorText(caught[1]), /^findface-access\.errors\.not-event: msg\.event is a string/);
      await sleep(50);
      assert.deepEqual(outputs, [[], []]);
    });

    it('refuses a property it cannot read, in red, on every message', async () => {
      const { node, outputs, caught } = await door({ property: 'event[' });
      node.receive({ payload: event('a'), event: event('b') });
      await waitFor(() => caught.length === 1, 3000, 'the error');
      assert.match(errorText(caught[0]), /^findface-access\.errors\.bad-property \{"property":"msg\.event\[","detail":"Invalid property expression/);
      const statuses = node.status
        .getCalls()
        .filter((call: any) => call.thisValue === node)
        .map((call: any) => call.args[0]);
      assert.equal(statuses.slice(-1)[0].fill, 'red');
      assert.deepEqual(outputs, [[], []]);
    });
  });
});
