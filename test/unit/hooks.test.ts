import assert from 'assert/strict';
import { FindFaceClient } from '../../nodes/lib/findface/findface-api';
import { filterForm, filtersFor, hookSettingsFrom, redactToken } from '../../nodes/lib/findface/hooks';
import { FakeFindFace } from '../support/fake-findface';

describe('hooks: the webhook settings sent to FindFace', () => {
  const base = {
    name: 'Node-RED door',
    url: 'http://10.0.0.5:1880/findface/events',
    active: true,
    batch_size: '5',
    send_attempts: 0,
    filters: '{"camera_group_in": [1]}',
  };

  it("checks name, URL, numbers and filter, with FindFace's defaults", () => {
    const ok = hookSettingsFrom({ name: 'ab', url: 'https://x.example/e' });
    assert.deepEqual(ok.settings, { name: 'ab', active: true, url: 'https://x.example/e', batch_size: 1, send_attempts: 10, filters: {} });
    assert.match(String(hookSettingsFrom({ ...base, name: 'a' }).problem), /2 to 100/);
    assert.match(String(hookSettingsFrom({ ...base, url: '/findface/events' }).problem), /not an http/);
    assert.match(String(hookSettingsFrom({ ...base, batch_size: 0 }).problem), /batch_size/);
    assert.match(String(hookSettingsFrom({ ...base, send_attempts: -1 }).problem), /send_attempts/);
    assert.match(String(hookSettingsFrom({ ...base, filters: '{' }).problem), /not JSON/);
    assert.match(String(hookSettingsFrom({ ...base, active: 'yes' }).problem), /active/);
  });

  it('sends the filter flat or in sections, as the server takes it', () => {
    assert.deepEqual(hookSettingsFrom({ ...base, form: 'sectioned' }).settings?.filters, { face_events: { camera_group_in: [1] } });
    assert.deepEqual(hookSettingsFrom({ ...base, form: 'flat' }).settings?.filters, { camera_group_in: [1] });
    assert.deepEqual(filtersFor({ face_events: { camera_in: [2] } }, 'flat').filters, { camera_in: [2] });
    assert.match(String(filtersFor({ face_events: {}, body_events: {} }, 'flat').problem), /body_events/);
    assert.match(String(filtersFor({ face_events: {}, camera_in: [1] }, 'sectioned').problem), /mixes/);
    assert.equal(filterForm({}), 'empty');
  });

  it("puts the source's secret in the URL as ?token= (FindFace can only be given a URL), redacted in what is shown", () => {
    const settings = hookSettingsFrom(base, 's3cret-value').settings!;
    assert.equal(settings.url, 'http://10.0.0.5:1880/findface/events?token=s3cret-value');
    assert.equal(redactToken(settings.url), 'http://10.0.0.5:1880/findface/events?token=***');
  });

  it('creates the webhook with POST /hooks/ and changes it with PATCH /hooks/{id}/ on the fake FindFace', async () => {
    const fake = await FakeFindFace.start();
    const client = new FindFaceClient({ baseUrl: fake.url, token: fake.token, timeoutMs: 1000 });
    try {
      const created = await client.createHook(hookSettingsFrom({ ...base, form: 'sectioned' }).settings!);
      assert.equal(fake.hooks.get(created.id)?.batch_size, 5);
      const updated = await client.updateHook(created.id, { active: false });
      assert.equal(updated.active, false);
      assert.deepEqual(
        (await client.listHooks()).map((h) => h.id),
        [created.id],
      );
      assert.deepEqual(fake.requests.map((r) => `${r.method} ${r.path} ${r.status}`).slice(0, 2), [`POST /hooks/ 201`, `PATCH /hooks/${created.id}/ 200`]);
    } finally {
      client.destroy();
      await fake.close();
    }
  });
});
