// Bad configuration, deployed through the admin API as an imported flow
// would be: wrong property types (objects, arrays, null, booleans where
// numbers or text belong), missing properties, unknown modes, huge and
// negative numbers. Each node must report a clear error naming itself in the
// log (not a TypeError from deep inside), the runtime must stay up, and a
// valid flow deployed afterwards must work.
//
// Rows for a type that GET /nodes does not list are skipped (the type is
// not in the package yet), and left out of the deploy, where an unknown
// type would stop the whole flow.
import assert from 'assert/strict';
import fs from 'fs';
import http from 'http';
import net from 'net';
import path from 'path';
import { NodeRedProcess } from '../support/node-red-process';
import { sleep, waitFor } from '../support/wait';
import { ffs4Event, seedEvent } from '../fixtures/events';

interface Row {
  id: string;
  type: 'findface-event-in' | 'findface-filter' | 'findface-webhook' | 'findface-server';
  why: string;
  /** Merged over the type's valid base; `undefined` leaves a property out. */
  props: Record<string, unknown>;
  /** What the node's error (or, for a config node, warning) must say; 'accepted': no error at all. */
  expect: RegExp | 'accepted';
}

const BASE: Record<Row['type'], (id: string) => Record<string, unknown>> = {
  'findface-event-in': (id) => ({ mode: 'webhook', path: `/bad-config/${id}`, maxBodyMb: 10, dedupWindowS: 0, toleranceS: 300, wires: [[]] }),
  'findface-filter': () => ({ filters: '{}', outputs: 1, cameraGroups: '', wires: [[]] }),
  // The title names the webhook in Node-RED's log lines (`[findface-webhook:<title>]`), so it names the row too (not the id
  // itself: a property equal to the node's id makes Node-RED refuse the flow).
  'findface-webhook': (id: string) => ({
    title: `hook ${id}`,
    url: 'http://127.0.0.1:9/hook',
    active: true,
    batchSize: 1,
    lingerMs: 0,
    timeout: 10000,
    backoffBase: 0.1,
    backoffFactor: 2.7,
    backoffMax: 100,
    maxAttempts: 10,
    successCodes: '200',
    wires: [[], []],
  }),
  'findface-server': () => ({ url: 'http://127.0.0.1:9', externalAddress: '', timeout: 10000, credentials: { token: 'bad-config-token' } }),
};

const SIMULATE = { mode: 'simulate', rate: 1, seed: '', cameras: '{"1": 1}', dossiers: '1, 2', matchedRatio: 0.3, shape: 'ffs3', autostart: false };

const rows: Row[] = [
  // ---- findface-event-in ---------------------------------------------------------------------
  { id: 'ei-mode-unknown', type: 'findface-event-in', why: 'an unknown mode', props: { mode: 'bogus' }, expect: /unknown source mode "bogus"/ },
  { id: 'ei-mode-number', type: 'findface-event-in', why: 'mode as a number', props: { mode: 7 }, expect: /unknown source mode "7"/ },
  { id: 'ei-mode-object', type: 'findface-event-in', why: 'mode as an object', props: { mode: { webhook: true } }, expect: /unknown source mode/ },
  { id: 'ei-mode-missing', type: 'findface-event-in', why: 'no mode: webhook, the default', props: { mode: undefined }, expect: 'accepted' },
  { id: 'ei-path-missing', type: 'findface-event-in', why: 'no path', props: { path: undefined }, expect: /no webhook URL path/ },
  { id: 'ei-path-null', type: 'findface-event-in', why: 'path null', props: { path: null }, expect: /no webhook URL path/ },
  { id: 'ei-path-number', type: 'findface-event-in', why: 'path as a number', props: { path: 123 }, expect: /path 123 is not text/ },
  { id: 'ei-path-object', type: 'findface-event-in', why: 'path as an object', props: { path: { url: '/x' } }, expect: /path \{"url":"\/x"\} is not text/ },
  { id: 'ei-path-array', type: 'findface-event-in', why: 'path as an array', props: { path: ['/a'] }, expect: /path \["\/a"\] is not text/ },
  { id: 'ei-size-text', type: 'findface-event-in', why: 'size limit as a word', props: { maxBodyMb: 'ten' }, expect: /size limit "ten"/ },
  { id: 'ei-size-negative', type: 'findface-event-in', why: 'a negative size limit', props: { maxBodyMb: -5 }, expect: /size limit "-5"/ },
  { id: 'ei-size-huge', type: 'findface-event-in', why: 'a size limit no buffer can hold', props: { maxBodyMb: 1e308 }, expect: /size limit "1e\+308"/ },
  { id: 'ei-size-object', type: 'findface-event-in', why: 'size limit as an object', props: { maxBodyMb: {} }, expect: /size limit "\{\}"/ },
  { id: 'ei-size-array', type: 'findface-event-in', why: 'size limit as an array', props: { maxBodyMb: [5] }, expect: /size limit "\[5\]"/ },
  { id: 'ei-size-boolean', type: 'findface-event-in', why: 'size limit as a boolean', props: { maxBodyMb: true }, expect: /size limit "true"/ },
  {
    id: 'ei-size-string',
    type: 'findface-event-in',
    why: 'size limit as numeric text (as the editor stores it)',
    props: { maxBodyMb: '10' },
    expect: 'accepted',
  },
  { id: 'ei-dedup-negative', type: 'findface-event-in', why: 'a negative repeat window', props: { dedupWindowS: -1 }, expect: /must be a number of seconds/ },
  { id: 'ei-tolerance-zero', type: 'findface-event-in', why: 'a clock-skew tolerance of 0', props: { toleranceS: 0 }, expect: /must be a number of seconds/ },
  {
    id: 'ei-tolerance-object',
    type: 'findface-event-in',
    why: 'tolerance as an object',
    props: { toleranceS: { s: 1 } },
    expect: /must be a number of seconds/,
  },
  { id: 'ei-respond-unknown', type: 'findface-event-in', why: 'an unknown answer mode', props: { respond: 'queue' }, expect: /unknown answer mode "queue"/ },
  { id: 'ei-respond-boolean', type: 'findface-event-in', why: 'answer mode as a boolean', props: { respond: true }, expect: /unknown answer mode "true"/ },
  {
    id: 'ei-queued-timeout-text',
    type: 'findface-event-in',
    why: 'the queued wait as a word',
    props: { respond: 'queued', queuedTimeoutS: 'long' },
    expect: /must be a number of seconds/,
  },
  { id: 'ei-rate-huge', type: 'findface-event-in', why: 'a huge simulation rate', props: { ...SIMULATE, rate: 1e9 }, expect: /rate "1000000000"/ },
  { id: 'ei-rate-negative', type: 'findface-event-in', why: 'a negative rate', props: { ...SIMULATE, rate: -1 }, expect: /rate "-1"/ },
  { id: 'ei-rate-text', type: 'findface-event-in', why: 'rate as a word', props: { ...SIMULATE, rate: 'fast' }, expect: /rate "fast"/ },
  { id: 'ei-rate-array', type: 'findface-event-in', why: 'rate as an array', props: { ...SIMULATE, rate: [5] }, expect: /rate "\[5\]"/ },
  { id: 'ei-rate-string', type: 'findface-event-in', why: 'rate as numeric text', props: { ...SIMULATE, rate: '100' }, expect: 'accepted' },
  { id: 'ei-seed-fraction', type: 'findface-event-in', why: 'a fractional seed', props: { ...SIMULATE, seed: 1.5 }, expect: /seed "1.5"/ },
  { id: 'ei-seed-object', type: 'findface-event-in', why: 'seed as an object', props: { ...SIMULATE, seed: { n: 1 } }, expect: /seed "\{"n":1\}"/ },
  {
    id: 'ei-cameras-object',
    type: 'findface-event-in',
    why: 'cameras as an object, not a JSON string',
    props: { ...SIMULATE, cameras: { 1: 1 } },
    expect: /camera layout/,
  },
  { id: 'ei-cameras-null-json', type: 'findface-event-in', why: 'cameras "null"', props: { ...SIMULATE, cameras: 'null' }, expect: /camera layout/ },
  {
    id: 'ei-cameras-array-json',
    type: 'findface-event-in',
    why: 'cameras as a JSON array',
    props: { ...SIMULATE, cameras: '[1, 2]' },
    expect: /camera layout/,
  },
  {
    id: 'ei-cameras-bad-id',
    type: 'findface-event-in',
    why: 'a camera id that is not a number',
    props: { ...SIMULATE, cameras: '{"a": 1}' },
    expect: /camera id "a"/,
  },
  { id: 'ei-dossiers-number', type: 'findface-event-in', why: 'dossiers as a number (one id)', props: { ...SIMULATE, dossiers: 5 }, expect: 'accepted' },
  {
    id: 'ei-dossiers-object',
    type: 'findface-event-in',
    why: 'dossiers as an object',
    props: { ...SIMULATE, dossiers: { a: 1 } },
    expect: /dossier ids must be whole numbers/,
  },
  { id: 'ei-ratio-big', type: 'findface-event-in', why: 'a matched ratio of 2', props: { ...SIMULATE, matchedRatio: 2 }, expect: /matched ratio/ },
  { id: 'ei-ratio-boolean', type: 'findface-event-in', why: 'matched ratio as a boolean', props: { ...SIMULATE, matchedRatio: true }, expect: /matched ratio/ },
  {
    id: 'ei-shape-unknown',
    type: 'findface-event-in',
    why: 'an unknown event shape',
    props: { ...SIMULATE, shape: 'ffs9' },
    expect: /unknown event shape "ffs9"/,
  },
  { id: 'ei-shape-object', type: 'findface-event-in', why: 'shape as an object', props: { ...SIMULATE, shape: { v: 3 } }, expect: /unknown event shape/ },

  // ---- findface-filter -----------------------------------------------------------------------
  {
    id: 'fi-filters-object',
    type: 'findface-filter',
    why: 'filters as an object, not a JSON string',
    props: { filters: { camera_in: [2] } },
    expect: /filter is not valid JSON: not text/,
  },
  { id: 'fi-filters-number', type: 'findface-filter', why: 'filters as a number', props: { filters: 5 }, expect: /filter is not valid JSON/ },
  { id: 'fi-filters-array', type: 'findface-filter', why: 'filters as an array', props: { filters: [] }, expect: /filter is not valid JSON/ },
  { id: 'fi-filters-json-array', type: 'findface-filter', why: 'filters as a JSON array', props: { filters: '[]' }, expect: /must be a JSON object/ },
  {
    id: 'fi-filters-not-json',
    type: 'findface-filter',
    why: 'filters that are not JSON',
    props: { filters: '{camera_in: [2]}' },
    expect: /filter is not valid JSON/,
  },
  {
    id: 'fi-filters-unknown-key',
    type: 'findface-filter',
    why: 'an unknown filter key',
    props: { filters: '{"camera": [2]}' },
    expect: /unknown filter "camera"/,
  },
  {
    id: 'fi-filters-not-list',
    type: 'findface-filter',
    why: 'a list key given a string',
    props: { filters: '{"camera_in": "2"}' },
    expect: /"camera_in" takes a list/,
  },
  {
    id: 'fi-filters-huge-id',
    type: 'findface-filter',
    why: 'an id beyond safe integers',
    props: { filters: '{"camera_in": [18446744073709551616]}' },
    expect: /"camera_in"\[0\]/,
  },
  {
    id: 'fi-filters-matched-list',
    type: 'findface-filter',
    why: 'matched given a list',
    props: { filters: '{"matched": [true]}' },
    expect: /"matched" takes one boolean/,
  },
  {
    id: 'fi-filters-twice',
    type: 'findface-filter',
    why: 'a key given twice',
    props: { filters: '{"camera_in": [1], "camera_in": [2]}' },
    expect: /given twice/,
  },
  { id: 'fi-filters-missing', type: 'findface-filter', why: 'no filters: {}, the default', props: { filters: undefined }, expect: 'accepted' },
  {
    id: 'fi-outputs-7',
    type: 'findface-filter',
    why: 'outputs 7',
    props: { outputs: 7, wires: [[], [], [], [], [], [], []] },
    expect: /outputs must be 1 or 2, not 7/,
  },
  { id: 'fi-outputs-text', type: 'findface-filter', why: 'outputs as a word', props: { outputs: 'two' }, expect: /outputs must be 1 or 2, not two/ },
  { id: 'fi-outputs-null', type: 'findface-filter', why: 'outputs null', props: { outputs: null }, expect: /outputs must be 1 or 2/ },
  { id: 'fi-outputs-string', type: 'findface-filter', why: 'outputs as numeric text', props: { outputs: '2', wires: [[], []] }, expect: 'accepted' },
  {
    id: 'fi-groups-object',
    type: 'findface-filter',
    why: 'camera groups as an object',
    props: { cameraGroups: { 2: 1 } },
    expect: /camera groups are not valid JSON/,
  },
  {
    id: 'fi-groups-array',
    type: 'findface-filter',
    why: 'camera groups as a JSON array',
    props: { cameraGroups: '[1]' },
    expect: /camera groups must be a JSON object/,
  },
  {
    id: 'fi-groups-bad-camera',
    type: 'findface-filter',
    why: 'a camera id that is not a number',
    props: { cameraGroups: '{"a": 1}' },
    expect: /"a" is not a camera id/,
  },
  {
    id: 'fi-groups-bad-group',
    type: 'findface-filter',
    why: 'a group that is not a number',
    props: { cameraGroups: '{"2": "1"}' },
    expect: /camera 2 has the group "1"/,
  },

  // ---- findface-webhook ----------------------------------------------------------------------
  { id: 'wh-title-object', type: 'findface-webhook', why: 'title as an object', props: { title: { name: 'x' } }, expect: /title/ },
  { id: 'wh-url-number', type: 'findface-webhook', why: 'url as a number', props: { url: 8080 }, expect: /url/ },
  { id: 'wh-url-object', type: 'findface-webhook', why: 'url as an object', props: { url: { host: 'x' } }, expect: /url/ },
  { id: 'wh-url-missing', type: 'findface-webhook', why: 'no url on an active webhook', props: { url: undefined }, expect: /url/ },
  { id: 'wh-url-ftp', type: 'findface-webhook', why: 'a url that is not http', props: { url: 'ftp://127.0.0.1/hook' }, expect: /url/ },
  { id: 'wh-active-text', type: 'findface-webhook', why: 'active as a word', props: { active: 'yes' }, expect: /active/ },
  { id: 'wh-batch-zero', type: 'findface-webhook', why: 'batch size 0', props: { batchSize: 0 }, expect: /batchSize/ },
  { id: 'wh-batch-text', type: 'findface-webhook', why: 'batch size as a word', props: { batchSize: 'ten' }, expect: /batchSize/ },
  { id: 'wh-batch-object', type: 'findface-webhook', why: 'batch size as an object', props: { batchSize: {} }, expect: /batchSize/ },
  { id: 'wh-batch-string', type: 'findface-webhook', why: 'batch size as numeric text', props: { batchSize: '10' }, expect: 'accepted' },
  { id: 'wh-linger-negative', type: 'findface-webhook', why: 'a negative linger', props: { lingerMs: -5 }, expect: /lingerMs/ },
  { id: 'wh-timeout-text', type: 'findface-webhook', why: 'timeout as a word', props: { timeout: 'soon' }, expect: /timeout/ },
  { id: 'wh-backoff-base-negative', type: 'findface-webhook', why: 'a negative backoff base', props: { backoffBase: -1 }, expect: /backoffBase/ },
  { id: 'wh-backoff-factor-small', type: 'findface-webhook', why: 'a backoff factor below 1', props: { backoffFactor: 0.5 }, expect: /backoffFactor/ },
  { id: 'wh-backoff-max-array', type: 'findface-webhook', why: 'backoff maximum as an array', props: { backoffMax: [1, 2] }, expect: /backoffMax/ },
  { id: 'wh-attempts-fraction', type: 'findface-webhook', why: 'a fractional number of attempts', props: { maxAttempts: 2.5 }, expect: /maxAttempts/ },
  { id: 'wh-attempts-negative', type: 'findface-webhook', why: 'a negative number of attempts', props: { maxAttempts: -1 }, expect: /maxAttempts/ },
  { id: 'wh-codes-text', type: 'findface-webhook', why: 'success codes that are not codes', props: { successCodes: 'ok' }, expect: /ok/ },
  { id: 'wh-codes-object', type: 'findface-webhook', why: 'success codes as an object', props: { successCodes: { 200: true } }, expect: /200|object/ },

  // ---- findface-server (a config node: its problems are warnings) ------------------------------
  { id: 'fs-url-number', type: 'findface-server', why: 'url as a number', props: { url: 8080 }, expect: /URL|url/ },
  { id: 'fs-url-object', type: 'findface-server', why: 'url as an object', props: { url: { host: 'x' } }, expect: /URL|url/ },
  { id: 'fs-url-missing', type: 'findface-server', why: 'no url', props: { url: undefined }, expect: /URL|url/ },
  { id: 'fs-url-ftp', type: 'findface-server', why: 'a url that is not http', props: { url: 'ftp://127.0.0.1' }, expect: /URL|url/ },
  { id: 'fs-external-number', type: 'findface-server', why: 'external address as a number', props: { externalAddress: 5 }, expect: /external address/ },
  {
    id: 'fs-external-bad',
    type: 'findface-server',
    why: 'an external address that is not a URL',
    props: { externalAddress: 'not a url' },
    expect: /external address/,
  },
  { id: 'fs-timeout-negative', type: 'findface-server', why: 'a negative timeout', props: { timeout: -1 }, expect: /timeout/ },
  { id: 'fs-timeout-object', type: 'findface-server', why: 'timeout as an object', props: { timeout: {} }, expect: /timeout/ },
  { id: 'fs-timeout-string', type: 'findface-server', why: 'timeout as numeric text', props: { timeout: '5000' }, expect: 'accepted' },
];

/** What a bug deep inside a node looks like in the log, as opposed to a configuration message. */
const INTERNAL_ERROR = /TypeError|ReferenceError|RangeError|SyntaxError: Unexpected|is not a function|Cannot read propert|is not iterable/;

function nodeFor(row: Row): Record<string, unknown> {
  const node: Record<string, unknown> = { id: row.id, type: row.type, ...BASE[row.type](row.id), ...row.props };
  if (row.type !== 'findface-server') node.z = 'bad-tab';
  for (const key of Object.keys(node)) if (node[key] === undefined) delete node[key];
  return node;
}

/** Log lines at error or warn level of the node `id` (Node-RED writes `[level] [type:id]` when the node has no name). */
function linesOf(log: string, row: Row): string[] {
  return log
    .split('\n')
    .filter((line) => /\[(error|warn)\]/.test(line) && (line.includes(`[${row.type}:${row.id}]`) || line.includes(`[${row.type}:hook ${row.id}]`)));
}

async function deploy(nodeRed: NodeRedProcess, flows: unknown[]): Promise<void> {
  const startedBefore = nodeRed.count('Started flows');
  const response = await fetch(`${nodeRed.url}/flows`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'Node-RED-Deployment-Type': 'full' },
    body: JSON.stringify(flows),
  });
  assert.ok(response.status === 200 || response.status === 204, `deploy answered ${response.status}: ${await response.text()}`);
  await waitFor(() => nodeRed.count('Started flows') > startedBefore, 15000, 'the deployed flows to start');
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('bad configuration deployed to a real Node-RED', function () {
  this.timeout(120000);
  let nodeRed: NodeRedProcess;
  let registered: Set<string>;
  let logAfterDeploy: string;

  before(async () => {
    nodeRed = await NodeRedProcess.create();
    await nodeRed.start();
    const response = await fetch(`${nodeRed.url}/nodes`, { headers: { Accept: 'application/json' } });
    const sets = (await response.json()) as Array<{ module: string; types: string[]; enabled?: boolean; err?: string }>;
    registered = new Set(sets.filter((set) => set.module === 'node-red-contrib-findface' && !set.err && set.enabled !== false).flatMap((set) => set.types));
    const deployed = rows.filter((row) => registered.has(row.type)).map(nodeFor);
    await deploy(nodeRed, [{ id: 'bad-tab', type: 'tab', label: 'bad configuration' }, ...deployed]);
    // Errors are reported while the nodes are built; give asynchronous ones a moment.
    await sleep(500);
    logAfterDeploy = nodeRed.log;
  });
  afterEach(function () {
    if (this.currentTest?.state === 'failed') console.log(nodeRed.log.slice(-15000));
  });
  after(() => nodeRed?.dispose());

  for (const row of rows) {
    const expectation = row.expect === 'accepted' ? 'is accepted' : `is refused with ${row.expect}`;
    it(`${row.type}: ${row.why} ${expectation}`, function () {
      if (!registered.has(row.type)) this.skip();
      const lines = linesOf(logAfterDeploy, row);
      if (row.expect === 'accepted') {
        assert.deepEqual(lines, [], 'no error or warning expected');
        return;
      }
      assert.ok(lines.length > 0, `no error or warning logged for ${row.id}`);
      assert.ok(
        lines.some((line) => (row.expect as RegExp).test(line)),
        `the message does not match ${row.expect}:\n${lines.join('\n')}`,
      );
      for (const line of lines) assert.doesNotMatch(line, INTERNAL_ERROR, 'an internal error instead of a configuration message');
    });
  }

  it('stays up, and a valid flow deployed afterwards works', async () => {
    assert.ok(alive(nodeRed.pid!), 'Node-RED is not running');
    const outFile = path.join(nodeRed.userDir, 'passed.ndjson');
    const received: unknown[] = [];
    const receiver = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        received.push(JSON.parse(Buffer.concat(chunks).toString()));
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      const port = (receiver.address() as net.AddressInfo).port;
      const sender = registered.has('findface-webhook')
        ? [
            {
              id: 'good-hook',
              type: 'findface-webhook',
              z: 'good-tab',
              ...BASE['findface-webhook']('good-hook'),
              url: `http://127.0.0.1:${port}/hook`,
              wires: [[], []],
            },
          ]
        : [];
      await deploy(nodeRed, [
        { id: 'good-tab', type: 'tab', label: 'valid' },
        { id: 'good-in', type: 'findface-event-in', z: 'good-tab', mode: 'webhook', path: '/good/events', maxBodyMb: 10, wires: [['good-filter']] },
        {
          id: 'good-filter',
          type: 'findface-filter',
          z: 'good-tab',
          filters: '{"camera_in": [2]}',
          outputs: 1,
          wires: [['good-file', ...sender.map((node) => node.id)]],
        },
        {
          id: 'good-file',
          type: 'file',
          z: 'good-tab',
          filename: outFile,
          filenameType: 'str',
          appendNewline: true,
          createDir: true,
          overwriteFile: 'false',
          encoding: 'utf8',
          wires: [],
        },
        ...sender,
      ]);
      const response = await fetch(`${nodeRed.url}/good/events`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify([seedEvent, ffs4Event]),
      });
      assert.equal(response.status, 200, await response.text());
      const passed = await waitFor(() => (fs.existsSync(outFile) ? fs.readFileSync(outFile, 'utf8').trim() : ''), 10000, 'the event through the filter');
      // The seed event (camera 2) passes, the 4.x one (camera 7) does not.
      assert.deepEqual(
        passed.split('\n').map((line) => JSON.parse(line)),
        [seedEvent],
      );
      if (sender.length) {
        await waitFor(() => received.length > 0, 10000, 'the webhook to deliver');
        assert.deepEqual(received, [[seedEvent]]);
      }
      assert.ok(alive(nodeRed.pid!));
      // The redeploy removed the bad nodes without errors of their own.
      const sinceRedeploy = nodeRed.log.slice(logAfterDeploy.length);
      assert.deepEqual(
        sinceRedeploy.split('\n').filter((line) => line.includes('[error]')),
        [],
      );
    } finally {
      receiver.closeAllConnections();
      await new Promise((resolve) => receiver.close(resolve));
    }
  });
});
