// "Who was seen": with lookupCards, the source (poll and webhook modes) adds
// the matched card's name and watch lists to msg.findface.card from the
// findface-server node's cache (GET /cards/humans/{id}/). The lookup never
// delays or drops an event: a card not yet cached (or a FindFace that fails)
// gives the event at once, without the card.
import assert from 'assert/strict';
import fs from 'fs';
import os from 'os';
import path from 'path';
import request from 'supertest';
import helper from '../support/helper';
import { sleep, waitFor } from '../support/wait';
import { FakeFindFace } from '../support/fake-findface';

const eventInModule = require('../../nodes/event-in/findface-event-in.js');
const serverNode = require('../../nodes/server/findface-server.js');

let httpNode: unknown;
function eventIn(RED: { httpNode: unknown }) {
  httpNode = RED.httpNode;
  return eventInModule(RED);
}

type Msg = { payload: Record<string, unknown>; findface: Record<string, unknown> & { card?: { id: number; name: string; watchLists: number[] } } };

describe('findface-event-in node, who was seen (lookupCards)', function () {
  this.timeout(20000);
  let fake: FakeFindFace;
  let userDir: string;

  before(() => {
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ff-cards-test-'));
    helper.settings({ userDir });
  });
  after(() => {
    helper.settings({});
    fs.rmSync(userDir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    fake = await FakeFindFace.start();
    fake.cards.set(1, { id: 1, name: 'Ann Smith', watch_lists: [1, 4] });
  });
  afterEach(async () => {
    await helper.unload();
    await fake.close();
  });

  const server = () => ({ id: 's1', type: 'findface-server', url: fake.url, externalAddress: '', timeout: 2000, rejectUnauthorized: true, ca: '' });

  async function load(source: Record<string, unknown>) {
    await helper.load(
      [serverNode, eventIn],
      [server(), { id: 'source', type: 'findface-event-in', server: 's1', lookupCards: true, wires: [['out']], ...source }, { id: 'out', type: 'helper' }],
      {
        s1: { token: fake.token },
      },
    );
    const out: Msg[] = [];
    helper.getNode('out').on('input', (msg: Msg) => out.push(msg));
    return out;
  }

  it('poll mode: the card comes with the events once it is cached; the first event is not held for it', async () => {
    fake.addEvents(1); // seq 0: matched, dossier 1
    const out = await load({ mode: 'poll', pollIntervalS: 0.1, pollFilters: '{}', startAt: 'beginning' });
    await waitFor(() => out.length === 1, 5000, 'the first event');
    assert.equal(out[0].findface.card, undefined, 'emitted at once, without waiting for the lookup');
    await waitFor(() => fake.requestsTo('/cards/humans/1/').length === 1, 5000, 'the lookup');
    await sleep(50);
    fake.addEvents(2); // seq 1 unmatched, seq 2 matched (dossier 1)
    await waitFor(() => out.length === 3, 5000, 'two more events');
    assert.deepEqual(out[2].findface.card, { id: 1, name: 'Ann Smith', watchLists: [1, 4] });
    assert.equal(out[1].findface.card, undefined, 'an unmatched face has no card');
    assert.equal(fake.requestsTo('/cards/humans/1/').length, 1, 'cached');
  });

  it('webhook mode: a FindFace that does not answer delays nothing and drops nothing', async () => {
    const out = await load({ mode: 'webhook', path: '/cards/events', maxBodyMb: 10 });
    fake.delayMs = 3000;
    const event = { id: '42', camera: 1, camera_group: 1, matched: true, matched_card: 1, matched_lists: [1] };
    const started = Date.now();
    await request(httpNode as never)
      .post('/cards/events')
      .set('Content-Type', 'application/json')
      .send(JSON.stringify([event]))
      .expect(200);
    assert.equal(out.length, 1);
    assert.ok(Date.now() - started < 1000, `answered in ${Date.now() - started} ms`);
    assert.equal(out[0].findface.card, undefined);
    fake.delayMs = 0;
  });

  it('webhook mode: the next event of the same person carries the card', async () => {
    const out = await load({ mode: 'webhook', path: '/cards/events', maxBodyMb: 10 });
    const event = (id: string) => ({ id, camera: 1, camera_group: 1, matched: true, matched_card: 1, matched_lists: [1] });
    await request(httpNode as never)
      .post('/cards/events')
      .set('Content-Type', 'application/json')
      .send(JSON.stringify([event('1')]))
      .expect(200);
    await waitFor(() => fake.requestsTo('/cards/humans/1/').some((r) => r.status === 200), 5000, 'the lookup');
    await sleep(50);
    await request(httpNode as never)
      .post('/cards/events')
      .set('Content-Type', 'application/json')
      .send(JSON.stringify([event('2')]))
      .expect(200);
    assert.deepEqual(
      out.map((m) => m.findface.card?.name),
      [undefined, 'Ann Smith'],
    );
  });
});
