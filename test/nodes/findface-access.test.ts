// The findface-access node in a flow (node-red-node-test-helper): a grant and
// its message, denials with reasons, cooldown holds on no output, errors
// Catch nodes receive, configuration errors, the status, the audit trail on
// disk and the admin endpoint that reads it back.
import assert from 'assert/strict';
import fs from 'fs';
import os from 'os';
import path from 'path';
import helper, { coreNode } from '../support/helper';
import { waitFor } from '../support/wait';
import { nodeFileName } from '../../nodes/lib/common/node-files';

const accessNode = require('../../nodes/access/findface-access.js');
const catchNode = coreNode('common/25-catch.js');

type Msg = Record<string, any>;

function faceEvent(id: string, fields: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id,
    camera: 1,
    matched: true,
    matched_dossier: 12,
    confidence: 0.91,
    created_date: new Date().toISOString(),
    face: `http://ff/uploads/${id}.jpg`,
    ...fields,
  };
}

describe('findface-access node', function () {
  let userDir: string;
  const opened: Msg[] = [];
  const denied: Msg[] = [];
  const caught: Msg[] = [];

  beforeEach(function () {
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ff-access-test-'));
    helper.settings({ userDir });
    opened.length = 0;
    denied.length = 0;
    caught.length = 0;
  });
  afterEach(async function () {
    await helper.unload();
    helper.settings({});
    fs.rmSync(userDir, { recursive: true, force: true });
  });
  before(() => helper.startServer());
  after(() => helper.stopServer());

  async function load(props: Record<string, unknown>) {
    const flow = [
      { id: 'tab', type: 'tab', label: 'test' },
      { id: 'door1', type: 'findface-access', z: 'tab', door: 'Main entrance', wires: [['open'], ['deny']], ...props },
      { id: 'open', type: 'helper', z: 'tab' },
      { id: 'deny', type: 'helper', z: 'tab' },
      { id: 'catcher', type: 'catch', z: 'tab', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper', z: 'tab' },
    ];
    await helper.load([accessNode, catchNode], flow);
    helper.getNode('open').on('input', (msg: Msg) => opened.push(msg));
    helper.getNode('deny').on('input', (msg: Msg) => denied.push(msg));
    helper.getNode('caught').on('input', (msg: Msg) => caught.push(msg));
    return helper.getNode('door1');
  }
  const statuses = (node: any) =>
    node.status
      .getCalls()
      .filter((call: any) => call.thisValue === node)
      .map((call: any) => call.args[0]);

  it('opens once per person per cooldown, with the contract message, and denies with reasons', async function () {
    const door = await load({ cooldownS: 5 });
    const first = faceEvent('1');
    door.receive({ payload: first });
    door.receive({ payload: faceEvent('2') });
    door.receive({ payload: faceEvent('3', { matched: false, matched_dossier: null }) });
    door.receive({ payload: faceEvent('4', { matched_dossier: 25, created_date: new Date(Date.now() - 60_000).toISOString() }) });
    door.receive({ payload: faceEvent('5', { matched_dossier: 25, created_date: undefined }) });
    await waitFor(() => denied.length === 3 || undefined, 2000, 'three denials');
    assert.equal(opened.length, 1);
    const open = opened[0];
    assert.equal(open.topic, 'Main entrance');
    assert.deepEqual(open.event, first);
    assert.deepEqual(Object.keys(open.payload).sort(), ['cameraId', 'decidedAt', 'door', 'eventAge', 'eventId', 'personId']);
    assert.equal(open.payload.door, 'Main entrance');
    assert.equal(open.payload.personId, 12);
    assert.equal(open.payload.cameraId, 1);
    assert.equal(open.payload.eventId, '1');
    assert.ok(open.payload.eventAge >= 0 && open.payload.eventAge < 2);
    assert.ok(Math.abs(Date.parse(open.payload.decidedAt) - Date.now()) < 2000);
    assert.deepEqual(
      denied.map((msg) => [msg.payload.id, msg.reason]),
      [
        ['3', 'not-allowed'],
        ['4', 'stale'],
        ['5', 'no-date'],
      ],
    );
    await waitFor(() => statuses(door).slice(-1)[0]?.text?.includes('1 findface-access.status.open') || undefined, 2000, 'the status counts');
    const text = statuses(door).slice(-1)[0].text as string;
    assert.match(text, /findface-access\.status\.denied · findface-access\.status\.secondsAgo/);
    assert.match(text, /1 findface-access\.status\.open · 3 findface-access\.status\.deny · 1 findface-access\.status\.hold/);
  });

  it('writes every decision to the audit trail and serves the last ones on the admin endpoint', async function () {
    await load({ cooldownS: 5 });
    const door = helper.getNode('door1');
    for (const id of ['a', 'b']) door.receive({ payload: faceEvent(id) });
    door.receive({ payload: faceEvent('c', { camera: 9, matched_dossier: 3 }) });
    await waitFor(() => opened.length === 2 || undefined, 2000, 'the two grants');
    const response = await helper.request().get('/findface-access/door1/audit?limit=2').expect(200);
    assert.deepEqual(
      response.body.map((r: Msg) => [r.event, r.decision, r.reason, r.person]),
      [
        ['c', 'granted', null, 3],
        ['b', 'cooldown', 'cooldown', 12],
      ],
    );
    assert.equal(response.body[0].image, 'http://ff/uploads/c.jpg');
    assert.equal(response.body[0].door, 'Main entrance');
    await helper.unload();
    const dir = path.join(userDir, 'findface-audit', nodeFileName('door1'));
    const lines = fs.readdirSync(dir).flatMap((file) => fs.readFileSync(path.join(dir, file), 'utf8').trim().split('\n'));
    assert.deepEqual(
      lines.map((line) => JSON.parse(line).event),
      ['a', 'b', 'c'],
    );
    // Still readable once the node is gone.
    const after = await helper.request().get('/findface-access/door1/audit').expect(200);
    assert.equal(after.body.length, 3);
    const none = await helper.request().get('/findface-access/other/audit').expect(200);
    assert.deepEqual(none.body, []);
  });

  it('sends an error Catch nodes receive for a payload that is not an event, and keeps deciding', async function () {
    const door = await load({});
    door.receive({ payload: 'open sesame' });
    await waitFor(() => caught.length === 1 || undefined, 2000, 'the caught error');
    assert.match(caught[0].error.message, /findface-access\.errors\.not-event: msg\.payload is a string/);
    door.receive({ payload: faceEvent('1') });
    await waitFor(() => opened.length === 1 || undefined, 2000, 'the grant after the error');
  });

  it('decides each event of an array in turn', async function () {
    const door = await load({ allow: '{"camera_in": [1]}' });
    door.receive({ payload: [faceEvent('1'), faceEvent('2', { camera: 2, matched_dossier: 7 }), faceEvent('3', { matched_dossier: 8 })] });
    await waitFor(() => (opened.length === 2 && denied.length === 1) || undefined, 2000, 'two grants and a denial');
    assert.deepEqual(
      opened.map((msg) => msg.payload.personId),
      [12, 8],
    );
    assert.equal(denied[0].reason, 'not-allowed');
  });

  it('shows a configuration error in red and fails every event with it', async function () {
    const door = await load({ schedule: 'Europe/Nowhere Mon-Fri 08:00-19:00' });
    assert.equal(statuses(door)[0].fill, 'red');
    door.receive({ payload: faceEvent('1') });
    await waitFor(() => caught.length === 1 || undefined, 2000, 'the caught configuration error');
    assert.match(caught[0].error.message, /findface-access\.errors\.schedule-bad-zone/);
    assert.equal(opened.length, 0);
  });

  it("reports a filter problem in the filter node's words", async function () {
    const door = await load({ allow: '{"camera_in": 1}' });
    assert.match(statuses(door)[0].text, /findface-filter\.errors\.not-list/);
  });

  it('warns in the status when events keep arriving out of range', async function () {
    const door = await load({});
    for (let index = 0; index < 6; index++) door.receive({ payload: faceEvent(`s${index}`, { created_date: new Date(Date.now() - 63_000).toISOString() }) });
    await waitFor(() => statuses(door).slice(-1)[0]?.text?.includes('findface-access.status.skew') || undefined, 2000, 'the skew warning');
    assert.equal(statuses(door).slice(-1)[0].fill, 'red');
  });
});
