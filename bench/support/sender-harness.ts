// The ceiling of bench/sender.ts's set-up: the same generator function node
// (one message per seed event, sent with node.send as there) feeding a
// function node that only counts, in a Node-RED process of its own; no queue,
// no HTTP out. The webhook node cannot deliver faster than this harness can
// hand it messages, so a sender target above this figure cannot be met in
// that set-up on this machine. Bounded: 2 × BENCH_EVENTS events.
import { NodeRedProcess } from '../../test/support/node-red-process';
import { seedEvent } from '../../test/fixtures/events';
import { placed } from './flow-compat';
import { round, within } from './common';
import { GENERATOR } from './generator';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 20000);

const fn = (id: string, func: string, outputs: number, wires: string[][]) => ({
  id,
  type: 'function',
  z: 'tab',
  name: '',
  func,
  outputs,
  timeout: 0,
  noerr: 0,
  initialize: '',
  finalize: '',
  libs: [],
  wires,
});

export async function run() {
  const flows = placed([
    { id: 'tab', type: 'tab', label: 'harness' },
    { id: 'start', type: 'http in', z: 'tab', url: '/start', method: 'post', upload: false, wires: [['gen']] },
    fn('gen', GENERATOR, 2, [['sink'], ['answer']]),
    fn('sink', "global.set('count', (global.get('count') || 0) + 1); return null;", 1, [[]]),
    { id: 'answer', type: 'http response', z: 'tab', statusCode: '200', headers: {}, wires: [] },
    { id: 'count-in', type: 'http in', z: 'tab', url: '/count', method: 'get', upload: false, wires: [['count-read']] },
    fn('count-read', "msg.payload = String(global.get('count') || 0); return msg;", 1, [['answer']]),
  ]);
  const red = await NodeRedProcess.create({ flows });
  try {
    await red.start();
    const once = async (count: number) => {
      const before = Number(await (await fetch(`${red.url}/count`)).text());
      const started = process.hrtime.bigint();
      const answer = await within(
        fetch(`${red.url}/start`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ count, prefix: `h-${Date.now()}-`, template: seedEvent }),
        }),
        60000,
        'harness',
      );
      if (answer.status !== 200) throw new Error(`harness: start answered ${answer.status}`);
      const s = Number(process.hrtime.bigint() - started) / 1e9;
      const counted = Number(await (await fetch(`${red.url}/count`)).text()) - before;
      if (counted !== count) throw new Error(`harness: ${counted} of ${count} messages counted when the answer came`);
      return count / s;
    };
    await once(Math.min(2000, EVENTS)); // warm-up
    const rate = await once(EVENTS);
    if (red.errorLines().length) throw new Error(red.errorLines().slice(0, 5).join('\n'));
    return { events: EVENTS, harnessEventsPerS: Math.round(rate), perEventUs: round(1e6 / rate, 1) };
  } finally {
    await red.dispose();
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
