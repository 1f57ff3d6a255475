// The findface-filter node in a flow (node-red-node-test-helper): single
// events and arrays, one and two outputs, errors that Catch nodes receive,
// configuration errors, and the status.
import assert from 'assert/strict';
import helper, { coreNode } from '../support/helper';
import { sleep, waitFor } from '../support/wait';
import { ffs4Event, multiEvent, seedEvent } from '../fixtures/events';

const filterNode = require('../../nodes/filter/findface-filter.js');
const catchNode = coreNode('common/25-catch.js');

const SEED_EXAMPLE = '{"camera_group_in": [1, 3], "matched_dossier_in": [12, 25]}';

type Msg = { payload: any; topic?: string; error?: { message: string; source: { id: string } }; _msgid?: string };

interface Flow {
  passed: Msg[];
  failed: Msg[];
  caught: Msg[];
  /** Sends msg to the filter. */
  send(msg: Msg): void;
  /** Sends a marker event that passes any filter but an impossible one, and waits until it is out: everything sent before has been handled. */
  settle(): Promise<void>;
}

async function load(props: Record<string, unknown>): Promise<Flow> {
  const flow = [
    { id: 'tab', type: 'tab', label: 'test' },
    { id: 'filter', type: 'findface-filter', z: 'tab', name: '', outputs: 1, filters: '{}', cameraGroups: '{}', wires: [['pass'], ['fail']], ...props },
    { id: 'pass', type: 'helper', z: 'tab' },
    { id: 'fail', type: 'helper', z: 'tab' },
    { id: 'catcher', type: 'catch', z: 'tab', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper', z: 'tab' },
  ];
  await helper.load([filterNode, catchNode], flow);
  const result: Flow = {
    passed: [],
    failed: [],
    caught: [],
    send: (msg) => helper.getNode('filter').receive(msg),
    settle: async () => {
      // A string payload is refused by every filter configuration with an error; the Catch node sees it after everything before it.
      const marker = `settle-${Math.random()}`;
      helper.getNode('filter').receive({ payload: marker, topic: marker });
      await waitFor(() => result.caught.find((msg) => msg.topic === marker), 5000, 'the settle marker');
      result.caught.splice(
        result.caught.findIndex((msg) => msg.topic === marker),
        1,
      );
    },
  };
  helper.getNode('pass').on('input', (msg: Msg) => result.passed.push(msg));
  helper.getNode('fail').on('input', (msg: Msg) => result.failed.push(msg));
  helper.getNode('caught').on('input', (msg: Msg) => result.caught.push(msg));
  return result;
}

/** The status calls of the filter node (the helper spies on the shared prototype). */
function statuses(): Array<{ fill?: string; shape?: string; text?: string }> {
  const node = helper.getNode('filter');
  return node.status
    .getCalls()
    .filter((call: any) => call.thisValue === node)
    .map((call: any) => call.args[0]);
}
const lastStatus = () => statuses().slice(-1)[0] ?? {};

const event = (camera: number, dossier: number | null, extra: Record<string, unknown> = {}) => ({
  ...seedEvent,
  id: `${camera}-${dossier}-${Math.random()}`,
  camera,
  matched: dossier !== null,
  matched_dossier: dossier,
  ...extra,
});

describe('findface-filter node', function () {
  this.timeout(10000);
  afterEach(() => helper.unload());

  describe('single events', () => {
    it('sends a passing event on, the whole message unchanged, and drops a failing one with one output', async () => {
      const flow = await load({ filters: '{"camera_in": [2], "matched": true}' });
      const pass = { payload: event(2, 1), topic: 'findface/camera/2', extra: { kept: true } };
      flow.send({ payload: event(3, 1), topic: 'findface/camera/3' });
      flow.send({ payload: event(2, null) });
      flow.send(pass as Msg);
      await flow.settle();
      assert.equal(flow.passed.length, 1);
      assert.deepEqual(flow.passed[0].payload, pass.payload);
      assert.equal(flow.passed[0].topic, 'findface/camera/2');
      assert.deepEqual((flow.passed[0] as any).extra, { kept: true });
      assert.equal(flow.failed.length, 0);
      assert.equal(flow.caught.length, 0);
    });

    it("applies the seed's example to events of all three FindFace shapes", async () => {
      // 3.x events carry no group: camera 2 is in group 1, camera 4 in group 2.
      const flow = await load({ filters: SEED_EXAMPLE, cameraGroups: '{"2": 1, "4": 2}', outputs: 2 });
      const ffs4In3 = { ...ffs4Event, camera_group: { id: 3 }, matched_dossier: 25 };
      const ffs4In2 = { ...ffs4Event, camera_group: { id: 2 }, matched_dossier: 25 };
      const multiIn3 = { ...multiEvent, camera_group: 3, matched_card: 12 };
      const multiNull = { ...multiEvent, camera_group: 3, matched_card: null, matched: false };
      const seed12 = { ...seedEvent, matched_dossier: 12 };
      const seed4 = { ...seedEvent, camera: 4, matched_dossier: 12 };
      for (const payload of [ffs4In3, ffs4In2, multiIn3, multiNull, seed12, seed4, seedEvent]) flow.send({ payload });
      await flow.settle();
      assert.deepEqual(
        flow.passed.map((msg) => msg.payload),
        [ffs4In3, multiIn3, seed12],
      );
      assert.deepEqual(
        flow.failed.map((msg) => msg.payload),
        [ffs4In2, multiNull, seed4, seedEvent],
      );
    });

    it('sends failing events to output 2 with two outputs', async () => {
      const flow = await load({ filters: '{"matched": false}', outputs: 2 });
      flow.send({ payload: event(1, 7), topic: 'matched' });
      flow.send({ payload: event(1, null), topic: 'unmatched' });
      await flow.settle();
      assert.deepEqual(
        flow.passed.map((msg) => msg.topic),
        ['unmatched'],
      );
      assert.deepEqual(
        flow.failed.map((msg) => msg.topic),
        ['matched'],
      );
    });

    it('passes every event with {} and none with a key set to []', async () => {
      let flow = await load({ filters: '{}', outputs: 2 });
      for (const payload of [seedEvent, ffs4Event, multiEvent, event(9, null)]) flow.send({ payload });
      await flow.settle();
      assert.equal(flow.passed.length, 4);
      assert.equal(flow.failed.length, 0);
      await helper.unload();
      flow = await load({ filters: '{"camera_in": []}', outputs: 2 });
      for (const payload of [seedEvent, ffs4Event, multiEvent]) flow.send({ payload });
      await flow.settle();
      assert.equal(flow.passed.length, 0);
      assert.equal(flow.failed.length, 3);
      assert.equal(lastStatus().fill, 'yellow', 'a filter with [] is shown in yellow');
    });
  });

  describe('arrays of events', () => {
    it('sends the passing events as one array on output 1 and the failing ones on output 2', async () => {
      const flow = await load({ filters: '{"camera_in": [2, 3]}', outputs: 2 });
      const events = [event(2, 1), event(4, 1), event(3, null), event(5, 2), event(2, 3)];
      flow.send({ payload: events, topic: 'batch' });
      await flow.settle();
      assert.equal(flow.passed.length, 1);
      assert.equal(flow.failed.length, 1);
      assert.deepEqual(flow.passed[0].payload, [events[0], events[2], events[4]]);
      assert.deepEqual(flow.failed[0].payload, [events[1], events[3]]);
      assert.equal(flow.passed[0].topic, 'batch');
      assert.equal(flow.failed[0].topic, 'batch');
      assert.notEqual(flow.passed[0], flow.failed[0]);
    });

    it('sends nothing on an output that has no events, and only the passing array with one output', async () => {
      let flow = await load({ filters: '{"camera_in": [2]}', outputs: 2 });
      flow.send({ payload: [event(2, 1), event(2, 2)], topic: 'all pass' });
      flow.send({ payload: [event(3, 1)], topic: 'none pass' });
      flow.send({ payload: [], topic: 'empty' });
      await flow.settle();
      assert.deepEqual(
        flow.passed.map((msg) => msg.topic),
        ['all pass'],
      );
      assert.deepEqual(
        flow.failed.map((msg) => msg.topic),
        ['none pass'],
      );
      await helper.unload();
      flow = await load({ filters: '{"camera_in": [2]}', outputs: 1 });
      flow.send({ payload: [event(3, 1), event(2, 1)], topic: 'mixed' });
      flow.send({ payload: [event(3, 1)], topic: 'none pass' });
      await flow.settle();
      assert.deepEqual(
        flow.passed.map((msg) => [msg.topic, msg.payload.length]),
        [['mixed', 1]],
      );
      assert.equal(flow.failed.length, 0);
    });

    it('refuses an array holding something that is not an event, whole, with an error naming the element', async () => {
      const flow = await load({ filters: '{}', outputs: 2 });
      flow.send({ payload: [event(2, 1), { id: '1' }], topic: 'bad batch' });
      await flow.settle();
      assert.equal(flow.passed.length + flow.failed.length, 0);
      assert.equal(flow.caught.length, 1);
      assert.match(flow.caught[0].error!.message, /msg\.payload\[1\] has no "camera"/);
      assert.equal(flow.caught[0].topic, 'bad batch');
    });
  });

  describe('errors', () => {
    it('reports a payload that is not an event to Catch nodes and passes nothing, even with {}', async () => {
      const flow = await load({ filters: '{}', outputs: 2 });
      for (const payload of ['hello', 42, null, { camera: 2 }, { id: '1', camera: 'front door' }]) flow.send({ payload, topic: 'bad' });
      await flow.settle();
      assert.equal(flow.passed.length + flow.failed.length, 0);
      assert.equal(flow.caught.length, 5);
      for (const msg of flow.caught) {
        assert.equal(msg.error!.source.id, 'filter');
        assert.match(msg.error!.message, /not-event|not a face event/);
      }
      assert.match(flow.caught[3].error!.message, /msg\.payload has no "id"/);
    });

    const configErrors: Array<[string, Record<string, unknown>, RegExp]> = [
      ['an unknown key', { filters: '{"camera_id_in": [1]}' }, /unknown-key|unknown filter/],
      ['a list where a boolean belongs', { filters: '{"matched": [true]}' }, /not-boolean|one boolean/],
      ['a non-number in a list', { filters: '{"camera_in": [1, "2"]}' }, /not-id|whole numbers/],
      ['non-JSON text', { filters: '{camera_in: [1]}' }, /not-json|not valid JSON/],
      ['non-object JSON', { filters: '[1]' }, /not-object|JSON object/],
      ['blank filters', { filters: '' }, /not-json|not valid JSON/],
      ['bad camera groups', { filters: '{"camera_group_in": [1]}', cameraGroups: '{"2": "one"}' }, /groups-bad-group|not a whole number/],
      ['camera groups that are not JSON', { cameraGroups: '{2: 1}' }, /groups-not-json|not valid JSON/],
      ['three outputs', { outputs: 3 }, /bad-outputs|1 or 2/],
    ];
    for (const [what, props, message] of configErrors) {
      it(`a configuration error (${what}): red status, and an error for every message, none passed or dropped silently`, async () => {
        const flow = await load({ outputs: 2, ...props });
        assert.equal(lastStatus().fill, 'red');
        assert.match(lastStatus().text ?? '', message);
        flow.send({ payload: seedEvent, topic: 'one' });
        flow.send({ payload: [seedEvent, multiEvent], topic: 'two' });
        await waitFor(() => flow.caught.length === 2, 5000, 'two caught errors');
        assert.deepEqual(
          flow.caught.map((msg) => msg.topic),
          ['one', 'two'],
        );
        for (const msg of flow.caught) assert.match(msg.error!.message, message);
        assert.equal(flow.passed.length + flow.failed.length, 0);
      });
    }
  });

  describe('status', () => {
    it('shows the filter and counts passed and failed events, throttled', async () => {
      const flow = await load({ filters: '{"camera_in": [2, 3], "matched": true}', outputs: 2 });
      assert.match(lastStatus().text ?? '', /2,3/);
      assert.equal(lastStatus().fill, 'green');
      const before = statuses().length;
      // 200 events in 10 bursts 30 ms apart: with a redraw at most every 500 ms, a few status updates, not 10 or 200.
      for (let burst = 0; burst < 10; burst++) {
        for (let i = 0; i < 20; i++) flow.send({ payload: event(i % 2 ? 2 : 4, 1) });
        await sleep(30);
      }
      await flow.settle();
      await waitFor(() => /passed 100\b.*failed 100\b/.test(lastStatus().text ?? ''), 3000, 'the counts in the status');
      assert.ok(statuses().length - before <= 4, `${statuses().length - before} status updates`);
    });

    it('counts the events whose camera group is unknown', async () => {
      // Camera 2 is mapped, camera 5 is not, and the 3.x events carry no group.
      const flow = await load({ filters: '{"camera_group_in": [1]}', cameraGroups: '{"2": 1}', outputs: 2 });
      flow.send({ payload: event(2, 1) });
      flow.send({ payload: [event(5, 1), event(5, null)] });
      flow.send({ payload: { ...multiEvent, camera: 5, camera_group: 1 } });
      await flow.settle();
      assert.equal(flow.passed.length, 2);
      assert.deepEqual(
        flow.failed.map((msg) => msg.payload.length),
        [2],
      );
      await waitFor(
        () => /unknownGroup 2\b/.test(lastStatus().text ?? '') || /group unknown 2\b/.test(lastStatus().text ?? ''),
        3000,
        'the unknown-group count',
      );
      assert.equal(lastStatus().fill, 'yellow');
    });
  });
  describe('acknowledging events for a source that waits for them to be queued', () => {
    const withAck = (payload: unknown, calls: Array<Error | undefined>) => ({ payload, _findfaceAck: (error?: Error) => calls.push(error) }) as unknown as Msg;

    it('acknowledges an event it drops with one output, and leaves passing ones to the sender', async () => {
      const flow = await load({ filters: '{"camera_in": [2]}' });
      const dropped: Array<Error | undefined> = [];
      const passing: Array<Error | undefined> = [];
      flow.send(withAck({ ...seedEvent, camera: 9 }, dropped));
      flow.send(withAck(seedEvent, passing));
      await flow.settle();
      assert.deepEqual(dropped, [undefined]);
      assert.deepEqual(passing, []);
      assert.equal(flow.passed.length, 1);
    });

    it('leaves a failing event on output 2 to whoever is wired there', async () => {
      const flow = await load({ filters: '{"camera_in": [2]}', outputs: 2 });
      const calls: Array<Error | undefined> = [];
      flow.send(withAck({ ...seedEvent, camera: 9 }, calls));
      await flow.settle();
      assert.deepEqual(calls, []);
      assert.equal(flow.failed.length, 1);
    });

    it('acknowledges with the error when its configuration is wrong, so the source answers 503', async () => {
      const flow = await load({ filters: '{"camera_in": 2}' });
      const calls: Array<Error | undefined> = [];
      flow.send(withAck(seedEvent, calls));
      await waitFor(() => calls.length === 1);
      assert.ok(calls[0] instanceof Error);
    });
  });
});
