// Sender past one round trip: events/s delivered by the findface-webhook node
// to a receiver that answers every request after 50 ms (a receiver far away,
// or a slow one), with maxInFlight 1 (FindFace's behaviour: one request at a
// time) and 8, at batchSize 1 and 100, in one real Node-RED process. The
// figure that matters is the ratio of 8 to 1 in this same run.
import { runStandalone } from './support/common';
import { GENERATOR } from './support/generator';
import { WARN_LOGGING } from './support/quiet-log';
import { webhookNode } from './support/webhook-node';
import { NodeRedProcess } from '../test/support/node-red-process';
import { Receiver } from '../test/support/receiver';
import { measure } from './sender';

const RECEIVER_DELAY_MS = 50;
/** Events per figure: enough for a few seconds at the slowest (20 requests/s × batch). */
const COUNTS: Record<string, number> = { 'b1-f1': 100, 'b1-f8': 800, 'b100-f1': 10_000, 'b100-f8': 80_000 };

function flows(receiverUrl: string) {
  const targets = Object.keys(COUNTS);
  const nodes: Array<Record<string, unknown>> = [
    { id: 'start', type: 'http in', z: 'tab', url: '/start/:target', method: 'post', upload: false, wires: [['route']] },
    {
      id: 'route',
      type: 'switch',
      z: 'tab',
      property: 'req.params.target',
      propertyType: 'msg',
      rules: targets.map((target) => ({ t: 'eq', v: target, vt: 'str' })),
      checkall: 'false',
      outputs: targets.length,
      wires: targets.map((target) => [`gen-${target}`]),
    },
    ...targets.map((target) => ({
      id: `gen-${target}`,
      type: 'function',
      z: 'tab',
      name: target,
      func: GENERATOR,
      outputs: 2,
      timeout: 0,
      noerr: 0,
      initialize: '',
      finalize: '',
      libs: [],
      wires: [[`hook-${target}`], ['answer']],
    })),
    ...targets.map((target) => {
      const [batch, flight] = target.split('-');
      return webhookNode(`hook-${target}`, receiverUrl, { batchSize: Number(batch.slice(1)), maxInFlight: Number(flight.slice(1)), queueMaxMb: 512 });
    }),
    { id: 'answer', type: 'http response', z: 'tab', statusCode: '200', headers: {}, wires: [] },
  ];
  return [{ id: 'tab', type: 'tab', label: 'bench' }, ...nodes.map((node, i) => ({ ...node, x: 150 + 200 * (i % 3), y: 80 + 60 * Math.floor(i / 3) }))];
}

export async function run() {
  const receiver = await Receiver.start();
  receiver.countOnly = true;
  receiver.respondWith({ status: 200, delayMs: RECEIVER_DELAY_MS });
  const red = await NodeRedProcess.create({ flows: flows(receiver.url), settings: { logging: WARN_LOGGING } });
  try {
    await red.start();
    const figures: Record<string, number> = {};
    // At batch 100 the events come 100 to a message (the same for 1 and 8 in flight): one event per message, the
    // generator and the queue's intake (about 20,000 events/s here) were slower than 8 requests in flight can send,
    // and the figure measured them.
    for (const target of Object.keys(COUNTS))
      figures[target] = await measure(red, receiver, target, COUNTS[target], target.startsWith('b100') ? { per: 100 } : {});
    if (red.errorLines().length) throw new Error(red.errorLines().slice(0, 5).join('\n'));
    return {
      receiverDelayMs: RECEIVER_DELAY_MS,
      batch1InFlight1EventsPerS: Math.round(figures['b1-f1']),
      batch1InFlight8EventsPerS: Math.round(figures['b1-f8']),
      batch100InFlight1EventsPerS: Math.round(figures['b100-f1']),
      batch100InFlight8EventsPerS: Math.round(figures['b100-f8']),
      batch1Ratio: +(figures['b1-f8'] / figures['b1-f1']).toFixed(2),
      batch100Ratio: +(figures['b100-f8'] / figures['b100-f1']).toFixed(2),
    };
  } finally {
    await red.dispose();
    await receiver.stop();
  }
}

runStandalone(module, run);
