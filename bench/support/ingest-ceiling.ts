// The ceiling of anything served on RED.httpNode, measured in one Node-RED
// process beside the webhook-mode source: a bench-only node whose route
// answers 200 at once (bench/support/empty-route-node), the same answer from
// a middleware at the top of Node-RED's root express app (before Node-RED's
// own middleware: what a node could reach by answering there), a bare
// Node.js http server in a child process of its own, the core `http in` →
// `http response` flow of bench/ingest.ts, and the source itself;
// 1 seed event per POST (and 100 per POST for the bare server and the
// source), autocannon (10 connections) on 127.0.0.1, the targets interleaved
// over ROUNDS rounds, medians.
// bench/ingest.ts runs its bare server inside the bench process, where it
// shares one event loop with autocannon; the bare server here does not.
import autocannon from 'autocannon';
import fs from 'fs';
import path from 'path';
import { NodeRedProcess } from '../../test/support/node-red-process';
import { seedEvent } from '../../test/fixtures/events';
import { startBareServer } from './bare-server';
import { round } from './common';
import { WARN_LOGGING } from './quiet-log';
import { placed } from './flow-compat';

const DURATION_S = Number(process.env.BENCH_DURATION ?? 5);
/** Each target is loaded ROUNDS times, interleaved, for DURATION_S / ROUNDS s each; the median counts. */
const ROUNDS = 3;
const WARMUP_S = 1;
const CONNECTIONS = 10;

function load(url: string, body: string, duration = Math.max(1, Math.round(DURATION_S / ROUNDS))): Promise<number> {
  return new Promise((resolve, reject) => {
    autocannon({ url, method: 'POST', body, headers: { 'content-type': 'application/json' }, connections: CONNECTIONS, duration }, (error, result) => {
      if (error) return reject(error);
      if (result.non2xx > 0 || result.errors > 0) return reject(new Error(`${url}: ${result.non2xx} non-2xx, ${result.errors} errors`));
      resolve(result.requests.average);
    });
  });
}

/** Copies the bench-only node into `<userDir>/nodes/`, where Node-RED loads it at start. */
export function installEmptyRouteNode(userDir: string): void {
  const nodes = path.join(userDir, 'nodes');
  fs.mkdirSync(nodes, { recursive: true });
  for (const ext of ['js', 'html']) {
    fs.copyFileSync(path.join(__dirname, `empty-route-node.${ext}`), path.join(nodes, `bench-empty-route.${ext}`));
  }
}

export async function run() {
  const flows = [
    { id: 'tab', type: 'tab', label: 'bench' },
    { id: 'empty', type: 'bench-empty-route', z: 'tab', path: '/empty', early: false, wires: [] },
    { id: 'early', type: 'bench-empty-route', z: 'tab', path: '/early', early: true, wires: [] },
    { id: 'core-in', type: 'http in', z: 'tab', url: '/core/events', method: 'post', upload: false, wires: [['core-sink', 'core-out']] },
    { id: 'core-sink', type: 'junction', z: 'tab', wires: [] },
    { id: 'core-out', type: 'http response', z: 'tab', statusCode: '200', wires: [] },
    { id: 'source', type: 'findface-event-in', z: 'tab', mode: 'webhook', path: '/findface/events', maxBodyMb: 10, wires: [['sink']] },
    { id: 'sink', type: 'junction', z: 'tab', wires: [] },
  ];
  const nodeRed = await NodeRedProcess.create({ flows: placed(flows), settings: { logging: WARN_LOGGING } });
  installEmptyRouteNode(nodeRed.userDir);
  const bare = await startBareServer();
  const one = JSON.stringify([seedEvent]);
  const hundred = JSON.stringify(Array.from({ length: 100 }, (_, i) => ({ ...seedEvent, id: String(4173669353687265180n + BigInt(i)) })));
  try {
    await nodeRed.start();
    const oursUrl = `${nodeRed.url}/findface/events`;
    const targets = {
      bare: [bare.url, one],
      early: [`${nodeRed.url}/early`, one],
      empty: [`${nodeRed.url}/empty`, one],
      core: [`${nodeRed.url}/core/events`, one],
      ours: [oursUrl, one],
      bare100: [bare.url, hundred],
      ours100: [oursUrl, hundred],
    } as const;
    type Target = keyof typeof targets;
    const samples = Object.fromEntries(Object.keys(targets).map((name) => [name, [] as number[]])) as unknown as Record<Target, number[]>;
    for (const [url, body] of Object.values(targets)) await load(url, body, WARMUP_S);
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, [url, body]] of Object.entries(targets)) samples[name as Target].push(await load(url, body));
    }
    const median = (values: number[]) => values.slice().sort((a, b) => a - b)[Math.floor(values.length / 2)];
    const bareRps = median(samples.bare);
    const emptyRps = median(samples.empty);
    const earlyRps = median(samples.early);
    const coreRps = median(samples.core);
    const oursRps = median(samples.ours);
    const bare100Rps = median(samples.bare100);
    const ours100Rps = median(samples.ours100);
    if (nodeRed.errorLines().length) throw new Error(nodeRed.errorLines().join('\n'));
    return {
      bareChildProcessRequestsPerS: Math.round(bareRps),
      earlyMiddlewareRequestsPerS: Math.round(earlyRps),
      emptyHttpNodeRouteRequestsPerS: Math.round(emptyRps),
      coreFlowEventsPerS: Math.round(coreRps),
      oursEventsPerS: Math.round(oursRps),
      oursVsCore: round(oursRps / coreRps),
      earlyMiddlewareVsBare: round(earlyRps / bareRps),
      emptyRouteVsBare: round(emptyRps / bareRps),
      oursVsEmptyRoute: round(oursRps / emptyRps),
      oursVsBare: round(oursRps / bareRps),
      bareChildProcess100PerPostEventsPerS: Math.round(bare100Rps * 100),
      ours100PerPostEventsPerS: Math.round(ours100Rps * 100),
      ours100VsBare100: round(ours100Rps / bare100Rps),
    };
  } finally {
    await bare.close();
    await nodeRed.dispose();
  }
}

if (require.main === module) {
  run().then(
    (figures) => console.table(figures),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
