// Where the filter, the webhook and the door access node read the event, set
// in their edit dialogs in a real browser (the `property` typedInput): a bad
// expression marks the field invalid, a node saved before it is valid and
// shows payload, the value is saved, and a deployed flow
// inject → filter → webhook that carries the event in msg.event (msg.payload
// holding something else) delivers exactly the passing event.
import assert from 'assert/strict';
import type { Page } from 'playwright-core';
import { Receiver } from '../support/receiver';
import { sleep } from '../support/wait';
import {
  closeWithDone,
  deployFromEditor,
  editorSession,
  EditorSession,
  fillTypedInput,
  hasErrorBadge,
  hasInputError,
  importNodes,
  nodeView,
  openEditDialog,
  removeNode,
} from './support/editor';

declare const $: any;

/** Sets the dialog's property field (a bad value first, which must show as invalid), then saves the dialog. */
async function setProperty(page: Page, id: string, property: string): Promise<void> {
  await openEditDialog(page, id);
  assert.equal(await page.evaluate(() => $('#node-input-property').typedInput('value')), 'payload', 'the default is payload');
  assert.equal(await page.evaluate(() => $('#node-input-property').typedInput('type')), 'msg');
  await fillTypedInput(page, 'node-input-property', 'event..id');
  assert.equal(await hasInputError(page, 'node-input-property'), true, 'event..id is not a property expression');
  await fillTypedInput(page, 'node-input-property', property);
  assert.equal(await hasInputError(page, 'node-input-property'), false);
  await closeWithDone(page);
}

describe('editor: where nodes read the event (property)', function () {
  this.timeout(90000);
  let session: EditorSession;
  let page: Page;
  let receiver: Receiver;

  before(async function () {
    this.timeout(120000);
    session = await editorSession();
    await session.requireRegistered('findface-filter', 'findface-webhook', 'findface-access');
    receiver = await Receiver.start();
    page = await session.editorPage();
  });

  after(() => receiver?.stop());

  it('sets msg.event in the filter, webhook and door dialogs; deployed, the passing event in msg.event is what is sent', async () => {
    const event = (id: string, camera: number) => JSON.stringify({ id, camera, matched: true, matched_dossier: 12, created_date: new Date().toISOString() });
    const inject = (id: string, eventJson: string) => ({
      id,
      type: 'inject',
      props: [{ p: 'payload' }, { p: 'event', v: eventJson, vt: 'json' }],
      payload: 'not the event',
      payloadType: 'str',
      once: true,
      onceDelay: 0.5,
      repeat: '',
      topic: '',
      wires: [['prop-filter']],
    });
    const ids = await importNodes(page, [
      inject('prop-inject-pass', event('prop-pass', 2)),
      inject('prop-inject-fail', event('prop-fail', 3)),
      { id: 'prop-filter', type: 'findface-filter', filters: '{"camera_in": [2]}', outputs: 1, cameraGroups: '{}', wires: [['prop-webhook']] },
      { id: 'prop-webhook', type: 'findface-webhook', title: 'property relay', url: receiver.url, wires: [[], []] },
      { id: 'prop-door', type: 'findface-access', door: 'Property door', allow: '{"matched": true}', wires: [[], []] },
    ]);
    const [, , filter, webhook, door] = ids;
    try {
      for (const id of [filter, webhook, door]) {
        const saved = await nodeView(page, id);
        assert.equal(saved.props.property, undefined, 'imported as a flow saved before property');
        assert.equal(saved.valid, true, `${saved.type} saved before property is valid`);
      }
      for (const id of [filter, webhook, door]) await setProperty(page, id, 'event');
      for (const id of [filter, webhook, door]) {
        const view = await nodeView(page, id);
        assert.equal(view.props.property, 'event', `${view.type} saved the property`);
        assert.equal(view.valid, true, `${view.type} is valid`);
        assert.equal(await hasErrorBadge(page, id), false);
      }
      assert.equal((await nodeView(page, webhook)).props.propertyType, 'msg');
      assert.equal(await page.evaluate((id) => $(`#${id}`).length, 'node-input-propertyType'), 0, 'the dialog is closed');

      await deployFromEditor(session);
      await receiver.waitForDelivered(1, 15000);
      // The failing event (camera 3) left the inject at the same moment: it would have arrived by now.
      await sleep(500);
      assert.deepEqual(receiver.deliveredIds, ['prop-pass']);
      await session.screenshot('event-property-deployed');
    } finally {
      for (const id of ids) await removeNode(page, id);
      await deployFromEditor(session);
    }
  });
});
