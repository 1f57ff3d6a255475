// The face event source's edit dialog in a real browser: the Source select
// shows the rows of its mode only, a bad value marks the node invalid, and
// simulate mode gives the node its input port (start / stop / one event).
import assert from 'assert/strict';
import type { Page } from 'playwright-core';
import {
  closeWithDone,
  deployFromEditor,
  dragFromPalette,
  editorSession,
  EditorSession,
  hasErrorBadge,
  nodeView,
  openEditDialog,
} from './support/editor';

const TYPE = 'findface-event-in';

async function visible(page: Page, selector: string): Promise<boolean> {
  return page.locator(selector).first().isVisible();
}

async function inputPorts(page: Page, id: string): Promise<number> {
  return page.locator(`g.red-ui-flow-node-group[id="${id}"] .red-ui-flow-port-input`).count();
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
    // The URL to give FindFace, kept up to date as the path is typed.
    const url = page.locator('#findface-event-in-url');
    assert.equal(await url.innerText(), `${session.nodeRed.url}/findface/events`);
    await page.locator('#node-input-path').fill('door/events');
    assert.equal(await url.innerText(), `${session.nodeRed.url}/door/events`);
    await page.locator('#node-input-path').fill('/findface/events');
    await closeWithDone(page);
    assert.equal(await inputPorts(page, id), 0);
    assert.equal((await nodeView(page, id)).valid, true);
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
    const label = await page.locator(`g.red-ui-flow-node-group[id="${id}"] .red-ui-flow-node-label`).textContent();
    assert.equal(label?.trim(), 'simulate 5/s');
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
      await input.fill(bad);
      await closeWithDone(page);
      assert.equal((await nodeView(page, id)).valid, false, `${field} "${bad}" was accepted`);
      assert.equal(await hasErrorBadge(page, id), true);
      await openEditDialog(page, id);
      await input.fill(good);
      await closeWithDone(page);
      assert.equal((await nodeView(page, id)).valid, true);
      assert.equal(await hasErrorBadge(page, id), false);
    });
  }

  it('marks the node invalid for a camera layout that is not JSON of camera id to group id', async () => {
    await openEditDialog(page, id);
    const cameras = page.locator('#node-input-cameras + .red-ui-typedInput-container input.red-ui-typedInput-input');
    await cameras.fill('{"door": "one"}');
    await cameras.press('Tab');
    await closeWithDone(page);
    assert.equal((await nodeView(page, id)).valid, false);
    await openEditDialog(page, id);
    await cameras.fill('{"1": 1, "2": 1, "3": 2}');
    await cameras.press('Tab');
    await closeWithDone(page);
    assert.equal((await nodeView(page, id)).valid, true);
  });

  it('marks a webhook path with spaces invalid', async () => {
    await openEditDialog(page, id);
    await page.locator('#node-input-mode').selectOption('webhook');
    await page.locator('#node-input-path').fill('/find face');
    await closeWithDone(page);
    assert.equal((await nodeView(page, id)).valid, false);
    await openEditDialog(page, id);
    await page.locator('#node-input-path').fill('/findface/editor-test');
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
