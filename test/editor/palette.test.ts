// The package's nodes in the Node-RED editor, in a real browser: palette
// category and labels, a real mouse drag from the palette, the edit dialog
// opened by double-click and closed with Done, and a deploy with no error in
// the log. Every test runs for each of our node types; a type Node-RED has
// not registered fails, with the reason.
import assert from 'assert/strict';
import type { Page } from 'playwright-core';
import {
  closeWithDone,
  deployFromEditor,
  dragFromPalette,
  editorSession,
  hasErrorBadge,
  EditorSession,
  importNodes,
  nodeView,
  openEditDialogByDoubleClick,
  PALETTE_LABELS,
  paletteNode,
  waitForStatus,
  workspaceLabel,
} from './support/editor';

declare const RED: any;

/** What each type's dialog needs filled in before Done, to be valid and deployable. */
const fillRequired: Record<string, (page: Page, session: EditorSession) => Promise<void>> = {
  'findface-event-in': async () => undefined, // defaults: webhook on /findface/events
  'findface-filter': async () => undefined, // default filter {} passes every event
  'findface-webhook': async (page, session) => {
    await page.locator('#node-input-url').fill(`${session.nodeRed.url}/editor-test-catcher`);
  },
};

/** The field that names the node (the webhook's Name is stored as `title`, the contract's property). */
const nameProperty: Record<string, string> = { 'findface-webhook': 'title' };

/**
 * Nodes as flows saved earlier hold them: the properties of the first
 * release (findface-event-in, commit 514e6b4) or the contract's alone. Such a
 * node must stay valid when properties are added later (a validator must
 * accept `undefined` for a property the flow does not have yet).
 */
const savedEarlier: Record<string, Array<Record<string, unknown>>> = {
  'findface-event-in': [
    {
      mode: 'webhook',
      path: '/findface/events',
      maxBodyMb: 10,
      rate: 1,
      seed: '',
      cameras: '{"1": 1, "2": 1, "3": 2}',
      dossiers: '1, 2, 3, 12, 25',
      matchedRatio: 0.3,
      shape: 'ffs3',
      autostart: true,
      inputs: 0,
    },
    {
      mode: 'simulate',
      path: '/findface/events',
      maxBodyMb: 10,
      rate: 2,
      seed: '',
      cameras: '{"1": 1, "2": 1, "3": 2}',
      dossiers: '1, 2, 3, 12, 25',
      matchedRatio: 0.3,
      shape: 'ffs3',
      autostart: true,
      inputs: 1,
    },
  ],
  'findface-filter': [{ filters: '{"camera_group_in": [1, 3], "matched_dossier_in": [12, 25]}', outputs: 2, cameraGroups: '{"2": 1}' }],
  'findface-webhook': [
    {
      title: '1',
      url: 'http://127.0.0.1:8888/',
      active: true,
      batchSize: 1,
      lingerMs: 0,
      timeout: 10000,
      backoffBase: 0.1,
      backoffFactor: 2.7,
      backoffMax: 100,
      maxAttempts: 10,
      successCodes: '200',
    },
  ],
};

describe('editor: the findface palette', function () {
  this.timeout(60000);
  let session: EditorSession;
  let page: Page;
  const dropped = new Map<string, string>();
  let logMark = 0;

  before(async function () {
    this.timeout(120000);
    session = await editorSession();
    page = await session.editorPage();
    logMark = session.logMark();
  });

  it('has the findface category', async () => {
    const header = page.locator('#red-ui-palette-header-findface, #red-ui-palette-container-findface .red-ui-palette-header').first();
    await header.scrollIntoViewIfNeeded();
    assert.equal((await header.innerText()).trim(), 'findface');
  });

  for (const [type, label] of Object.entries(PALETTE_LABELS)) {
    describe(type, () => {
      it(`is registered by Node-RED, in the palette under findface, labelled "${label}"`, async function () {
        await session.requireRegistered(type);
        const node = page.locator(`#red-ui-palette-findface .red-ui-palette-node[data-palette-type="${type}"]`);
        assert.equal(await node.count(), 1, `${type} is not in the findface category`);
        assert.equal(await node.getAttribute('data-palette-label'), label);
        await node.scrollIntoViewIfNeeded();
        assert.equal((await node.locator('.red-ui-palette-label').innerText()).replace(/\s+/g, ' ').trim(), label);
      });

      it("shows the icon it declares (not the editor's fallback)", async function () {
        const declared: string = await page.evaluate((t) => {
          const icon = RED.nodes.getType(t).icon;
          return typeof icon === 'function' ? icon.call({ _def: RED.nodes.getType(t) }) : icon;
        }, type);
        const shown = (await paletteNode(page, type).locator('.red-ui-palette-icon-container').getAttribute('data-palette-icon')) ?? '';
        assert.ok(
          shown.endsWith(`/${declared}`),
          `${type} declares the icon "${declared}" but the palette shows "${shown}": Node-RED looks for a module's icons in an icons/ directory beside the node's .js file`,
        );
        const response = await fetch(new URL(shown, `${session.nodeRed.url}/`));
        assert.equal(response.status, 200, `GET ${shown}`);
        assert.match(response.headers.get('content-type') ?? '', /svg|png/);
      });

      it("accepts a node saved earlier (first release, or the contract's properties alone) as valid", async function () {
        for (const saved of savedEarlier[type] ?? []) {
          const [id] = await importNodes(page, [{ type, ...saved }]);
          const result = (await page.evaluate((nodeId) => {
            const node = RED.nodes.node(nodeId);
            const outcome = { valid: node.valid !== false, errors: node.validationErrors ?? [] };
            RED.nodes.remove(nodeId);
            RED.view.redraw(true);
            return outcome;
          }, id)) as { valid: boolean; errors: string[] };
          assert.ok(result.valid, `${type} ${JSON.stringify(saved)} is invalid: ${result.errors.join(', ')}`);
        }
      });

      it('can be dragged onto the workspace, edited (double-click) and closed with Done', async function () {
        const index = Object.keys(PALETTE_LABELS).indexOf(type);
        const id = await dragFromPalette(page, type, { x: 200 + 220 * index, y: 120 + 60 * index });
        dropped.set(type, id);
        const dialog = await openEditDialogByDoubleClick(page, id);
        await fillRequired[type](page, session);
        const name = `my ${label}`;
        const property = nameProperty[type] ?? 'name';
        await dialog.locator(`#node-input-${property}`).fill(name);
        await session.screenshot(`dialog-${type}`);
        await closeWithDone(page);
        const view = await nodeView(page, id);
        assert.equal(view.props[property], name);
        assert.equal(view.props.name, name, 'the name Node-RED shows in the debug sidebar');
        assert.equal(view.valid, true, `${type} with its defaults is invalid`);
        assert.equal(await workspaceLabel(page, id), name);
        assert.equal(await hasErrorBadge(page, id, false), false, 'the node shows the red triangle of an invalid node');
      });
    });
  }

  // Mocha runs a suite's own tests before its nested suites: this one comes last.
  describe('all of them', () => {
    it('deploys the dropped nodes, which start healthy (green status), with no error in the log', async function () {
      assert.equal(dropped.size, Object.keys(PALETTE_LABELS).length, 'not every type was dropped onto the workspace');
      await deployFromEditor(session);
      const flows = (await (await fetch(`${session.nodeRed.url}/flows`)).json()) as Array<{ id: string; type: string; name?: string }>;
      for (const [type, id] of dropped) {
        const saved = flows.find((n) => n.id === id);
        assert.ok(saved, `${type} ${id} is not in the deployed flows`);
        assert.equal(saved.type, type);
        assert.equal(saved.name, `my ${PALETTE_LABELS[type]}`);
      }
      // Started: a webhook has opened its queue, a source its route, a filter its filter.
      for (const [type, id] of dropped) await waitForStatus(page, id, (status) => status.fill === 'green', `${type} to show a green status`);
      assert.deepEqual(session.errorLinesSince(logMark), []);
    });
  });
});
