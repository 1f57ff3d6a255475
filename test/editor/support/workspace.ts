// The workspace as a user works it: the palette, nodes dragged or imported
// onto a flow, their labels, badges and status, Deploy, Import › Examples.
import type { Locator, Page } from 'playwright-core';
import { waitFor } from '../../support/wait';
import { EditorSession, UI_TIMEOUT_MS } from './session';

// Browser-side globals, only ever used inside page.evaluate / waitForFunction.
declare const RED: any;
declare const $: any;

/** The palette entry of a node type (the category may need scrolling into view). */
export function paletteNode(page: Page, type: string): Locator {
  return page.locator(`#red-ui-palette-container .red-ui-palette-node[data-palette-type="${type}"]`);
}

async function nodeIds(page: Page, type: string): Promise<string[]> {
  return page.evaluate((t) => RED.nodes.filterNodes({ type: t }).map((n: { id: string }) => n.id), type);
}

/**
 * Drags a node type from the palette onto the workspace with the mouse, as a
 * user does (jQuery UI draggable: press, move in steps, release), and returns
 * the new node's id.
 */
export async function dragFromPalette(page: Page, type: string, to: { x: number; y: number }): Promise<string> {
  const before = new Set(await nodeIds(page, type));
  const source = paletteNode(page, type);
  await source.scrollIntoViewIfNeeded();
  const from = await source.boundingBox();
  const chart = await page.locator('#red-ui-workspace-chart').boundingBox();
  if (!from || !chart) throw new Error(`palette node ${type} or the workspace is not visible`);
  await page.mouse.move(from.x + from.width / 2, from.y + from.height / 2);
  await page.mouse.down();
  await page.mouse.move(from.x + from.width / 2 + 20, from.y + from.height / 2 + 5, { steps: 4 });
  await page.mouse.move(chart.x + to.x, chart.y + to.y, { steps: 12 });
  await page.mouse.up();
  return waitFor(async () => (await nodeIds(page, type)).find((id) => !before.has(id)), UI_TIMEOUT_MS, `a new ${type} node on the workspace`);
}

/**
 * Adds nodes to the active flow as Import does (new ids), e.g. a node as a
 * flow saved earlier holds it; returns the new ids in the given order. A
 * node given an `id` can be wired to by it (`wires`); Import renews both.
 */
export async function importNodes(page: Page, nodes: Array<Record<string, unknown>>): Promise<string[]> {
  return page.evaluate((given) => {
    const z = RED.workspaces.active();
    const flow = given.map((node: Record<string, unknown>, index: number) => ({
      x: 300,
      y: 100 + 60 * index,
      wires: [],
      ...node,
      id: String(node.id ?? `imported-${index}`),
      z,
    }));
    const result = RED.nodes.import(flow, { generateIds: true, markChanged: true });
    const ids = flow.map((node: { id: string }) => result.nodeMap[node.id].id as string);
    for (const id of ids) RED.editor.validateNode(RED.nodes.node(id));
    RED.nodes.dirty(true);
    RED.view.redraw(true);
    return ids;
  }, nodes);
}

/** Deletes a node from the workspace (e.g. one a test imported), as Delete does. */
export async function removeNode(page: Page, id: string): Promise<void> {
  await page.evaluate((nodeId) => {
    RED.nodes.remove(nodeId);
    RED.nodes.dirty(true);
    RED.view.redraw(true);
  }, id);
}

/** The node's shape on the workspace. */
export function workspaceNode(page: Page, id: string): Locator {
  return page.locator(`#red-ui-workspace-chart g.red-ui-flow-node-group[id="${id}"] rect.red-ui-flow-node`);
}

/** The node's label as the workspace shows it. */
export async function workspaceLabel(page: Page, id: string): Promise<string> {
  const text = await page.locator(`#red-ui-workspace-chart g.red-ui-flow-node-group[id="${id}"] .red-ui-flow-node-label`).textContent();
  return (text ?? '').replace(/\s+/g, ' ').trim();
}

/** Whether the node shows the red triangle of an invalid node on the workspace. */
const BADGE_SETTLE_MS = 5_000;

/**
 * Whether the node shows its red error triangle, once the workspace has drawn
 * it: the editor redraws on an animation frame after an import or a Done, so
 * this waits (at most BADGE_SETTLE_MS) for the badge to be as `expected`, and
 * returns what it is then.
 */
export async function hasErrorBadge(page: Page, id: string, expected = true): Promise<boolean> {
  const badges = page.locator(`#red-ui-workspace-chart g.red-ui-flow-node-group[id="${id}"] g.red-ui-flow-node-error`);
  const shown = async () => {
    for (const badge of await badges.all()) if (await badge.isVisible()) return true;
    return false;
  };
  const deadline = Date.now() + BADGE_SETTLE_MS;
  let now = await shown();
  while (now !== expected && Date.now() < deadline) {
    await page.waitForTimeout(50);
    now = await shown();
  }
  return now;
}

export interface NodeView {
  id: string;
  type: string;
  valid: boolean;
  dirty: boolean;
  z: string;
  props: Record<string, unknown>;
}

/** The editor's model of a node: `RED.nodes.node(id)`, its validity and properties. */
export async function nodeView(page: Page, id: string): Promise<NodeView> {
  return page.evaluate((nodeId) => {
    const n = RED.nodes.node(nodeId);
    if (!n) throw new Error(`no node ${nodeId} in the editor`);
    const props: Record<string, unknown> = {};
    for (const key of Object.keys(n._def.defaults || {})) props[key] = n[key];
    return { id: n.id, type: n.type, valid: n.valid !== false, dirty: !!n.dirty, z: n.z, props };
  }, id);
}

export interface NodeStatus {
  fill?: string;
  shape?: string;
  text?: string;
}

/** Waits until the status the runtime sent for the node (as the editor shows it under the node) satisfies `ok`. */
export async function waitForStatus(page: Page, id: string, ok: (status: NodeStatus) => boolean, what: string): Promise<NodeStatus> {
  return waitFor(
    async () => {
      const status = (await page.evaluate((nodeId) => RED.nodes.node(nodeId)?.status ?? null, id)) as NodeStatus | null;
      return status && ok(status) ? status : undefined;
    },
    UI_TIMEOUT_MS,
    `${what} (node ${id})`,
  );
}

/**
 * Deploys with the Deploy button and waits until the runtime has started the
 * flows. A confirmation dialog (invalid or unknown nodes) is a failure, with
 * its text.
 */
export async function deployFromEditor(session: EditorSession): Promise<void> {
  const page = session.page;
  const startedBefore = session.nodeRed.count('Started ');
  await page.locator('#red-ui-header-button-deploy').click();
  const deployed = page.locator('.red-ui-notification-success').filter({ hasText: /deployed|развёрнут|развернут/i });
  const confirm = page.locator('#red-ui-deploy-dialog-confirm-deploy-deploy');
  await deployed.or(confirm).first().waitFor({ state: 'visible' });
  if (await confirm.isVisible()) {
    const text = await page.locator('.red-ui-notification').filter({ has: confirm }).last().innerText();
    throw new Error(`Deploy asked for confirmation: ${text}`);
  }
  await waitFor(() => session.nodeRed.count('Started ') > startedBefore, UI_TIMEOUT_MS, 'the runtime to start the deployed flows');
  await waitFor(async () => !(await page.evaluate(() => RED.nodes.dirty())), UI_TIMEOUT_MS, 'the editor to be clean after deploy');
}

/** Main menu › Import › Examples tab, expanded at <module>. */
async function openExamples(page: Page, module: string): Promise<Locator> {
  await page.locator('#red-ui-header-button-sidemenu').click();
  await page.locator('#menu-item-import').click();
  await page.locator('#red-ui-tab-red-ui-clipboard-dialog-import-tab-examples').click();
  const examples = page.locator('#red-ui-clipboard-dialog-import-tab-examples');
  await treeLabel(examples, module).click();
  return examples;
}

function treeLabel(tree: Locator, text: string): Locator {
  return tree.locator('.red-ui-treeList-label-text').filter({ hasText: new RegExp(`^${escapeRegExp(text)}$`) });
}

/** The labels of a tree item's children. */
function childLabels(label: Locator): Promise<string[]> {
  return label.evaluate((element) =>
    Array.from((element as any).closest('li').querySelectorAll(':scope li .red-ui-treeList-label-text')).map((child: any) => String(child.textContent)),
  );
}

/** The example names Import › Examples lists under <module> (the dialog is closed again). */
export async function listExamples(page: Page, module: string): Promise<string[]> {
  const examples = await openExamples(page, module);
  const moduleLabel = treeLabel(examples, module);
  await waitFor(async () => (await childLabels(moduleLabel)).length > 0, UI_TIMEOUT_MS, `the examples of ${module}`);
  const names = await childLabels(moduleLabel);
  await page.locator('#red-ui-clipboard-dialog-cancel').click();
  await page.locator('#red-ui-clipboard-dialog').waitFor({ state: 'hidden' });
  return names.map((name) => name.trim());
}

/** Import › Examples › <module> › <name>, through the main menu, as a user does. Returns the new flow tab's id. */
export async function importExample(page: Page, module: string, name: string): Promise<string> {
  const tabsBefore = new Set<string>(await page.evaluate(() => RED.nodes.getWorkspaceOrder()));
  const examples = await openExamples(page, module);
  await treeLabel(examples, name).click();
  const importButton = page.locator('#red-ui-clipboard-dialog-ok');
  await waitFor(async () => !(await importButton.isDisabled()), UI_TIMEOUT_MS, 'the Import button to be enabled');
  await importButton.click();
  await page.locator('#red-ui-clipboard-dialog').waitFor({ state: 'hidden' });
  const tab = await waitFor(
    async () => ((await page.evaluate(() => RED.nodes.getWorkspaceOrder())) as string[]).find((id) => !tabsBefore.has(id)),
    UI_TIMEOUT_MS,
    `the imported flow of ${name}`,
  );
  await page.evaluate((id) => {
    RED.workspaces.show(id);
    $('#red-ui-workspace-chart').scrollLeft(0).scrollTop(0);
  }, tab);
  return tab;
}

/** Closes the editor's notifications (Imported, Deployed, ...), e.g. before a screenshot. */
export async function hideNotifications(page: Page): Promise<void> {
  // Hidden, not removed: each notification removes itself when its time is up.
  await page.evaluate(() => $('.red-ui-notification').hide());
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
