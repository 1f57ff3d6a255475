// Ingest on the source's own port (`listen: "port"`, issue 15), in one run:
// events/s accepted by findface-event-in on a port of its own, against the
// core `http in` → `http response` flow and the same source on RED.httpNode
// (both in the same Node-RED process) and a bare Node.js http server in a
// child process of its own; 1 seed event per POST, and 100 per POST for the
// own port and the bare server. Over TLS: the own port with a tls-config
// node (the test certificates) against the core flow in a second Node-RED
// whose own `https` setting serves the same certificate. autocannon (10
// connections, keep-alive) on 127.0.0.1, the targets interleaved over ROUNDS
// rounds of ROUND_S seconds, medians (on a shared two-core machine a round of
// the same target swings by a third from one to the next). Bounded: 1 s
// warm-up + ROUNDS × ROUND_S per target.
import autocannon from 'autocannon';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { freePort, NodeRedProcess } from '../test/support/node-red-process';
import { seedEvent } from '../test/fixtures/events';
import { startBareServer } from './support/bare-server';
import { round, runStandalone } from './support/common';
import { WARN_LOGGING } from './support/quiet-log';
import { placed } from './support/flow-compat';

const ROUND_S = Math.max(1, Number(process.env.BENCH_ROUND_S ?? 2));
const ROUNDS = 5;
const WARMUP_S = 1;
const CONNECTIONS = 10;
const TLS_DIR = path.join(__dirname, '..', 'test', 'fixtures', 'tls');

function load(url: string, body: string, duration = ROUND_S): Promise<number> {
  return new Promise((resolve, reject) => {
    autocannon({ url, method: 'POST', body, headers: { 'content-type': 'application/json' }, connections: CONNECTIONS, duration }, (error, result) => {
      if (error) return reject(error);
      if (result.non2xx > 0 || result.errors > 0) return reject(new Error(`${url}: ${result.non2xx} non-2xx, ${result.errors} errors`));
      resolve(result.requests.average);
    });
  });
}

export function ownPortFlows(port: number, tlsPort: number) {
  const source = (id: string, extra: Record<string, unknown>) => ({
    id,
    type: 'findface-event-in',
    z: 'tab',
    name: '',
    mode: 'webhook',
    path: '/findface/events',
    maxBodyMb: 10,
    wires: [[`${id}-sink`]],
    ...extra,
  });
  const sink = (id: string) => ({ id: `${id}-sink`, type: 'junction', z: 'tab', wires: [] });
  return [
    { id: 'tab', type: 'tab', label: 'bench' },
    { id: 'core-in', type: 'http in', z: 'tab', url: '/core/events', method: 'post', upload: false, wires: [['core-sink', 'core-out']] },
    { id: 'core-sink', type: 'junction', z: 'tab', wires: [] },
    { id: 'core-out', type: 'http response', z: 'tab', statusCode: '200', wires: [] },
    source('on-httpnode', {}),
    sink('on-httpnode'),
    source('on-port', { listen: 'port', port, host: '127.0.0.1' }),
    sink('on-port'),
    source('on-tls-port', { listen: 'port', port: tlsPort, host: '127.0.0.1', tls: 'bench-tls' }),
    sink('on-tls-port'),
    {
      id: 'bench-tls',
      type: 'tls-config',
      name: 'bench certificate',
      cert: path.join(TLS_DIR, 'server.crt'),
      key: path.join(TLS_DIR, 'server.key'),
      ca: '',
      verifyservercert: false,
    },
  ];
}

const CORE_ONLY = [
  { id: 'tab', type: 'tab', label: 'bench' },
  { id: 'core-in', type: 'http in', z: 'tab', url: '/core/events', method: 'post', upload: false, wires: [['core-sink', 'core-out']] },
  { id: 'core-sink', type: 'junction', z: 'tab', wires: [] },
  { id: 'core-out', type: 'http response', z: 'tab', statusCode: '200', wires: [] },
];

export async function run() {
  const [port, tlsPort] = [await freePort(), await freePort()];
  const nodeRed = await NodeRedProcess.create({ flows: placed(ownPortFlows(port, tlsPort)), settings: { logging: WARN_LOGGING } });
  // Node-RED serving its editor and HTTP nodes over HTTPS (settings.js `https`), the core flow on it.
  const httpsRed = await NodeRedProcess.create({
    flows: placed(CORE_ONLY),
    settings: { https: { key: fs.readFileSync(path.join(TLS_DIR, 'server.key'), 'utf8'), cert: fs.readFileSync(path.join(TLS_DIR, 'server.crt'), 'utf8') } },
  });
  const bare = await startBareServer();
  const one = JSON.stringify([seedEvent]);
  const hundred = JSON.stringify(Array.from({ length: 100 }, (_, i) => ({ ...seedEvent, id: String(4173669353687265180n + BigInt(i)) })));
  try {
    await nodeRed.start();
    await httpsRed.start();
    const portUrl = `http://127.0.0.1:${port}/findface/events`;
    const targets = {
      bare: [bare.url, one],
      core: [`${nodeRed.url}/core/events`, one],
      httpNode: [`${nodeRed.url}/findface/events`, one],
      port: [portUrl, one],
      bare100: [bare.url, hundred],
      port100: [portUrl, hundred],
      tlsPort: [`https://127.0.0.1:${tlsPort}/findface/events`, one],
      coreTls: [`https://127.0.0.1:${httpsRed.port}/core/events`, one],
    } as const;
    type Target = keyof typeof targets;
    const samples = Object.fromEntries(Object.keys(targets).map((name) => [name, [] as number[]])) as unknown as Record<Target, number[]>;
    for (const [url, body] of Object.values(targets)) await load(url, body, WARMUP_S);
    for (let r = 0; r < ROUNDS; r++) {
      for (const [name, [url, body]] of Object.entries(targets)) samples[name as Target].push(await load(url, body));
    }
    const median = (values: number[]) => values.slice().sort((a, b) => a - b)[Math.floor(values.length / 2)];
    const rps = Object.fromEntries(Object.entries(samples).map(([name, values]) => [name, median(values)])) as Record<Target, number>;
    const errors = [...nodeRed.errorLines(), ...httpsRed.errorLines()];
    if (errors.length) throw new Error(errors.join('\n'));
    return {
      loadAverage1m: round(os.loadavg()[0], 2),
      bareChildProcessRequestsPerS: Math.round(rps.bare),
      coreFlowEventsPerS: Math.round(rps.core),
      httpNodeEventsPerS: Math.round(rps.httpNode),
      ownPortEventsPerS: Math.round(rps.port),
      ownPortVsCore: round(rps.port / rps.core),
      ownPortVsBare: round(rps.port / rps.bare),
      ownPortVsHttpNode: round(rps.port / rps.httpNode),
      bareChildProcess100PerPostEventsPerS: Math.round(rps.bare100 * 100),
      ownPort100PerPostEventsPerS: Math.round(rps.port100 * 100),
      ownPortTlsEventsPerS: Math.round(rps.tlsPort),
      coreFlowOverNodeRedTlsEventsPerS: Math.round(rps.coreTls),
      ownPortTlsVsCoreTls: round(rps.tlsPort / rps.coreTls),
    };
  } finally {
    await bare.close();
    await nodeRed.dispose();
    await httpsRed.dispose();
  }
}

runStandalone(module, run);
