// Ingest: events/s accepted by the webhook-mode source, against a core
// `http in` → `http response` flow in the same Node-RED process and against
// a bare Node.js http server answering 200 (the machine's ceiling), all with
// autocannon on 127.0.0.1 in one run.
import { runStandalone } from './support/common';
import autocannon from 'autocannon';
import http from 'http';
import net from 'net';
import { NodeRedProcess } from '../test/support/node-red-process';
import { seedEvent } from '../test/fixtures/events';

const DURATION_S = Number(process.env.BENCH_DURATION ?? 5);
const CONNECTIONS = 10;

function load(url: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    autocannon(
      { url, method: 'POST', body, headers: { 'content-type': 'application/json' }, connections: CONNECTIONS, duration: DURATION_S },
      (error, result) => {
        if (error) return reject(error);
        if (result.non2xx > 0 || result.errors > 0) return reject(new Error(`${url}: ${result.non2xx} non-2xx, ${result.errors} errors`));
        resolve(result.requests.average);
      },
    );
  });
}

function bareServer(): Promise<{ url: string; close: () => void }> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end());
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      resolve({ url: `http://127.0.0.1:${port}/`, close: () => server.close() });
    }),
  );
}

export async function run() {
  const flows = [
    { id: 'tab', type: 'tab', label: 'bench' },
    { id: 'source', type: 'findface-event-in', z: 'tab', mode: 'webhook', path: '/findface/events', maxBodyMb: 10, wires: [['sink']] },
    { id: 'sink', type: 'junction', z: 'tab', wires: [] },
    { id: 'core-in', type: 'http in', z: 'tab', url: '/core/events', method: 'post', upload: false, wires: [['core-sink', 'core-out']] },
    { id: 'core-sink', type: 'junction', z: 'tab', wires: [] },
    { id: 'core-out', type: 'http response', z: 'tab', statusCode: '200', wires: [] },
  ];
  const nodeRed = await NodeRedProcess.create({ flows });
  await nodeRed.start();
  const bare = await bareServer();
  const one = JSON.stringify([seedEvent]);
  const hundred = JSON.stringify(Array.from({ length: 100 }, (_, i) => ({ ...seedEvent, id: String(4173669353687265180n + BigInt(i)) })));
  try {
    const bareRps = await load(bare.url, one);
    const coreRps = await load(`${nodeRed.url}/core/events`, one);
    const oursRps = await load(`${nodeRed.url}/findface/events`, one);
    const ours100Rps = await load(`${nodeRed.url}/findface/events`, hundred);
    const figures = {
      bareServerRequestsPerS: Math.round(bareRps),
      coreFlowEventsPerS: Math.round(coreRps),
      oursEventsPerS: Math.round(oursRps),
      oursVsCore: +(oursRps / coreRps).toFixed(2),
      oursVsBare: +(oursRps / bareRps).toFixed(2),
      ours100PerPostEventsPerS: Math.round(ours100Rps * 100),
    };
    if (nodeRed.errorLines().length) throw new Error(nodeRed.errorLines().join('\n'));
    return figures;
  } finally {
    bare.close();
    await nodeRed.dispose();
  }
}

runStandalone(module, run);
