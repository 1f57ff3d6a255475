// Setting up FindFace from Node-RED: in the face event source's dialog, in
// webhook mode, the button creates the webhook in FindFace (the fake
// FindFace here, POST /hooks/) through the chosen findface-server node, with
// the URL of this node, batch size, send attempts, active and the filter in
// sections; pressed again, it updates the same webhook (PATCH /hooks/{id}/).
import assert from 'assert/strict';
import type { Page } from 'playwright-core';
import { closeWithCancel, editorSession, EditorSession, openEditDialog, waitForEditor } from './support/editor';
import { FakeFindFace } from '../support/fake-findface';

declare const RED: { workspaces: { show(id: string): void } };

const TAB = 'f10e0000000000a1';
const SERVER = 'f10e0000000000a2';
const SOURCE = 'f10e0000000000a3';

describe('editor: the source dialog sets up the webhook in FindFace', function () {
  this.timeout(60000);
  let session: EditorSession;
  let page: Page;
  let fake: FakeFindFace;

  before(async function () {
    this.timeout(120000);
    session = await editorSession();
    const state = (await session.typeStates()).get('findface-event-in');
    assert.ok(state?.registered, state?.reason);
    fake = await FakeFindFace.start();
    page = await session.editorPage();
    await session.nodeRed.deploy([
      { id: TAB, type: 'tab', label: 'hooks', disabled: false, info: '' },
      {
        id: SERVER,
        type: 'findface-server',
        name: 'fake FindFace',
        url: fake.url,
        externalAddress: '',
        timeout: 2000,
        rejectUnauthorized: true,
        ca: '',
        credentials: { token: fake.token },
      },
      { id: SOURCE, type: 'findface-event-in', z: TAB, x: 200, y: 120, mode: 'webhook', path: '/door/events', server: SERVER, wires: [[]] },
    ]);
    await page.reload();
    await waitForEditor(page);
    await page.evaluate((tab) => RED.workspaces.show(tab), TAB);
  });

  after(async () => {
    await fake?.close();
    // The editor tests share one Node-RED: leave no half-configured node behind for the next file's deploys.
    await session?.nodeRed.deploy([]);
    await page?.reload();
    if (page) await waitForEditor(page);
  });

  it('creates the webhook with the URL of this node, then updates the same one', async () => {
    const tray = await openEditDialog(page, SOURCE);
    assert.equal(await tray.locator('#findface-event-in-hook-button').isVisible(), true, 'the button shows in webhook mode');
    // Prefilled with the placeholder host: only the user knows the address FindFace reaches Node-RED by.
    const port = new URL(session.nodeRed.url).port;
    assert.equal(await tray.locator('#findface-event-in-hook-url').inputValue(), `http://<node-red-host>:${port}/door/events`);
    await tray.locator('#findface-event-in-hook-url').fill(`${session.nodeRed.url}/door/events`);
    await tray.locator('#findface-event-in-hook-name').fill('Door events');
    await tray.locator('#findface-event-in-hook-batch').fill('5');
    await tray.locator('#findface-event-in-hook-attempts').fill('0');
    await page.evaluate(() => $('#findface-event-in-hook-filters').typedInput('value', '{"camera_group_in": [1], "matched": true}'));
    await tray.locator('#findface-event-in-hook-form').selectOption('sectioned');
    await tray.locator('#findface-event-in-hook-button').click();
    const result = tray.locator('#findface-event-in-hook-result');
    await result.filter({ hasText: /✔|✘/ }).waitFor({ timeout: 10000 });
    assert.match(await result.innerText(), /✔ .*created/, await result.innerText());
    assert.equal(fake.hooks.size, 1);
    const hook = [...fake.hooks.values()][0];
    assert.deepEqual(
      { name: hook.name, url: hook.url, batch_size: hook.batch_size, send_attempts: hook.send_attempts, active: hook.active, filters: hook.filters },
      {
        name: 'Door events',
        url: `${session.nodeRed.url}/door/events`,
        batch_size: 5,
        send_attempts: 0,
        active: true,
        filters: { face_events: { camera_group_in: [1], matched: true } },
      },
    );
    assert.equal(fake.requestsTo('/hooks/').filter((r) => r.method === 'POST')[0].headers.authorization, `Token ${fake.token}`);

    await tray.locator('#findface-event-in-hook-active').uncheck();
    await tray.locator('#findface-event-in-hook-button').click();
    await result.filter({ hasText: /updated/ }).waitFor({ timeout: 10000 });
    assert.equal(fake.hooks.size, 1, 'the same webhook, updated');
    assert.equal(hook.active, false);
    assert.ok(fake.requests.some((r) => r.method === 'PATCH' && r.path === `/hooks/${hook.id}/`));
    await closeWithCancel(page);
  });
});
