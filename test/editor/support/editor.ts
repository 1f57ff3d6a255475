// The Node-RED editor in a real browser: Chromium (test/support/browser.ts
// picks it) driven by playwright-core, against a real Node-RED (NodeRedProcess: the packed package
// installed into a fresh user directory). One Node-RED and one browser serve
// every test/editor file (started on first use, stopped by a root `after`
// hook); each file opens its own editor page on an empty workspace.
// Screenshots of every test go to .artifacts/screenshots/.
import fs from 'fs';
import os from 'os';
import path from 'path';
import { BrowserContext, Locator, Page } from 'playwright-core';
import { launchChromium } from '../../support/browser';
import { NodeRedProcess, repoRoot } from '../../support/node-red-process';
import { waitFor } from '../../support/wait';

// Browser-side globals, only ever used inside page.evaluate / waitForFunction.
declare const RED: any;
declare const $: any;

export const MODULE = 'node-red-contrib-findface';

/** Our node types and their palette labels (CONTRACT.md). */
export const PALETTE_LABELS: Record<string, string> = {
  'findface-event-in': 'face event in',
  'findface-filter': 'webhook filter',
  'findface-webhook': 'webhook',
};

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
export const screenshotDir = path.join(repoRoot, '.artifacts', 'screenshots');

/** A read-only editor user (adminAuth), to check that actions needing write permission are refused. */
export const VIEWER = { username: 'viewer', password: 'viewer-password' };
export const ADMIN = { username: 'admin', password: 'admin-password' };

function bcryptHash(password: string): string {
  // Node-RED's own bcrypt implementation, so no extra dependency.
  const nodeRedDir = path.dirname(require.resolve('node-red/package.json'));
  const bcrypt = require(require.resolve('bcryptjs', { paths: [nodeRedDir] })) as { hashSync(p: string, rounds: number): string };
  return bcrypt.hashSync(password, 8);
}

export interface TypeState {
  /** Registered without error, and enabled. */
  registered: boolean;
  /** Why not, when not. */
  reason?: string;
}

export class EditorSession {
  page!: Page;
  private constructor(
    readonly nodeRed: NodeRedProcess,
    readonly context: BrowserContext,
    private readonly browserDir: string,
  ) {}

  static async start(): Promise<EditorSession> {
    const nodeRed = await NodeRedProcess.create({
      flows: [],
      settings: {
        // Anonymous users may do everything (as without adminAuth); the viewer may only read.
        adminAuth: {
          type: 'credentials',
          users: [
            { username: ADMIN.username, password: bcryptHash(ADMIN.password), permissions: '*' },
            { username: VIEWER.username, password: bcryptHash(VIEWER.password), permissions: 'read' },
          ],
          default: { permissions: '*' },
        },
      },
    });
    await nodeRed.start();
    const browserDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ff-chromium-'));
    let context: BrowserContext;
    try {
      context = await launchChromium(browserDir, {
        headless: true,
        args: CHROMIUM_ARGS,
        viewport: { width: 1920, height: 1080 },
        locale: 'en-US',
      });
    } catch (error) {
      await nodeRed.dispose();
      fs.rmSync(browserDir, { recursive: true, force: true });
      throw error;
    }
    fs.mkdirSync(screenshotDir, { recursive: true });
    return new EditorSession(nodeRed, context, browserDir);
  }

  async dispose(): Promise<void> {
    try {
      await this.context.close();
    } finally {
      fs.rmSync(this.browserDir, { recursive: true, force: true });
      await this.nodeRed.dispose();
    }
  }

  /** Our types as Node-RED's GET /nodes lists them: registered, or not (yet) and why. */
  async typeStates(): Promise<Map<string, TypeState>> {
    const response = await fetch(`${this.nodeRed.url}/nodes`, { headers: { Accept: 'application/json' } });
    const sets = (await response.json()) as Array<{ module: string; types: string[]; err?: unknown; enabled?: boolean; name: string }>;
    const states = new Map<string, TypeState>();
    for (const type of Object.keys(PALETTE_LABELS)) states.set(type, { registered: false, reason: `${type} is not in ${MODULE}'s node-red.nodes yet` });
    for (const set of sets.filter((s) => s.module === MODULE)) {
      const reason = set.err ? `${set.name} failed to load: ${String(set.err).split('\n')[0]}` : set.enabled === false ? `${set.name} is disabled` : undefined;
      const types = set.types.length ? set.types : [set.name];
      for (const type of types) states.set(type, reason ? { registered: false, reason } : { registered: true });
    }
    return states;
  }

  /**
   * Opens the editor on an empty workspace: flows reset through the admin
   * API, then a fresh page (closing the previous one). 3 to 5 s: the test
   * files share one page through editorPage().
   */
  async openEditor(): Promise<Page> {
    await this.nodeRed.deploy([{ id: 'f10e000000000001', type: 'tab', label: 'Flow 1', disabled: false, info: '' }]);
    if (this.page && !this.page.isClosed()) await this.page.close();
    this.page = await this.context.newPage();
    this.page.setDefaultTimeout(10000);
    this.page.on('pageerror', (error) => console.log(`[browser page error] ${error.message}`));
    await this.page.goto(this.nodeRed.url);
    await waitForEditor(this.page);
    return this.page;
  }

  /**
   * The editor page shared by the test files (opened on an empty workspace
   * the first time), showing a new flow tab of its own for the caller.
   */
  async editorPage(): Promise<Page> {
    if (!this.page || this.page.isClosed()) await this.openEditor();
    await this.page.evaluate(() => RED.workspaces.add());
    return this.page;
  }

  /** Log offset, to look for errors after it. */
  logMark(): number {
    return this.nodeRed.log.length;
  }

  errorLinesSince(mark: number): string[] {
    return this.nodeRed.log
      .slice(mark)
      .split('\n')
      .filter((line) => line.includes('[error]') || /^\w*Error:/.test(line));
  }

  async screenshot(name: string): Promise<string | undefined> {
    if (!this.page || this.page.isClosed()) return undefined;
    const file = path.join(screenshotDir, `${name}.png`);
    await this.page.screenshot({ path: file });
    return file;
  }
}

export async function waitForEditor(page: Page): Promise<void> {
  await page.waitForFunction(
    () =>
      typeof RED !== 'undefined' &&
      RED.workspaces &&
      RED.workspaces.active() &&
      $('.red-ui-header-toolbar').is(':visible') &&
      !$('#red-ui-loading-progress').is(':visible'),
    undefined,
    { timeout: 30000 },
  );
}

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
  const added = await waitFor(
    async () => (await nodeIds(page, type)).find((id) => !before.has(id)),
    5000,
    `a new ${type} node on the workspace`,
  );
  return added;
}

/** The node's shape on the workspace. */
export function workspaceNode(page: Page, id: string): Locator {
  return page.locator(`#red-ui-workspace-chart g.red-ui-flow-node-group[id="${id}"] rect.red-ui-flow-node`);
}

/** Whether the node shows the red triangle of an invalid node on the workspace. */
export async function hasErrorBadge(page: Page, id: string): Promise<boolean> {
  const badges = page.locator(`#red-ui-workspace-chart g.red-ui-flow-node-group[id="${id}"] g.red-ui-flow-node-error`);
  for (const badge of await badges.all()) if (await badge.isVisible()) return true;
  return false;
}

/** Opens the node's edit dialog by double-clicking it, and waits for its form. */
export async function openEditDialog(page: Page, id: string): Promise<Locator> {
  await workspaceNode(page, id).dblclick({ timeout: 5000 });
  const tray = page.locator('.red-ui-tray').last();
  await tray.locator('#node-dialog-ok').waitFor({ state: 'visible' });
  // oneditprepare has run once the form is in the tray
  await tray.locator('form#dialog-form, .red-ui-tray-body form').first().waitFor({ state: 'attached' });
  return tray;
}

export async function closeWithDone(page: Page): Promise<void> {
  await page.locator('#node-dialog-ok').click();
  await page.locator('#node-dialog-ok').waitFor({ state: 'detached' });
}

export async function closeWithCancel(page: Page): Promise<void> {
  await page.locator('#node-dialog-cancel').click();
  await page.locator('#node-dialog-cancel').waitFor({ state: 'detached' });
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

/**
 * Deploys with the Deploy button and waits until the runtime has started the
 * flows. A confirmation dialog (invalid or unknown nodes) is a failure, with
 * its text.
 */
export async function deployFromEditor(session: EditorSession): Promise<void> {
  const page = session.page;
  const startedBefore = session.nodeRed.count('Started ');
  await page.locator('#red-ui-header-button-deploy').click();
  const outcome = await Promise.race([
    page
      .locator('.red-ui-notification-success', { hasText: 'Successfully deployed' })
      .first()
      .waitFor({ state: 'visible', timeout: 20000 })
      .then(() => 'deployed'),
    page
      .locator('#red-ui-deploy-dialog-confirm-deploy-deploy')
      .waitFor({ state: 'visible', timeout: 20000 })
      .then(() => 'confirm'),
  ]);
  if (outcome === 'confirm') {
    const text = await page.locator('.ui-dialog:visible').last().innerText();
    throw new Error(`Deploy asked for confirmation: ${text}`);
  }
  await waitFor(() => session.nodeRed.count('Started ') > startedBefore, 15000, 'the runtime to start the deployed flows');
  await waitFor(async () => !(await page.evaluate(() => RED.nodes.dirty())), 5000, 'the editor to be clean after deploy');
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
  await waitFor(async () => (await childLabels(moduleLabel)).length > 0, 5000, `the examples of ${module}`);
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
  await waitFor(async () => !(await importButton.isDisabled()), 5000, 'the Import button to be enabled');
  await importButton.click();
  await page.locator('#red-ui-clipboard-dialog').waitFor({ state: 'hidden' });
  const tab = await waitFor(
    async () => ((await page.evaluate(() => RED.nodes.getWorkspaceOrder())) as string[]).find((id) => !tabsBefore.has(id)),
    5000,
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
  await page.evaluate(() => $('.red-ui-notification').remove());
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Slug of a mocha test's full title, for screenshot file names. */
export function slug(title: string): string {
  return title
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 120);
}

let shared: Promise<EditorSession> | undefined;

/** The Node-RED and browser shared by every editor test file. */
export function editorSession(): Promise<EditorSession> {
  shared ??= EditorSession.start();
  return shared;
}

// Root hooks (this module is loaded by every editor test file; mocha registers these once).
afterEach(async function () {
  if (!shared) return;
  const session = await shared.catch(() => undefined);
  const test = this.currentTest;
  if (!session || !test || test.state === 'pending') return;
  const failed = test.state === 'failed';
  const file = await session.screenshot(`${failed ? 'FAILED-' : ''}${slug(test.fullTitle())}`).catch(() => undefined);
  if (failed) {
    console.log(`screenshot: ${file ?? '(none)'}\n--- Node-RED log (last 30 lines) ---\n${session.nodeRed.log.split('\n').slice(-30).join('\n')}`);
  }
  // A test that failed with a dialog open must not leave it to the next one.
  const page = session.page;
  if (page && !page.isClosed()) {
    for (const button of ['#node-dialog-cancel', '#red-ui-clipboard-dialog-cancel']) {
      const open = page.locator(button);
      if (await open.isVisible().catch(() => false)) await open.click({ timeout: 2000 }).catch(() => undefined);
    }
  }
});

after(async function () {
  this.timeout(60000);
  if (!shared) return;
  const session = await shared.catch(() => undefined);
  shared = undefined;
  await session?.dispose();
});
