import assert from 'assert/strict';
import request from 'supertest';
import helper, { coreNode } from '../support/helper';
import { sleep, waitFor } from '../support/wait';
import { seedEvent, ffs4Event, multiEvent } from '../fixtures/events';

const eventInModule = require('../../nodes/event-in/findface-event-in.js');

// helper.request() reaches only the admin app; the node's routes live on
// RED.httpNode, captured here when the module is loaded.
let httpNode: any;
function eventIn(RED: any) {
  httpNode = RED.httpNode;
  return eventInModule(RED);
}

type Received = { payload: unknown; topic: string; findface: Record<string, unknown> };

function webhookFlow(extra: Record<string, unknown> = {}) {
  return [
    { id: 'in', type: 'findface-event-in', mode: 'webhook', path: '/findface/events', maxBodyMb: 10, wires: [['out']], ...extra },
    { id: 'out', type: 'helper' },
  ];
}

function collect(): Received[] {
  const received: Received[] = [];
  helper.getNode('out').on('input', (msg: Received) => received.push(msg));
  return received;
}

describe('findface-event-in node', function () {
  before(() => helper.startServer());
  after(() => helper.stopServer());
  afterEach(() => helper.unload());

  describe('webhook mode', () => {
    it('emits the seed sample event unchanged, with topic and metadata, and answers 200', async () => {
      await helper.load(eventIn, webhookFlow());
      const received = collect();
      const response = await request(httpNode)
        .post('/findface/events')
        .set('Content-Type', 'application/json')
        .send(JSON.stringify([seedEvent]));
      assert.equal(response.status, 200);
      assert.deepEqual(response.body, { accepted: 1 });
      await waitFor(() => received.length === 1);
      assert.deepEqual(received[0].payload, seedEvent);
      assert.equal(received[0].topic, 'findface/camera/2');
      assert.equal(received[0].findface.source, 'webhook');
      assert.equal(received[0].findface.eventId, '4173669353687265180');
      assert.equal(received[0].findface.dossierId, 1);
      assert.equal(received[0].findface.cameraGroupId, null);
    });

    it('emits one message per event of a batch, in order, for every FindFace shape', async () => {
      await helper.load(eventIn, webhookFlow());
      const received = collect();
      const batch = [seedEvent, ffs4Event, multiEvent];
      const response = await request(httpNode).post('/findface/events').set('Content-Type', 'application/json').send(JSON.stringify(batch));
      assert.equal(response.status, 200);
      await waitFor(() => received.length === 3);
      assert.deepEqual(
        received.map((msg) => msg.payload),
        batch,
      );
      assert.deepEqual(
        received.map((msg) => msg.findface.cameraGroupId),
        [null, 3, 4],
      );
    });

    it('answers 400 with a JSON error and emits nothing for bad bodies', async () => {
      await helper.load(eventIn, webhookFlow());
      const received = collect();
      const bodies = ['{not json', '[]', '[{"id":"1"}]', '[{"id":"1","camera":1}, 5]', '{"camera": 1}'];
      for (const body of bodies) {
        const response = await request(httpNode).post('/findface/events').set('Content-Type', 'application/json').send(body);
        assert.equal(response.status, 400, body);
        assert.equal(typeof response.body.error, 'string');
      }
      await sleep(50);
      assert.equal(received.length, 0);
    });

    it('answers 405, 413 and 415', async () => {
      await helper.load(eventIn, webhookFlow({ maxBodyMb: 0.001 }));
      const received = collect();
      const get = await request(httpNode).get('/findface/events');
      assert.equal(get.status, 405);
      assert.match(get.body.error, /POST/);
      const big = await request(httpNode)
        .post('/findface/events')
        .set('Content-Type', 'application/json')
        .send(JSON.stringify([{ ...seedEvent, pad: 'x'.repeat(2000) }]));
      assert.equal(big.status, 413);
      const text = await request(httpNode).post('/findface/events').set('Content-Type', 'text/plain').send('hello');
      assert.equal(text.status, 415);
      assert.equal(received.length, 0);
    });

    it('checks the shared secret from the credentials: header or query', async () => {
      await helper.load(eventIn, webhookFlow(), { in: { secret: 'door-secret' } });
      const received = collect();
      const body = JSON.stringify([seedEvent]);
      const post = () => request(httpNode).post('/findface/events').set('Content-Type', 'application/json');
      assert.equal((await post().send(body)).status, 401);
      assert.equal((await post().set('Authorization', 'Bearer nope').send(body)).status, 401);
      assert.equal((await request(httpNode).post('/findface/events?token=nope').set('Content-Type', 'application/json').send(body)).status, 401);
      assert.equal(received.length, 0);
      assert.equal((await post().set('Authorization', 'Bearer door-secret').send(body)).status, 200);
      assert.equal((await request(httpNode).post('/findface/events?token=door-secret').set('Content-Type', 'application/json').send(body)).status, 200);
      await waitFor(() => received.length === 2);
    });

    it('removes its route on close, so a redeploy with a new path frees the old one', async () => {
      await helper.load(eventIn, webhookFlow());
      const body = JSON.stringify([seedEvent]);
      assert.equal((await request(httpNode).post('/findface/events').set('Content-Type', 'application/json').send(body)).status, 200);
      await helper.unload();
      await helper.load(eventIn, webhookFlow({ path: '/findface/other' }));
      assert.equal((await request(httpNode).post('/findface/events').set('Content-Type', 'application/json').send(body)).status, 404);
      assert.equal((await request(httpNode).post('/findface/other').set('Content-Type', 'application/json').send(body)).status, 200);
    });

    it('reports an error on a second node with the same path instead of shadowing the first', async () => {
      const flow = [
        { id: 'in', type: 'findface-event-in', mode: 'webhook', path: '/findface/events', wires: [['out']] },
        { id: 'in2', type: 'findface-event-in', mode: 'webhook', path: 'findface/events', wires: [['out2']] },
        { id: 'out', type: 'helper' },
        { id: 'out2', type: 'helper' },
      ];
      await helper.load(eventIn, flow);
      const second = helper.getNode('in2');
      const errors: string[] = [];
      const first = collect();
      const other: unknown[] = [];
      helper.getNode('out2').on('input', (msg: unknown) => other.push(msg));
      // The error was reported during construction; check it through the log
      // (the test helper's RED._ returns message keys, not texts).
      const logged = helper.log().args.filter((args: any[]) => args[0]?.level === 20 && args[0]?.id === 'in2');
      for (const [entry] of logged) errors.push(String(entry.msg));
      assert.ok(
        errors.some((message) => /path-in-use|already served by node in/.test(message)),
        JSON.stringify(errors),
      );
      assert.ok(second);
      const response = await request(httpNode)
        .post('/findface/events')
        .set('Content-Type', 'application/json')
        .send(JSON.stringify([seedEvent]));
      assert.equal(response.status, 200);
      await waitFor(() => first.length === 1);
      assert.equal(other.length, 0);
    });

    it('treats paths that differ only in case or a trailing slash as the same path, as express routes them', async () => {
      const flow = [
        { id: 'in', type: 'findface-event-in', mode: 'webhook', path: '/findface/events', wires: [['out']] },
        { id: 'in2', type: 'findface-event-in', mode: 'webhook', path: '/FindFace/Events/', wires: [['out']] },
        { id: 'out', type: 'helper' },
      ];
      await helper.load(eventIn, flow);
      const logged = helper.log().args.filter((args: any[]) => args[0]?.level === 20 && args[0]?.id === 'in2');
      assert.ok(
        logged.some(([entry]: any[]) => /path-in-use|already served by node in/.test(String(entry.msg))),
        JSON.stringify(logged),
      );
      // The first node answers the other spelling too.
      const received = collect();
      const response = await request(httpNode)
        .post('/FINDFACE/EVENTS')
        .set('Content-Type', 'application/json')
        .send(JSON.stringify([seedEvent]));
      assert.equal(response.status, 200);
      await waitFor(() => received.length === 1);
    });

    it('reports wrong property types as configuration errors, never as a TypeError, and opens no route', async () => {
      const simulate = { mode: 'simulate', rate: 1, cameras: '{"1": 1}', dossiers: '1', matchedRatio: 0.3, shape: 'ffs3', autostart: false };
      const cases: Array<[Record<string, unknown>, RegExp]> = [
        [{ path: 123 }, /bad-path|path 123 is not text/],
        [{ path: { url: '/x' } }, /bad-path|is not text/],
        [{ maxBodyMb: 1e308 }, /bad-size|size limit/],
        [{ maxBodyMb: true }, /bad-size|size limit/],
        [{ maxBodyMb: [5] }, /bad-size|size limit/],
        [{ toleranceS: {} }, /bad-number|number of seconds/],
        [{ respond: 'queue' }, /bad-respond|unknown answer mode/],
        [{ ...simulate, cameras: 'null' }, /bad-cameras|camera layout/],
        [{ ...simulate, cameras: '[1, 2]' }, /bad-cameras|camera layout/],
        [{ ...simulate, cameras: { 1: 1 } }, /bad-cameras|camera layout/],
        [{ ...simulate, dossiers: { a: 1 } }, /bad-dossiers/],
        [{ ...simulate, rate: [5] }, /bad-rate|rate/],
        [{ ...simulate, matchedRatio: true }, /bad-ratio/],
      ];
      const flow = cases.map(([props], index) => ({
        id: `bad${index}`,
        type: 'findface-event-in',
        mode: 'webhook',
        path: `/bad/${index}`,
        wires: [[]],
        ...props,
      }));
      await helper.load(eventIn, flow);
      for (const [index, [props, expected]] of cases.entries()) {
        const logged = helper
          .log()
          .args.filter((args: any[]) => args[0]?.level === 20 && args[0]?.id === `bad${index}`)
          .map(([entry]: any[]) => String(entry.msg));
        assert.ok(
          logged.some((message: string) => expected.test(message)),
          `${JSON.stringify(props)}: ${JSON.stringify(logged)}`,
        );
        assert.ok(!logged.some((message: string) => /TypeError|is not a function/.test(message)), JSON.stringify(logged));
      }
      // A refused webhook node serves nothing.
      const response = await request(httpNode)
        .post('/bad/2')
        .set('Content-Type', 'application/json')
        .send(JSON.stringify([seedEvent]));
      assert.equal(response.status, 404);
    });

    it('takes numbers given as text, as the editor stores them, and a single dossier given as a number', async () => {
      const flow = [
        {
          id: 'in',
          type: 'findface-event-in',
          mode: 'webhook',
          path: '/findface/events',
          maxBodyMb: '0.001',
          toleranceS: '300',
          dedupWindowS: '',
          wires: [['out']],
        },
        {
          id: 'sim',
          type: 'findface-event-in',
          mode: 'simulate',
          rate: '5',
          cameras: '{"1": 1}',
          dossiers: 7,
          matchedRatio: '1',
          seed: '3',
          autostart: false,
          wires: [['out']],
        },
        { id: 'out', type: 'helper' },
      ];
      await helper.load(eventIn, flow);
      const errors = helper.log().args.filter((args: any[]) => args[0]?.level === 20);
      assert.deepEqual(errors, []);
      const received = collect();
      const big = await request(httpNode)
        .post('/findface/events')
        .set('Content-Type', 'application/json')
        .send(JSON.stringify([{ ...seedEvent, pad: 'x'.repeat(2000) }]));
      assert.equal(big.status, 413);
      helper.getNode('sim').receive({ payload: 'once' });
      await waitFor(() => received.length === 1);
      assert.equal((received[0].payload as { matched_dossier: unknown }).matched_dossier, 7);
    });

    describe('Standard Webhooks signatures', () => {
      // Signed by the standardwebhooks package, an independent implementation.
      const { Webhook } = require('standardwebhooks');
      const key = 'whsec_' + Buffer.from('a signing key of 32 bytes.......').toString('base64');
      const oldKey = 'whsec_' + Buffer.from('the previous key, still accepted').toString('base64');
      const body = JSON.stringify([seedEvent]);
      const signed = (secret: string, at = new Date(), id = 'msg_1', payload = body) => ({
        'webhook-id': id,
        'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
        'webhook-signature': new Webhook(secret).sign(id, at, payload),
      });
      const post = (headers: Record<string, string>, payload = body) =>
        request(httpNode).post('/findface/events').set('Content-Type', 'application/json').set(headers).send(payload);

      beforeEach(async () => {
        await helper.load(eventIn, webhookFlow(), { in: { signingSecrets: `${key} ${oldKey}` } });
      });

      it('accepts a request signed with any of the keys', async () => {
        const received = collect();
        assert.equal((await post(signed(key))).status, 200);
        assert.equal((await post(signed(oldKey))).status, 200);
        await waitFor(() => received.length === 2);
      });

      it('answers 401 to an unsigned, wrongly signed, tampered or stale request', async () => {
        const received = collect();
        const otherKey = 'whsec_' + Buffer.from('somebody else').toString('base64');
        const stale = new Date(Date.now() - 10 * 60 * 1000);
        const cases: Array<[Record<string, string>, string, RegExp]> = [
          [{}, body, /not signed/],
          [signed(otherKey), body, /no valid signature/],
          [signed(key), body.replace('"camera":2', '"camera":3'), /no valid signature/],
          [signed(key, stale), body, /more than 300 s/],
          [{ ...signed(key), 'webhook-timestamp': 'soon' }, body, /not a number/],
        ];
        for (const [headers, payload, message] of cases) {
          const response = await post(headers, payload);
          assert.equal(response.status, 401, JSON.stringify(headers));
          assert.match(response.body.error, message);
        }
        await sleep(30);
        assert.equal(received.length, 0);
      });
    });

    it('drops events received again within the repeat window', async () => {
      await helper.load(eventIn, webhookFlow({ dedupWindowS: 60 }));
      const received = collect();
      const post = (events: unknown[]) => request(httpNode).post('/findface/events').set('Content-Type', 'application/json').send(JSON.stringify(events));
      assert.deepEqual((await post([seedEvent])).body, { accepted: 1 });
      assert.deepEqual((await post([seedEvent, multiEvent])).body, { accepted: 1, duplicates: 1 });
      await waitFor(() => received.length === 2);
      await sleep(30);
      assert.deepEqual(
        received.map((msg) => (msg.payload as { id: string }).id),
        [seedEvent.id, multiEvent.id],
      );
    });

    describe('answering 200 only once the events are queued', () => {
      const post = () =>
        request(httpNode)
          .post('/findface/events')
          .set('Content-Type', 'application/json')
          .send(JSON.stringify([seedEvent, multiEvent]));

      it('answers 200 when every event is acknowledged, 503 on an error or a timeout', async () => {
        await helper.load(eventIn, webhookFlow({ respond: 'queued', queuedTimeoutS: 0.3 }));
        const out = helper.getNode('out');
        let behaviour: 'ack' | 'fail' | 'ignore' = 'ack';
        out.on('input', (msg: any) => {
          if (behaviour === 'ack') msg._findfaceAck();
          if (behaviour === 'fail') msg._findfaceAck(new Error('ENOSPC: no space left on device'));
        });
        assert.deepEqual((await post()).body, { accepted: 2 });
        behaviour = 'fail';
        const failed = await post();
        assert.equal(failed.status, 503);
        assert.match(failed.body.error, /could not be queued: ENOSPC/);
        behaviour = 'ignore';
        const started = Date.now();
        const timedOut = await post();
        assert.equal(timedOut.status, 503);
        assert.match(timedOut.body.error, /2 of 2 events were not queued within 300 ms/);
        assert.ok(Date.now() - started >= 290);
      });

      it('does not add the ack in the default mode', async () => {
        await helper.load(eventIn, webhookFlow());
        const received = collect();
        assert.equal((await post()).status, 200);
        await waitFor(() => received.length === 2);
        assert.equal((received[0] as any)._findfaceAck, undefined);
      });
    });

    it('keeps working after bad requests', async () => {
      await helper.load(eventIn, webhookFlow());
      const received = collect();
      for (let i = 0; i < 20; i++) {
        await request(httpNode).post('/findface/events').set('Content-Type', 'application/json').send('[{"id": ');
      }
      const ok = await request(httpNode).post('/findface/events').set('Content-Type', 'application/json').send(JSON.stringify(seedEvent));
      assert.equal(ok.status, 200);
      await waitFor(() => received.length === 1);
    });
  });

  describe('simulate mode', () => {
    const simulateFlow = (extra: Record<string, unknown> = {}) => [
      {
        id: 'in',
        type: 'findface-event-in',
        mode: 'simulate',
        rate: 50,
        seed: '42',
        cameras: '{"1": 1, "2": 1, "3": 2}',
        dossiers: '1, 12, 25',
        matchedRatio: 0.5,
        shape: 'ffs3',
        autostart: true,
        wires: [['out']],
        ...extra,
      },
      { id: 'out', type: 'helper' },
    ];

    it('emits valid events at about the configured rate', async () => {
      await helper.load(eventIn, simulateFlow());
      const received = collect();
      await sleep(600);
      // 50/s for 0.6 s is 31 events; a busy machine delays timers but cannot add events.
      assert.ok(received.length >= 5 && received.length <= 32, `got ${received.length}`);
      for (const msg of received) {
        assert.equal(msg.findface.source, 'simulate');
        assert.ok([1, 2, 3].includes(msg.findface.cameraId as number));
      }
    });

    it('is deterministic for a seed, apart from the dates and image stamps', async () => {
      const run = async () => {
        await helper.load(eventIn, simulateFlow({ autostart: false }));
        const received = collect();
        const node = helper.getNode('in');
        for (let i = 0; i < 5; i++) node.receive({ payload: 'once' });
        await waitFor(() => received.length === 5);
        await helper.unload();
        return received.map((msg) => {
          const event = msg.payload as Record<string, unknown>;
          return [event.id, event.camera, event.matched_dossier, event.confidence];
        });
      };
      assert.deepEqual(await run(), await run());
    });

    it('starts and stops on input messages and takes a new rate', async () => {
      await helper.load(eventIn, simulateFlow({ autostart: false, rate: 1000 }));
      const received = collect();
      const node = helper.getNode('in');
      await sleep(100);
      assert.equal(received.length, 0);
      node.receive({ payload: 'start' });
      await waitFor(() => received.length >= 5);
      node.receive({ payload: 'stop' });
      await sleep(30);
      const stoppedAt = received.length;
      await sleep(150);
      assert.equal(received.length, stoppedAt);
      node.receive({ payload: 'start', rate: 0.2 });
      await sleep(300);
      // 0.2/s: the first event at once, the next only after 5 s.
      assert.equal(received.length, stoppedAt + 1);
    });

    it('refuses a bad rate in a message with an error that Catch nodes get', async () => {
      const flow = [
        { id: 'tab', type: 'tab' },
        ...simulateFlow({ autostart: false }).map((node) => ({ ...node, z: 'tab' })),
        { id: 'catcher', type: 'catch', z: 'tab', scope: null, uncaught: false, wires: [['caught']] },
        { id: 'caught', type: 'helper', z: 'tab' },
      ];
      await helper.load([eventIn, coreNode('common/25-catch.js')], flow);
      const caught: any[] = [];
      helper.getNode('caught').on('input', (msg: any) => caught.push(msg));
      helper.getNode('in').receive({ rate: -1 });
      await waitFor(() => caught.length === 1);
      assert.match(caught[0].error.message, /bad-rate|rate "-1"/);
    });

    it('shows a configuration error for a bad camera layout and emits nothing', async () => {
      await helper.load(eventIn, simulateFlow({ cameras: '{"a": 1}' }));
      const received = collect();
      await sleep(100);
      assert.equal(received.length, 0);
      const logged = helper.log().args.filter((args: any[]) => args[0]?.level === 20 && args[0]?.id === 'in');
      assert.ok(
        logged.some(([entry]: any[]) => /errors\.bad-camera-id/.test(entry.msg)),
        JSON.stringify(logged),
      );
    });
  });
});
