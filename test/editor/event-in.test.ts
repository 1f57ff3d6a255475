// The face event source's edit dialog in a real browser: the Source select
// shows the rows of its mode only and the fields of the mode chosen in the
// dialog are validated at once; a bad value marks the node invalid; the URL
// to give FindFace has a placeholder host, never the browser's; simulate and
// poll mode give the node its input port, and the help says what it does.
import assert from 'assert/strict';
import type { Page } from 'playwright-core';
import {
  closeWithCancel,
  closeWithDone,
  deployFromEditor,
  dragFromPalette,
  editorSession,
  EditorSession,
  fillAndLeave,
  fillTypedInput,
  hasErrorBadge,
  hasInputError,
  helpSection,
  importNodes,
  nodeView,
  removeNode,
  waitForInputError,
  openEditDialog,
  workspaceLabel,
} from './support/editor';

const TYPE = 'findface-event-in';

async function visible(page: Page, selector: string): Promise<boolean> {
  return page.locator(selector).first().isVisible();
}

async function inputPorts(page: Page, id: string): Promise<number> {
  return page.locator(`g.red-ui-flow-node-group[id="${id}"] .red-ui-flow-port-input`).count();
}

/** Whether the dialog marks the field invalid. */
function marked(page: Page, field: string): Promise<boolean> {
  return hasInputError(page, `node-input-${field}`);
}

/** Types into a dialog field and leaves it (the editor validates on change). */
function type(page: Page, field: string, text: string): Promise<void> {
  return fillAndLeave(page.locator(`#node-input-${field}`), text);
}

describe('editor: the face event source dialog', function () {
  this.timeout(60000);
  let session: EditorSession;
  let page: Page;
  let id: string;

  before(async function () {
    this.timeout(120000);
    session = await editorSession();
    await session.requireRegistered(TYPE);
    page = await session.editorPage();
    id = await dragFromPalette(page, TYPE, { x: 260, y: 140 });
  });

  it('shows the webhook rows in webhook mode (the default), and no input port', async () => {
    await openEditDialog(page, id);
    assert.equal(await page.locator('#node-input-mode').inputValue(), 'webhook');
    assert.equal(await visible(page, '#node-input-path'), true);
    assert.equal(await visible(page, '#node-input-rate'), false);
    await closeWithDone(page);
    assert.equal(await inputPorts(page, id), 0);
    assert.equal((await nodeView(page, id)).valid, true);
  });

  it("shows the URL to give FindFace with a placeholder host, never the browser's, kept up to date as the path is typed", async () => {
    await openEditDialog(page, id);
    const url = page.locator('#findface-event-in-url');
    // The editor runs on 127.0.0.1 here: a URL with it would point FindFace at itself.
    const port = session.nodeRed.port;
    assert.equal(await url.innerText(), `http://<node-red-host>:${port}/findface/events`);
    await type(page, 'path', 'door/events');
    assert.equal(await url.innerText(), `http://<node-red-host>:${port}/door/events`);
    await type(page, 'secret', 's3cret');
    // The secret itself is never shown: FindFace gets it in the query.
    assert.equal(await url.innerText(), `http://<node-red-host>:${port}/door/events?token=<secret>`);
    assert.doesNotMatch(await url.innerText(), /127\.0\.0\.1|localhost/);
    await closeWithCancel(page);
  });

  it('switches to the simulate rows, takes an input port, and is labelled by its rate', async () => {
    await openEditDialog(page, id);
    await page.locator('#node-input-mode').selectOption('simulate');
    assert.equal(await visible(page, '#node-input-path'), false);
    assert.equal(await visible(page, '#node-input-rate'), true);
    assert.equal(await visible(page, '#node-input-cameras + .red-ui-typedInput-container'), true);
    await page.locator('#node-input-rate').fill('5');
    await session.screenshot('event-in-simulate-dialog');
    await closeWithDone(page);
    const view = await nodeView(page, id);
    assert.equal(view.props.mode, 'simulate');
    assert.equal(Number(view.props.rate), 5);
    assert.equal(view.valid, true);
    assert.equal(await inputPorts(page, id), 1);
    assert.equal(await workspaceLabel(page, id), 'simulate 5/s');
  });

  for (const [field, bad] of [
    ['rate', '0'],
    ['matchedRatio', '1.5'],
    ['dossiers', '12; 25'],
  ] as const) {
    it(`marks the node invalid for ${field} "${bad}", and valid again once mended`, async () => {
      await openEditDialog(page, id);
      const input = page.locator(`#node-input-${field}`);
      const good = await input.inputValue();
      await type(page, field, bad);
      assert.equal(await marked(page, field), true, `the dialog does not mark ${field} "${bad}"`);
      await closeWithDone(page);
      assert.equal((await nodeView(page, id)).valid, false, `${field} "${bad}" was accepted`);
      assert.equal(await hasErrorBadge(page, id), true);
      await openEditDialog(page, id);
      await type(page, field, good);
      assert.equal(await marked(page, field), false);
      await closeWithDone(page);
      assert.equal((await nodeView(page, id)).valid, true);
      assert.equal(await hasErrorBadge(page, id, false), false);
    });
  }

  it('marks the node invalid for a camera layout that is not JSON of camera id to group id', async () => {
    await openEditDialog(page, id);
    await fillTypedInput(page, 'node-input-cameras', '{"door": "one"}');
    assert.equal(await hasInputError(page, 'node-input-cameras'), true);
    await closeWithDone(page);
    assert.equal((await nodeView(page, id)).valid, false);
    await openEditDialog(page, id);
    await fillTypedInput(page, 'node-input-cameras', '{"1": 1, "2": 1, "3": 2}');
    await closeWithDone(page);
    assert.equal((await nodeView(page, id)).valid, true);
  });

  it('validates the fields of the Source chosen in the dialog at once, before Done (not those of the saved one)', async () => {
    // Valid as saved (webhook): the simulate rate and the poll server do not count in webhook mode.
    const [saved] = await importNodes(page, [{ type: TYPE, mode: 'webhook', path: '/findface/mode-switch', maxBodyMb: 10, rate: 0, server: '', inputs: 0 }]);
    try {
      assert.equal((await nodeView(page, saved)).valid, true);
      await openEditDialog(page, saved);
      assert.equal(await marked(page, 'rate'), false);
      await page.locator('#node-input-mode').selectOption('simulate');
      assert.equal(await marked(page, 'rate'), true, 'rate 0 is not marked once Simulate is chosen');
      await page.locator('#node-input-mode').selectOption('poll');
      assert.equal(await marked(page, 'rate'), false, 'rate is still marked in poll mode');
      assert.equal(await marked(page, 'server'), true, 'poll without a server is not marked once Poll is chosen');
      await session.screenshot('event-in-poll-without-server');
      await page.locator('#node-input-mode').selectOption('webhook');
      assert.equal(await marked(page, 'server'), false);
      // A bad path counts again once Webhook is back.
      await type(page, 'path', '/find face');
      assert.equal(await marked(page, 'path'), true);
      await page.locator('#node-input-mode').selectOption('simulate');
      assert.equal(await marked(page, 'path'), false, 'the webhook path is still marked in simulate mode');
      await closeWithCancel(page);
      assert.equal((await nodeView(page, saved)).valid, true, 'Cancel changed the node');
    } finally {
      await removeNode(page, saved);
    }
  });

  it('marks a poll node without a server invalid, in the dialog and on the workspace', async () => {
    const [poll] = await importNodes(page, [
      { type: TYPE, mode: 'poll', path: '/findface/events', maxBodyMb: 10, server: '', pollIntervalS: 5, pollFilters: '{}', inputs: 1 },
    ]);
    try {
      assert.equal((await nodeView(page, poll)).valid, false, 'a poll node without a server is valid');
      assert.equal(await hasErrorBadge(page, poll), true);
      await openEditDialog(page, poll);
      await waitForInputError(page, 'node-input-server');
      await closeWithCancel(page);
    } finally {
      await removeNode(page, poll);
    }
  });

  it('gives a poll node an input port, which the help describes for poll as well as simulate mode', async () => {
    await openEditDialog(page, id);
    await page.locator('#node-input-mode').selectOption('poll');
    await closeWithDone(page);
    assert.equal(await inputPorts(page, id), 1);
    assert.equal((await nodeView(page, id)).valid, false, 'poll without a server');
    const inputs = await helpSection(page, TYPE, 'Inputs');
    assert.match(inputs, /Simulate/);
    assert.match(inputs, /Poll: any message, whatever it holds, polls the server now/);
    assert.match(inputs, /authentication error/);
    assert.match(inputs, /no input/, 'the help does not say webhook mode has no input');
    // What the user sees, not how the request body is read.
    const details = await helpSection(page, TYPE, 'Details');
    assert.doesNotMatch(details, /body.?parser|raw bod|httpAdminRoot|before Node-RED's other/i);
  });

  it('marks a webhook path with spaces invalid', async () => {
    await openEditDialog(page, id);
    await page.locator('#node-input-mode').selectOption('webhook');
    await type(page, 'path', '/find face');
    await closeWithDone(page);
    assert.equal((await nodeView(page, id)).valid, false);
    await openEditDialog(page, id);
    await type(page, 'path', '/findface/editor-test');
    await closeWithDone(page);
    assert.equal((await nodeView(page, id)).valid, true);
    assert.equal(await inputPorts(page, id), 0);
  });

  it('deploys, with no error in the log', async () => {
    const mark = session.logMark();
    await deployFromEditor(session);
    const answer = await fetch(`${session.nodeRed.url}/findface/editor-test`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify([{ id: '1', camera: 2 }]),
    });
    assert.equal(answer.status, 200, 'the deployed source does not serve its path');
    assert.deepEqual(session.errorLinesSince(mark), []);
  });
});
