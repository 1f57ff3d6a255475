// Each example flow deployed into a real Node-RED (the packed package,
// installed as a user would), as imported, on a port that is not the default
// and with `httpNodeRoot: "/api"`: it runs with nothing outside Node-RED, its
// catchers and the door relay really receive batches of the right events,
// and the log has no error. The examples post to paths (this Node-RED's own
// httpNode); the test's copy only records what every `http in` route
// receives into a file. EXAMPLES_PORT pins the port (e.g. 1881); by default
// it is a free ephemeral one.
import assert from 'assert/strict';
import fs from 'fs';
import path from 'path';
import { NodeRedProcess, repoRoot } from '../support/node-red-process';
import { waitFor } from '../support/wait';
import { NO_REDIS_REASON, RedisServer, redisServerBinary } from '../support/redis-server';
import { seedEvent } from '../fixtures/events';

interface FlowNode {
  id: string;
  type: string;
  z?: string;
  url?: string;
  method?: string;
  wires?: string[][];
  [key: string]: unknown;
}

interface FaceEventLike {
  id: string;
  camera: number | { id: number };
  matched: boolean;
  matched_dossier?: number | null;
}

const examplesDir = path.join(repoRoot, 'examples');

function loadExample(name: string): FlowNode[] {
  return JSON.parse(fs.readFileSync(path.join(examplesDir, `${name}.json`), 'utf8')) as FlowNode[];
}

/**
 * The example as the test deploys it: local URLs on this Node-RED's port, and
 * each `http in` route also wired to a json → file pair writing what it
 * receives, one request body per line, to <dir>/<route>.ndjson.
 */
const HTTP_NODE_ROOT = '/api';

/** The examples that post only to paths, so they run as imported whatever the port and root. */
const PORTABLE = ['01-seed-walkthrough', '03-fan-out', '04-poll-findface-server'];

/**
 * Also records the first output of the nodes in `taps`, under the key
 * `output:<node id>`.
 */
function testCopy(name: string, flow: FlowNode[], port: number, dir: string, taps: string[] = []): { flow: FlowNode[]; files: Map<string, string> } {
  const text = JSON.stringify(flow);
  const settingsText = JSON.stringify(flow, (key, value: unknown) => (key === 'info' ? undefined : value));
  if (PORTABLE.includes(name)) assert.ok(!/127\.0\.0\.1:\d+/.test(settingsText), `${name} names a host and port instead of a path`);
  // What a user of an example that still names 127.0.0.1:1880 has to change by hand.
  const copy = JSON.parse(text.split('127.0.0.1:1880/').join(`127.0.0.1:${port}${HTTP_NODE_ROOT}/`)) as FlowNode[];
  const files = new Map<string, string>();
  for (const node of copy.filter((n) => n.type === 'http in' || taps.includes(n.id))) {
    const key = node.type === 'http in' ? String(node.url) : `output:${node.id}`;
    const file = path.join(dir, `${key.replace(/[^A-Za-z0-9]+/g, '_')}.ndjson`);
    files.set(key, file);
    const toJson = {
      id: `${node.id}-json`,
      type: 'json',
      z: node.z,
      action: 'str',
      property: 'payload',
      pretty: false,
      x: 0,
      y: 0,
      wires: [[`${node.id}-file`]],
    };
    const toFile = {
      id: `${node.id}-file`,
      type: 'file',
      z: node.z,
      filename: file,
      filenameType: 'str',
      appendNewline: true,
      createDir: true,
      overwriteFile: 'false',
      encoding: 'utf8',
      x: 0,
      y: 0,
      wires: [],
    };
    node.wires = [[...(node.wires?.[0] ?? []), toJson.id], ...(node.wires ?? []).slice(1)];
    copy.push(toJson, toFile);
  }
  return { flow: copy, files };
}

/** The request bodies a route has received so far. */
function received(file: string | undefined): unknown[] {
  if (!file || !fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as unknown);
}

function batchesOf(file: string | undefined): FaceEventLike[][] {
  const bodies = received(file);
  for (const body of bodies) {
    assert.ok(Array.isArray(body) && body.length > 0, `not a batch (a JSON array of events): ${JSON.stringify(body).slice(0, 200)}`);
    for (const event of body as FaceEventLike[])
      assert.ok(event.id !== undefined && event.camera !== undefined, `not an event: ${JSON.stringify(event).slice(0, 200)}`);
  }
  return bodies as FaceEventLike[][];
}

const cameraOf = (event: FaceEventLike) => (typeof event.camera === 'object' ? event.camera.id : event.camera);

const post = (url: string, body: unknown) => fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });

describe('the example flows in a real Node-RED', function () {
  this.timeout(120000);
  let nodeRed: NodeRedProcess;
  let types: Map<string, string | undefined>;
  let mark = 0;

  before(async () => {
    const port = process.env.EXAMPLES_PORT ? Number(process.env.EXAMPLES_PORT) : undefined;
    nodeRed = await NodeRedProcess.create({ flows: [], port, settings: { httpNodeRoot: HTTP_NODE_ROOT } });
    assert.notEqual(nodeRed.port, 1880);
    await nodeRed.start();
    const sets = (await (await fetch(`${nodeRed.url}/nodes`, { headers: { Accept: 'application/json' } })).json()) as Array<{
      module: string;
      name: string;
      types: string[];
      err?: unknown;
    }>;
    types = new Map();
    for (const set of sets.filter((s) => s.module === 'node-red-contrib-findface')) {
      for (const type of set.types.length ? set.types : [set.name])
        types.set(type, set.err ? `${set.name} failed to load: ${String(set.err).split('\n')[0]}` : undefined);
    }
  });

  beforeEach(() => {
    mark = nodeRed.log.length;
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') console.log(nodeRed.log.slice(mark));
  });

  after(() => nodeRed?.dispose());

  /** Deploys the test copy of an example, or skips when a type it needs is not registered. */
  async function deployExample(context: Mocha.Context, name: string, taps: string[] = []): Promise<Map<string, string>> {
    const flow = loadExample(name);
    for (const type of new Set(flow.map((n) => n.type).filter((t) => t.startsWith('findface-')))) {
      const problem = types.has(type) ? types.get(type) : `${type} is not registered`;
      if (problem) {
        context.test!.title += ` (pending: ${problem})`;
        context.skip();
      }
    }
    const dir = fs.mkdtempSync(path.join(nodeRed.userDir, `${name}-`));
    const copy = testCopy(name, flow, nodeRed.port, dir, taps);
    await nodeRed.deploy(copy.flow);
    return copy.files;
  }

  function logErrors(): string[] {
    return nodeRed.log
      .slice(mark)
      .split('\n')
      .filter((line) => line.includes('[error]') || /^\w*Error:/.test(line));
  }

  it("01-seed-walkthrough: the catcher receives batches of the events the seed's filter passes", async function () {
    const files = await deployExample(this, '01-seed-walkthrough');
    const catcher = files.get('/findface-catcher');
    const batches = await waitFor(() => (batchesOf(catcher).length >= 2 ? batchesOf(catcher) : undefined), 30000, 'two batches at the catcher');
    for (const batch of batches) {
      assert.ok(batch.length <= 10, `a batch of ${batch.length} (batchSize 10)`);
      for (const event of batch) {
        // {"camera_group_in": [1, 3], "matched_dossier_in": [12, 25]}, cameras 1 and 2 in group 1
        assert.ok([1, 2].includes(cameraOf(event)), `camera ${cameraOf(event)} is not in group 1 or 3`);
        assert.ok(event.matched_dossier === 12 || event.matched_dossier === 25, `dossier ${event.matched_dossier}`);
      }
    }
    assert.match(nodeRed.log.slice(mark), /Event \d+ enqueued for webhook seed catcher \(\d+ items in queue\)/);
    assert.match(nodeRed.log.slice(mark), /Sent \d+ events: \[/);
    assert.deepEqual(logErrors(), []);
  });

  // 02-door-access-control runs in test/e2e/door-access.test.ts (port and httpNodeRoot of its own, fake controllers).

  it('03-fan-out: the archive and the lobby keep receiving while the broken receiver fails and backs off', async function () {
    const files = await deployExample(this, '03-fan-out');
    const [archive, lobby, broken] = ['/fanout/archive', '/fanout/lobby', '/fanout/broken'].map((route) => files.get(route));
    // The broken receiver is tried, answers 500, and its webhook backs off (twice, so it is well into its failures).
    await waitFor(() => nodeRed.log.slice(mark).split('Backing off for').length - 1 >= 2, 30000, 'two backoffs of the broken receiver');
    assert.ok(received(broken).length >= 1, 'the broken receiver was never tried');
    const lobbyBefore = batchesOf(lobby).length;
    const archiveBefore = batchesOf(archive).length;
    await waitFor(
      () => batchesOf(lobby).length >= lobbyBefore + 2 && batchesOf(archive).length >= archiveBefore + 1,
      30000,
      'the lobby and the archive to keep receiving while the broken receiver backs off',
    );
    for (const batch of batchesOf(archive)) {
      assert.ok(batch.length <= 20);
      for (const event of batch) assert.equal(event.matched, true, 'the archive receives matched events only');
    }
    for (const batch of batchesOf(lobby)) {
      assert.equal(batch.length, 1);
      assert.ok([1, 2].includes(cameraOf(batch[0])), `lobby screen got camera ${cameraOf(batch[0])}`);
    }
    // FindFace's own words, for the broken receiver: the waits grow by backoffFactor 2.7.
    const waits = [...nodeRed.log.slice(mark).matchAll(/Backing off for (\d+\.\d{3}) seconds after failure: (.*)/g)];
    assert.equal(waits[0][1], '0.270');
    assert.equal(waits[1][1], '0.729');
    assert.match(waits[0][2], /500/);
    // The webhook-mode source takes a FindFace POST too: the seed's (matched) event reaches the archive.
    assert.equal((await post(`${nodeRed.url}${HTTP_NODE_ROOT}/findface/events`, [seedEvent])).status, 200);
    await waitFor(() => batchesOf(archive).some((batch) => batch.some((event) => event.id === seedEvent.id)), 10000, 'the posted event in the archive');
    assert.deepEqual(logErrors(), []);
  });

  it('04-poll-findface-server: poll mode reads the stand-in FindFace API of the same flow and passes camera group 1', async function () {
    const filterId = 'a4f0c0de00000103';
    const files = await deployExample(this, '04-poll-findface-server', [filterId]);
    const passed = files.get(`output:${filterId}`);
    const events = await waitFor(
      () => (received(passed).length >= 2 ? (received(passed) as Array<FaceEventLike & { face?: string }>) : undefined),
      30000,
      'two polled events through the filter',
    );
    const expectedImages = `http://127.0.0.1:${nodeRed.port}${HTTP_NODE_ROOT}/demo-findface/uploads/demo/`;
    for (const event of events) {
      // The stand-in's cameras 1 and 2 are in group 1, camera 3 in group 2.
      assert.ok([1, 2].includes(cameraOf(event)), `camera ${cameraOf(event)} is not in group 1`);
      // The server's external address is a path too: relative image URLs become this Node-RED's.
      assert.ok(String(event.face).startsWith(expectedImages), `face ${event.face} is not under ${expectedImages}`);
    }
    assert.equal(new Set(events.map((event) => event.id)).size, events.length, 'an event came out twice');
    assert.ok(received(files.get('/demo-findface/cameras')).length >= 1, 'the filter never read the camera list');
    assert.deepEqual(logErrors(), []);
  });
  it('05-several-instances-redis: with a Redis, events posted to the source reach the stand-in receiver through the Redis queue, a repeat is dropped, the door opens once', async function () {
    if (!redisServerBinary()) {
      this.test!.title += ` (pending: ${NO_REDIS_REASON})`;
      this.skip();
    }
    const redis = new RedisServer();
    await redis.start();
    try {
      const accessId = 'a5f0c0de00000108';
      const flow = loadExample('05-several-instances-redis').map((node) => (node.type === 'findface-redis' ? { ...node, url: redis.url } : node));
      const dir = fs.mkdtempSync(path.join(nodeRed.userDir, '05-'));
      const copy = testCopy('05-several-instances-redis', flow, nodeRed.port, dir, [accessId]);
      await nodeRed.deploy(copy.flow);
      const event = (id: string) => ({ ...seedEvent, id, matched: true, matched_dossier: 5, created_date: new Date().toISOString() });
      const source = `${nodeRed.url}${HTTP_NODE_ROOT}/findface/ha-events`;
      const first = await waitFor(
        async () => {
          const answer = await post(source, [event('7001'), event('7002')]);
          return answer.status === 200 ? answer : undefined;
        },
        10000,
        'a 200 once the configuration node is connected',
      );
      assert.deepEqual(await first.json(), { accepted: 2 });
      assert.deepEqual(await (await post(source, [event('7002')])).json(), { accepted: 0, duplicates: 1 });
      const batches = await waitFor(
        () => (batchesOf(copy.files.get('/ha-demo/receiver')).flat().length >= 2 ? batchesOf(copy.files.get('/ha-demo/receiver')) : undefined),
        10000,
        "the receiver's batch",
      );
      assert.deepEqual(
        batches.flat().map((e) => e.id),
        ['7001', '7002'],
      );
      await waitFor(() => received(copy.files.get(`output:${accessId}`)).length >= 1, 5000, 'the door open');
      assert.equal(received(copy.files.get(`output:${accessId}`)).length, 1, 'one open for the person');
      assert.equal(redis.cli('XLEN', 'findface-example:webhook:a5f0c0de00000103:events'), '0');
      assert.deepEqual(logErrors(), []);
    } finally {
      await nodeRed.deploy([]);
      await redis.dispose();
    }
  });
});
