// findface-event-in with `listen: "port"`: the same intake as on httpNode
// (answers, secret, signatures, repeats, respond modes) on a listener of the
// node's own, plain and over TLS from a core tls-config node (mutual TLS when
// it has a CA); two nodes on one port share it; a port in use is a red status
// and an error Catch nodes get; a redeploy frees the port.
import assert from 'assert/strict';
import http from 'http';
import net from 'net';
import request from 'supertest';
import helper, { coreNode } from '../support/helper';
import { accepting, freePort, portRequest, PortRequest, tlsFixture } from '../support/port-client';
import { sleep, waitFor } from '../support/wait';
import { multiEvent, seedEvent } from '../fixtures/events';

const eventInModule = require('../../nodes/event-in/findface-event-in.js');
const tlsNode = coreNode('network/05-tls.js');
const catchNode = coreNode('common/25-catch.js');

let httpNode: any;
function eventIn(RED: any) {
  httpNode = RED.httpNode;
  return eventInModule(RED);
}

type Received = { payload: unknown; findface: Record<string, unknown>; _findfaceAck?: (error?: Error) => void };

const PATH = '/findface/events';

describe('findface-event-in on its own port', function () {
  this.timeout(10000);
  let port: number;
  before(() => helper.startServer());
  after(() => helper.stopServer());
  beforeEach(async () => (port = await freePort()));
  afterEach(async () => {
    await helper.unload();
    assert.equal(await accepting(port), false, 'the port is closed once the flow stops');
  });

  const source = (extra: Record<string, unknown> = {}) => ({
    id: 'in',
    z: 'tab',
    type: 'findface-event-in',
    name: 'door camera',
    mode: 'webhook',
    path: PATH,
    listen: 'port',
    port,
    host: '127.0.0.1',
    wires: [['out']],
    ...extra,
  });
  const flow = (extra: Record<string, unknown> = {}, more: unknown[] = []) => [
    { id: 'tab', type: 'tab' },
    source(extra),
    { id: 'out', z: 'tab', type: 'helper' },
    ...more,
  ];

  function collect(id = 'out'): Received[] {
    const received: Received[] = [];
    helper.getNode(id).on('input', (msg: Received) => received.push(msg));
    return received;
  }

  /** The node's statuses as they are drawn. */
  function statuses(id = 'in'): Array<{ fill?: string; text?: string }> {
    const drawn: Array<{ fill?: string; text?: string }> = [];
    const node = helper.getNode(id);
    const status = node.status.bind(node);
    node.status = (s: { fill?: string; text?: string }) => {
      drawn.push(s);
      return status(s);
    };
    return drawn;
  }

  const post = (body: unknown, options: Partial<PortRequest> = {}) =>
    portRequest({ port, path: PATH, body: typeof body === 'string' ? body : JSON.stringify(body), ...options });

  async function listening() {
    await waitFor(async () => (await portRequest({ port, path: PATH, method: 'GET' }).catch(() => undefined))?.status === 405, 5000, 'the own port to listen');
  }

  it('emits the events of a POST to its port, answers as on httpNode, and serves nothing on httpNode', async () => {
    await helper.load(eventIn, flow());
    const received = collect();
    await listening();
    const ok = await post([seedEvent, multiEvent]);
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.body, { accepted: 2 });
    assert.match(String(ok.headers['content-type']), /^application\/json/);
    await waitFor(() => received.length === 2);
    assert.deepEqual(
      received.map((msg) => msg.payload),
      [seedEvent, multiEvent],
    );
    assert.equal(received[0].findface.source, 'webhook');
    // Same path matching as express: case and a trailing slash do not matter, the query string is no part of the path.
    assert.equal((await portRequest({ port, path: '/FindFace/Events/?x=1', body: JSON.stringify(seedEvent) })).status, 200);
    const answers: Array<[Partial<PortRequest>, number, RegExp]> = [
      [{ method: 'GET' }, 405, /POST/],
      [{ body: '{not json' }, 400, /not valid JSON/],
      [{ body: '[{"id":"1"}]' }, 400, /camera/],
      [{ headers: { 'Content-Type': 'text/plain' }, body: 'hello' }, 415, /not JSON/],
    ];
    for (const [options, status, error] of answers) {
      const answer = await post(options.method === 'GET' ? '' : (options.body ?? '[]'), options);
      assert.equal(answer.status, status, `${JSON.stringify(options)}: ${answer.text}`);
      assert.match(String((answer.body as { error: string }).error), error);
      assert.match(String(answer.headers['content-type']), /^application\/json/);
    }
    assert.equal((await post('', { method: 'GET' })).headers.allow, 'POST');
    const elsewhere = await portRequest({ port, path: '/other', body: '[]' });
    assert.equal(elsewhere.status, 404);
    assert.deepEqual(elsewhere.body, { error: 'no webhook at this path' });
    // Not on Node-RED's httpNode.
    assert.equal(
      (
        await request(httpNode)
          .post(PATH)
          .set('Content-Type', 'application/json')
          .send(JSON.stringify([seedEvent]))
      ).status,
      404,
    );
    await sleep(30);
    assert.equal(received.length, 3);
  }).timeout(20000);

  it('uses a smaller size limit: 413 over it, as on httpNode', async () => {
    await helper.load(eventIn, flow({ maxBodyMb: 0.001 }));
    await listening();
    const big = await post([{ ...seedEvent, pad: 'x'.repeat(2000) }]);
    assert.equal(big.status, 413);
    assert.match((big.body as { error: string }).error, /larger than the limit of 1048 bytes/);
    assert.equal((await post([seedEvent])).status, 200);
  });

  it('checks the shared secret before reading the body: header or query', async () => {
    await helper.load(eventIn, flow(), { in: { secret: 'door-secret' } });
    const received = collect();
    await listening();
    assert.equal((await post([seedEvent])).status, 401);
    const wrong = await post([seedEvent], { headers: { 'Content-Type': 'application/json', Authorization: 'Bearer nope' } });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.headers['www-authenticate'], 'Bearer');
    // A 100 MB body announced without the secret is answered at once, before a byte of it is sent.
    const refused = await new Promise<number>((resolve, reject) => {
      const req = http.request(
        { host: '127.0.0.1', port, path: PATH, method: 'POST', headers: { 'Content-Type': 'application/json', 'Content-Length': String(100 * 1024 * 1024) } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
          req.destroy();
        },
      );
      req.on('error', reject);
      req.flushHeaders();
    });
    assert.equal(refused, 401);
    assert.equal(received.length, 0);
    assert.equal((await post([seedEvent], { headers: { 'Content-Type': 'application/json', Authorization: 'Bearer door-secret' } })).status, 200);
    assert.equal((await portRequest({ port, path: `${PATH}?token=door-secret`, body: JSON.stringify([multiEvent]) })).status, 200);
    await waitFor(() => received.length === 2);
  });

  it('checks Standard Webhooks signatures and drops repeats', async () => {
    const { Webhook } = require('standardwebhooks');
    const key = 'whsec_' + Buffer.from('a signing key of 32 bytes.......').toString('base64');
    await helper.load(eventIn, flow({ dedupWindowS: 60 }), { in: { signingSecrets: key } });
    const received = collect();
    await listening();
    const signed = (body: string, id: string) => ({
      'Content-Type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(Date.now() / 1000)),
      'webhook-signature': new Webhook(key).sign(id, new Date(), body),
    });
    const body = JSON.stringify([seedEvent]);
    assert.equal((await post(body)).status, 401);
    assert.equal((await post(body.replace('"camera":2', '"camera":3'), { headers: signed(body, 'm1') })).status, 401);
    assert.deepEqual((await post(body, { headers: signed(body, 'm2') })).body, { accepted: 1 });
    const again = JSON.stringify([seedEvent, multiEvent]);
    assert.deepEqual((await post(again, { headers: signed(again, 'm3') })).body, { accepted: 1, duplicates: 1 });
    await waitFor(() => received.length === 2);
  });

  it('respond "queued": 200 once acknowledged, 503 when the queue fails or is late', async () => {
    await helper.load(eventIn, flow({ respond: 'queued', queuedTimeoutS: 0.3 }));
    let behaviour: 'ack' | 'fail' | 'ignore' = 'ack';
    helper.getNode('out').on('input', (msg: Received) => {
      if (behaviour === 'ack') msg._findfaceAck!();
      if (behaviour === 'fail') msg._findfaceAck!(new Error('ENOSPC: no space left on device'));
    });
    await listening();
    assert.deepEqual((await post([seedEvent, multiEvent])).body, { accepted: 2 });
    behaviour = 'fail';
    const failed = await post([seedEvent]);
    assert.equal(failed.status, 503);
    assert.match((failed.body as { error: string }).error, /ENOSPC/);
    behaviour = 'ignore';
    const late = await post([seedEvent]);
    assert.equal(late.status, 503);
    assert.match((late.body as { error: string }).error, /not queued within 300 ms/);
  });

  it('shows its port in the status', async () => {
    await helper.load(eventIn, flow());
    const drawn = statuses();
    await listening();
    await post([seedEvent]);
    await waitFor(() => drawn.some((s) => s.fill === 'green' && /port-listening|listening-port/.test(String(s.text))), 3000, 'a green status');
  });

  it('serves two nodes on one port by path, with one listener; a second node on a taken path gets an error', async () => {
    const second = { ...source({ id: 'in2', name: 'gate', path: '/findface/gate', wires: [['out2']] }) };
    const third = { ...source({ id: 'in3', name: 'copy', path: '/FINDFACE/events/', wires: [[]] }) };
    await helper.load([eventIn, catchNode], flow({}, [second, third, { id: 'out2', z: 'tab', type: 'helper' }]));
    const first = collect();
    const other = collect('out2');
    await listening();
    assert.equal((await post([seedEvent])).status, 200);
    assert.equal((await portRequest({ port, path: '/findface/gate', body: JSON.stringify([multiEvent]) })).status, 200);
    await waitFor(() => first.length === 1 && other.length === 1);
    assert.deepEqual(other[0].payload, multiEvent);
    await waitFor(
      () => helper.log().args.some((args: any[]) => args[0]?.level === 20 && args[0]?.id === 'in3' && /port-path-taken/.test(String(args[0].msg))),
      3000,
      'the error of the node on a taken path',
    );
  });

  it('a port in use: a red status and an error Catch nodes get, no crash; the other nodes go on', async () => {
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(port, '127.0.0.1', resolve));
    try {
      await helper.load(
        [eventIn, catchNode],
        flow({}, [
          { id: 'catcher', z: 'tab', type: 'catch', scope: ['in'], uncaught: false, wires: [['caught']] },
          { id: 'caught', z: 'tab', type: 'helper' },
        ]),
      );
      const caught = collect('caught');
      const drawn = statuses();
      await waitFor(() => caught.length === 1, 3000, 'the error at the Catch node');
      const error = (caught[0] as unknown as { error: { message: string; source: { id: string } } }).error;
      assert.match(error.message, /port-in-use/);
      assert.equal(error.source.id, 'in');
      await waitFor(() => drawn.some((s) => s.fill === 'red'), 3000, 'a red status');
      assert.match(String(drawn.find((s) => s.fill === 'red')!.text), /port-failed/);
    } finally {
      await helper.unload();
      await new Promise<void>((resolve) => holder.close(() => resolve()));
    }
  });

  it('closes on redeploy, an idle keep-alive connection does not hold it, and opens again', async () => {
    await helper.load(eventIn, flow());
    await listening();
    const agent = new http.Agent({ keepAlive: true });
    try {
      assert.equal((await post([seedEvent], { agent })).status, 200);
      const started = Date.now();
      await helper.unload();
      assert.ok(Date.now() - started < 2000, `closed in ${Date.now() - started} ms`);
      assert.equal(await accepting(port), false);
      await helper.load(eventIn, flow({ path: '/findface/other' }));
      await waitFor(
        async () => (await portRequest({ port, path: '/findface/other', body: JSON.stringify([seedEvent]) }).catch(() => undefined))?.status === 200,
        5000,
      );
      assert.equal((await post([seedEvent])).status, 404);
    } finally {
      agent.destroy();
    }
  });

  it('refuses a tls id that is no tls-config node, and a pattern path, as configuration errors', async () => {
    await helper.load(eventIn, [{ id: 'tab', type: 'tab' }, source({ tls: 'missing-tls' }), source({ id: 'in2', path: '/cam/:id' })]);
    const errors = helper
      .log()
      .args.filter((args: any[]) => args[0]?.level === 20)
      .map((args: any[]) => `${args[0].id} ${args[0].msg}`);
    assert.ok(
      errors.some((e: string) => /^in .*no-tls-config/.test(e)),
      JSON.stringify(errors),
    );
    assert.ok(
      errors.some((e: string) => /^in2 .*port-path-pattern/.test(e)),
      JSON.stringify(errors),
    );
    assert.equal(await accepting(port), false);
  });

  describe('TLS from a tls-config node', () => {
    const tlsConfig = { id: 'tlsconf', type: 'tls-config', name: 'door tls', cert: '', key: '', ca: '', verifyservercert: true };
    const serverTls = { certdata: tlsFixture('server.crt'), keydata: tlsFixture('server.key') };
    const trust = { ca: tlsFixture('ca.crt') };

    it('serves HTTPS with the certificate, refuses plain HTTP', async () => {
      await helper.load([eventIn, tlsNode], [...flow({ tls: 'tlsconf' }), tlsConfig], { tlsconf: serverTls });
      const received = collect();
      await waitFor(async () => (await post([seedEvent], { tls: trust }).catch(() => undefined))?.status === 200, 5000, 'HTTPS');
      await waitFor(() => received.length === 1);
      await assert.rejects(post([seedEvent]));
    });

    it('with a CA: mutual TLS, a client without a certificate the CA signed is refused', async () => {
      await helper.load([eventIn, tlsNode], [...flow({ tls: 'tlsconf' }), tlsConfig], { tlsconf: { ...serverTls, cadata: tlsFixture('ca.crt') } });
      const received = collect();
      const client = { ...trust, key: tlsFixture('client.key'), cert: tlsFixture('client.crt') };
      await waitFor(async () => (await post([seedEvent], { tls: client }).catch(() => undefined))?.status === 200, 5000, 'mutual TLS');
      await assert.rejects(post([multiEvent], { tls: trust }));
      await sleep(30);
      assert.equal(received.length, 1);
    });

    it('a tls-config without certificate and key is a configuration error', async () => {
      await helper.load([eventIn, tlsNode], [...flow({ tls: 'tlsconf' }), tlsConfig], { tlsconf: { cadata: tlsFixture('ca.crt') } });
      const errors = helper
        .log()
        .args.filter((args: any[]) => args[0]?.level === 20 && args[0]?.id === 'in')
        .map((args: any[]) => String(args[0].msg));
      assert.ok(
        errors.some((e: string) => /tls-no-cert/.test(e)),
        JSON.stringify(errors),
      );
    });
  });
});
