// The webhook filter's edit dialog in a real browser: the form (a row per
// filter key, grouped, the Matched select) and the JSON field stay in sync
// both ways, flat or in FindFace Multi's sections; an invalid filter, typed
// in either, marks the node invalid (the red triangle on the workspace,
// `valid === false` in RED.nodes); the rules are the lib's, served from the
// package's resources/ folder.
import assert from 'assert/strict';
import fs from 'fs';
import path from 'path';
import type { Page } from 'playwright-core';
import { repoRoot } from '../support/node-red-process';
import { waitFor } from '../support/wait';
import { closeWithDone, deployFromEditor, dragFromPalette, editorSession, EditorSession, hasErrorBadge, nodeView, openEditDialog } from './support/editor';

declare const $: any;
declare const RED: any;

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

/** Clicks "add" under the form's list; the new row, as the dialog made it. */
async function addEmptyRow(page: Page) {
  const rows = page.locator('#node-input-findface-filter-list > li');
  const before = await rows.count();
  await page.locator('.node-input-findface-filter-list-row .red-ui-editableList-addButton').click();
  const row = rows.nth(before);
  await row.waitFor();
  return row;
}

async function addFormRow(page: Page, key: string, text: string): Promise<void> {
  const row = await addEmptyRow(page);
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
    // A type that is not registered is a failure, never a pending suite.
    if (!state?.registered) throw new Error(`${TYPE} is not registered: ${state?.reason}`);
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
    assert.equal(await hasErrorBadge(page, id, false), false);
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
    assert.equal(await hasErrorBadge(page, id, false), false);
    const mark = session.logMark();
    // Waits until the runtime has started the flows: a configuration error is logged before that.
    await deployFromEditor(session);
    assert.deepEqual(session.errorLinesSince(mark), []);
  });

  it('runs the rules the lib compiled, served from resources/', async () => {
    const served = await page.evaluate(async () => {
      const response = await fetch('resources/node-red-contrib-findface/filter.js');
      return { status: response.status, text: await response.text() };
    });
    assert.equal(served.status, 200);
    assert.match(served.text, /Generated by scripts\/build\.js from nodes\/lib\/filter\/filter\.js/);
    const answer = await page.evaluate(() => (window as any).FindFace.filter.parseFilters('{"face_events": {"gender_in": ["male"]}, "body_events": {}}'));
    assert.deepEqual(answer, { ok: true, value: { gender_in: ['male'] } });
  });

  it('offers every key, grouped, the common four first, and writes the new keys as FindFace takes them', async () => {
    await openEditDialog(page, id);
    await typeJson(page, '{}');
    const row = await addEmptyRow(page);
    const groups = await row
      .locator('select.findface-filter-key optgroup')
      .evaluateAll((elements) =>
        elements.map((group: any) => ({ label: group.label, keys: Array.from(group.querySelectorAll('option')).map((option: any) => option.value) })),
      );
    assert.deepEqual(groups[0], { label: 'Common', keys: ['camera_in', 'camera_group_in', 'matched_dossier_in', 'matched_lists_in'] });
    assert.deepEqual(
      groups.map((group) => group.label),
      ['Common', 'Matching', 'Face attributes', 'Head pose', 'Liveness and temperature'],
    );
    assert.equal(groups.flatMap((group) => group.keys).length, 21);
    await page.locator('#node-input-findface-filter-list > li').first().locator('.red-ui-editableList-item-remove').click();
    await waitFor(async () => (await page.locator('#node-input-findface-filter-list > li').count()) === 0, 5000, 'the removed row to go');
    await addFormRow(page, 'gender_in', 'female, male');
    await addFormRow(page, 'age_gte', '18');
    await addFormRow(page, 'headpose_yaw_angle_lte', '30');
    await addFormRow(page, 'liveness_in', 'real');
    await addFormRow(page, 'allowed_bs_types', 'realtime');
    await addFormRow(page, 'temperature_gte', '37.5');
    assert.deepEqual(await jsonField(page), {
      gender_in: ['female', 'male'],
      age_gte: 18,
      headpose_yaw_angle_lte: 30,
      liveness_in: ['real'],
      allowed_bs_types: ['realtime'],
      temperature_gte: 37.5,
    });
    const placeholder = await page.locator('#node-input-findface-filter-list > li').first().locator('input.findface-filter-value').getAttribute('placeholder');
    assert.equal(placeholder, 'female, male');
    await session.screenshot('filter-new-keys');
    await closeWithDone(page);
    const view = await nodeView(page, id);
    assert.equal(view.valid, true);
    assert.equal(
      await page.evaluate((nodeId) => RED.nodes.node(nodeId)._def.label.call(RED.nodes.node(nodeId)), id),
      'gender female,male · age ≥ 18 · yaw ≤ 30 · liveness real · tracking realtime · temperature ≥ 37.5',
    );
  });

  it('refuses a word FindFace does not use, typed in the form', async () => {
    await openEditDialog(page, id);
    await typeJson(page, '{}');
    await addFormRow(page, 'glasses_in', 'dark');
    const problem = page.locator('.findface-filter-notes .findface-filter-problem').first();
    await problem.waitFor();
    assert.match(await problem.innerText(), /"glasses_in"\[0\] is "dark": use eye, none, sun/);
    await closeWithDone(page);
    assert.equal((await nodeView(page, id)).valid, false);
  });

  it('accepts a filter pasted from FindFace Multi, edits its face_events, and keeps the other sections', async () => {
    await openEditDialog(page, id);
    await typeJson(page, '{"face_events": {"camera_group_in": [1], "matched": true}, "body_events": {}}');
    assert.deepEqual(await formRows(page), { rows: [['camera_group_in', '1']], matched: 'true' });
    await page.locator('.findface-filter-sections').waitFor({ state: 'visible' });
    await addFormRow(page, 'matched_card_in', '25');
    assert.deepEqual(await jsonField(page), { face_events: { camera_group_in: [1], matched_card_in: [25], matched: true }, body_events: {} });
    await closeWithDone(page);
    const view = await nodeView(page, id);
    assert.equal(view.valid, true);
    assert.equal(await hasErrorBadge(page, id, false), false);
  });

  it("names the section it cannot apply when Multi's default filter is pasted as it is", async () => {
    await openEditDialog(page, id);
    const defaults = fs.readFileSync(path.join(repoRoot, 'test', 'fixtures', 'multi-webhook-filter-defaults.json'), 'utf8');
    await typeJson(page, JSON.stringify(JSON.parse(defaults)));
    const problem = page.locator('.findface-filter-notes .findface-filter-problem').first();
    await problem.waitFor();
    assert.match(await problem.innerText(), /the section "body_events" filters objects this node cannot tell apart from face events/);
    // The form shows face_events as pasted: a row per key but matched.
    const faceKeys = Object.keys(JSON.parse(defaults).face_events).filter((key) => key !== 'matched');
    const rows = await waitFor(
      async () => {
        const form = await formRows(page);
        return form.rows.length === faceKeys.length ? form : undefined;
      },
      5000,
      `a row for each of the ${faceKeys.length} keys of face_events`,
    );
    assert.deepEqual(
      rows.rows.map(([key]) => key),
      faceKeys,
    );
    assert.equal(rows.matched, 'true');
    await closeWithDone(page);
    assert.equal((await nodeView(page, id)).valid, false);
    assert.equal(await hasErrorBadge(page, id), true);
  });

  describe('a new row (issue 12, item 6)', () => {
    it('is the most used key for the shape: camera_in first; then the dossier key by the name of the shape', async () => {
      await openEditDialog(page, id);
      await typeJson(page, '{}');
      const keys: string[] = [];
      for (let count = 0; count < 3; count++) keys.push(await (await addEmptyRow(page)).locator('select.findface-filter-key').inputValue());
      assert.deepEqual(keys, ['camera_in', 'camera_group_in', 'matched_dossier_in']);
      await typeJson(page, '{"face_events": {}}');
      const multiKeys: string[] = [];
      for (let count = 0; count < 3; count++) multiKeys.push(await (await addEmptyRow(page)).locator('select.findface-filter-key').inputValue());
      assert.deepEqual(multiKeys, ['camera_in', 'camera_group_in', 'matched_card_in']);
      await page.locator('#node-dialog-cancel').click();
    });

    it('warns in the row, visibly, that while empty it passes nothing; the warning goes once it has a value', async () => {
      await openEditDialog(page, id);
      await typeJson(page, '{}');
      const row = await addEmptyRow(page);
      const warning = row.locator('.findface-filter-row-warning');
      await warning.waitFor({ state: 'visible' });
      assert.equal((await warning.innerText()).trim(), 'passes nothing');
      assert.deepEqual(await jsonField(page), { camera_in: [] });
      await page.locator('.findface-filter-notes .findface-filter-warning').first().waitFor({ state: 'visible' });
      await session.screenshot('filter-empty-row');
      const value = row.locator('input.findface-filter-value');
      await value.fill('2');
      await value.press('Tab');
      await warning.waitFor({ state: 'hidden' });
      assert.deepEqual(await jsonField(page), { camera_in: [2] });
      await page.locator('#node-dialog-cancel').click();
    });

    it('shows every key label whole, in the row and in the dialog', async () => {
      await openEditDialog(page, id);
      await typeJson(page, '{}');
      const row = await addEmptyRow(page);
      const select = row.locator('select.findface-filter-key');
      const keys = await select.locator('option').evaluateAll((options) => options.map((option: any) => option.value));
      for (const key of keys) {
        await select.selectOption(key);
        const fit = await select.evaluate((element: any) => {
          const style = getComputedStyle(element);
          const context = document.createElement('canvas').getContext('2d')!;
          context.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
          const text = element.options[element.selectedIndex].text;
          const room = element.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
          return { text, need: context.measureText(text).width, room };
        });
        assert.ok(fit.need <= fit.room, `"${fit.text}" needs ${fit.need.toFixed(0)} px, the select has ${fit.room.toFixed(0)}`);
        const rowFits = await row.evaluate((element: any) => element.scrollWidth <= element.clientWidth + 1);
        assert.ok(rowFits, `the row overflows with ${key}`);
      }
      const clipped = await page.evaluate(() =>
        Array.from(document.querySelectorAll('#dialog-form label'))
          .filter((label: any) => label.offsetParent !== null && label.scrollWidth > label.clientWidth + 1)
          .map((label: any) => label.textContent.trim()),
      );
      assert.deepEqual(clipped, []);
      await page.locator('#node-dialog-cancel').click();
    });
  });
});
