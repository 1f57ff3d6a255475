// The webhook source's status after one stray rejected request: yellow with
// the count at once, green again when the fade (lib/source/rejection-fade.ts)
// has run out, on a fake clock given to the fade (no minute-long sleep).
import assert from 'assert/strict';
import request from 'supertest';
import helper from '../support/helper';
import { sleep, waitFor } from '../support/wait';
import { seedEvent } from '../fixtures/events';
import { steppingClock, SteppingClock } from '../support/stepping-clock';
import { REJECTION_FADE_MS, rejectionFadeDefaults } from '../../nodes/lib/source/rejection-fade';
import { systemClock } from '../../nodes/lib/common/clock';

const eventInModule = require('../../nodes/event-in/findface-event-in.js');

let httpNode: any;
function eventIn(RED: any) {
  httpNode = RED.httpNode;
  return eventInModule(RED);
}

type Status = { fill?: string; shape?: string; text?: string };

function lastStatus(): Status {
  const node = helper.getNode('in');
  const calls = node.status.getCalls().filter((call: any) => call.thisValue === node);
  return calls.length ? calls[calls.length - 1].args[0] : {};
}

describe('findface-event-in webhook mode: the rejected status fades', function () {
  this.timeout(10000);
  let clock: SteppingClock;
  before(() => helper.startServer());
  after(() => helper.stopServer());
  beforeEach(() => {
    clock = steppingClock();
    rejectionFadeDefaults.clock = clock;
  });
  afterEach(async () => {
    await helper.unload();
    rejectionFadeDefaults.clock = systemClock;
  });

  it('one stray GET turns the status yellow, and it is green again after the fade time', async () => {
    await helper.load(eventIn, [{ id: 'in', type: 'findface-event-in', mode: 'webhook', path: '/findface/fade', wires: [[]] }]);
    await waitFor(() => lastStatus().fill === 'green', 3000, 'the first green status');
    const stray = await request(httpNode).get('/findface/fade');
    assert.equal(stray.status, 405);
    const yellow = await waitFor(() => (lastStatus().fill === 'yellow' ? lastStatus() : undefined), 3000, 'a yellow status');
    assert.match(String(yellow.text), /rejected/);

    // Still within the fade: an accepted batch keeps it yellow.
    clock.fake.tick(REJECTION_FADE_MS - 1);
    const ok = await request(httpNode)
      .post('/findface/fade')
      .set('Content-Type', 'application/json')
      .send(JSON.stringify([seedEvent]));
    assert.equal(ok.status, 200);
    // The status is redrawn at most every 500 ms: wait past that, then it must still be yellow.
    await sleep(600);
    assert.equal(lastStatus().fill, 'yellow');

    clock.fake.tick(1);
    const green = await waitFor(() => (lastStatus().fill === 'green' ? lastStatus() : undefined), 3000, 'green after the fade');
    assert.doesNotMatch(String(green.text), /rejected/);
    assert.equal(clock.fake.countTimers(), 0, 'no fade timer left');
  });

  it('stops its fade timer on close', async () => {
    await helper.load(eventIn, [{ id: 'in', type: 'findface-event-in', mode: 'webhook', path: '/findface/fade', wires: [[]] }]);
    assert.equal((await request(httpNode).get('/findface/fade')).status, 405);
    assert.equal(clock.fake.countTimers(), 1);
    await helper.unload();
    assert.equal(clock.fake.countTimers(), 0);
  });
});
