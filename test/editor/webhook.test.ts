// The webhook sender's edit dialog in a real browser: one Name field (stored
// as `title` and mirrored into `name`; a flow saved with a name only keeps
// it), the node's label on the workspace and in the debug sidebar, its icon on
// the left (it has outputs), the "Log every event" checkbox, and "Send test
// event": a test event reaches the receiver, the answer looks like the
// server's "Test connection" (✔ and ✘ alike in both), and a read-only user
// (adminAuth, permissions "read") is refused and sends nothing. The header
// rules are the lib's, served from the package's resources/ folder.
import assert from 'assert/strict';
import type { Page, Request } from 'playwright-core';
import { FakeFindFace } from '../support/fake-findface';
import { Receiver } from '../support/receiver';
import {
  closeConfigWithCancel,
  closeWithCancel,
  closeWithDone,
  deployFromEditor,
  dialogLabels,
  dragFromPalette,
  editorSession,
  EditorSession,
  fillTypedInput,
  hasInputError,
  helpSection,
  importNodes,
  nodeView,
  openConfigDialog,
  openEditDialog,
  removeNode,
  resultLook,
  ResultLook,
  VIEWER,
  workspaceLabel,
} from './support/editor';

declare const RED: any;

const TYPE = 'findface-webhook';

async function tokenFor(session: EditorSession, user: { username: string; password: string }): Promise<string> {
  const response = await fetch(`${session.nodeRed.url}/auth/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ client_id: 'node-red-editor', grant_type: 'password', scope: '', ...user }),
  });
  assert.equal(response.status, 200, `no token for ${user.username}`);
  return ((await response.json()) as { access_token: string }).access_token;
}

/** Clicks a test button and waits for its answer to be shown (no longer pending); returns how it looks. */
async function pressTestButton(page: Page, button: string, result: string): Promise<ResultLook> {
  await page.locator(button).click();
  await page.locator(`${result}.findface-test-ok, ${result}.findface-test-failed`).waitFor();
  return resultLook(page, result);
}

describe('editor: the webhook dialog', function () {
  this.timeout(60000);
  let session: EditorSession;
  let page: Page;
  let receiver: Receiver;
  let id: string;

  before(async function () {
    this.timeout(120000);
    session = await editorSession();
    await session.requireRegistered(TYPE, 'findface-server');
    receiver = await Receiver.start();
    page = await session.editorPage();
    id = await dragFromPalette(page, TYPE, { x: 320, y: 200 });
  });

  after(() => receiver?.stop());

  it("has one field for its name, stored as title (and name), shown as the node's label", async () => {
    await openEditDialog(page, id);
    const labels = await dialogLabels(page);
    assert.equal(labels.filter((label) => /^(Name|Title)$/.test(label)).length, 1, `two name fields: ${labels.join(', ')}`);
    assert.equal(await page.locator('#node-input-name').getAttribute('type'), 'hidden');
    await page.locator('#node-input-url').fill(receiver.url);
    await page.locator('#node-input-title').fill('  door 1  ');
    await closeWithDone(page);
    const view = await nodeView(page, id);
    assert.equal(view.props.title, 'door 1');
    assert.equal(view.props.name, 'door 1');
    assert.equal(await workspaceLabel(page, id), 'door 1');
  });

  it('shows the name of a flow saved with a name only, and takes it as title when the dialog is opened', async () => {
    const [earlier, both] = await importNodes(page, [
      { type: TYPE, name: 'old sender', url: receiver.url },
      { type: TYPE, name: 'old name', title: 'the title', url: receiver.url },
    ]);
    try {
      assert.equal(await workspaceLabel(page, earlier), 'old sender');
      assert.equal(await workspaceLabel(page, both), 'the title', 'the title is the label when both are set');
      await openEditDialog(page, earlier);
      assert.equal(await page.locator('#node-input-title').inputValue(), 'old sender');
      await closeWithDone(page);
      assert.deepEqual([(await nodeView(page, earlier)).props.title, (await nodeView(page, earlier)).props.name], ['old sender', 'old sender']);
    } finally {
      await removeNode(page, earlier);
      await removeNode(page, both);
    }
  });

  it("shows its icon on the left: it has outputs (core nodes put the icon right only at a flow's end)", async () => {
    assert.equal(await page.evaluate((t) => RED.nodes.getType(t).align ?? 'left', TYPE), 'left');
    const icon = page.locator(`g.red-ui-flow-node-group[id="${id}"] .red-ui-flow-node-icon-group`);
    assert.equal(await icon.count(), 1);
    assert.doesNotMatch((await icon.getAttribute('class')) ?? '', /red-ui-flow-node-icon-group-right/);
    const node = await page.locator(`g.red-ui-flow-node-group[id="${id}"] rect.red-ui-flow-node`).boundingBox();
    const iconBox = await icon.boundingBox();
    assert.ok(node && iconBox && iconBox.x - node.x < node.width / 2, `the icon is not on the left: ${JSON.stringify({ node, iconBox })}`);
  });

  it('has a "Log every event" checkbox, on by default and for flows saved before it, saved as logEvents', async () => {
    const [earlier] = await importNodes(page, [{ type: TYPE, title: 'saved before logEvents', url: receiver.url }]);
    try {
      assert.equal((await nodeView(page, earlier)).props.logEvents, undefined);
      await openEditDialog(page, earlier);
      assert.equal(await page.locator('#node-input-logEvents').isChecked(), true, 'a flow saved before logEvents shows it off');
      await closeWithCancel(page);
    } finally {
      await removeNode(page, earlier);
    }
    await openEditDialog(page, id);
    const checkbox = page.locator('#node-input-logEvents');
    assert.equal(await checkbox.isChecked(), true);
    await checkbox.uncheck();
    await closeWithDone(page);
    assert.equal((await nodeView(page, id)).props.logEvents, false);
    await openEditDialog(page, id);
    assert.equal(await checkbox.isChecked(), false);
    await checkbox.check();
    await closeWithDone(page);
    assert.equal((await nodeView(page, id)).props.logEvents, true);
    // The help says what the lines cost.
    const details = await helpSection(page, TYPE, 'Details');
    assert.match(details, /Log every event \(on by default\)/);
    assert.match(details, /about four lines per event/);
    assert.match(details, /Error with a stack trace/);
    assert.match(details, /about a fifth of the throughput/);
  });

  it('runs the header rules the lib compiled, served from resources/, and marks a refused header invalid', async () => {
    const served = await page.evaluate(async () => {
      const response = await fetch('resources/node-red-contrib-findface/headers.js');
      return { status: response.status, text: await response.text() };
    });
    assert.equal(served.status, 200);
    assert.match(served.text, /Generated by scripts\/build\.js from nodes\/lib\/delivery\/headers\.js/);
    const answer = await page.evaluate(() => (window as any).FindFace.headers.parseHeaders('{"Transfer-Encoding": "chunked"}'));
    assert.deepEqual(answer, { ok: false, problem: { code: 'transport-header', name: 'Transfer-Encoding' } });
    await openEditDialog(page, id);
    await fillTypedInput(page, 'node-input-headers', '{"Authorization": "Token x"}');
    assert.equal(await hasInputError(page, 'node-input-headers'), true, 'the sender sets Authorization itself');
    await fillTypedInput(page, 'node-input-headers', '{"X-Site": "entrance"}');
    assert.equal(await hasInputError(page, 'node-input-headers'), false);
    await closeWithDone(page);
    const view = await nodeView(page, id);
    assert.equal(view.props.headers, '{"X-Site": "entrance"}');
    assert.equal(view.valid, true);
  });

  it('names the node in the debug sidebar by its name', async () => {
    // A receiver that refuses connections: the sender warns "Backing off …", which the debug sidebar shows.
    const refused = await Receiver.start();
    await refused.stop();
    const [inject, sender] = await importNodes(page, [
      {
        id: 'debug-name-inject',
        type: 'inject',
        props: [{ p: 'payload' }],
        payload: '{"id": "debug-name-1", "camera": 1}',
        payloadType: 'json',
        once: true,
        onceDelay: 0.1,
        repeat: '',
        topic: '',
        wires: [['debug-name-sender']],
      },
      { id: 'debug-name-sender', type: TYPE, title: 'door 3 relay', url: refused.url, maxAttempts: 2, backoffBase: 0.1 },
    ]);
    try {
      await openEditDialog(page, sender);
      await closeWithDone(page); // as the dialog saves it
      await page.evaluate(() => RED.sidebar.show('debug'));
      await deployFromEditor(session);
      const named = page.locator('.red-ui-debug-msg').filter({ has: page.locator('.red-ui-debug-msg-name', { hasText: 'door 3 relay' }) });
      await named
        .filter({ hasText: /Backing off/ })
        .first()
        .waitFor();
      assert.equal(
        await page
          .locator('.red-ui-debug-msg')
          .filter({ hasText: /Backing off/ })
          .filter({ hasText: sender })
          .count(),
        0,
        'a warning named by the node id',
      );
      await session.screenshot('webhook-debug-sidebar-name');
    } finally {
      await removeNode(page, inject);
      await removeNode(page, sender);
      await deployFromEditor(session);
      await page.evaluate(() => RED.actions.invoke('core:clear-debug-messages'));
    }
  });

  it('"send test event" sends a test event to the receiver, and a read-only user is refused', async () => {
    // Deployed (the test before deploys too, unless run alone): a deployed node's test uses what it was deployed with.
    if (await page.evaluate(() => RED.nodes.dirty())) await deployFromEditor(session);
    await openEditDialog(page, id);
    const mark = session.logMark();
    // The first admin POST after the click (whatever its path) is the button's.
    const requestMade = page.waitForRequest(
      (req: Request) => req.method() === 'POST' && req.url().startsWith(session.nodeRed.url) && !/\/(flows|auth\/|comms)/.test(req.url()),
    );
    const look = await pressTestButton(page, '#findface-webhook-test', '#findface-webhook-test-result');
    const request = await requestMade;
    const answer = await request.response();
    assert.ok(answer && answer.status() < 300, `the button's request ${request.url()} answered ${answer?.status()}`);
    assert.equal(receiver.requests.length, 1);
    assert.match(String(receiver.requests[0].headers['content-type']), /^application\/json/);
    const batch = receiver.requests[0].body as Array<{ id?: unknown; camera?: unknown }>;
    assert.ok(Array.isArray(batch) && batch.length >= 1, `the test request is not a JSON array of events: ${JSON.stringify(batch)}`);
    assert.ok(batch[0].id !== undefined && batch[0].camera !== undefined, `not a face event: ${JSON.stringify(batch[0])}`);
    // The dialog tells the user how the receiver answered.
    assert.match(look.text, /\b200\b/);
    assert.ok(look.classes.includes('findface-test-ok'), `the answer is not marked a success: ${JSON.stringify(look)}`);
    await session.screenshot('webhook-test-event-sent');
    await closeWithCancel(page);

    // The same admin request, by a user who may only read.
    const viewerToken = await tokenFor(session, VIEWER);
    const refused = await fetch(request.url(), {
      method: 'POST',
      headers: { 'Content-Type': request.headers()['content-type'] ?? 'application/json', Authorization: `Bearer ${viewerToken}` },
      body: request.postData() ?? undefined,
    });
    // 401 from RED.auth.needsPermission (as Node-RED's own routes answer), or 403 from a route's own check.
    assert.ok([401, 403].includes(refused.status), `a read-only user's test request answered ${refused.status}`);
    // The route answers only after its own request to the receiver: a refusal that had sent would be there already.
    assert.equal(receiver.requests.length, 1, 'the refused request still sent an event');
    assert.deepEqual(session.errorLinesSince(mark), []);
  });
});

describe('editor: the test buttons of the webhook and the FindFace server look alike', function () {
  this.timeout(60000);
  let session: EditorSession;
  let page: Page;
  let receiver: Receiver;
  let findface: FakeFindFace;
  const looks: Record<string, { ok: ResultLook; failed: ResultLook }> = {};

  before(async function () {
    this.timeout(120000);
    session = await editorSession();
    await session.requireRegistered(TYPE, 'findface-server');
    receiver = await Receiver.start();
    findface = await FakeFindFace.start();
    page = await session.editorPage();
  });

  after(async () => {
    await receiver?.stop();
    await findface?.close();
  });

  it('"Send test event" marks a success ✔ and a failure ✘, in different colours', async () => {
    const [sender] = await importNodes(page, [{ type: TYPE, title: 'look', url: receiver.url }]);
    try {
      await openEditDialog(page, sender);
      const ok = await pressTestButton(page, '#findface-webhook-test', '#findface-webhook-test-result');
      await receiver.refuse();
      const failed = await pressTestButton(page, '#findface-webhook-test', '#findface-webhook-test-result');
      await session.screenshot('webhook-test-event-failed');
      await closeWithCancel(page);
      await receiver.accept();
      assert.ok(ok.classes.includes('findface-test-ok') && !ok.classes.includes('findface-test-failed'), JSON.stringify(ok));
      assert.ok(failed.classes.includes('findface-test-failed') && !failed.classes.includes('findface-test-ok'), JSON.stringify(failed));
      assert.match(failed.text, /ECONNREFUSED/);
      looks.webhook = { ok, failed };
    } finally {
      await removeNode(page, sender);
    }
  });

  it('"Test connection" of a FindFace server marks them the same way', async () => {
    const server = 'f5e7e70000000001';
    await page.evaluate(
      ({ id, url }) => {
        RED.nodes.import([{ id, type: 'findface-server', name: 'look', url, users: [] }]);
        RED.view.redraw(true);
      },
      { id: server, url: findface.url },
    );
    try {
      await openConfigDialog(page, server);
      await page.locator('#node-config-input-token').fill(findface.token);
      const ok = await pressTestButton(page, '#findface-server-test', '#findface-server-test-result');
      await findface.close();
      const failed = await pressTestButton(page, '#findface-server-test', '#findface-server-test-result');
      await session.screenshot('server-test-connection-failed');
      await closeConfigWithCancel(page);
      assert.match(ok.text, /connected/);
      looks.server = { ok, failed };
    } finally {
      await page.evaluate((id) => RED.nodes.remove(id), server);
    }
  });

  it('has one look for both: the same mark, colour and classes for a success, and for a failure', () => {
    assert.ok(looks.webhook && looks.server, 'the buttons above did not both answer');
    for (const outcome of ['ok', 'failed'] as const) {
      const webhook = looks.webhook[outcome];
      const server = looks.server[outcome];
      assert.equal(webhook.mark, server.mark, `${outcome}: the marks differ`);
      assert.equal(webhook.color, server.color, `${outcome}: the colours differ`);
      assert.deepEqual([...webhook.classes].sort(), [...server.classes].sort(), `${outcome}: the classes differ`);
    }
    assert.equal(looks.webhook.ok.mark, '"✔\u00a0"');
    assert.equal(looks.webhook.failed.mark, '"✘\u00a0"');
    assert.notEqual(looks.webhook.ok.color, looks.webhook.failed.color, 'a success and a failure have one colour');
  });
});
