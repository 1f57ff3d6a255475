// Each example flow, as a user gets it: main menu › Import › Examples ›
// node-red-contrib-findface › <example>, Import, Deploy. It must import with
// no unknown or invalid node, deploy with no error in the log, and show its
// results in the debug sidebar (batches at the catcher, the door relay, ...).
import assert from 'assert/strict';
import fs from 'fs';
import path from 'path';
import type { Page } from 'playwright-core';
import { repoRoot } from '../support/node-red-process';
import { waitFor } from '../support/wait';
import { deployFromEditor, editorSession, EditorSession, hideNotifications, importExample, listExamples, MODULE, UI_TIMEOUT_MS } from './support/editor';

declare const RED: any;

const examplesDir = path.join(repoRoot, 'examples');
const examples = fs
  .readdirSync(examplesDir)
  .filter((file) => file.endsWith('.json'))
  .sort();

/** Debug nodes of each example that must show a message soon after deploy. */
const expectedDebug: Record<string, Array<string | RegExp>> = {
  '01-seed-walkthrough': ['batch received', 'delivered'],
  // People walk up to five cameras at random (no seed): any door's controller answering shows the path works.
  '02-door-access-control': [/: (Hikvision|Dahua|Shelly Gen1|Shelly Gen2) answer/],
  '03-fan-out': ['archive: events in batch', 'broken: events in batch'],
  '04-poll-findface-server': ['polled event'],
};

describe('editor: the example flows, through Import › Examples', function () {
  this.timeout(90000);
  let session: EditorSession;
  let page: Page;
  let tab: string | undefined;

  before(async function () {
    this.timeout(120000);
    session = await editorSession();
    page = await session.editorPage();
  });

  afterEach(async function () {
    // Next example on a clean workspace: the imported flow deleted and deployed away, the debug sidebar cleared.
    if (!tab || page.isClosed()) return;
    const deleted = tab;
    tab = undefined;
    await page.evaluate((id) => RED.workspaces.delete(RED.nodes.workspace(id)), deleted);
    assert.equal(await page.evaluate((id) => RED.nodes.filterNodes({ z: id }).length, deleted), 0, 'the example flow was not deleted');
    await deployFromEditor(session);
    const flows = (await (await fetch(`${session.nodeRed.url}/flows`)).json()) as Array<{ z?: string; id: string }>;
    assert.ok(!flows.some((n) => n.id === deleted || n.z === deleted), 'the example flow is still deployed');
    await page.evaluate(() => RED.actions.invoke('core:clear-debug-messages'));
  });

  it('lists every example of the package in Import › Examples', async () => {
    const listed = await listExamples(page, MODULE);
    assert.deepEqual(
      listed,
      examples.map((file) => file.replace(/\.json$/, '')),
    );
  });

  for (const file of examples) {
    const name = file.replace(/\.json$/, '');
    it(`${name}: imports, deploys with no error in the log, and shows its results in the debug sidebar`, async function () {
      const flow = JSON.parse(fs.readFileSync(path.join(examplesDir, file), 'utf8')) as Array<{ id: string; type: string; name?: string; z?: string }>;
      // The nodes of the example's first tab (the door example has a second one, for its audit trail).
      const firstTab = flow.find((n) => n.type === 'tab')?.id;
      await session.requireRegistered(...new Set(flow.map((n) => n.type).filter((t) => t.startsWith('findface-'))));
      const mark = session.logMark();
      tab = await importExample(page, MODULE, name);
      const imported = (await page.evaluate(
        (z) => RED.nodes.filterNodes({ z }).map((n: any) => ({ type: n.type, valid: n.valid !== false, name: n.name ?? '', errors: n.validationErrors ?? [] })),
        tab,
      )) as Array<{ type: string; valid: boolean; name: string; errors: string[] }>;
      // filterNodes lists flow nodes; config nodes (the poll example's findface-server, the door example's MQTT broker) are checked apart.
      assert.equal(
        imported.length,
        flow.filter((n) => n.type !== 'tab' && n.z === firstTab && n.type !== 'findface-server' && n.type !== 'findface-redis').length,
        'not every node was imported',
      );
      const configs = (await page.evaluate(() => {
        const found: Array<{ type: string; valid: boolean }> = [];
        RED.nodes.eachConfig((n: any) => {
          if (n.type === 'findface-server') found.push({ type: n.type, valid: n.valid !== false });
        });
        return found;
      })) as Array<{ type: string; valid: boolean }>;
      assert.equal(
        configs.filter((n) => n.valid).length >= flow.filter((n) => n.type === 'findface-server').length,
        true,
        'the config node was not imported valid',
      );
      assert.deepEqual(
        imported.filter((n) => n.type === 'unknown' || !n.valid),
        [],
        'unknown or invalid nodes after import',
      );
      assert.ok(
        imported.some((n) => n.type === 'comment'),
        'the example has no comment node',
      );

      // As the examples' comments tell users whose Node-RED is not on port 1880: point the URLs at this one.
      const changed: number = await page.evaluate((port) => {
        let count = 0;
        RED.nodes.eachNode((n: any) => {
          if (typeof n.url === 'string' && n.url.includes('127.0.0.1:1880')) {
            n.url = n.url.replace('127.0.0.1:1880', `127.0.0.1:${port}`);
            n.changed = true;
            n.dirty = true;
            count++;
          }
        });
        // The poll example's findface-server config node points at the stand-in FindFace API in the same flow.
        RED.nodes.eachConfig((n: any) => {
          for (const key of ['url', 'externalAddress']) {
            if (typeof n[key] === 'string' && n[key].includes('127.0.0.1:1880')) {
              n[key] = n[key].replace('127.0.0.1:1880', `127.0.0.1:${port}`);
              n.changed = true;
              n.dirty = true;
              count++;
            }
          }
        });
        RED.nodes.dirty(true);
        RED.view.redraw();
        return count;
      }, session.nodeRed.port);
      // Comments (info) may mention the default address; the nodes' settings may not, unless rewritten above.
      assert.ok(changed > 0 || !JSON.stringify(flow, (key, value: unknown) => (key === 'info' ? undefined : value)).includes('127.0.0.1:1880'));

      await page.evaluate(() => RED.sidebar.show('debug'));
      await deployFromEditor(session);
      const names = expectedDebug[name] ?? [];
      for (const debugName of names) {
        await waitFor(
          async () => (await page.locator('.red-ui-debug-msg-name', { hasText: typeof debugName === 'string' ? `: ${debugName}` : debugName }).count()) > 0,
          UI_TIMEOUT_MS,
          `a message from the debug node "${debugName}" in the debug sidebar`,
        );
      }
      await hideNotifications(page);
      await session.screenshot(`example-${name}`);
      assert.deepEqual(session.errorLinesSince(mark), []);
      // Errors reported by nodes also reach the debug sidebar.
      assert.equal(await page.locator('.red-ui-debug-msg-level-20').count(), 0, 'error messages in the debug sidebar');
    });
  }
});
