// The package's nodes in the Node-RED editor, in a real browser: palette
// category and labels, a real mouse drag from the palette, the edit dialog
// opened by double-click and closed with Done, and a deploy with no error in
// the log. Every test runs for each of our node types that Node-RED has
// registered; a type not registered yet is pending, with the reason.
import assert from 'assert/strict';
import type { Page } from 'playwright-core';
import {
  closeWithDone,
  deployFromEditor,
  dragFromPalette,
  editorSession,
  hasErrorBadge,
  EditorSession,
  nodeView,
  openEditDialog,
  PALETTE_LABELS,
  paletteNode,
  TypeState,
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

/**
 * Nodes as flows saved earlier hold them: the properties of the first
 * release (findface-event-in, commit 514e6b4) or the contract's alone. Such a
 * node must stay valid when properties are added later (a validator must
 * accept `undefined` for a property the flow does not have yet).
 */
const savedEarlier: Record<string, Array<Record<string, unknown>>> = {
  'findface-event-in': [
    { mode: 'webhook', path: '/findface/events', maxBodyMb: 10, rate: 1, seed: '', cameras: '{"1": 1, "2": 1, "3": 2}', dossiers: '1, 2, 3, 12, 25', matchedRatio: 0.3, shape: 'ffs3', autostart: true, inputs: 0 },
    { mode: 'simulate', path: '/findface/events', maxBodyMb: 10, rate: 2, seed: '', cameras: '{"1": 1, "2": 1, "3": 2}', dossiers: '1, 2, 3, 12, 25', matchedRatio: 0.3, shape: 'ffs3', autostart: true, inputs: 1 },
  ],
  'findface-filter': [{ filters: '{"camera_group_in": [1, 3], "matched_dossier_in": [12, 25]}', outputs: 2, cameraGroups: '{"2": 1}' }],
  'findface-webhook': [
    { title: '1', url: 'http://127.0.0.1:8888/', active: true, batchSize: 1, lingerMs: 0, timeout: 10000, backoffBase: 0.1, backoffFactor: 2.7, backoffMax: 100, maxAttempts: 10, successCodes: '200' },
  ],
};

describe('editor: the findface palette', function () {
  this.timeout(60000);
  let session: EditorSession;
  let page: Page;
  let states: Map<string, TypeState>;
  const dropped = new Map<string, string>();
  let logMark = 0;

  before(async function () {
    this.timeout(120000);
    session = await editorSession();
    page = await session.editorPage();
    states = await session.typeStates();
    logMark = session.logMark();
  });

  function requireRegistered(context: Mocha.Context, type: string): void {
    const state = states.get(type);
    if (!state?.registered) {
      context.test!.title += ` (pending: ${state?.reason ?? 'unknown type'})`;
      context.skip();
    }
  }

  it('has the findface category', async () => {
    const header = page.locator('#red-ui-palette-header-findface, #red-ui-palette-container-findface .red-ui-palette-header').first();
    await header.scrollIntoViewIfNeeded();
    assert.equal((await header.innerText()).trim(), 'findface');
  });

  for (const [type, label] of Object.entries(PALETTE_LABELS)) {
    describe(type, () => {
      it(`is in the palette under findface, labelled "${label}"`, async function () {
        requireRegistered(this, type);
        const node = page.locator(`#red-ui-palette-findface .red-ui-palette-node[data-palette-type="${type}"]`);
        assert.equal(await node.count(), 1, `${type} is not in the findface category`);
        assert.equal(await node.getAttribute('data-palette-label'), label);
        await node.scrollIntoViewIfNeeded();
        assert.equal((await node.locator('.red-ui-palette-label').innerText()).replace(/\s+/g, ' ').trim(), label);
      });

      it('shows the icon it declares (not the editor\'s fallback)', async function () {
        requireRegistered(this, type);
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

      it('accepts a node saved earlier (first release, or the contract\'s properties alone) as valid', async function () {
        requireRegistered(this, type);
        for (const saved of savedEarlier[type] ?? []) {
          const result = (await page.evaluate(
            ({ t, props }) => {
              const name = `saved-earlier-${Math.random()}`;
              RED.nodes.import([{ id: 'e0e0e0e0e0e0e0e0', type: t, z: RED.workspaces.active(), x: 600, y: 500, wires: [], ...props, name }], {
                generateIds: true,
              });
              const node = RED.nodes.filterNodes({ type: t }).find((n: any) => n.name === name);
              RED.editor.validateNode(node);
              const outcome = { valid: node.valid !== false, errors: node.validationErrors ?? [] };
              RED.nodes.remove(node.id);
              RED.view.redraw(true);
              return outcome;
            },
            { t: type, props: saved },
          )) as { valid: boolean; errors: string[] };
          assert.ok(result.valid, `${type} ${JSON.stringify(saved)} is invalid: ${result.errors.join(', ')}`);
        }
      });

      it('can be dragged onto the workspace, edited (double-click) and closed with Done', async function () {
        requireRegistered(this, type);
        const index = Object.keys(PALETTE_LABELS).indexOf(type);
        const id = await dragFromPalette(page, type, { x: 200 + 220 * index, y: 120 + 60 * index });
        dropped.set(type, id);
        const dialog = await openEditDialog(page, id);
        await fillRequired[type](page, session);
        const name = `my ${label}`;
        await dialog.locator('#node-input-name').fill(name);
        await session.screenshot(`dialog-${type}`);
        await closeWithDone(page);
        const view = await nodeView(page, id);
        assert.equal(view.props.name, name);
        assert.equal(view.valid, true, `${type} with its defaults is invalid`);
        const shownLabel = await page.locator(`g.red-ui-flow-node-group[id="${id}"] .red-ui-flow-node-label`).textContent();
        assert.equal(shownLabel?.trim(), name);
        assert.equal(await hasErrorBadge(page, id), false, 'the node shows the red triangle of an invalid node');
      });
    });
  }

  // Mocha runs a suite's own tests before its nested suites: this one comes last.
  describe('all of them', () => {
    it('deploys the dropped nodes, with no error in the log', async function () {
      if (dropped.size === 0) this.skip();
      await deployFromEditor(session);
      const flows = (await (await fetch(`${session.nodeRed.url}/flows`)).json()) as Array<{ id: string; type: string; name?: string }>;
      for (const [type, id] of dropped) {
        const saved = flows.find((n) => n.id === id);
        assert.ok(saved, `${type} ${id} is not in the deployed flows`);
        assert.equal(saved.type, type);
        assert.equal(saved.name, `my ${PALETTE_LABELS[type]}`);
      }
      // Let the nodes start (a webhook opens its queue, a source its route) before reading the log.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      assert.deepEqual(session.errorLinesSince(logMark), []);
    });
  });
});
