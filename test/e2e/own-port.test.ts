// findface-event-in on a port of its own (`listen: "port"`) in a real
// Node-RED with the packed package: plain HTTP and HTTPS from a core
// tls-config node (the test certificates), mutual TLS refusing a client
// without a certificate, a port another program holds is an error a Catch
// node gets (Node-RED keeps running), and full deploys under load lose no
// event the source answered 200 to (respond "auto" with a webhook node
// behind: answered once queued). OWN_PORT_DEPLOYS=30 runs more deploys.
import assert from 'assert/strict';
import net from 'net';
import path from 'path';
import { deliveryReport, EventLoad, faceEvent, pipelineFlows } from '../support/event-load';
import { NodeRedProcess } from '../support/node-red-process';
import { accepting, freePort, portRequest, tlsFixture, tlsFixtures } from '../support/port-client';
import { Receiver } from '../support/receiver';
import { sleep, waitFor } from '../support/wait';

const DEPLOYS = Number(process.env.OWN_PORT_DEPLOYS ?? 8);
const POSTERS = 6;

describe('the source on its own port (real Node-RED)', function () {
  this.timeout(120000);
  let receiver: Receiver;
  let red: NodeRedProcess;
  let plainPort: number;
  let tlsPort: number;
  let mutualPort: number;
  let heldPort: number;
  let holder: net.Server | undefined;

  const file = (name: string) => path.join(tlsFixtures, name);
  const tlsConfig = (id: string, ca: boolean) => ({
    id,
    type: 'tls-config',
    name: `${id} certificate`,
    cert: file('server.crt'),
    key: file('server.key'),
    ca: ca ? file('ca.crt') : '',
    verifyservercert: true,
  });
  const ownSource = (id: string, port: number, extra: Record<string, unknown> = {}) => ({
    id,
    type: 'findface-event-in',
    z: 'tab',
    name: id,
    mode: 'webhook',
    path: `/findface/${id}`,
    listen: 'port',
    port,
    host: '127.0.0.1',
    respond: 'auto',
    queuedTimeoutS: 2,
    x: 120,
    y: 400,
    wires: [['hook']],
    ...extra,
  });

  /** The pipeline (source on the plain own port → webhook → receiver), a TLS and a mutual-TLS source, a Catch node for the sources. */
  function flows(extra: unknown[] = []): unknown[] {
    const pipeline = pipelineFlows({
      receiverUrl: receiver.url,
      source: { listen: 'port', port: plainPort, host: '127.0.0.1', respond: 'auto' },
      webhook: { batchSize: 50 },
    }) as Array<Record<string, unknown>>;
    return [
      ...pipeline,
      tlsConfig('tls-server', false),
      tlsConfig('tls-mutual', true),
      ownSource('secure', tlsPort, { tls: 'tls-server' }),
      ownSource('mutual', mutualPort, { tls: 'tls-mutual' }),
      { id: 'source-catch', type: 'catch', z: 'tab', scope: null, uncaught: false, x: 120, y: 500, wires: [['source-catch-log']] },
      {
        id: 'source-catch-log',
        type: 'function',
        z: 'tab',
        name: 'source-catch-log',
        func: "node.warn('source caught ' + JSON.stringify({ message: msg.error && msg.error.message, source: msg.error && msg.error.source && msg.error.source.id }));\nreturn null;",
        outputs: 1,
        x: 320,
        y: 500,
        wires: [[]],
      },
      ...extra,
    ];
  }

  before(async () => {
    receiver = await Receiver.start();
    receiver.respondWith({ status: 200, delayMs: 5 });
    [plainPort, tlsPort, mutualPort, heldPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
    red = await NodeRedProcess.create({ flows: [], settings: { logging: { console: { level: 'warn', metrics: false, audit: false } } } });
    await red.start();
    await deploy(flows());
    await waitFor(
      async () => (await portRequest({ port: plainPort, path: '/findface/events', method: 'GET' }).catch(() => undefined))?.status === 405,
      10000,
      'the own port',
    );
  });
  after(async () => {
    await red?.dispose();
    await receiver?.stop();
    await new Promise<void>((resolve) => (holder ? holder.close(() => resolve()) : resolve()));
  });
  afterEach(function () {
    if (this.currentTest?.state === 'failed') console.log(`Node-RED log tail:\n${red?.log.split('\n').slice(-40).join('\n')}`);
  });

  async function deploy(nodes: unknown[]): Promise<void> {
    const response = await fetch(`${red.url}/flows`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Node-RED-Deployment-Type': 'full' },
      body: JSON.stringify(nodes),
    });
    assert.equal(response.status, 204, await response.text());
  }

  const events = (...ids: number[]) => JSON.stringify(ids.map((id) => faceEvent(id)));

  it("plain HTTP: events POSTed to the own port reach the receiver; Node-RED's port does not serve the path", async () => {
    const answer = await portRequest({ port: plainPort, path: '/findface/events', body: events(1, 2) });
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.body, { accepted: 2 });
    await waitFor(() => ['1', '2'].every((id) => receiver.deliveredIds.includes(id)), 10000, 'the events at the receiver');
    const onNodeRed = await fetch(`${red.url}/findface/events`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: events(3) });
    assert.equal(onNodeRed.status, 404);
  });

  it("TLS: HTTPS with the tls-config node's certificate; plain HTTP gets no answer", async () => {
    const answer = await portRequest({ port: tlsPort, path: '/findface/secure', body: events(11), tls: { ca: tlsFixture('ca.crt'), servername: 'localhost' } });
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.body, { accepted: 1 });
    await waitFor(() => receiver.deliveredIds.includes('11'), 10000, 'the event sent over TLS');
    await assert.rejects(portRequest({ port: tlsPort, path: '/findface/secure', body: events(12) }));
  });

  it('mutual TLS: refuses a client without a certificate, serves one with a certificate the CA signed', async () => {
    const trust = { ca: tlsFixture('ca.crt') };
    await assert.rejects(portRequest({ port: mutualPort, path: '/findface/mutual', body: events(21), tls: trust }));
    const answer = await portRequest({
      port: mutualPort,
      path: '/findface/mutual',
      body: events(22),
      tls: { ...trust, key: tlsFixture('client.key'), cert: tlsFixture('client.crt') },
    });
    assert.equal(answer.status, 200);
    await waitFor(() => receiver.deliveredIds.includes('22'), 10000, 'the event sent with a client certificate');
    await sleep(100);
    assert.equal(receiver.deliveredIds.includes('21'), false);
  });

  it('a port in use: an error the Catch node gets, Node-RED keeps running, the other ports serve', async () => {
    holder = net.createServer();
    await new Promise<void>((resolve) => holder!.listen(heldPort, '127.0.0.1', resolve));
    const mark = red.log.length;
    await deploy(flows([ownSource('blocked', heldPort)]));
    await waitFor(
      () => /source caught .*cannot listen on port \d+.*"source":"blocked"/.test(red.log.slice(mark)),
      10000,
      'the Catch node to get the port error',
    );
    assert.match(red.log.slice(mark), new RegExp(`cannot listen on port ${heldPort}: port ${heldPort} is in use by another program`));
    await waitFor(
      async () => (await portRequest({ port: plainPort, path: '/findface/events', body: events(31) }).catch(() => undefined))?.status === 200,
      10000,
      'the plain port',
    );
    assert.equal((await fetch(`${red.url}/flows`)).status, 200, 'Node-RED still answers');
    await new Promise<void>((resolve) => holder!.close(() => resolve()));
    holder = undefined;
    // Once the port is free, a deploy opens it.
    await deploy(flows([ownSource('blocked', heldPort)]));
    await waitFor(
      async () => (await portRequest({ port: heldPort, path: '/findface/blocked', body: events(32) }).catch(() => undefined))?.status === 200,
      10000,
      'the freed port',
    );
    await deploy(flows());
    await waitFor(async () => !(await accepting(heldPort)), 10000, 'the port closed with its node removed');
  });

  it(`${DEPLOYS} full deploys under load: every event answered 200 is delivered, and the port is free and reopened each time`, async () => {
    receiver.requests.length = 0;
    const loads = Array.from({ length: POSTERS }, (_, i) =>
      new EventLoad({
        url: () => `http://127.0.0.1:${plainPort}/findface/events`,
        firstId: 1_000_000 + i * 1_000_000,
        perPost: 2,
        intervalMs: 10,
        maxPosts: 20000,
      }).start(),
    );
    const started = performance.now();
    try {
      for (let i = 0; i < DEPLOYS; i++) {
        await sleep(Math.max(0, started + (i + 1) * 1000 - performance.now()));
        await deploy(flows());
      }
      await sleep(500);
    } finally {
      await Promise.all(loads.map((load) => load.stop()));
    }
    const seconds = (performance.now() - started) / 1000;
    const acked = loads.flatMap((load) => load.acked);
    const acknowledged = new Set(acked);
    await waitFor(
      () => receiver.deliveredIds.filter((id) => acknowledged.has(Number(id))).length >= acknowledged.size,
      30000,
      'every acknowledged event at the receiver',
    );
    const report = deliveryReport(receiver.deliveredIds, acked);
    const posts = loads.reduce((sum, load) => sum + load.posts, 0);
    const refused: Record<string, number> = {};
    for (const load of loads) for (const [status, n] of Object.entries(load.statusCounts())) if (status !== '200') refused[status] = (refused[status] ?? 0) + n;
    console.log(
      `      own port: ${DEPLOYS} full deploys in ${seconds.toFixed(1)} s, ${(posts / seconds).toFixed(0)} POST/s; ${acked.length} events answered 200, ` +
        `${report.unique} delivered, ${report.missing.length} answered 200 and lost; not taken (sent again by FindFace) ${JSON.stringify(refused)}`,
    );
    assert.ok(acked.length > DEPLOYS * 50, `only ${acked.length} events answered 200`);
    assert.deepEqual(report.missing, []);
    assert.deepEqual(
      red.errorLines().filter((line) => !/source caught|cannot listen/.test(line)),
      [],
    );
  });
});
