// Sender: events/s delivered to a bare local receiver (test/support/receiver,
// counting only) by
//   - the findface-webhook node, batch 100, durable queue, inside a real
//     Node-RED process (its log at the default `info` level, i.e. every
//     per-event line written to the console, and again at `warn`, to see what
//     the contract's log lines cost);
//   - the same node fed messages of 100 events each (an array payload, as
//     the filter passes on an array), i.e. Node-RED's per-message cost / 100;
//   - the same node with batch 1 (FindFace's default);
//   - the core `http request` node, one event per request, same process;
//   - a plain axios loop posting the same batches of 100, one in flight (the ceiling).
// Events are made inside Node-RED by a function node, so HTTP intake does not
// count. Bounded: a few seconds per figure.
import { runStandalone } from './support/common';
import { GENERATOR } from './support/generator';
import { WARN_LOGGING } from './support/quiet-log';
import { webhookNode } from './support/webhook-node';
import http from 'http';
import axios from 'axios';
import { NodeRedProcess } from '../test/support/node-red-process';
import { Receiver } from '../test/support/receiver';
import { seedEvent } from '../test/fixtures/events';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 20000);
const EVENTS_SLOW = Math.max(1, Math.round(EVENTS / 10));
const TIMEOUT_MS = 45000;

function flows(receiverUrl: string) {
  const generator = (id: string, target: string) => ({
    id,
    type: 'function',
    z: 'tab',
    name: id,
    func: GENERATOR,
    outputs: 2,
    timeout: 0,
    noerr: 0,
    initialize: '',
    finalize: '',
    libs: [],
    wires: [[target], ['answer']],
  });
  const hook = (id: string, batchSize: number) => webhookNode(id, receiverUrl, { batchSize, queueMaxMb: 512 });
  const nodes: Array<Record<string, unknown>> = [
    { id: 'start', type: 'http in', z: 'tab', url: '/start/:target', method: 'post', upload: false, wires: [['route']] },
    {
      id: 'route',
      type: 'switch',
      z: 'tab',
      property: 'req.params.target',
      propertyType: 'msg',
      rules: [
        { t: 'eq', v: 'hook100', vt: 'str' },
        { t: 'eq', v: 'hook1', vt: 'str' },
        { t: 'eq', v: 'core', vt: 'str' },
      ],
      checkall: 'false',
      outputs: 3,
      wires: [['gen-hook100'], ['gen-hook1'], ['gen-core']],
    },
    generator('gen-hook100', 'hook100'),
    generator('gen-hook1', 'hook1'),
    generator('gen-core', 'core'),
    hook('hook100', 100),
    hook('hook1', 1),
    {
      id: 'core',
      type: 'http request',
      z: 'tab',
      method: 'POST',
      ret: 'txt',
      paytoqs: 'ignore',
      url: receiverUrl,
      tls: '',
      persist: true,
      proxy: '',
      insecureHTTPParser: false,
      authType: '',
      senderr: false,
      headers: [],
      wires: [[]],
    },
    { id: 'answer', type: 'http response', z: 'tab', statusCode: '200', headers: {}, wires: [] },
  ];
  // Flow nodes need a position (without one Node-RED takes them for config nodes).
  return [{ id: 'tab', type: 'tab', label: 'bench' }, ...nodes.map((node, i) => ({ ...node, x: 150 + 200 * (i % 3), y: 80 + 60 * Math.floor(i / 3) }))];
}

/** Starts `count` events through `target` (a generator wired behind `POST /start/<target>`) and waits until the receiver has them all; events/s. */
export async function measure(
  red: NodeRedProcess,
  receiver: Receiver,
  target: string,
  count: number,
  shape: { wrap?: boolean; per?: number } = {},
): Promise<number> {
  receiver.eventCount = 0;
  receiver.requestCount = 0;
  const started = process.hrtime.bigint();
  const response = await fetch(`${red.url}/start/${target}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ count, prefix: `${target}-${Date.now()}-`, wrap: shape.wrap ?? false, per: shape.per ?? 1, template: seedEvent }),
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  if (response.status !== 200) throw new Error(`${target}: start answered ${response.status}`);
  await receiver.waitForDelivered(count, TIMEOUT_MS);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (receiver.eventCount !== count) throw new Error(`${target}: ${receiver.eventCount} events for ${count}`);
  return count / seconds;
}

/** The ceiling: the same batches of 100 posted by a plain axios loop, one request in flight. */
async function axiosLoop(receiver: Receiver, count: number): Promise<number> {
  receiver.eventCount = 0;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const client = axios.create({ httpAgent: agent, validateStatus: () => true, transformRequest: [(d: unknown) => d] });
  const started = process.hrtime.bigint();
  try {
    for (let sent = 0; sent < count; sent += 100) {
      const batch = [];
      for (let i = sent; i < Math.min(sent + 100, count); i++) batch.push({ ...seedEvent, id: `axios-${i}` });
      // A Buffer, as the webhook node posts (axios re-encodes a string body on every request).
      const answer = await client.post(receiver.url, Buffer.from(JSON.stringify(batch)), { headers: { 'Content-Type': 'application/json' } });
      if (answer.status !== 200) throw new Error(`axios loop: ${answer.status}`);
    }
  } finally {
    agent.destroy();
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (receiver.eventCount !== count) throw new Error(`axios loop: ${receiver.eventCount} events for ${count}`);
  return count / seconds;
}

async function withNodeRed<T>(receiver: Receiver, level: 'info' | 'warn', body: (red: NodeRedProcess) => Promise<T>): Promise<T> {
  const red = await NodeRedProcess.create({ flows: flows(receiver.url), settings: level === 'warn' ? { logging: WARN_LOGGING } : {} });
  try {
    await red.start();
    const result = await body(red);
    if (red.errorLines().length) throw new Error(red.errorLines().slice(0, 5).join('\n'));
    return result;
  } finally {
    await red.dispose();
  }
}

export async function run() {
  const receiver = await Receiver.start();
  receiver.countOnly = true;
  try {
    const info = await withNodeRed(receiver, 'info', async (red) => {
      await measure(red, receiver, 'hook100', 1000); // warm-up
      const hook100 = await measure(red, receiver, 'hook100', EVENTS);
      const hook100Arrays = await measure(red, receiver, 'hook100', EVENTS, { per: 100 });
      const hook1 = await measure(red, receiver, 'hook1', EVENTS_SLOW);
      const core = await measure(red, receiver, 'core', EVENTS_SLOW, { wrap: true });
      const logLines = red.count('enqueued for webhook hook100');
      return { hook100, hook100Arrays, hook1, core, logLines };
    });
    const warn = await withNodeRed(receiver, 'warn', async (red) => {
      await measure(red, receiver, 'hook100', 1000);
      const hook100 = await measure(red, receiver, 'hook100', EVENTS);
      const hook100Arrays = await measure(red, receiver, 'hook100', EVENTS, { per: 100 });
      return { hook100, hook100Arrays };
    });
    const ceiling = await axiosLoop(receiver, EVENTS);
    return {
      events: EVENTS,
      webhookBatch100EventsPerS: Math.round(info.hook100),
      webhookBatch100WarnLogEventsPerS: Math.round(warn.hook100),
      webhookBatch100ArraysWarnLogEventsPerS: Math.round(warn.hook100Arrays),
      webhookBatch100ArraysEventsPerS: Math.round(info.hook100Arrays),
      infoLogCostShare: +(1 - info.hook100 / warn.hook100).toFixed(2),
      webhookBatch1EventsPerS: Math.round(info.hook1),
      coreHttpRequestEventsPerS: Math.round(info.core),
      axiosBatch100EventsPerS: Math.round(ceiling),
      webhookVsCore: +(info.hook100 / info.core).toFixed(1),
      webhookArraysVsCore: +(info.hook100Arrays / info.core).toFixed(1),
      webhookVsCeiling: +(info.hook100 / ceiling).toFixed(2),
      enqueueLogLinesSeen: info.logLines,
    };
  } finally {
    await receiver.stop();
  }
}

runStandalone(module, run);
