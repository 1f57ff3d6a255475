// The webhook filter's edit dialog in a real browser: the form (a row per
// filter key, the Matched select) and the JSON field stay in sync both ways,
// and an invalid filter, typed in either, marks the node invalid (the red
// triangle on the workspace, `valid === false` in RED.nodes).
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

declare const $: any;

const TYPE = 'findface-filter';

async function jsonField(page: Page): Promise<unknown> {
  const text: string = await page.evaluate(() => $('#node-input-filters').typedInput('value'));
  return JSON.parse(text);
}

async function typeJson(page: Page, json: string): Promise<void> {
  // The typedInput's visible field; #node-input-filters itself is hidden.
  const field = page.locator('#node-input-filters + .red-ui-typedInput-container input.red-ui-typedInput-input');
  await field.fill(json);
  await field.press('Tab');
}

/** The form as [key, text] rows plus the Matched select. */
async function formRows(page: Page): Promise<{ rows: Array<[string, string]>; matched: string }> {
  const rows = page.locator('#node-input-findface-filter-list > li');
  const result: Array<[string, string]> = [];
  for (const row of await rows.all()) {
    result.push([await row.locator('select.findface-filter-key').inputValue(), await row.locator('input.findface-filter-value').inputValue()]);
  }
  return { rows: result, matched: await page.locator('#node-input-findface-matched').inputValue() };
}

async function addFormRow(page: Page, key: string, text: string): Promise<void> {
  const rows = page.locator('#node-input-findface-filter-list > li');
  const before = await rows.count();
  await page.locator('.node-input-findface-filter-list-row .red-ui-editableList-addButton').click();
  const row = rows.nth(before);
  await row.waitFor();
  await row.locator('select.findface-filter-key').selectOption(key);
  const value = row.locator('input.findface-filter-value');
  await value.fill(text);
  await value.press('Tab');
}

describe('editor: the webhook filter dialog', function () {
  this.timeout(60000);
  let session: EditorSession;
  let page: Page;
  let id: string;

  before(async function () {
    this.timeout(120000);
    session = await editorSession();
    const state = (await session.typeStates()).get(TYPE);
    if (!state?.registered) {
      this.test!.parent!.title += ` (pending: ${state?.reason})`;
      this.skip();
    }
    page = await session.editorPage();
    id = await dragFromPalette(page, TYPE, { x: 300, y: 160 });
  });

  it('writes the form into the JSON field as it is filled in', async () => {
    await openEditDialog(page, id);
    assert.deepEqual(await jsonField(page), {});
    await addFormRow(page, 'camera_group_in', '1, 3');
    await addFormRow(page, 'matched_dossier_in', '12,25');
    await page.locator('#node-input-findface-matched').selectOption('true');
    // The seed's example filter, plus matched.
    assert.deepEqual(await jsonField(page), { camera_group_in: [1, 3], matched_dossier_in: [12, 25], matched: true });
    await session.screenshot('filter-form-to-json');
    await closeWithDone(page);
    const view = await nodeView(page, id);
    assert.deepEqual(JSON.parse(view.props.filters as string), { camera_group_in: [1, 3], matched_dossier_in: [12, 25], matched: true });
    assert.equal(view.valid, true);
    assert.equal(await hasErrorBadge(page, id), false);
  });

  it('reads the JSON field back into the form, and shows the saved filter when reopened', async () => {
    await openEditDialog(page, id);
    assert.deepEqual(await formRows(page), {
      rows: [
        ['camera_group_in', '1, 3'],
        ['matched_dossier_in', '12, 25'],
      ],
      matched: 'true',
    });
    await typeJson(page, '{"camera_in": [2, 7], "matched": false, "confidence_gte": 0.8}');
    assert.deepEqual(await formRows(page), {
      rows: [
        ['camera_in', '2, 7'],
        ['confidence_gte', '0.8'],
      ],
      matched: 'false',
    });
    await closeWithDone(page);
    const view = await nodeView(page, id);
    assert.deepEqual(JSON.parse(view.props.filters as string), { camera_in: [2, 7], matched: false, confidence_gte: 0.8 });
    assert.equal(view.valid, true);
  });

  for (const [how, bad, problem] of [
    ['JSON: a list key given one number', '{"camera_group_in": 1}', /takes a list/],
    ['JSON: matched given a list', '{"matched": [true]}', /one boolean/],
    ['JSON: an unknown key', '{"camera_group": [1]}', /unknown filter "camera_group"/],
    ['JSON: not JSON at all', '{camera_in: [1]', /not valid JSON/],
  ] as const) {
    it(`marks the node invalid for an invalid filter (${how})`, async () => {
      await openEditDialog(page, id);
      await typeJson(page, bad);
      const notes = page.locator('.findface-filter-notes .findface-filter-problem');
      await notes.first().waitFor();
      assert.match(await notes.first().innerText(), problem);
      await closeWithDone(page);
      const view = await nodeView(page, id);
      assert.equal(view.props.filters, bad);
      assert.equal(view.valid, false, `${bad} was accepted`);
      assert.equal(await hasErrorBadge(page, id), true, 'no red triangle on the workspace');
    });
  }

  it('marks the node invalid for an invalid filter typed in the form (an id that is not a number)', async () => {
    await openEditDialog(page, id);
    await typeJson(page, '{}');
    await addFormRow(page, 'camera_in', '1, two');
    assert.match(await page.locator('.findface-filter-notes .findface-filter-problem').first().innerText(), /whole numbers/);
    await session.screenshot('filter-invalid');
    await closeWithDone(page);
    assert.equal((await nodeView(page, id)).valid, false);
    assert.equal(await hasErrorBadge(page, id), true);
  });

  it('is valid again once mended, and deploys with no error in the log', async () => {
    await openEditDialog(page, id);
    await typeJson(page, '{"camera_group_in": [1, 3], "matched_dossier_in": [12, 25]}');
    await closeWithDone(page);
    assert.equal((await nodeView(page, id)).valid, true);
    assert.equal(await hasErrorBadge(page, id), false);
    const mark = session.logMark();
    await deployFromEditor(session);
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.deepEqual(session.errorLinesSince(mark), []);
  });
});
