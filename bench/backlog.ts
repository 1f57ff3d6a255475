// Backlog through the findface-webhook node in a real Node-RED: the receiver
// is down (its port closed) while BACKLOG events (1,000,000 by default) come
// in through the webhook-mode source, POSTed in batches of 100 (two requests
// in flight), and go into the webhook node's durable queue (batch 100,
// retrying forever, backoff capped at 1 s so the drain starts within a
// second of the receiver's return). Then the receiver comes up and the queue
// drains. Measured: the Node-RED process's RSS (before, peak, after: /proc;
// V8 heap after a full GC, to show the backlog is on disk, not in memory),
// the queue's disk use, the intake and drain rates, and every event id
// checked off at the receiver (none lost; duplicates counted: at-least-once
// allows them). Node-RED logs at `warn` (the node's `info` line per queued
// event would be a million lines; bench/sender.ts measures what they cost).
// Baselines, same run: the RSS growth of a core flow (http in → http
// response, in a Node-RED of its own) taking the same POSTs and keeping
// nothing; the drain rate of a plain Node.js http client, in a process of its
// own, posting the same batches one at a time to the same kind of receiver.
// BENCH_BACKLOG=<n> to change the size. Bounded: intake and drain each have
// a time limit scaled to the size.
import { spawn } from 'child_process';
import fs from 'fs';
import http from 'http';
import path from 'path';
import { NodeRedProcess, freePort } from '../test/support/node-red-process';
import { sleep, waitFor } from '../test/support/wait';
import { seedEvent } from '../test/fixtures/events';
import { dirBytes, mb, post, processMemory, round, seconds, within, runStandalone } from './support/common';
import { WARN_LOGGING } from './support/quiet-log';
import { placed } from './support/flow-compat';
import { webhookNode } from './support/webhook-node';
import { queueDirFor } from '../nodes/lib/delivery/queue/queue-dir';

const BACKLOG = Number(process.env.BENCH_BACKLOG ?? 1_000_000);
const PER_POST = 100;
const IN_FLIGHT = 2;
/** Limits: generous for this 2-core machine (about 5 × the expected time), never unbounded. */
const INTAKE_LIMIT_S = Math.max(60, BACKLOG / 4000);
const DRAIN_LIMIT_S = Math.max(60, BACKLOG / 5000);
const SAMPLE_MS = 100;
const ID_PREFIX = 'bl-';
/** Events the plain-client drain baseline posts (its rate is steady after a few thousand). */
const PLAIN_DRAIN_EVENTS = 200_000;

/**
 * Counts delivered events by id (`bl-<n>`, n < size) without parsing the
 * JSON: the ids are the only strings starting with the prefix.
 */
class CountingReceiver {
  private server: http.Server | undefined;
  private readonly seen: Uint8Array;
  distinct = 0;
  duplicates = 0;
  foreign = 0;
  requests = 0;
  firstAt: bigint | undefined;
  lastAt: bigint | undefined;

  constructor(
    readonly port: number,
    size: number,
  ) {
    this.seen = new Uint8Array(size);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/`;
  }

  listen(): Promise<void> {
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        this.count(Buffer.concat(chunks).toString('latin1'));
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.end();
      });
    });
    server.keepAliveTimeout = 30000;
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
  }

  private count(text: string): void {
    const now = process.hrtime.bigint();
    this.firstAt ??= now;
    this.requests++;
    const marker = `"id":"${ID_PREFIX}`;
    for (let at = text.indexOf(marker); at >= 0; at = text.indexOf(marker, at + marker.length)) {
      let n = 0;
      let i = at + marker.length;
      for (let c = text.charCodeAt(i); c >= 48 && c <= 57; c = text.charCodeAt(++i)) n = n * 10 + (c - 48);
      if (i === at + marker.length || n >= this.seen.length) {
        this.foreign++;
      } else if (this.seen[n]) {
        this.duplicates++;
      } else {
        this.seen[n] = 1;
        this.distinct++;
      }
    }
    if (this.distinct === this.seen.length) this.lastAt ??= now;
  }

  close(): Promise<void> {
    const server = this.server;
    if (!server) return Promise.resolve();
    server.closeAllConnections();
    return new Promise((resolve) => server.close(() => resolve()));
  }
}

function flows(receiverUrl: string) {
  return [
    { id: 'tab', type: 'tab', label: 'backlog' },
    { id: 'bl-in', type: 'findface-event-in', z: 'tab', name: '', mode: 'webhook', path: '/bl/events', maxBodyMb: 10, wires: [['bl-hook']] },
    webhookNode('bl-hook', receiverUrl, {
      title: 'backlog',
      backoffMax: 1,
      maxAttempts: 0,
      queueMaxEvents: Math.max(1_000_000, BACKLOG * 2),
      queueMaxMb: 4096,
    }),
    // The node's status (redrawn at most every 500 ms) says how many events are queued; kept for GET /bl/depth.
    { id: 'bl-status', type: 'status', z: 'tab', name: '', scope: ['bl-hook'], wires: [['bl-keep']] },
    {
      id: 'bl-keep',
      type: 'function',
      z: 'tab',
      name: '',
      func: "global.set('blStatus', msg.status.text); return null;",
      outputs: 1,
      timeout: 0,
      noerr: 0,
      initialize: '',
      finalize: '',
      libs: [],
      wires: [[]],
    },
    { id: 'bl-depth', type: 'http in', z: 'tab', name: '', url: '/bl/depth', method: 'get', upload: false, swaggerDoc: '', wires: [['bl-read']] },
    {
      id: 'bl-read',
      type: 'function',
      z: 'tab',
      name: '',
      func: "msg.payload = String(global.get('blStatus') || ''); return msg;",
      outputs: 1,
      timeout: 0,
      noerr: 0,
      initialize: '',
      finalize: '',
      libs: [],
      wires: [['bl-answer']],
    },
    { id: 'bl-answer', type: 'http response', z: 'tab', name: '', statusCode: '200', headers: {}, wires: [] },
    // process.memoryUsage() of Node-RED (after a full GC with ?gc=1), for telling the V8 heap from the rest of the RSS.
    { id: 'bl-mem', type: 'http in', z: 'tab', name: '', url: '/bl/memory', method: 'get', upload: false, swaggerDoc: '', wires: [['bl-mem-read']] },
    {
      id: 'bl-mem-read',
      type: 'function',
      z: 'tab',
      name: '',
      func: "msg.payload = global.get('benchMemory')(msg.req.query.gc === '1'); return msg;",
      outputs: 1,
      timeout: 0,
      noerr: 0,
      initialize: '',
      finalize: '',
      libs: [],
      wires: [['bl-answer']],
    },
  ];
}

/** Exposes process.memoryUsage() (and a full GC where --expose-gc allows) to function nodes as global `benchMemory`. */
function exposeMemory(userDir: string): void {
  fs.appendFileSync(
    path.join(userDir, 'settings.js'),
    `module.exports.functionGlobalContext = Object.assign(module.exports.functionGlobalContext || {}, {
  benchMemory: function (collect) { if (collect && typeof global.gc === 'function') global.gc(); return process.memoryUsage(); },
});
`,
  );
}

interface Memory {
  rss: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

async function memory(red: NodeRedProcess, collect: boolean): Promise<Memory> {
  const answer = await fetch(`${red.url}/bl/memory${collect ? '?gc=1' : ''}`);
  return (await answer.json()) as Memory;
}

const heapMb = (m: Memory) => ({ heapUsedMb: mb(m.heapUsed), heapTotalMb: mb(m.heapTotal), externalMb: mb(m.external), rssMb: mb(m.rss) });

/** The largest resident mappings of a process (diagnostics: BENCH_BACKLOG_SMAPS=1). */
function rssByMapping(pid: number, top = 12): string {
  const text = fs.readFileSync(`/proc/${pid}/smaps`, 'utf8');
  const sums = new Map<string, { rss: number; count: number }>();
  let name = '';
  for (const line of text.split('\n')) {
    const header = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (header) {
      name = header[1] || '[anon]';
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) {
      const entry = sums.get(name) ?? { rss: 0, count: 0 };
      entry.rss += Number(rss[1]) * 1024;
      entry.count++;
      sums.set(name, entry);
    }
  }
  return [...sums]
    .sort((a, b) => b[1].rss - a[1].rss)
    .slice(0, top)
    .map(([mapping, { rss, count }]) => `  ${String(mb(rss)).padStart(8)} MB  ${count} × ${mapping}`)
    .join('\n');
}

/** The queue depth from the node's status text ("… 1234 queued …"), or -1. */
async function queued(red: NodeRedProcess): Promise<number> {
  const answer = await fetch(`${red.url}/bl/depth`);
  const text = await answer.text();
  const match = /(\d+) queued/.exec(text);
  return match ? Number(match[1]) : -1;
}

export interface BacklogOptions {
  execArgv?: string[];
}

const [HEAD, TAIL] = JSON.stringify({ ...seedEvent, id: `${ID_PREFIX}@@` }).split(`${ID_PREFIX}@@`);

/** The JSON array of events first .. first+PER_POST-1 (below `total`), as FindFace would POST them. */
function bodyFor(first: number, total: number): string {
  let body = '[';
  for (let n = first; n < Math.min(first + PER_POST, total); n++) body += `${n === first ? '' : ','}${HEAD}${ID_PREFIX}${n}${TAIL}`;
  return `${body}]`;
}

/** POSTs `total` events in batches of PER_POST, IN_FLIGHT requests at a time; every answer must be 200. */
async function postAll(url: string, total: number, deadline: number): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: IN_FLIGHT });
  let nextFirst = 0;
  const worker = async () => {
    while (nextFirst < total) {
      if (Date.now() > deadline) throw new Error(`intake: not done in time (${nextFirst} of ${total} events posted)`);
      const first = nextFirst;
      nextFirst += PER_POST;
      const answer = await post(agent, url, bodyFor(first, total));
      if (answer.status !== 200) throw new Error(`intake: POST answered ${answer.status} ${answer.body.slice(0, 200)}`);
    }
  };
  try {
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  } finally {
    agent.destroy();
  }
}

/** Samples a process's RSS every SAMPLE_MS; `peak()` also reads the kernel's high-water mark. */
function rssSampler(pid: number) {
  const start = processMemory(pid);
  if (!start) throw new Error('cannot read /proc/<pid>/status of Node-RED');
  let peak = start.rss;
  const timer = setInterval(() => {
    const now = processMemory(pid);
    if (now) peak = Math.max(peak, now.rss);
  }, SAMPLE_MS);
  return {
    start: start.rss,
    peak: () => Math.max(peak, processMemory(pid)?.peak ?? 0),
    stop: () => clearInterval(timer),
  };
}

/**
 * Baseline for the RSS growth: the same POSTs into a core flow (http in →
 * http response) that keeps nothing, in a Node-RED process of its own. What
 * it grows by is the cost of taking the requests at that rate, not of a backlog.
 */
async function coreIntakeRssGrowth(events: number, execArgv: string[]): Promise<{ growthMb: number; eventsPerS: number }> {
  const flows = [
    { id: 'tab', type: 'tab', label: 'baseline' },
    { id: 'core-in', type: 'http in', z: 'tab', name: '', url: '/core/events', method: 'post', upload: false, swaggerDoc: '', wires: [['core-out']] },
    { id: 'core-out', type: 'http response', z: 'tab', name: '', statusCode: '200', headers: {}, wires: [] },
  ];
  const red = await NodeRedProcess.create({ flows: placed(flows), settings: { logging: WARN_LOGGING, apiMaxLength: '10mb' }, execArgv });
  try {
    await red.start();
    await sleep(1000);
    const sampler = rssSampler(red.pid!);
    const started = process.hrtime.bigint();
    try {
      await postAll(`${red.url}/core/events`, events, Date.now() + INTAKE_LIMIT_S * 1000);
    } finally {
      sampler.stop();
    }
    return { growthMb: mb(sampler.peak() - sampler.start), eventsPerS: Math.round(events / seconds(started)) };
  } finally {
    await red.dispose();
  }
}

const PLAIN_CLIENT = `
const http = require('http');
const [url, total, per, head, tail, prefix] = [process.env.URL, +process.env.TOTAL, +process.env.PER, process.env.HEAD, process.env.TAIL, process.env.PREFIX];
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const send = (body) => new Promise((resolve, reject) => {
  const req = http.request(url, { method: 'POST', agent, headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) } }, (res) => {
    res.resume(); res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error('status ' + res.statusCode))));
  });
  req.on('error', reject); req.end(body);
});
(async () => {
  for (let first = 0; first < total; first += per) {
    let body = '[';
    for (let n = first; n < Math.min(first + per, total); n++) body += (n === first ? '' : ',') + head + prefix + n + tail;
    await send(body + ']');
  }
  agent.destroy();
})().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
`;

/**
 * Baseline for the drain: a plain Node.js http client in a process of its
 * own posting the same batches of 100, one request in flight, to the same
 * kind of counting receiver; events/s from its first to its last request.
 */
async function plainClientDrain(events: number): Promise<number> {
  const receiver = new CountingReceiver(await freePort(), events);
  await receiver.listen();
  try {
    const child = spawn(process.execPath, ['-e', PLAIN_CLIENT], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, URL: receiver.url, TOTAL: String(events), PER: String(PER_POST), HEAD, TAIL, PREFIX: ID_PREFIX },
    });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await within(new Promise<number | null>((resolve) => child.once('exit', resolve)), DRAIN_LIMIT_S * 1000, 'plain client drain').catch(
      (error) => {
        child.kill('SIGKILL');
        throw error;
      },
    );
    if (code !== 0 || receiver.lastAt === undefined) throw new Error(`plain client: exit ${code}, ${receiver.distinct} of ${events} delivered ${stderr}`);
    return Math.round(events / (Number(receiver.lastAt - receiver.firstAt!) / 1e9));
  } finally {
    await receiver.close();
  }
}

export async function run(options: BacklogOptions = {}) {
  const coreBaseline = await coreIntakeRssGrowth(BACKLOG, options.execArgv ?? []);
  const receiver = new CountingReceiver(await freePort(), BACKLOG);
  // --expose-gc only lets the bench ask for a full GC at its measuring points (after the peak is taken).
  const execArgv = [...(options.execArgv ?? []), '--expose-gc'];
  const red = await NodeRedProcess.create({ flows: placed(flows(receiver.url)), settings: { logging: WARN_LOGGING }, execArgv });
  exposeMemory(red.userDir);
  const queueDir = queueDirFor(red.userDir, 'bl-hook');
  let sampler: ReturnType<typeof rssSampler> | undefined;
  try {
    await red.start();
    const pid = red.pid!;
    await sleep(1000);
    const heapBefore = await memory(red, true);
    await sleep(200);
    sampler = rssSampler(pid);
    const before = { rss: sampler.start };

    // ---- intake, receiver down ------------------------------------------------------------------
    const intakeStarted = process.hrtime.bigint();
    const intakeDeadline = Date.now() + INTAKE_LIMIT_S * 1000;
    await postAll(`${red.url}/bl/events`, BACKLOG, intakeDeadline);
    const postedS = seconds(intakeStarted);
    await waitFor(async () => (await queued(red)) >= BACKLOG, Math.max(5000, intakeDeadline - Date.now()), `${BACKLOG} events queued`);
    const intakeS = seconds(intakeStarted);
    const depth = await queued(red);
    const intakePeakRss = sampler.peak();
    await sleep(1000);
    const afterIntake = processMemory(pid)!;
    const diskAfterIntake = dirBytes(queueDir);
    // The backlog is on disk, not in memory: what the heap holds once garbage is collected.
    const heapQueued = await memory(red, true);
    if (process.env.BENCH_BACKLOG_SMAPS) console.log(`[backlog] RSS by mapping with ${BACKLOG} queued:\n${rssByMapping(pid)}`);

    // ---- drain, receiver up ---------------------------------------------------------------------
    const upAt = process.hrtime.bigint();
    await receiver.listen();
    await waitFor(() => receiver.lastAt !== undefined, DRAIN_LIMIT_S * 1000, `${BACKLOG} events delivered (${receiver.distinct} so far)`).catch(
      (error: Error) => {
        throw new Error(`${error.message}; ${receiver.distinct} distinct delivered`);
      },
    );
    const drainS = Number(receiver.lastAt! - receiver.firstAt!) / 1e9;
    const drainFromUpS = Number(receiver.lastAt! - upAt) / 1e9;
    await waitFor(async () => (await queued(red)) === 0, 10000, 'the queue to be empty').catch(() => undefined);
    await sleep(500);
    const peak = sampler.peak();
    sampler.stop();
    sampler = undefined;
    const end = processMemory(pid)!;
    const heapDrained = await memory(red, true);
    const diskAfterDrain = dirBytes(queueDir);
    const errors = red.errorLines();
    if (errors.length) throw new Error(errors.slice(0, 5).join('\n'));
    await red.dispose();
    await receiver.close();
    const plainDrain = await plainClientDrain(Math.min(BACKLOG, PLAIN_DRAIN_EVENTS));
    return {
      events: BACKLOG,
      eventBytes: Buffer.byteLength(`${HEAD}${ID_PREFIX}${BACKLOG - 1}${TAIL}`) + 1,
      logLevel: 'warn',
      intakePostedS: round(postedS, 1),
      intakeQueuedS: round(intakeS, 1),
      intakeEventsPerS: Math.round(BACKLOG / intakeS),
      queuedDepth: depth,
      rssBeforeMb: mb(before.rss),
      peakRssDuringIntakeMb: mb(intakePeakRss),
      rssAfterIntakeMb: mb(afterIntake.rss),
      peakRssMb: mb(peak),
      rssGrowthMb: mb(peak - before.rss),
      coreFlowSameIntakeRssGrowthMb: coreBaseline.growthMb,
      coreFlowSameIntakeEventsPerS: coreBaseline.eventsPerS,
      diskAfterIntakeMb: mb(diskAfterIntake),
      drainS: round(drainS, 1),
      drainEventsPerS: Math.round(BACKLOG / drainS),
      drainFromReceiverUpEventsPerS: Math.round(BACKLOG / drainFromUpS),
      plainClientDrainEventsPerS: plainDrain,
      delivered: receiver.distinct,
      lost: BACKLOG - receiver.distinct,
      duplicates: receiver.duplicates,
      foreign: receiver.foreign,
      requests: receiver.requests,
      rssAfterDrainMb: mb(end.rss),
      heapBefore: heapMb(heapBefore),
      heapQueuedAfterGc: heapMb(heapQueued),
      heapAfterDrainAfterGc: heapMb(heapDrained),
      diskAfterDrainMb: mb(diskAfterDrain),
    };
  } finally {
    sampler?.stop();
    await red.dispose();
    await receiver.close();
  }
}

runStandalone(module, run);
