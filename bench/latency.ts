// Door-control latency: one face event at a time through a real Node-RED,
//   ours: findface-event-in (webhook) → findface-filter → findface-webhook
//         (batch 100, linger 0, durable queue) → receiver
//   port: the same, with the source on a port of its own (listen: "port")
//   core: http in (+ http response) → switch → http request → receiver
//   floor: the own-port source → a function node that POSTs the event with
//         Node's http (no queue, no retries, no axios): the least a sender
//         can add on this machine, in the same run
// and, as the baseline, the same POST sent directly to the receiver. The
// latency of an event is the time from the start of the POST to the source
// until the receiver (in this process, same clock) has the whole request
// body; the added latency is that minus the median of the direct POSTs.
// The paths are interleaved event by event (rotating order) so that a noisy
// neighbour hits them alike; a short pause between events keeps the machine
// otherwise idle. Bounded: WARMUP + EVENTS events per path, each within 5 s.
// Node-RED logs at its default level (`info`: the webhook node's FindFace log
// lines are written for every event); BENCH_LATENCY_LOG=warn to compare.
import http from 'http';
import os from 'os';
import net from 'net';
import { freePort, NodeRedProcess } from '../test/support/node-red-process';
import { seedEvent } from '../test/fixtures/events';
import { sleep } from '../test/support/wait';
import { percentile, post, round, within, runStandalone } from './support/common';
import { WARN_LOGGING } from './support/quiet-log';
import { placed } from './support/flow-compat';
import { webhookNode } from './support/webhook-node';

const EVENTS = Number(process.env.BENCH_LATENCY_EVENTS ?? 500);
const WARMUP = Math.min(100, Math.max(10, Math.round(EVENTS / 10)));
const GAP_MS = 5;
const EVENT_TIMEOUT_MS = 5000;
const LOG_LEVEL = process.env.BENCH_LATENCY_LOG === 'warn' ? 'warn' : 'info';

type Path = 'bare' | 'ours' | 'port' | 'core' | 'floor';
const PATHS: Path[] = ['bare', 'ours', 'port', 'core', 'floor'];

/** Receives POSTs on /bare, /ours, /port, /core, /floor; notes when each body is complete. */
class TimingReceiver {
  private server: http.Server;
  private waiting = new Map<string, (at: bigint) => void>();
  unexpected = 0;
  port = 0;

  constructor() {
    this.server = http.createServer((req, res) => {
      req.on('data', () => undefined);
      req.on('end', () => {
        const at = process.hrtime.bigint();
        const key = (req.url ?? '').split('?')[0];
        const resolve = this.waiting.get(key);
        if (resolve) {
          this.waiting.delete(key);
          resolve(at);
        } else {
          this.unexpected++;
        }
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.end();
      });
    });
    this.server.keepAliveTimeout = 30000;
  }

  listen(): Promise<void> {
    return new Promise((resolve) =>
      this.server.listen(0, '127.0.0.1', () => {
        this.port = (this.server.address() as net.AddressInfo).port;
        resolve();
      }),
    );
  }

  url(path: Path): string {
    return `http://127.0.0.1:${this.port}/${path}`;
  }

  /** Resolves with the time the next request on /<path> is complete. */
  next(path: Path): Promise<bigint> {
    return new Promise((resolve) => this.waiting.set(`/${path}`, resolve));
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

function ownPortSource(id: string, path: string, port: number) {
  return { id, type: 'findface-event-in', z: 'tab', name: '', mode: 'webhook', path, maxBodyMb: 10, listen: 'port', port, host: '127.0.0.1' };
}

export function flows(receiver: TimingReceiver, ownPort: number) {
  return [
    { id: 'tab', type: 'tab', label: 'latency' },
    { id: 'ours-in', type: 'findface-event-in', z: 'tab', name: '', mode: 'webhook', path: '/lat/ours', maxBodyMb: 10, wires: [['ours-filter']] },
    { id: 'ours-filter', type: 'findface-filter', z: 'tab', name: '', filters: '{"camera_in": [2]}', cameraGroups: '{}', outputs: 1, wires: [['ours-hook']] },
    webhookNode('ours-hook', receiver.url('ours'), { title: 'door' }),
    { ...ownPortSource('port-in', '/lat/port', ownPort), wires: [['port-filter']] },
    { id: 'port-filter', type: 'findface-filter', z: 'tab', name: '', filters: '{"camera_in": [2]}', cameraGroups: '{}', outputs: 1, wires: [['port-hook']] },
    webhookNode('port-hook', receiver.url('port'), { title: 'door on its own port' }),
    { ...ownPortSource('floor-in', '/lat/floor', ownPort), wires: [['floor-post']] },
    {
      id: 'floor-post',
      type: 'function',
      z: 'tab',
      name: 'POST with http',
      outputs: 1,
      libs: [{ var: 'http', module: 'http' }],
      func: [
        "let agent = context.get('agent');",
        "if (!agent) { agent = new http.Agent({ keepAlive: true, maxSockets: 1 }); context.set('agent', agent); }",
        'const body = JSON.stringify([msg.payload]);',
        `const request = http.request(${JSON.stringify(receiver.url('floor'))}, { method: 'POST', agent, headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) } }, (res) => res.resume());`,
        'request.on("error", (error) => node.error(error, msg));',
        'request.end(body);',
        'return null;',
      ].join('\n'),
      wires: [[]],
    },
    {
      id: 'core-in',
      type: 'http in',
      z: 'tab',
      name: '',
      url: '/lat/core',
      method: 'post',
      upload: false,
      swaggerDoc: '',
      wires: [['core-answer', 'core-switch']],
    },
    { id: 'core-answer', type: 'http response', z: 'tab', name: '', statusCode: '200', headers: {}, wires: [] },
    {
      id: 'core-switch',
      type: 'switch',
      z: 'tab',
      name: '',
      property: 'payload.camera',
      propertyType: 'msg',
      rules: [{ t: 'eq', v: '2', vt: 'num' }],
      checkall: 'true',
      repair: false,
      outputs: 1,
      wires: [['core-request']],
    },
    {
      id: 'core-request',
      type: 'http request',
      z: 'tab',
      name: '',
      method: 'POST',
      ret: 'txt',
      paytoqs: 'ignore',
      url: receiver.url('core'),
      tls: '',
      persist: true,
      proxy: '',
      insecureHTTPParser: false,
      authType: '',
      senderr: false,
      headers: [],
      wires: [[]],
    },
  ];
}

export interface LatencyOptions {
  /** Extra Node.js options for the Node-RED process (e.g. --cpu-prof). */
  execArgv?: string[];
}

export async function run(options: LatencyOptions = {}) {
  const receiver = new TimingReceiver();
  await receiver.listen();
  const ownPort = await freePort();
  const red = await NodeRedProcess.create({
    flows: placed(flows(receiver, ownPort)),
    // The floor's function node takes Node's http through `libs`.
    settings: { functionExternalModules: true, ...(LOG_LEVEL === 'warn' ? { logging: WARN_LOGGING } : {}) },
    execArgv: options.execArgv,
  });
  const agents = Object.fromEntries(PATHS.map((p) => [p, new http.Agent({ keepAlive: true, maxSockets: 1 })])) as Record<Path, http.Agent>;
  const targets: Record<Path, string> = {
    bare: receiver.url('bare'),
    ours: `${red.url}/lat/ours`,
    port: `http://127.0.0.1:${ownPort}/lat/port`,
    core: `${red.url}/lat/core`,
    floor: `http://127.0.0.1:${ownPort}/lat/floor`,
  };
  const samples: Record<Path, number[]> = { bare: [], ours: [], port: [], core: [], floor: [] };
  let sequence = 0;

  /** One event through `path`: ms from the start of the POST until the receiver has it. */
  const once = async (path: Path): Promise<number> => {
    const id = String(5173669353687265180n + BigInt(sequence++));
    const event = { ...seedEvent, id };
    // FindFace posts an array; the core flow's switch reads msg.payload.camera, so it is given the object.
    const body = JSON.stringify(path === 'core' ? event : [event]);
    const arrived = receiver.next(path);
    const started = process.hrtime.bigint();
    const [at, answer] = await within(Promise.all([arrived, post(agents[path], targets[path], body)]), EVENT_TIMEOUT_MS, `event ${id} via ${path}`);
    if (answer.status !== 200) throw new Error(`${path}: POST answered ${answer.status} ${answer.body}`);
    return Number(at - started) / 1e6;
  };

  try {
    await red.start();
    await sleep(1000); // let start-up settle (and mark its end in a profile: the first idle second)
    for (let i = 0; i < WARMUP + EVENTS; i++) {
      for (let k = 0; k < PATHS.length; k++) {
        const path = PATHS[(i + k) % PATHS.length];
        const ms = await once(path);
        if (i >= WARMUP) samples[path].push(ms);
        await sleep(GAP_MS);
      }
    }
    if (red.errorLines().length) throw new Error(red.errorLines().slice(0, 5).join('\n'));
    if (receiver.unexpected) throw new Error(`${receiver.unexpected} unexpected requests at the receiver (duplicates?)`);
    const bareP50 = percentile(samples.bare, 50);
    const added = (path: Path, p: number) => round(percentile(samples[path], p) - bareP50, 3);
    return {
      events: EVENTS,
      logLevel: LOG_LEVEL,
      // The machine is meant to be otherwise idle: the 1-minute load average when the events had been sent.
      loadAverage1m: round(os.loadavg()[0], 2),
      bareP50Ms: round(bareP50, 3),
      bareP99Ms: round(percentile(samples.bare, 99), 3),
      oursP50Ms: round(percentile(samples.ours, 50), 3),
      oursP99Ms: round(percentile(samples.ours, 99), 3),
      coreP50Ms: round(percentile(samples.core, 50), 3),
      coreP99Ms: round(percentile(samples.core, 99), 3),
      oursAddedP50Ms: added('ours', 50),
      oursAddedP99Ms: added('ours', 99),
      oursAddedMaxMs: added('ours', 100),
      ownPortP50Ms: round(percentile(samples.port, 50), 3),
      ownPortP99Ms: round(percentile(samples.port, 99), 3),
      ownPortAddedP50Ms: added('port', 50),
      ownPortAddedP99Ms: added('port', 99),
      ownPortAddedMaxMs: added('port', 100),
      coreAddedP50Ms: added('core', 50),
      coreAddedP99Ms: added('core', 99),
      coreAddedMaxMs: added('core', 100),
      floorAddedP50Ms: added('floor', 50),
      floorAddedP99Ms: added('floor', 99),
      oursVsCoreAddedP99: round(added('ours', 99) / added('core', 99)),
    };
  } finally {
    for (const agent of Object.values(agents)) agent.destroy();
    await red.dispose();
    await receiver.close();
  }
}

runStandalone(module, run);
