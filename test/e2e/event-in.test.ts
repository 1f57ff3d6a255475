// The packed package installed into a fresh user directory and run by a real
// Node-RED process: it loads, and the seed's sample event posted to a
// webhook-mode source comes out unchanged.
import assert from 'assert/strict';
import fs from 'fs';
import path from 'path';
import { NodeRedProcess } from '../support/node-red-process';
import { waitFor } from '../support/wait';
import { seedEvent } from '../fixtures/events';

function flows(outFile: string) {
  return [
    { id: 'tab', type: 'tab', label: 'e2e' },
    { id: 'source', type: 'findface-event-in', z: 'tab', mode: 'webhook', path: '/findface/events', maxBodyMb: 10, wires: [['to-json']] },
    { id: 'to-json', type: 'json', z: 'tab', action: 'str', property: 'payload', wires: [['to-file']] },
    {
      id: 'to-file',
      type: 'file',
      z: 'tab',
      filename: outFile,
      filenameType: 'str',
      appendNewline: true,
      createDir: true,
      overwriteFile: 'false',
      encoding: 'utf8',
      wires: [],
    },
  ];
}

const post = (url: string, body: string, type = 'application/json') => fetch(url, { method: 'POST', headers: { 'Content-Type': type }, body });

for (const roots of [
  { label: 'shared root "/" (the default)', settings: {}, admin: '' },
  { label: 'separate admin root', settings: { httpAdminRoot: '/admin', httpNodeRoot: '/' }, admin: '/admin' },
]) {
  describe(`a real Node-RED with the packed package, ${roots.label}`, function () {
    this.timeout(180000);
    let nodeRed: NodeRedProcess;
    let outFile: string;

    before(async () => {
      nodeRed = await NodeRedProcess.create({ settings: roots.settings });
      outFile = path.join(nodeRed.userDir, 'events.ndjson');
      fs.writeFileSync(path.join(nodeRed.userDir, 'flows.json'), JSON.stringify(flows(outFile)));
      await nodeRed.start();
    });
    afterEach(function () {
      if (this.currentTest?.state === 'failed') console.log(nodeRed.log);
    });
    after(() => nodeRed?.dispose());

    it('lists the package types in GET /nodes', async () => {
      const response = await fetch(`${nodeRed.url}${roots.admin}/nodes`, { headers: { Accept: 'application/json' } });
      const sets = (await response.json()) as Array<{ module: string; types: string[]; err?: string }>;
      const ours = sets.filter((set) => set.module === 'node-red-contrib-findface');
      assert.ok(ours.length > 0, 'the package is not loaded');
      for (const set of ours) assert.equal(set.err, undefined, `${set.types}: ${set.err}`);
      const types = ours.flatMap((set) => set.types);
      assert.ok(types.includes('findface-event-in'), types.join(','));
    });

    it('passes the seed sample event through unchanged', async () => {
      const response = await post(`${nodeRed.url}/findface/events`, JSON.stringify([seedEvent]));
      assert.equal(response.status, 200);
      assert.deepEqual(await response.json(), { accepted: 1 });
      const lines: string[] = await waitFor(
        () => {
          const text = fs.existsSync(outFile) ? fs.readFileSync(outFile, 'utf8').trim() : '';
          return text ? text.split('\n') : undefined;
        },
        10000,
        'the event in the output file',
      );
      assert.equal(lines.length, 1);
      assert.deepEqual(JSON.parse(lines[0]), seedEvent);
    });

    it('answers bad input with a 4xx and emits nothing', async () => {
      const before = fs.readFileSync(outFile, 'utf8');
      // The node reads the body before Node-RED's admin JSON parser, so the answer is its own JSON in both set-ups.
      const unparseable = await post(`${nodeRed.url}/findface/events`, '[{"id": ');
      assert.equal(unparseable.status, 400);
      assert.match(((await unparseable.json()) as { error: string }).error, /not valid JSON/);
      const notEvents = await post(`${nodeRed.url}/findface/events`, '[{"id": "1"}]');
      assert.equal(notEvents.status, 400);
      assert.match(((await notEvents.json()) as { error: string }).error, /event \[0\] has no "camera"/);
      assert.equal((await post(`${nodeRed.url}/findface/events`, 'x=1', 'text/plain')).status, 415);
      assert.equal((await fetch(`${nodeRed.url}/findface/events`)).status, 405);
      assert.equal(fs.readFileSync(outFile, 'utf8'), before);
    });

    it("takes a body over Node-RED's own 5 MB API limit when it is within the node's limit", async () => {
      const before = fs.readFileSync(outFile, 'utf8').split('\n').length;
      const big = { ...seedEvent, id: 'big-1', padding: 'x'.repeat(6 * 1024 * 1024) };
      const response = await post(`${nodeRed.url}/findface/events`, JSON.stringify([big]));
      assert.equal(response.status, 200);
      await waitFor(() => fs.readFileSync(outFile, 'utf8').split('\n').length > before, 10000, 'the big event');
      const tooBig = await post(`${nodeRed.url}/findface/events`, JSON.stringify([{ ...big, padding: 'x'.repeat(11 * 1024 * 1024) }]));
      assert.equal(tooBig.status, 413);
      assert.match(((await tooBig.json()) as { error: string }).error, /larger than the limit/);
    });

    it('logs no error and stops cleanly', async () => {
      assert.deepEqual(nodeRed.errorLines(), []);
      await nodeRed.stop();
      assert.match(nodeRed.log, /Stopped flows/);
    });
  });
}
