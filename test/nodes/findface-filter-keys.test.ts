// The findface-filter node in a flow with FindFace Multi's sectioned filters
// and the keys on face attributes: the node reads them from the event as it
// came in, and a section it cannot apply is a configuration error that names it.
import assert from 'assert/strict';
import fs from 'fs';
import path from 'path';
import helper, { coreNode } from '../support/helper';
import { waitFor } from '../support/wait';
import { multiEvent } from '../fixtures/events';

const filterNode = require('../../nodes/filter/findface-filter.js');
const catchNode = coreNode('common/25-catch.js');

type Msg = { payload: any; topic?: string; error?: { message: string } };

async function load(filters: string) {
  const flow = [
    { id: 'tab', type: 'tab', label: 'test' },
    { id: 'filter', type: 'findface-filter', z: 'tab', name: '', outputs: 2, filters, cameraGroups: '{}', wires: [['pass'], ['fail']] },
    { id: 'pass', type: 'helper', z: 'tab' },
    { id: 'fail', type: 'helper', z: 'tab' },
    { id: 'catcher', type: 'catch', z: 'tab', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper', z: 'tab' },
  ];
  await helper.load([filterNode, catchNode], flow);
  const seen = { passed: [] as Msg[], failed: [] as Msg[], caught: [] as Msg[] };
  helper.getNode('pass').on('input', (msg: Msg) => seen.passed.push(msg));
  helper.getNode('fail').on('input', (msg: Msg) => seen.failed.push(msg));
  helper.getNode('caught').on('input', (msg: Msg) => seen.caught.push(msg));
  return { ...seen, send: (msg: Msg) => helper.getNode('filter').receive(msg) };
}

const face = (id: string, features: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  ...multiEvent,
  id,
  bs_type: 'realtime',
  temperature: 36.6,
  features,
  ...extra,
});

describe('findface-filter node: Multi sections and face attributes', function () {
  this.timeout(10000);
  afterEach(() => helper.unload());

  it('applies face_events of a sectioned filter, reading the attributes from the event', async () => {
    const flow = await load(
      '{"face_events": {"camera_in": [5], "gender_in": ["female"], "age_gte": 18, "liveness_in": ["real"]}, "body_events": {}, "car_events": {}}',
    );
    const adult = face('adult', { gender: { name: 'female', confidence: 0.9 }, age: 30, liveness: { name: 'real', confidence: 0.9 } });
    const child = face('child', { gender: { name: 'female', confidence: 0.9 }, age: 9, liveness: { name: 'real', confidence: 0.9 } });
    const photo = face('photo', { gender: { name: 'female', confidence: 0.9 }, age: 30, liveness: { name: 'fake', confidence: 0.9 } });
    const unknown = face('no-features', {});
    flow.send({ payload: adult });
    flow.send({ payload: [child, adult, photo, unknown] });
    await waitFor(() => flow.passed.length === 2 && flow.failed.length === 1, 5000, 'the events out');
    assert.equal(flow.passed[0].payload.id, 'adult');
    assert.deepEqual(
      flow.passed[1].payload.map((event: { id: string }) => event.id),
      ['adult'],
    );
    assert.deepEqual(
      flow.failed[0].payload.map((event: { id: string }) => event.id),
      ['child', 'photo', 'no-features'],
    );
    assert.equal(flow.caught.length, 0);
  });

  it('the filter pasted from FindFace Multi in the issue: {"face_events": {"camera_group_in": [1]}}', async () => {
    const flow = await load('{"face_events": {"camera_group_in": [1]}}');
    flow.send({ payload: { ...multiEvent, id: 'in', camera_group: 1 } });
    flow.send({ payload: { ...multiEvent, id: 'out', camera_group: 4 } });
    await waitFor(() => flow.passed.length + flow.failed.length === 2, 5000, 'both events out');
    assert.deepEqual([flow.passed[0].payload.id, flow.failed[0].payload.id], ['in', 'out']);
    assert.equal(flow.caught.length, 0);
  });

  for (const [what, filters, message] of [
    ['a body_events section with filters', '{"face_events": {}, "body_events": {"matched": true}}', /unsupported-section|body_events/],
    [
      "Multi's default filter as pasted",
      fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'multi-webhook-filter-defaults.json'), 'utf8'),
      /unsupported-section|body_events/,
    ],
    ['a word FindFace does not use', '{"gender_in": ["woman"]}', /not-choice/],
    ['a confidence in per cent', '{"confidence_gte": 80}', /out-of-range/],
  ] as const) {
    it(`a configuration error (${what}): red status and an error for every message`, async () => {
      const flow = await load(filters);
      const node = helper.getNode('filter');
      const statuses = node.status
        .getCalls()
        .filter((call: any) => call.thisValue === node)
        .map((call: any) => call.args[0]);
      assert.equal(statuses.slice(-1)[0].fill, 'red');
      flow.send({ payload: multiEvent, topic: 'one' });
      await waitFor(() => flow.caught.length === 1, 5000, 'the caught error');
      assert.match(flow.caught[0].error!.message, message);
      assert.equal(flow.passed.length + flow.failed.length, 0);
    });
  }
});
