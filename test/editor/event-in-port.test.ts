// The face event source's own-port fields in a real browser: "Listen on"
// shows the port, bind address and TLS rows only for "a port of its own",
// they are validated at once in the dialog (and not in httpNode or another
// mode), the URL to give FindFace uses the node's port (https with a TLS
// configuration), the help says when to choose which, and the deployed node
// serves its port.
import assert from 'assert/strict';
import type { Page } from 'playwright-core';
import {
  closeWithCancel,
  closeWithDone,
  deployFromEditor,
  editorSession,
  EditorSession,
  fillAndLeave,
  hasInputError,
  helpSection,
  importNodes,
  nodeView,
  openEditDialog,
  removeNode,
  workspaceLabel,
} from './support/editor';
import { freePort, portRequest } from '../support/port-client';
import { waitFor } from '../support/wait';

// The editor's global, inside page.evaluate.
declare const RED: any;

const TYPE = 'findface-event-in';

function visible(page: Page, selector: string): Promise<boolean> {
  return page.locator(selector).first().isVisible();
}

function marked(page: Page, field: string): Promise<boolean> {
  return hasInputError(page, `node-input-${field}`);
}

function type(page: Page, field: string, text: string): Promise<void> {
  return fillAndLeave(page.locator(`#node-input-${field}`), text);
}

describe('editor: the face event source on its own port', function () {
  this.timeout(60000);
  let session: EditorSession;
  let page: Page;
  let id: string;
  let tlsId: string;
  let port: number;

  before(async function () {
    this.timeout(120000);
    session = await editorSession();
    await session.requireRegistered(TYPE);
    page = await session.editorPage();
    port = await freePort();
    [id, tlsId] = await importNodes(page, [
      {
        id: 'src',
        type: TYPE,
        mode: 'webhook',
        path: '/findface/own-port',
        maxBodyMb: 10,
        respond: 'auto',
        queuedTimeoutS: 10,
        dedupWindowS: 0,
        toleranceS: 300,
        inputs: 0,
      },
      { id: 'door-tls', type: 'tls-config', name: 'door tls', cert: '', key: '', ca: '', verifyservercert: true },
    ]);
  });
  after(async () => {
    if (page && id) await removeNode(page, id);
  });

  it('shows the port rows only for "a port of its own", and the httpNode URL by default', async () => {
    await openEditDialog(page, id);
    assert.equal(await page.locator('#node-input-listen').inputValue(), 'httpNode', 'a node saved without "listen" listens on httpNode');
    assert.equal(await visible(page, '#node-input-port'), false);
    assert.equal(await visible(page, '#node-input-tls'), false);
    assert.equal(await page.locator('#findface-event-in-url').innerText(), `http://<node-red-host>:${session.nodeRed.port}/findface/own-port`);
    await page.locator('#node-input-listen').selectOption('port');
    assert.equal(await visible(page, '#node-input-port'), true);
    assert.equal(await visible(page, '#node-input-host'), true);
    assert.equal(await visible(page, '#node-input-tls'), true);
    await session.screenshot('event-in-own-port-dialog');
    await page.locator('#node-input-mode').selectOption('simulate');
    assert.equal(await visible(page, '#node-input-port'), false, 'the port rows show in simulate mode');
    await closeWithCancel(page);
  });

  it('validates the port and the bind address at once, only when they count', async () => {
    await openEditDialog(page, id);
    // Empty as saved: fine while listening on httpNode.
    assert.equal(await page.locator('#node-input-port').inputValue(), '');
    assert.equal(await marked(page, 'port'), false, 'the port is marked while listening on httpNode');
    await page.locator('#node-input-listen').selectOption('port');
    assert.equal(await marked(page, 'port'), true, 'an empty port is not marked');
    for (const bad of ['0', '65536', '80.5', 'http']) {
      await type(page, 'port', bad);
      assert.equal(await marked(page, 'port'), true, `port "${bad}" is not marked`);
    }
    await type(page, 'port', String(port));
    assert.equal(await marked(page, 'port'), false);
    await type(page, 'host', 'not a host!');
    assert.equal(await marked(page, 'host'), true);
    await closeWithDone(page);
    assert.equal((await nodeView(page, id)).valid, false, 'a bad bind address was accepted');
    await openEditDialog(page, id);
    await type(page, 'host', '127.0.0.1');
    assert.equal(await marked(page, 'host'), false);
    await page.locator('#node-input-mode').selectOption('poll');
    await page.locator('#node-input-mode').selectOption('webhook');
    assert.equal(await marked(page, 'port'), false);
    await closeWithDone(page);
    const view = await nodeView(page, id);
    const invalid = await page.evaluate((nodeId) => {
      const n = RED.nodes.node(nodeId);
      return Object.keys(n._def.defaults).filter((key) => n._def.defaults[key].validate && n._def.defaults[key].validate.call(n, n[key]) !== true);
    }, id);
    assert.equal(view.valid, true, `invalid: ${JSON.stringify(invalid)} ${JSON.stringify(view.props)}`);
    assert.equal(view.props.listen, 'port');
    assert.equal(String(view.props.port), String(port));
    assert.equal(view.props.host, '127.0.0.1');
    assert.equal(await workspaceLabel(page, id), `[post] :${port}/findface/own-port`);
  });

  it("shows the URL with the node's port, https with a TLS configuration", async () => {
    await openEditDialog(page, id);
    const url = page.locator('#findface-event-in-url');
    assert.equal(await url.innerText(), `http://<node-red-host>:${port}/findface/own-port`);
    await page.locator('#node-input-tls').selectOption(tlsId);
    await waitFor(async () => (await url.innerText()).startsWith('https:'), 5000, 'the https URL');
    assert.equal(await url.innerText(), `https://<node-red-host>:${port}/findface/own-port`);
    assert.equal(await page.locator('#findface-event-in-hook-url').inputValue(), `https://<node-red-host>:${port}/findface/own-port`);
    await closeWithCancel(page);
  });

  it('says in the help when to choose httpNode and when a port of its own', async () => {
    const details = await helpSection(page, TYPE, 'Details');
    assert.match(details, /On its own port/);
    assert.match(details, /one\s+port to open and manage/);
    assert.match(details, /does not expose the editor/);
    assert.match(details, /mutual TLS/);
  });

  it("deploys and serves the node's own port, not Node-RED's", async () => {
    const mark = session.logMark();
    await deployFromEditor(session);
    const body = JSON.stringify([{ id: '1', camera: 2 }]);
    const answer = await waitFor(
      async () => {
        const response = await portRequest({ port, path: '/findface/own-port', body }).catch(() => undefined);
        return response?.status === 200 ? response : undefined;
      },
      10000,
      'the own port to serve the path',
    );
    assert.deepEqual(answer.body, { accepted: 1 });
    const onNodeRed = await fetch(`${session.nodeRed.url}/findface/own-port`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
    assert.equal(onNodeRed.status, 404);
    assert.deepEqual(session.errorLinesSince(mark), []);
  });
});
