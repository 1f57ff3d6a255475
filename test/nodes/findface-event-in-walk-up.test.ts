// The simulate source's walk-up pattern in a flow: bursts per person, each
// frame a valid event dated now, and the door access node behind it opening
// once per person on the lists.
import assert from 'assert/strict';
import fs from 'fs';
import os from 'os';
import path from 'path';
import helper from '../support/helper';
import { waitFor } from '../support/wait';
import { eventProblem } from '../../nodes/lib/event/event';

const eventInNode = require('../../nodes/event-in/findface-event-in.js');
const accessNode = require('../../nodes/access/findface-access.js');

describe('findface-event-in simulate, walk-up pattern', function () {
  let userDir: string;
  beforeEach(() => {
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ff-walkup-test-'));
    helper.settings({ userDir });
  });
  afterEach(async () => {
    await helper.unload();
    helper.settings({});
    fs.rmSync(userDir, { recursive: true, force: true });
  });

  it('sends bursts of frames that a door access node turns into one open per person', async function () {
    const flow = [
      { id: 'tab', type: 'tab', label: 'test' },
      {
        id: 'walk',
        type: 'findface-event-in',
        z: 'tab',
        mode: 'simulate',
        simulation: 'walk-up',
        rate: 100,
        seed: '11',
        cameras: '{"1": 1}',
        dossiers: '1, 2, 3, 4, 5, 6, 7, 8',
        matchedRatio: 0.6,
        shape: 'ffs4',
        autostart: true,
        wires: [['door', 'events']],
      },
      { id: 'door', type: 'findface-access', z: 'tab', door: 'Lobby', cooldownS: 30, maxAgeS: 5, wires: [['opens'], []] },
      { id: 'events', type: 'helper', z: 'tab' },
      { id: 'opens', type: 'helper', z: 'tab' },
    ];
    const events: any[] = [];
    const opens: any[] = [];
    await helper.load([eventInNode, accessNode], flow);
    helper.getNode('events').on('input', (msg: any) => events.push(msg.payload));
    helper.getNode('opens').on('input', (msg: any) => opens.push(msg.payload));
    // Bursts last 1-2 s: by 300 frames at 100/s, people have finished walking up.
    await waitFor(() => events.length >= 300 || undefined, 8000, '300 simulated frames');
    helper.getNode('walk').receive({ payload: 'stop' });
    for (const event of events) assert.equal(eventProblem(event), null);
    assert.ok(events.some((event) => event.bs_type === 'realtime') && events.some((event) => event.bs_type === 'overall'));
    const people = new Set(events.filter((event) => event.matched_dossier !== null).map((event) => event.matched_dossier));
    const openedFor = opens.map((open) => open.personId);
    // Every open is for a person on the lists, at most once each within the cooldown.
    assert.equal(new Set(openedFor).size, openedFor.length);
    for (const person of openedFor) assert.ok(people.has(person));
    assert.ok(opens.length >= 1);
    assert.ok(events.length > opens.length * 2, 'several frames per open');
  });
});
