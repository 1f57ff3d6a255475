// `npm run bench`: every benchmark of the package in one run, each figure
// against its baseline measured in the same run (the machine is shared and
// noisy: the ratios are what matter), a table (baseline, ours, ratio, target,
// met?) on stdout, and the same as JSON in bench/results/latest.json (plus a
// README-ready bench/results/latest.md).
//
//   node bench/run.js [section ...] [--profile]
//
// Sections (all by default, in this order): ingest, ceiling, own-port, filter, sender,
// harness, inflight, redis, latency, backlog, door, door-latency, door-load; `queue` (the durable queue alone, bench/queue.ts)
// only when named. --profile runs every Node-RED process under `node --cpu-prof`
// (profiles and a summary of the hottest functions in bench/results/profiles/
// <section>/; the figures of a profiled run are slower and not comparable).
// Bounded: each section has a time limit, cut to what is left of the whole
// run's BENCH_BUDGET_S (default 560 s); a section with less than 30 s left is
// skipped. A section that fails or times out is reported (and the Node-RED
// processes it started are killed); the exit code is 1 then, 0 otherwise
// (missed targets do not fail the run: they are findings).
import fs from 'fs';
import path from 'path';
import { machineInfo, round, within } from './support/common';
import { withCompatibleNodeRed } from './support/flow-compat';
import type { NodeRedProcess } from '../test/support/node-red-process';
import { format, nodeRedProfiles, phases, summarise } from './support/profile-summary';

type Figures = Record<string, unknown>;

interface Row {
  area: string;
  measure: string;
  baselineName: string;
  baseline: number | null;
  ours: number | null;
  unit: string;
  ratio: number | null;
  target: string;
  met: boolean | null;
}

interface SectionResult {
  seconds: number;
  figures?: Figures;
  error?: string;
  skipped?: string;
  profiles?: string[];
}

interface Section {
  name: string;
  limitS: number;
  run(execArgv: string[]): Promise<Figures>;
}

const RESULTS = path.join(__dirname, 'results');
const BUDGET_S = Number(process.env.BENCH_BUDGET_S ?? 560);
const MIN_SECTION_S = 30;

const SECTIONS: Section[] = [
  { name: 'ingest', limitS: 150, run: () => require('./ingest').run() },
  { name: 'ceiling', limitS: 120, run: () => require('./support/ingest-ceiling').run() },
  { name: 'own-port', limitS: 150, run: () => require('./own-port').run() },
  { name: 'filter', limitS: 90, run: () => require('./filter').run() },
  { name: 'sender', limitS: 180, run: () => require('./sender').run() },
  { name: 'harness', limitS: 90, run: () => require('./support/sender-harness').run() },
  { name: 'latency', limitS: 120, run: (execArgv) => require('./latency').run({ execArgv }) },
  { name: 'backlog', limitS: 480, run: (execArgv) => require('./backlog').run({ execArgv }) },
  { name: 'queue', limitS: 300, run: () => require('./queue').run() },
  { name: 'inflight', limitS: 120, run: () => require('./inflight').run() },
  { name: 'redis', limitS: 120, run: () => require('./redis-queue').run() },
  { name: 'door', limitS: 60, run: () => require('./access').run(['decision']) },
  { name: 'door-latency', limitS: 150, run: () => require('./access').run(['latency']) },
  { name: 'door-load', limitS: 120, run: () => require('./access').run(['load']) },
];
const DEFAULT_SECTIONS = [
  'ingest',
  'ceiling',
  'own-port',
  'filter',
  'sender',
  'harness',
  'inflight',
  'redis',
  'latency',
  'backlog',
  'door',
  'door-latency',
  'door-load',
];

const num = (figures: Figures | undefined, key: string): number | null => {
  const value = figures?.[key];
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
};
const ratioOf = (ours: number | null, baseline: number | null, digits = 2): number | null =>
  ours !== null && baseline !== null && baseline !== 0 ? round(ours / baseline, digits) : null;
const atLeast = (value: number | null, min: number): boolean | null => (value === null ? null : value >= min);
const atMost = (value: number | null, max: number): boolean | null => (value === null ? null : value <= max);

/** The table rows from the figures of the sections that ran. */
function rows(results: Record<string, SectionResult>): Row[] {
  const out: Row[] = [];
  const f = (name: string) => results[name]?.figures;
  const add = (row: Omit<Row, 'ratio'> & { ratio?: number | null }) =>
    out.push({ ...row, ratio: row.ratio === undefined ? ratioOf(row.ours, row.baseline) : row.ratio });

  if (results.ingest) {
    const i = f('ingest');
    const ours = num(i, 'oursEventsPerS');
    const core = num(i, 'coreFlowEventsPerS');
    const bare = num(i, 'bareServerRequestsPerS');
    const ratioCore = ratioOf(ours, core);
    const ratioBare = ratioOf(ours, bare);
    add({
      area: 'ingest',
      measure: 'source, 1 event/POST',
      baselineName: 'core http in→http response',
      baseline: core,
      ours,
      unit: 'events/s',
      ratio: ratioCore,
      target: '≥ 3×',
      met: atLeast(ratioCore, 3),
    });
    add({
      area: 'ingest',
      measure: 'source, 1 event/POST',
      baselineName: 'bare http server (in bench process)',
      baseline: bare,
      ours,
      unit: 'events/s',
      ratio: ratioBare,
      target: '≥ 0.4×',
      met: atLeast(ratioBare, 0.4),
    });
    const ours100 = num(i, 'ours100PerPostEventsPerS');
    add({
      area: 'ingest',
      measure: 'source, 100 events/POST',
      baselineName: 'source, 1 event/POST',
      baseline: ours,
      ours: ours100,
      unit: 'events/s',
      target: '≥ 200,000 events/s',
      met: atLeast(ours100, 200000),
    });
  }
  if (results.ceiling) {
    const c = f('ceiling');
    const bare = num(c, 'bareChildProcessRequestsPerS');
    const empty = num(c, 'emptyHttpNodeRouteRequestsPerS');
    const ours = num(c, 'oursEventsPerS');
    add({
      area: 'ingest ceiling',
      measure: 'empty RED.httpNode route, 1 event/POST',
      baselineName: 'bare http server (own process)',
      baseline: bare,
      ours: empty,
      unit: 'req/s',
      target: '(Node-RED’s ceiling)',
      met: null,
    });
    add({
      area: 'ingest ceiling',
      measure: 'answer from a middleware atop Node-RED’s root app',
      baselineName: 'bare http server (own process)',
      baseline: bare,
      ours: num(c, 'earlyMiddlewareRequestsPerS'),
      unit: 'req/s',
      target: '(in-process ceiling)',
      met: null,
    });
    add({
      area: 'ingest ceiling',
      measure: 'source, 1 event/POST',
      baselineName: 'empty RED.httpNode route',
      baseline: empty,
      ours,
      unit: 'events/s',
      target: '(info)',
      met: null,
    });
    const core = num(c, 'coreFlowEventsPerS');
    const ratioCore = ratioOf(ours, core);
    add({
      area: 'ingest ceiling',
      measure: 'source, 1 event/POST (interleaved rounds)',
      baselineName: 'core http in→http response',
      baseline: core,
      ours,
      unit: 'events/s',
      ratio: ratioCore,
      target: '≥ 3×',
      met: atLeast(ratioCore, 3),
    });
    const ratioBare = ratioOf(ours, bare);
    add({
      area: 'ingest ceiling',
      measure: 'source, 1 event/POST',
      baselineName: 'bare http server (own process)',
      baseline: bare,
      ours,
      unit: 'events/s',
      ratio: ratioBare,
      target: '≥ 0.4×',
      met: atLeast(ratioBare, 0.4),
    });
    const ours100 = num(c, 'ours100PerPostEventsPerS');
    add({
      area: 'ingest ceiling',
      measure: 'source, 100 events/POST',
      baselineName: 'bare http server (own process), same POSTs',
      baseline: num(c, 'bareChildProcess100PerPostEventsPerS'),
      ours: ours100,
      unit: 'events/s',
      target: '≥ 200,000 events/s',
      met: atLeast(ours100, 200000),
    });
  }
  if (results['own-port']) {
    const o = f('own-port');
    const ours = num(o, 'ownPortEventsPerS');
    const core = num(o, 'coreFlowEventsPerS');
    const bare = num(o, 'bareChildProcessRequestsPerS');
    const ratioCore = ratioOf(ours, core);
    add({
      area: 'own port',
      measure: 'source on its own port, 1 event/POST',
      baselineName: 'core http in→http response',
      baseline: core,
      ours,
      unit: 'events/s',
      ratio: ratioCore,
      target: '≥ 3×',
      met: atLeast(ratioCore, 3),
    });
    const ratioBare = ratioOf(ours, bare);
    add({
      area: 'own port',
      measure: 'source on its own port, 1 event/POST',
      baselineName: 'bare http server (own process)',
      baseline: bare,
      ours,
      unit: 'events/s',
      ratio: ratioBare,
      target: '≥ 0.4×',
      met: atLeast(ratioBare, 0.4),
    });
    add({
      area: 'own port',
      measure: 'source on its own port, 1 event/POST',
      baselineName: 'same source on RED.httpNode',
      baseline: num(o, 'httpNodeEventsPerS'),
      ours,
      unit: 'events/s',
      target: '(info)',
      met: null,
    });
    const ours100 = num(o, 'ownPort100PerPostEventsPerS');
    add({
      area: 'own port',
      measure: 'source on its own port, 100 events/POST',
      baselineName: 'bare http server (own process), same POSTs',
      baseline: num(o, 'bareChildProcess100PerPostEventsPerS'),
      ours: ours100,
      unit: 'events/s',
      target: '≥ 200,000 events/s',
      met: atLeast(ours100, 200000),
    });
    const tls = num(o, 'ownPortTlsEventsPerS');
    const coreTls = num(o, 'coreFlowOverNodeRedTlsEventsPerS');
    add({
      area: 'own port',
      measure: 'source on its own port over TLS (tls-config), 1 event/POST',
      baselineName: 'core http in→http response over Node-RED’s https',
      baseline: coreTls,
      ours: tls,
      unit: 'events/s',
      target: '(info)',
      met: null,
    });
  }
  if (results.filter) {
    const fl = f('filter');
    const predicate = num(fl, 'predicateEventsPerS');
    add({
      area: 'filter',
      measure: 'compiled predicate (seed example filter)',
      baselineName: 'check+normalise+predicate',
      baseline: num(fl, 'checkNormaliseAndPredicateEventsPerS'),
      ours: predicate,
      unit: 'events/s',
      target: '≥ 10,000,000 events/s',
      met: atLeast(predicate, 10_000_000),
    });
    const ours = num(fl, 'oursEventsPerS');
    const core = num(fl, 'switchEventsPerS');
    const ratio = ratioOf(ours, core);
    add({
      area: 'filter',
      measure: 'filter node in a flow (camera_in)',
      baselineName: 'core switch (payload.camera ==)',
      baseline: core,
      ours,
      unit: 'msgs/s',
      ratio,
      target: '≥ 1× (no worse)',
      met: atLeast(ratio, 1),
    });
  }
  if (results.sender) {
    const s = f('sender');
    const ours = num(s, 'webhookBatch100EventsPerS');
    const core = num(s, 'coreHttpRequestEventsPerS');
    const axios = num(s, 'axiosBatch100EventsPerS');
    const ratioCore = ratioOf(ours, core, 1);
    add({
      area: 'sender',
      measure: 'webhook node, batch 100, durable, log info',
      baselineName: 'core http request, 1 event/request',
      baseline: core,
      ours,
      unit: 'events/s',
      ratio: ratioCore,
      target: '≥ 20×',
      met: atLeast(ratioCore, 20),
    });
    add({
      area: 'sender',
      measure: 'webhook node, batch 100, durable, log info',
      baselineName: 'axios loop, batches of 100',
      baseline: axios,
      ours,
      unit: 'events/s',
      target: '≥ 100,000 events/s',
      met: atLeast(ours, 100000),
    });
    const arrays = num(s, 'webhookBatch100ArraysEventsPerS');
    if (arrays !== null) {
      const ratioArrays = ratioOf(arrays, core, 1);
      add({
        area: 'sender',
        measure: 'same, fed 100 events per message',
        baselineName: 'core http request, 1 event/request',
        baseline: core,
        ours: arrays,
        unit: 'events/s',
        ratio: ratioArrays,
        target: '≥ 20×',
        met: atLeast(ratioArrays, 20),
      });
      add({
        area: 'sender',
        measure: 'same, fed 100 events per message',
        baselineName: 'axios loop, batches of 100',
        baseline: axios,
        ours: arrays,
        unit: 'events/s',
        target: '≥ 100,000 events/s',
        met: atLeast(arrays, 100000),
      });
    }
    const arraysWarn = num(s, 'webhookBatch100ArraysWarnLogEventsPerS');
    if (arraysWarn !== null) {
      const ratioArraysWarn = ratioOf(arraysWarn, core, 1);
      add({
        area: 'sender',
        measure: 'same, 100 events per message, log warn',
        baselineName: 'core http request, 1 event/request (log info)',
        baseline: core,
        ours: arraysWarn,
        unit: 'events/s',
        ratio: ratioArraysWarn,
        target: '≥ 20×',
        met: atLeast(ratioArraysWarn, 20),
      });
      add({
        area: 'sender',
        measure: 'same, 100 events per message, log warn',
        baselineName: 'axios loop, batches of 100',
        baseline: axios,
        ours: arraysWarn,
        unit: 'events/s',
        target: '≥ 100,000 events/s',
        met: atLeast(arraysWarn, 100000),
      });
    }
    const warn = num(s, 'webhookBatch100WarnLogEventsPerS');
    if (warn !== null)
      add({
        area: 'sender',
        measure: 'webhook node, batch 100, durable, log warn',
        baselineName: 'axios loop, batches of 100',
        baseline: axios,
        ours: warn,
        unit: 'events/s',
        target: '(info)',
        met: null,
      });
    const harness = num(f('harness'), 'harnessEventsPerS');
    if (harness !== null)
      add({
        area: 'sender',
        measure: 'webhook node, batch 100, durable, log info',
        baselineName: 'same generator → counting node (no queue, no HTTP)',
        baseline: harness,
        ours,
        unit: 'events/s',
        target: '(harness ceiling)',
        met: null,
      });
    const plain = num(f('backlog'), 'plainClientDrainEventsPerS');
    if (plain !== null)
      add({
        area: 'sender',
        measure: 'webhook node, batch 100, durable, log info',
        baselineName: 'plain http client (own process), batches of 100',
        baseline: plain,
        ours,
        unit: 'events/s',
        target: '(HTTP ceiling)',
        met: null,
      });
  }
  if (results.redis) {
    const r = f('redis');
    const disk = num(r, 'diskQueueEventsPerS');
    const shared = num(r, 'redisQueueEventsPerS');
    // Not a target: the price of one delivery shared by several instances (a Redis round trip per append and per acknowledgement).
    add({
      area: 'sender queue',
      measure: 'Redis queue (fenced lease), batch 100, 1 event per append',
      baselineName: 'disk queue, same sender and load',
      baseline: disk,
      ours: shared,
      unit: 'events/s',
      target: '(info)',
      met: null,
    });
  }
  if (results.inflight) {
    const fl = f('inflight');
    for (const batch of [1, 100]) {
      const one = num(fl, `batch${batch}InFlight1EventsPerS`);
      const eight = num(fl, `batch${batch}InFlight8EventsPerS`);
      const ratio = ratioOf(eight, one);
      add({
        area: 'sender in flight',
        measure: `maxInFlight 8, batch ${batch}, receiver answering after 50 ms`,
        baselineName: 'maxInFlight 1, same',
        baseline: one,
        ours: eight,
        unit: 'events/s',
        ratio,
        target: '≥ 6×',
        met: atLeast(ratio, 6),
      });
    }
  }
  if (results.latency) {
    const l = f('latency');
    const ours99 = num(l, 'oursAddedP99Ms');
    add({
      area: 'latency',
      measure: 'source→filter→webhook, added p99',
      baselineName: 'core http in→switch→http request',
      baseline: num(l, 'coreAddedP99Ms'),
      ours: ours99,
      unit: 'ms',
      target: '≤ 5 ms',
      met: atMost(ours99, 5),
    });
    add({
      area: 'latency',
      measure: 'source→filter→webhook, added p50',
      baselineName: 'core http in→switch→http request',
      baseline: num(l, 'coreAddedP50Ms'),
      ours: num(l, 'oursAddedP50Ms'),
      unit: 'ms',
      target: '(info)',
      met: null,
    });
    const port99 = num(l, 'ownPortAddedP99Ms');
    if (port99 !== null) {
      add({
        area: 'latency',
        measure: 'same, source on its own port, added p99',
        baselineName: 'core http in→switch→http request',
        baseline: num(l, 'coreAddedP99Ms'),
        ours: port99,
        unit: 'ms',
        target: '≤ 5 ms',
        met: atMost(port99, 5),
      });
      add({
        area: 'latency',
        measure: 'same, source on its own port, added p50',
        baselineName: 'core http in→switch→http request',
        baseline: num(l, 'coreAddedP50Ms'),
        ours: num(l, 'ownPortAddedP50Ms'),
        unit: 'ms',
        target: '(info)',
        met: null,
      });
    }
    const floor99 = num(l, 'floorAddedP99Ms');
    if (floor99 !== null && port99 !== null) {
      add({
        area: 'latency',
        measure: 'source on its own port→filter→webhook, added p99',
        baselineName: 'same source→function node POSTing with Node’s http (the floor), added p99',
        baseline: floor99,
        ours: port99,
        unit: 'ms',
        target: '(info: what the webhook node adds)',
        met: null,
      });
      add({
        area: 'latency',
        measure: 'source on its own port→filter→webhook, added p50',
        baselineName: 'same source→function node POSTing with Node’s http (the floor), added p50',
        baseline: num(l, 'floorAddedP50Ms'),
        ours: num(l, 'ownPortAddedP50Ms'),
        unit: 'ms',
        target: '(info)',
        met: null,
      });
    }
  }
  if (results.backlog) {
    const b = f('backlog');
    const events = num(b, 'events');
    const growth = num(b, 'rssGrowthMb');
    add({
      area: 'backlog',
      measure: `${events?.toLocaleString('en-US') ?? '?'} events queued, receiver down: peak RSS growth`,
      baselineName: 'core http in→http response, same POSTs',
      baseline: num(b, 'coreFlowSameIntakeRssGrowthMb'),
      ours: growth,
      unit: 'MB',
      target: '≤ 100 MB',
      met: atMost(growth, 100),
    });
    const heapBefore = (b?.heapBefore as { heapUsedMb?: number } | undefined)?.heapUsedMb ?? null;
    const heapQueued = (b?.heapQueuedAfterGc as { heapUsedMb?: number } | undefined)?.heapUsedMb ?? null;
    add({
      area: 'backlog',
      measure: 'V8 heap used after full GC, backlog queued',
      baselineName: 'before intake',
      baseline: heapBefore,
      ours: heapQueued,
      unit: 'MB',
      target: '(info: backlog on disk)',
      met: null,
    });
    add({
      area: 'backlog',
      measure: 'queue on disk after intake',
      baselineName: 'event bytes (JSON)',
      baseline: num(b, 'eventBytes'),
      ours: num(b, 'diskAfterIntakeMb'),
      unit: 'MB',
      ratio: null,
      target: '(info)',
      met: null,
    });
    add({
      area: 'backlog',
      measure: 'intake (source → webhook queue), 100/POST',
      baselineName: 'core http in→http response, same POSTs',
      baseline: num(b, 'coreFlowSameIntakeEventsPerS'),
      ours: num(b, 'intakeEventsPerS'),
      unit: 'events/s',
      target: '(info)',
      met: null,
    });
    const drain = num(b, 'drainEventsPerS');
    add({
      area: 'backlog',
      measure: 'drain after the receiver returns, batch 100',
      baselineName: 'plain http client (own process), same batches',
      baseline: num(b, 'plainClientDrainEventsPerS'),
      ours: drain,
      unit: 'events/s',
      target: '≥ 50,000 events/s',
      met: atLeast(drain, 50000),
    });
    const lost = num(b, 'lost');
    add({
      area: 'backlog',
      measure: `events lost (duplicates: ${num(b, 'duplicates') ?? '?'})`,
      baselineName: 'delivered',
      baseline: num(b, 'delivered'),
      ours: lost,
      unit: 'events',
      ratio: null,
      target: '0',
      met: lost === null ? null : lost === 0,
    });
  }
  if (results.queue) {
    const q = f('queue');
    add({
      area: 'queue alone',
      measure: 'DurableQueue 1M backlog: RSS growth',
      baselineName: 'RSS before',
      baseline: num(q, 'rssBeforeBacklogMb'),
      ours: num(q, 'rssGrowthMb'),
      unit: 'MB',
      ratio: null,
      target: '≤ 100 MB',
      met: atMost(num(q, 'rssGrowthMb'), 100),
    });
    add({
      area: 'queue alone',
      measure: 'DurableQueue 1M backlog: drain (batch 100)',
      baselineName: '',
      baseline: null,
      ours: num(q, 'backlogDrainEventsPerS'),
      unit: 'events/s',
      target: '≥ 50,000 events/s',
      met: atLeast(num(q, 'backlogDrainEventsPerS'), 50000),
    });
  }
  if (results.door) {
    const d = f('door');
    const ours = num(d, 'decisionEventsPerS');
    add({
      area: 'door',
      measure: 'decision function (walking-up events)',
      baselineName: 'normalise + same allow filter',
      baseline: num(d, 'normaliseAndAllowEventsPerS'),
      ours,
      unit: 'events/s',
      target: '≥ 1,000,000 events/s',
      met: atLeast(ours, 1_000_000),
    });
  }
  if (results['door-latency']) {
    const d = f('door-latency');
    const ours = num(d, 'doorAddedP99Ms');
    const core = num(d, 'coreAddedP99Ms');
    add({
      area: 'door latency',
      measure: 'source→door access→http request, added p99',
      baselineName: 'bare round trip p50 (subtracted)',
      baseline: num(d, 'bareP50Ms'),
      ours,
      unit: 'ms',
      ratio: null,
      target: '≤ 5 ms',
      met: atMost(ours, 5),
    });
    add({
      area: 'door latency',
      measure: 'source→door access→http request, added p99',
      baselineName: 'core http in→switch→http request, added p99',
      baseline: core,
      ours,
      unit: 'ms',
      target: '≤ 1× (no worse)',
      met: ours === null || core === null ? null : ours <= core,
    });
    const ownPort = num(d, 'doorOwnPortAddedP99Ms');
    add({
      area: 'door latency',
      measure: 'same, the source on its own port',
      baselineName: 'core http in→switch→http request, added p99',
      baseline: core,
      ours: ownPort,
      unit: 'ms',
      target: '≤ 5 ms; ≤ 1× core',
      met: ownPort === null || core === null ? null : ownPort <= 5 && ownPort <= core,
    });
    const floor = num(d, 'floorAddedP99Ms');
    if (floor !== null) {
      add({
        area: 'door latency',
        measure: 'same, the source on its own port, added p99',
        baselineName: 'same source→change→http request, no door access (the floor), added p99',
        baseline: floor,
        ours: ownPort,
        unit: 'ms',
        target: '(info: what door access adds)',
        met: null,
      });
      add({
        area: 'door latency',
        measure: 'same, the source on its own port, added p50',
        baselineName: 'same source→change→http request, no door access (the floor), added p50',
        baseline: num(d, 'floorAddedP50Ms'),
        ours: num(d, 'doorOwnPortAddedP50Ms'),
        unit: 'ms',
        target: '(info)',
        met: null,
      });
    }
  }
  if (results['door-load']) {
    const d = f('door-load');
    const lines = num(d, 'loadAuditLines');
    const events = num(d, 'loadEvents');
    add({
      area: 'door load',
      measure: '1,000 events/s walking up: peak people in state',
      baselineName: 'events',
      baseline: events,
      ours: num(d, 'loadPeakPeopleInState'),
      unit: 'people',
      ratio: null,
      target: '(bounded)',
      met: null,
    });
    add({
      area: 'door load',
      measure: 'heap growth',
      baselineName: '',
      baseline: null,
      ours: num(d, 'loadHeapGrowthMb'),
      unit: 'MB',
      ratio: null,
      target: '(bounded)',
      met: null,
    });
    add({
      area: 'door load',
      measure: 'audit lines written',
      baselineName: 'decisions',
      baseline: events,
      ours: lines,
      unit: 'lines',
      target: 'all (= decisions)',
      met: lines === null || events === null ? null : lines === events,
    });
  }
  // A section that failed or was skipped still gets a line, so nothing silently disappears.
  for (const [name, result] of Object.entries(results)) {
    if (!result.figures) {
      add({
        area: name,
        measure: result.error ? `ERROR: ${result.error.split('\n')[0].slice(0, 100)}` : `skipped: ${result.skipped}`,
        baselineName: '',
        baseline: null,
        ours: null,
        unit: '',
        ratio: null,
        target: '',
        met: null,
      });
    }
  }
  return out;
}

const show = (value: number | null): string => (value === null ? '—' : value.toLocaleString('en-US', { maximumFractionDigits: 3 }));
const showRatio = (value: number | null): string => (value === null ? '—' : `${value}×`);
const showMet = (met: boolean | null): string => (met === null ? '' : met ? 'met' : 'MISSED');

function cells(row: Row): string[] {
  return [
    row.area,
    row.measure,
    row.baselineName ? `${row.baselineName}: ${show(row.baseline)}` : '—',
    `${show(row.ours)} ${row.unit}`.trim(),
    showRatio(row.ratio),
    row.target,
    showMet(row.met),
  ];
}
const HEADER = ['area', 'measure (ours)', 'baseline', 'ours', 'ratio', 'target', 'met?'];

function textTable(list: Row[]): string {
  const body = list.map(cells);
  const widths = HEADER.map((h, c) => Math.max(h.length, ...body.map((r) => r[c].length)));
  const line = (r: string[]) => r.map((cell, c) => cell.padEnd(widths[c])).join(' | ');
  return [line(HEADER), widths.map((w) => '-'.repeat(w)).join('-|-'), ...body.map(line)].join('\n');
}

function markdownTable(list: Row[]): string {
  const escape = (cell: string) => cell.replace(/\|/g, '\\|');
  return [`| ${HEADER.join(' | ')} |`, `|${HEADER.map(() => '---').join('|')}|`, ...list.map((r) => `| ${cells(r).map(escape).join(' | ')} |`)].join('\n');
}

async function main() {
  const args = process.argv.slice(2);
  const profile = args.includes('--profile');
  const named = args.filter((a) => !a.startsWith('--'));
  for (const name of named)
    if (!SECTIONS.some((s) => s.name === name)) throw new Error(`unknown section "${name}"; known: ${SECTIONS.map((s) => s.name).join(', ')}`);
  const chosen = SECTIONS.filter((s) => (named.length ? named : DEFAULT_SECTIONS).includes(s.name));
  fs.mkdirSync(RESULTS, { recursive: true });

  const startedAt = new Date();
  const machine = machineInfo();
  const started = Date.now();
  const results: Record<string, SectionResult> = {};
  for (const section of chosen) {
    const usedS = (Date.now() - started) / 1000;
    const limitS = Math.min(section.limitS, BUDGET_S - usedS);
    if (limitS < MIN_SECTION_S) {
      results[section.name] = { seconds: 0, skipped: `the run has used ${Math.round(usedS)} s of its ${BUDGET_S} s budget` };
      console.log(`[bench] ${section.name}: skipped (budget)`);
      continue;
    }
    const profileDir = path.join(RESULTS, 'profiles', section.name);
    const execArgv: string[] = [];
    if (profile) {
      fs.rmSync(profileDir, { recursive: true, force: true });
      fs.mkdirSync(profileDir, { recursive: true });
      execArgv.push('--cpu-prof', `--cpu-prof-dir=${profileDir}`);
    }
    console.log(`[bench] ${section.name}: running (limit ${Math.round(limitS)} s)`);
    const sectionStart = Date.now();
    const result: SectionResult = { seconds: 0 };
    const created: NodeRedProcess[] = [];
    try {
      // Other benches' hand-written flows are placed (x/y) and get execArgv, see support/flow-compat.
      result.figures = await within(
        withCompatibleNodeRed(() => section.run(execArgv), execArgv, created),
        limitS * 1000,
        section.name,
      );
    } catch (error) {
      const err = error as Error & { figures?: Figures };
      result.error = err.message ?? String(error);
      if (err.figures) result.figures = err.figures;
      console.log(`[bench] ${section.name}: ERROR ${result.error}`);
      // A bench that timed out may have left its Node-RED running: stop what this section started.
      for (const red of created) {
        await red.kill9().catch(() => undefined);
        await red.dispose().catch(() => undefined);
      }
    }
    result.seconds = round((Date.now() - sectionStart) / 1000, 1);
    if (profile) {
      result.profiles = [];
      const summaries: string[] = [];
      for (const file of nodeRedProfiles(profileDir)) {
        summaries.push(`== whole run after start-up ==\n${format(summarise(file, 30))}`);
        for (const [index, phase] of phases(file, 20).entries()) summaries.push(`== phase ${index + 1} ==\n${format(phase)}`);
        result.profiles.push(file);
      }
      fs.writeFileSync(path.join(profileDir, 'summary.txt'), summaries.join('\n\n') + '\n');
      console.log(
        `[bench] ${section.name}: ${result.profiles.length} Node-RED profile(s), summary in ${path.relative(process.cwd(), path.join(profileDir, 'summary.txt'))}`,
      );
    }
    if (result.figures) console.log(`[bench] ${section.name}: ${result.seconds} s`, JSON.stringify(result.figures));
    results[section.name] = result;
  }

  const table = rows(results);
  const durationS = round((Date.now() - started) / 1000, 1);
  const finishedMachine = { loadAverageAfter: machineInfo().loadAverage };
  const report = {
    startedAt: startedAt.toISOString(),
    durationS,
    profiled: profile,
    machine: { ...machine, ...finishedMachine },
    rows: table,
    sections: results,
  };
  fs.writeFileSync(path.join(RESULTS, 'latest.json'), JSON.stringify(report, null, 2) + '\n');
  const heading =
    `Benchmarks of ${startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC, ${durationS} s` +
    `${profile ? ' (PROFILED: figures not comparable)' : ''}: ${machine.nproc} CPUs (${machine.cpuModel}), ${machine.memTotalGb} GB RAM, ` +
    `Node.js ${machine.node}, Node-RED ${machine.nodeRed}, load average ${machine.loadAverage.join(' ')} before, ${finishedMachine.loadAverageAfter.join(' ')} after.`;
  fs.writeFileSync(path.join(RESULTS, 'latest.md'), `${heading}\n\n${markdownTable(table)}\n`);
  console.log(`\n${heading}\n\n${textTable(table)}\n\nWritten: ${path.relative(process.cwd(), path.join(RESULTS, 'latest.json'))} (and latest.md)`);
  const failed = Object.values(results).some((r) => r.error);
  return failed ? 1 : 0;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (error) => {
      console.error(error);
      process.exit(2);
    },
  );
}
