// An editor session: a real Node-RED (NodeRedProcess: the packed package
// installed into a fresh user directory) and a browser context on its editor.
// One browser (launchBrowser) serves every session. The default session is
// shared by every test/editor file (started on first use, stopped by a root
// `after` hook); each file opens its own flow tab in it. A second session, a
// Russian editor on a Node-RED whose httpNodeRoot is /api, is started only
// by the tests that need it. Screenshots of every test go to
// .artifacts/screenshots/.
//
// Waits: every wait is for a thing (a selector, a state, a request), bounded
// by UI_TIMEOUT_MS, which holds on a loaded two-core machine.
import fs from 'fs';
import path from 'path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { NodeRedProcess, repoRoot } from '../../support/node-red-process';
import { launchBrowser } from './browser';

// Browser-side globals, only ever used inside page.evaluate / waitForFunction.
declare const RED: any;
declare const $: any;

export const MODULE = 'node-red-contrib-findface';

/** The bound of every wait for the editor: generous, as a loaded machine needs; the wait ends as soon as the thing is there. */
export const UI_TIMEOUT_MS = 30000;

/** Our flow node types and their palette labels (CONTRACT.md). */
export const PALETTE_LABELS: Record<string, string> = {
  'findface-event-in': 'face event in',
  'findface-filter': 'webhook filter',
  'findface-webhook': 'webhook',
};

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

export interface SessionOptions {
  /** Extra Node-RED settings. */
  settings?: Record<string, unknown>;
  /** The browser's language, which the editor follows (default en-US). */
  locale?: string;
}

let browser: Promise<Browser> | undefined;
/** The session whose page the running test uses (the last to give out a page), for the screenshot after each test. */
let current: EditorSession | undefined;

export class EditorSession {
  page!: Page;
  private constructor(
    readonly nodeRed: NodeRedProcess,
    readonly context: BrowserContext,
  ) {}

  static async start(options: SessionOptions = {}): Promise<EditorSession> {
    browser ??= launchBrowser();
    const launched = await browser;
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
        ...options.settings,
      },
    });
    try {
      await nodeRed.start();
      const context = await launched.newContext({ viewport: { width: 1920, height: 1080 }, locale: options.locale ?? 'en-US' });
      fs.mkdirSync(screenshotDir, { recursive: true });
      return new EditorSession(nodeRed, context);
    } catch (error) {
      await nodeRed.dispose();
      throw error;
    }
  }

  async dispose(): Promise<void> {
    try {
      await this.context.close();
    } finally {
      await this.nodeRed.dispose();
    }
  }

  /** Our types as Node-RED's GET /nodes lists them: registered, or not and why. */
  async typeStates(): Promise<Map<string, TypeState>> {
    const response = await fetch(`${this.nodeRed.url}/nodes`, { headers: { Accept: 'application/json' } });
    const sets = (await response.json()) as Array<{ module: string; types: string[]; err?: unknown; enabled?: boolean; name: string }>;
    const states = new Map<string, TypeState>();
    for (const type of Object.keys(PALETTE_LABELS)) states.set(type, { registered: false, reason: `${type} is not in ${MODULE}'s node-red.nodes` });
    for (const set of sets.filter((s) => s.module === MODULE)) {
      const reason = set.err ? `${set.name} failed to load: ${String(set.err).split('\n')[0]}` : set.enabled === false ? `${set.name} is disabled` : undefined;
      const types = set.types.length ? set.types : [set.name];
      for (const type of types) states.set(type, reason ? { registered: false, reason } : { registered: true });
    }
    return states;
  }

  /** Fails (never skips) unless Node-RED has registered every one of `types`. */
  async requireRegistered(...types: string[]): Promise<void> {
    const states = await this.typeStates();
    const missing = types.filter((type) => !states.get(type)?.registered).map((type) => states.get(type)?.reason ?? `${type} is not a node type of ${MODULE}`);
    if (missing.length) throw new Error(`not registered by Node-RED: ${missing.join('; ')}`);
  }

  /**
   * Opens the editor on an empty workspace: flows reset through the admin
   * API, then a fresh page (closing the previous one).
   */
  async openEditor(): Promise<Page> {
    await this.nodeRed.deploy([{ id: 'f10e000000000001', type: 'tab', label: 'Flow 1', disabled: false, info: '' }]);
    if (this.page && !this.page.isClosed()) await this.page.close();
    this.page = await this.context.newPage();
    this.page.setDefaultTimeout(UI_TIMEOUT_MS);
    this.page.on('pageerror', (error) => console.log(`[browser page error] ${error.message}`));
    await this.page.goto(this.nodeRed.url);
    await waitForEditor(this.page);
    return this.page;
  }

  /**
   * The session's editor page (opened on an empty workspace the first
   * time), showing a new flow tab of its own for the caller. The tabs that
   * earlier test files left are deleted with their nodes, so that what one
   * file left (an invalid node, say) never reaches another's deploy.
   */
  async editorPage(): Promise<Page> {
    if (!this.page || this.page.isClosed()) await this.openEditor();
    await this.page.evaluate(() => {
      const own = RED.workspaces.add();
      for (const id of [...RED.nodes.getWorkspaceOrder()]) if (id !== own.id) RED.workspaces.delete(RED.nodes.workspace(id));
      RED.view.redraw(true);
    });
    current = this;
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
    { timeout: 2 * UI_TIMEOUT_MS },
  );
}

/** Slug of a mocha test's full title, for screenshot file names. */
export function slug(title: string): string {
  return title
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 120);
}

const sessions = new Map<string, Promise<EditorSession>>();

function sharedSession(key: string, options: SessionOptions): Promise<EditorSession> {
  let session = sessions.get(key);
  if (!session) {
    session = EditorSession.start(options);
    sessions.set(key, session);
  }
  return session;
}

/** The Node-RED and editor shared by every editor test file. */
export function editorSession(): Promise<EditorSession> {
  return sharedSession('default', {});
}

/**
 * A second editor, for what the default one cannot show: the browser's
 * language Russian, and Node-RED's httpNodeRoot /api (the HTTP nodes under a
 * prefix, the editor at the root).
 */
export function russianEditorWithNodeRoot(): Promise<EditorSession> {
  return sharedSession('ru-api', { locale: 'ru-RU', settings: { httpNodeRoot: '/api' } });
}

async function startedSessions(): Promise<EditorSession[]> {
  const started = await Promise.all([...sessions.values()].map((session) => session.catch(() => undefined)));
  return started.filter((session): session is EditorSession => session !== undefined);
}

// Root hooks (this module is loaded by every editor test file; mocha registers these once).
afterEach(async function () {
  this.timeout(4 * UI_TIMEOUT_MS);
  const test = this.currentTest;
  if (!test || test.state === 'pending') return;
  const failed = test.state === 'failed';
  if (current) {
    const file = await current.screenshot(`${failed ? 'FAILED-' : ''}${slug(test.fullTitle())}`).catch(() => undefined);
    if (failed) {
      console.log(`screenshot: ${file ?? '(none)'}\n--- Node-RED log (last 30 lines) ---\n${current.nodeRed.log.split('\n').slice(-30).join('\n')}`);
    }
  }
  // A test that failed with a dialog open must not leave it to the next one.
  for (const session of await startedSessions()) {
    const page = session.page;
    if (!page || page.isClosed()) continue;
    for (const button of ['#node-config-dialog-cancel', '#node-dialog-cancel', '#red-ui-clipboard-dialog-cancel']) {
      const open = page.locator(button).last();
      if (await open.isVisible().catch(() => false)) {
        // Dispatched, not clicked: a failed test may leave something over the button (a notification), and a click
        // would wait for it to go.
        await open.dispatchEvent('click').catch(() => undefined);
        await open.waitFor({ state: 'detached' }).catch(() => undefined);
      }
    }
  }
});

after(async function () {
  this.timeout(4 * UI_TIMEOUT_MS);
  const started = await startedSessions();
  sessions.clear();
  current = undefined;
  for (const session of started) await session.dispose();
  const launched = await browser?.catch(() => undefined);
  browser = undefined;
  await launched?.close();
});
