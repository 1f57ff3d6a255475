// The editor in Russian (the browser's language), on a Node-RED whose HTTP
// nodes are under httpNodeRoot /api: every label of our dialogs is Russian
// and fits its box in every mode; the help of every node has the headings of
// its English help in the same Russian words, and Russian property types;
// the source's URL for FindFace has the root and a Russian placeholder host,
// and serves once deployed.
import assert from 'assert/strict';
import type { Page } from 'playwright-core';
import {
  closeConfigWithCancel,
  closeWithCancel,
  closeWithDone,
  deployFromEditor,
  dialogLabels,
  dragFromPalette,
  editorSession,
  EditorSession,
  fillAndLeave,
  helpOutline,
  HelpOutline,
  openConfigDialog,
  openEditDialog,
  overflowingLabels,
  PALETTE_LABELS,
  removeNode,
  russianEditorWithNodeRoot,
} from './support/editor';

declare const RED: any;

/** The help sections, in this order, and their Russian words (as core Node-RED's translators and the filter use them). */
const SECTIONS: Array<[string, string]> = [
  ['Inputs', 'Входные данные'],
  ['Outputs', 'Выходные данные'],
  ['Properties', 'Свойства'],
  ['Details', 'Подробности'],
  ['References', 'Ссылки'],
];

/** Nodes whose help files are this package's editor's (the filter's help has its own owner; its headings are checked all the same). */
const TRANSLATED_TYPES = ['findface-event-in', 'findface-webhook', 'findface-server'];

/** Labels that are the same in every language (names of formats, protocols and products). */
const INTERNATIONAL = new Set(['URL', 'JSON', 'TLS', 'Redis']);

/** Each way a dialog shows other rows: the event source's Source, the webhook's Authentication. */
const DIALOG_VARIANTS: Array<{ type: string; select?: string; values: string[] }> = [
  { type: 'findface-event-in', select: '#node-input-mode', values: ['webhook', 'simulate', 'poll'] },
  { type: 'findface-webhook', select: '#node-input-authType', values: ['none', 'basic', 'bearer'] },
];

function notRussian(labels: string[]): string[] {
  return labels.filter((label) => !/[А-Яа-яЁё]/.test(label) && !INTERNATIONAL.has(label));
}

describe('editor: in Russian, with httpNodeRoot /api', function () {
  this.timeout(60000);
  let english: EditorSession;
  let russian: EditorSession;
  let page: Page;

  before(async function () {
    this.timeout(180000);
    [english, russian] = await Promise.all([editorSession(), russianEditorWithNodeRoot()]);
    await russian.requireRegistered(...Object.keys(PALETTE_LABELS), 'findface-server');
    page = await russian.editorPage();
    assert.equal(await page.evaluate(() => RED.i18n.lang()), 'ru');
  });

  for (const { type, select, values } of DIALOG_VARIANTS) {
    it(`${type}: every label is Russian and fits its box, in every variant of the dialog`, async () => {
      const id = await dragFromPalette(page, type, { x: 300, y: 120 + 60 * DIALOG_VARIANTS.findIndex((v) => v.type === type) });
      await openEditDialog(page, id);
      try {
        for (const value of values) {
          if (select) await page.locator(select).selectOption(value);
          const labels = await dialogLabels(page);
          assert.ok(labels.length > 3, `no labels found in ${type} (${value})`);
          assert.deepEqual(notRussian(labels), [], `${type} (${value}): labels not in Russian`);
          assert.deepEqual(await overflowingLabels(page), [], `${type} (${value}): labels cut off`);
        }
        await russian.screenshot(`russian-${type}-dialog`);
      } finally {
        await closeWithCancel(page);
        await removeNode(page, id);
      }
    });
  }

  it('findface-server: every label is Russian and fits its box', async () => {
    const server = 'f5e7e70000000002';
    await page.evaluate((id) => RED.nodes.import([{ id, type: 'findface-server', name: '', url: 'http://findface.example', users: [] }]), server);
    try {
      await openConfigDialog(page, server);
      const labels = await dialogLabels(page);
      assert.deepEqual(notRussian(labels), [], 'labels not in Russian');
      assert.deepEqual(await overflowingLabels(page), [], 'labels cut off');
      await closeConfigWithCancel(page);
    } finally {
      await page.evaluate((id) => RED.nodes.remove(id), server);
    }
  });

  it('the help of every node has the sections of its English help, in the same Russian words, and as many subsections', async () => {
    const englishPage = await english.editorPage();
    for (const type of [...Object.keys(PALETTE_LABELS), 'findface-server']) {
      const en: HelpOutline = await helpOutline(englishPage, type);
      const ru: HelpOutline = await helpOutline(page, type);
      const known = SECTIONS.map(([name]) => name);
      assert.deepEqual(
        en.sections.filter((name) => !known.includes(name)),
        [],
        `${type}: English sections other than ${known.join(', ')} (put the others under Details, as <h4>)`,
      );
      assert.deepEqual(
        en.sections,
        known.filter((name) => en.sections.includes(name)),
        `${type}: sections out of order`,
      );
      assert.deepEqual(
        ru.sections,
        en.sections.map((name) => SECTIONS.find(([section]) => section === name)![1]),
        `${type}: the Russian sections are not the English ones`,
      );
      assert.equal(ru.subsections.length, en.subsections.length, `${type}: subsections ${JSON.stringify(en.subsections)} vs ${JSON.stringify(ru.subsections)}`);
      assert.equal(ru.propertyTypes.length, en.propertyTypes.length, `${type}: a different number of typed properties`);
    }
  });

  for (const type of TRANSLATED_TYPES) {
    it(`${type}: the help gives property types in Russian`, async () => {
      const { propertyTypes } = await helpOutline(page, type);
      assert.ok(propertyTypes.length > 0, 'no property types in the help');
      assert.deepEqual(
        propertyTypes.filter((text) => /\b(object|string|number|array|boolean|any|buffer|credential)\b/i.test(text)),
        [],
        'English types in the Russian help',
      );
    });
  }

  it('shows the URL for FindFace under httpNodeRoot with a Russian placeholder host, and the deployed source serves it', async () => {
    const id = await dragFromPalette(page, 'findface-event-in', { x: 600, y: 300 });
    await openEditDialog(page, id);
    await fillAndLeave(page.locator('#node-input-path'), '/door/events');
    const url = await page.locator('#findface-event-in-url').innerText();
    assert.equal(url, `http://<хост-node-red>:${russian.nodeRed.port}/api/door/events`);
    await closeWithDone(page);
    await deployFromEditor(russian);
    const answer = await fetch(url.replace('<хост-node-red>', '127.0.0.1'), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify([{ id: 'ru-1', camera: 1 }]),
    });
    assert.equal(answer.status, 200, `POST ${url} with the host filled in`);
  });
});
