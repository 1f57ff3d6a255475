// Door access in a real browser, as a user sets up a door: the node and a
// face event source dragged in from the palette and wired with the mouse, its
// allow filter and schedule typed into the dialog (a schedule the dialog
// cannot read marks the field invalid), deployed with Deploy; then events
// posted to the source, and the dialog's audit table shows each decision
// (granted, held, denied with its reason), newest first, with the face image
// where the event has one (served here, so the browser really loads it).
import assert from 'assert/strict';
import http from 'http';
import type { AddressInfo } from 'net';
import type { Page } from 'playwright-core';
import { waitFor } from '../support/wait';
import {
  closeWithDone,
  importNodes,
  removeNode,
  deployFromEditor,
  dragFromPalette,
  editorSession,
  EditorSession,
  fillAndLeave,
  hasErrorBadge,
  hasInputError,
  nodeView,
  openEditDialog,
  UI_TIMEOUT_MS,
  waitForStatus,
} from './support/editor';

declare const $: any;
declare const RED: any;

const TYPE = 'findface-access';
const SOURCE_PATH = '/editor-door/events';
const DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
// A 1×1 PNG.
const FACE_PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');

/** Today's weekday in Moscow, 0 = Monday. */
function moscowDay(): number {
  const name = new Intl.DateTimeFormat('en-US', { timeZone: 'Europe/Moscow', weekday: 'short' }).format(new Date());
  return DAYS.indexOf(name);
}

interface AuditRow {
  person: string;
  camera: string;
  decision: string;
  reason: string;
  confidence: string;
  /** The face image's src, and whether the browser loaded it; null: no image in the row. */
  image: { src: string; loaded: boolean } | null;
}

/** The audit table of the open dialog, once it has `count` rows of decisions. */
async function auditRows(page: Page, count: number): Promise<AuditRow[]> {
  return waitFor(
    async () => {
      const rows = (await page.evaluate(() =>
        $('#findface-access-audit tbody tr')
          .map(function (this: any) {
            const cells = $(this).children('td');
            if (cells.length !== 7) return null;
            const img = cells.eq(6).find('img')[0];
            return {
              person: cells.eq(1).text(),
              camera: cells.eq(2).text(),
              decision: cells.eq(3).text(),
              reason: cells.eq(4).text(),
              confidence: cells.eq(5).text(),
              image: img ? { src: String(img.getAttribute('src')), loaded: img.complete && img.naturalWidth > 0 } : null,
            };
          })
          .get(),
      )) as AuditRow[];
      // Rows are there, and every image in them has loaded.
      return rows.length === count && rows.every((row) => row.image === null || row.image.loaded) ? rows : undefined;
    },
    UI_TIMEOUT_MS,
    `${count} decisions in the audit table`,
  );
}

/** Drags a wire with the mouse from a node's output port to another's input port. */
async function wireWithMouse(page: Page, from: string, to: string): Promise<void> {
  const output = await page.locator(`#red-ui-workspace-chart g.red-ui-flow-node-group[id="${from}"] .red-ui-flow-port-output`).first().boundingBox();
  const input = await page.locator(`#red-ui-workspace-chart g.red-ui-flow-node-group[id="${to}"] .red-ui-flow-port-input`).first().boundingBox();
  if (!output || !input) throw new Error('a port to wire is not visible');
  await page.mouse.move(output.x + output.width / 2, output.y + output.height / 2);
  await page.mouse.down();
  await page.mouse.move(input.x + input.width / 2, input.y + input.height / 2, { steps: 12 });
  await page.mouse.up();
}

describe('editor: door access', function () {
  this.timeout(90000);
  let session: EditorSession;
  let page: Page;
  let door: string;
  let source: string;
  let images: http.Server;
  let imageBase: string;
  let posted = 0;

  /** POSTs one event to the source, dated now. */
  async function post(fields: Record<string, unknown>): Promise<void> {
    posted++;
    const event = { id: `editor-door-${posted}`, camera: 3, confidence: 0.91, created_date: new Date().toISOString(), ...fields };
    const answer = await fetch(`${session.nodeRed.url}${SOURCE_PATH}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify([event]),
    });
    assert.equal(answer.status, 200, await answer.text());
  }

  before(async function () {
    this.timeout(120000);
    images = http.createServer((req, res) => {
      res.writeHead(200, { 'Content-Type': 'image/png', 'Content-Length': FACE_PNG.length }).end(FACE_PNG);
    });
    await new Promise<void>((resolve) => images.listen(0, '127.0.0.1', resolve));
    imageBase = `http://127.0.0.1:${(images.address() as AddressInfo).port}`;
    session = await editorSession();
    await session.requireRegistered(TYPE, 'findface-event-in');
    page = await session.editorPage();
    door = await dragFromPalette(page, TYPE, { x: 420, y: 180 });
    source = await dragFromPalette(page, 'findface-event-in', { x: 180, y: 180 });
    await openEditDialog(page, source);
    await fillAndLeave(page.locator('#node-input-path'), SOURCE_PATH);
    await closeWithDone(page);
    assert.equal((await nodeView(page, source)).valid, true, 'the source is invalid');
  });

  after(async function () {
    images?.closeAllConnections();
    images?.close();
  });

  it('is wired from a source with the mouse, and takes the allow filter and a schedule in its dialog', async () => {
    await wireWithMouse(page, source, door);
    const wired = await page.evaluate(({ from, to }) => RED.nodes.filterLinks({ source: { id: from }, target: { id: to } }).length, { from: source, to: door });
    assert.equal(wired, 1, 'no wire from the source to the door');

    await openEditDialog(page, door);
    await fillAndLeave(page.locator('#node-input-door'), 'Editor door');
    await fillAndLeave(page.locator('#node-input-allow'), '{"matched": true, "matched_lists_in": [5]}');
    await fillAndLeave(page.locator('#node-input-cooldownS'), '60');
    await fillAndLeave(page.locator('#node-input-schedule'), 'Mars/Olympus Mon-Fri 08:00-19:00');
    assert.equal(await hasInputError(page, 'node-input-schedule'), true, 'an unknown time zone was accepted');
    await fillAndLeave(page.locator('#node-input-schedule'), 'Europe/Moscow Mon-Fri 08:00-25:00');
    assert.equal(await hasInputError(page, 'node-input-schedule'), true, 'a time past 24:00 was accepted');
    // A window three days from today's Moscow date: closed now, whichever day the test runs on.
    const closed = `Europe/Moscow ${DAYS[(moscowDay() + 3) % 7]} 10:00-11:00`;
    await fillAndLeave(page.locator('#node-input-schedule'), closed);
    assert.equal(await hasInputError(page, 'node-input-schedule'), false, `${closed} was refused`);
    await closeWithDone(page);
    const view = await nodeView(page, door);
    assert.equal(view.valid, true);
    assert.equal(await hasErrorBadge(page, door), false);
    assert.deepEqual(
      [view.props.door, view.props.allow, Number(view.props.cooldownS), view.props.schedule],
      ['Editor door', '{"matched": true, "matched_lists_in": [5]}', 60, closed],
    );
  });

  it('after Deploy, its audit table shows an event refused by the schedule, with the face image', async () => {
    const mark = session.logMark();
    await deployFromEditor(session);
    await waitForStatus(page, door, (status) => /Editor door: no event yet/.test(status.text ?? ''), 'the door waiting for events');
    await post({ matched: true, matched_dossier: 7, matched_lists: [5], face: `${imageBase}/face-7.png` });
    await waitForStatus(page, door, (status) => /schedule/.test(status.text ?? ''), 'the door denying by schedule');
    await openEditDialog(page, door);
    const rows = await auditRows(page, 1);
    assert.deepEqual(rows, [
      { person: '7', camera: '3', decision: 'denied', reason: 'schedule', confidence: '0.91', image: { src: `${imageBase}/face-7.png`, loaded: true } },
    ]);
    await session.screenshot('access-audit-schedule');
    await closeWithDone(page);
    assert.deepEqual(session.errorLinesSince(mark), []);
  });

  it('with the schedule open, shows each decision newest first: granted, held by the cooldown, denied by the allow filter', async () => {
    await openEditDialog(page, door);
    // Yesterday to tomorrow in Moscow: open now, even across a midnight during the test.
    const today = moscowDay();
    const open = `Europe/Moscow ${DAYS[(today + 6) % 7]}-${DAYS[(today + 1) % 7]} 00:00-24:00`;
    await fillAndLeave(page.locator('#node-input-schedule'), open);
    assert.equal(await hasInputError(page, 'node-input-schedule'), false, `${open} was refused`);
    await closeWithDone(page);
    const mark = session.logMark();
    await deployFromEditor(session);
    await waitForStatus(page, door, (status) => /Editor door: no event yet/.test(status.text ?? ''), 'the redeployed door waiting for events');

    await post({ matched: true, matched_dossier: 7, matched_lists: [5], face: `${imageBase}/face-7b.png` });
    await waitForStatus(page, door, (status) => /opened for 7/.test(status.text ?? ''), 'the door opened for 7');
    await post({ matched: true, matched_dossier: 7, matched_lists: [5], thumbnail: `${imageBase}/face-7c.png` });
    await post({ matched: true, matched_dossier: 8, matched_lists: [9] });
    await post({ matched: false, matched_dossier: null, matched_lists: [], face: `${imageBase}/stranger.png` });

    await openEditDialog(page, door);
    const rows = await auditRows(page, 5);
    assert.deepEqual(
      rows.map((row) => [row.person, row.decision, row.reason, row.image?.src ?? null]),
      [
        ['-', 'denied', 'not-allowed', `${imageBase}/stranger.png`],
        ['8', 'denied', 'not-allowed', null],
        ['7', 'cooldown', 'cooldown', `${imageBase}/face-7c.png`],
        ['7', 'granted', '', `${imageBase}/face-7b.png`],
        // The trail is the node's (its id), so the decision of the run before the redeploy is still there.
        ['7', 'denied', 'schedule', `${imageBase}/face-7.png`],
      ],
    );
    assert.ok(
      rows.every((row) => row.image === null || row.image.loaded),
      'a face image did not load',
    );
    await session.screenshot('access-audit');
    await closeWithDone(page);
    assert.deepEqual(session.errorLinesSince(mark), []);
  });

  it('takes a node saved without allow (the default, as at runtime), and refuses an allow filter the filter node refuses, in its words', async () => {
    const [saved, unknownKey, wrongType] = await importNodes(page, [
      { type: TYPE, door: 'saved without allow' },
      { type: TYPE, door: 'unknown key', allow: '{"matched_person_in": [1]}' },
      { type: TYPE, door: 'list for matched', allow: '{"matched": [true]}' },
    ]);
    try {
      const views = await page.evaluate(
        (ids) => ids.map((id: string) => ({ valid: RED.nodes.node(id).valid !== false, errors: (RED.nodes.node(id).validationErrors ?? []).join(' ') })),
        [saved, unknownKey, wrongType],
      );
      assert.equal(views[0].valid, true, `saved without allow: ${views[0].errors}`);
      assert.equal(views[1].valid, false, 'an unknown key passes the editor');
      assert.match(views[1].errors, /matched_person_in/);
      assert.equal(views[2].valid, false, 'a list for matched passes the editor');
      assert.equal(await hasErrorBadge(page, unknownKey), true);
    } finally {
      for (const id of [saved, unknownKey, wrongType]) await removeNode(page, id);
    }
  });
});
