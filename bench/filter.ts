// Webhook filter: events/s of the compiled predicate on a realistic mix of
// FindFace events (3.x, 4.x and Multi shapes, the seed's example filter with
// a camera-group map), and the node's in-flow cost against a core `switch`
// node doing the same test, both loaded in one Node-RED runtime (the
// node-red-node-test-helper) and timed alike: N messages in, time until the
// last one is out. Bounded: about 10 s in all.
// The N messages arrive as one burst. The core switch queues its input and
// takes one message per event-loop turn (setImmediate), so a burst costs it
// more than a steady trickle would; the figures are for the burst.
import { runStandalone } from './support/common';
import { prng } from '../nodes/lib/source/simulator';
import { performance } from 'perf_hooks';
import helper, { coreNode } from '../test/support/helper';
import { FaceEvent, eventProblem, normaliseEvent } from '../nodes/lib/event/event';
import { compileFilter, groupsFromMap, parseCameraGroups, parseFilters } from '../nodes/lib/filter/filter';
import { ffs4Event, multiEvent, seedEvent } from '../test/fixtures/events';

const PREDICATE_MS = Number(process.env.BENCH_PREDICATE_MS ?? 1000);
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 20000);
const ROUNDS = 3;
const FLOW_TIMEOUT_MS = 20000;

const CAMERAS = 20;
const GROUPS = 5;
const SEED_EXAMPLE = '{"camera_group_in": [1, 3], "matched_dossier_in": [12, 25]}';
/** Camera c is in group 1 + c % GROUPS. */
const CAMERA_GROUPS = JSON.stringify(Object.fromEntries(Array.from({ length: CAMERAS }, (_, c) => [String(c + 1), 1 + ((c + 1) % GROUPS)])));

/**
 * Events as a FindFace installation sends them: 40 % 3.x (no group in the
 * event: the map gives it), 30 % 4.x, 30 % Multi; 20 cameras in 5 groups;
 * a third matched, dossiers 1..40 (so 12 and 25 are hit now and then).
 */
function events(count: number, shapes: Array<'ffs3' | 'ffs4' | 'multi'> | 'mix', seed = 1): FaceEvent[] {
  // The simulator's PRNG: every run sees the same events.
  const next = prng(seed);
  const list: FaceEvent[] = [];
  for (let index = 0; index < count; index++) {
    const camera = 1 + Math.floor(next() * CAMERAS);
    const group = 1 + (camera % GROUPS);
    const dossier = next() < 0.33 ? 1 + Math.floor(next() * 40) : null;
    const confidence = Math.round((0.5 + next() * 0.5) * 10000) / 10000;
    const id = String(4173669353687265180n + BigInt(index));
    const roll = next();
    const shape = shapes === 'mix' ? (roll < 0.4 ? 'ffs3' : roll < 0.7 ? 'ffs4' : 'multi') : shapes[index % shapes.length];
    if (shape === 'ffs3') {
      list.push({ ...seedEvent, id, camera, matched: dossier !== null, matched_dossier: dossier, matched_lists: dossier ? [1] : [], confidence });
    } else if (shape === 'ffs4') {
      list.push({
        ...ffs4Event,
        id,
        camera: { id: camera, name: `Camera ${camera}`, group },
        camera_group: { id: group, name: `Group ${group}` },
        matched: dossier !== null,
        matched_dossier: dossier,
        dossier: dossier ? { id: dossier, name: 'Someone' } : null,
        matched_lists: dossier ? [{ id: 2, name: 'Staff' }] : [],
        confidence,
      });
    } else {
      list.push({
        ...multiEvent,
        id,
        camera,
        camera_group: group,
        matched: dossier !== null,
        matched_card: dossier,
        matched_lists: dossier ? [3] : [],
        confidence,
      });
    }
  }
  return list;
}

/** Calls `step` over and over for at least `ms`, in chunks; returns calls per second. */
function perSecond(items: number, ms: number, step: () => void): number {
  let calls = 0;
  const started = performance.now();
  let elapsed = 0;
  do {
    step();
    calls += items;
    elapsed = performance.now() - started;
  } while (elapsed < ms);
  return (calls * 1000) / elapsed;
}

function predicateFigures() {
  const spec = parseFilters(SEED_EXAMPLE);
  const groups = parseCameraGroups(CAMERA_GROUPS);
  if (!spec.ok || !groups.ok) throw new Error('bad bench filter');
  const filter = compileFilter(spec.value, groupsFromMap(groups.value));
  const mix = events(10000, 'mix');
  const normalised = mix.map(normaliseEvent);
  let passed = 0;
  for (const event of normalised) if (filter.test(event) === 'pass') passed++;
  let sink = 0;
  const predicateOnly = perSecond(normalised.length, PREDICATE_MS, () => {
    for (let i = 0; i < normalised.length; i++) if (filter.test(normalised[i]) === 'pass') sink++;
  });
  const withNormalise = perSecond(mix.length, PREDICATE_MS, () => {
    for (let i = 0; i < mix.length; i++) if (filter.test(normaliseEvent(mix[i])) === 'pass') sink++;
  });
  // What the node does per event: check it is one, read it, test it.
  const asNode = perSecond(mix.length, PREDICATE_MS, () => {
    for (let i = 0; i < mix.length; i++) if (eventProblem(mix[i]) === null && filter.test(normaliseEvent(mix[i])) === 'pass') sink++;
  });
  if (sink < 0) console.log(sink);
  return {
    passShare: +(passed / mix.length).toFixed(3),
    predicateEventsPerS: Math.round(predicateOnly),
    normaliseAndPredicateEventsPerS: Math.round(withNormalise),
    checkNormaliseAndPredicateEventsPerS: Math.round(asNode),
  };
}

/**
 * One flow with both: our filter with `{"camera_in": [2, 3, 5]}`, and a core
 * switch testing msg.payload.camera == 2, 3 or 5 (stop at the first match,
 * all three outputs wired to its sink). 3.x events only: the switch cannot
 * read 4.x camera objects without JSONata.
 */
async function flowFigures() {
  const flow = [
    { id: 'tab', type: 'tab', label: 'bench' },
    { id: 'ours', type: 'findface-filter', z: 'tab', name: '', filters: '{"camera_in": [2, 3, 5]}', cameraGroups: '{}', outputs: 1, wires: [['ours-sink']] },
    { id: 'ours-sink', type: 'helper', z: 'tab' },
    {
      id: 'core',
      type: 'switch',
      z: 'tab',
      name: '',
      property: 'payload.camera',
      propertyType: 'msg',
      rules: [
        { t: 'eq', v: '2', vt: 'num' },
        { t: 'eq', v: '3', vt: 'num' },
        { t: 'eq', v: '5', vt: 'num' },
      ],
      checkall: 'false',
      repair: false,
      outputs: 3,
      wires: [['core-sink'], ['core-sink'], ['core-sink']],
    },
    { id: 'core-sink', type: 'helper', z: 'tab' },
  ];
  const list = events(MESSAGES, ['ffs3']);
  const expected = list.filter((event) => [2, 3, 5].includes(event.camera as number)).length;
  await helper.load([require('../nodes/filter/findface-filter.js'), coreNode('function/10-switch.js')], flow);
  // The helper spies on every send/status/log call and keeps them all: take the spies off, so both are timed as in a real runtime.
  (helper as any)._sandbox.restore();
  try {
    let arrived = 0;
    let finished: (at: number) => void = () => undefined;
    const arrive = () => {
      if (++arrived === expected) finished(performance.now());
    };
    helper.getNode('ours-sink').on('input', arrive);
    helper.getNode('core-sink').on('input', arrive);
    const time = async (id: string) => {
      arrived = 0;
      const node = helper.getNode(id);
      let timer: NodeJS.Timeout | undefined;
      const last = new Promise<number>((resolve, reject) => {
        finished = resolve;
        timer = setTimeout(() => reject(new Error(`${id}: ${arrived} of ${expected} messages out after ${FLOW_TIMEOUT_MS} ms`)), FLOW_TIMEOUT_MS);
      });
      const started = performance.now();
      for (const event of list) node.receive({ payload: event });
      try {
        const elapsed = (await last) - started;
        return (list.length * 1000) / elapsed;
      } finally {
        clearTimeout(timer);
      }
    };
    const core: number[] = [];
    const ours: number[] = [];
    await time('core'); // warm-up of both
    await time('ours');
    for (let round = 0; round < ROUNDS; round++) {
      core.push(await time('core'));
      ours.push(await time('ours'));
    }
    const median = (values: number[]) => values.slice().sort((a, b) => a - b)[Math.floor(values.length / 2)];
    return {
      messages: list.length,
      switchEventsPerS: Math.round(median(core)),
      oursEventsPerS: Math.round(median(ours)),
      oursVsSwitch: +(median(ours) / median(core)).toFixed(2),
    };
  } finally {
    await helper.unload();
  }
}

export async function run() {
  return { ...predicateFigures(), ...(await flowFigures()) };
}

runStandalone(module, run);
