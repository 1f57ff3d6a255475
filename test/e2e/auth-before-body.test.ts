// Authentication before the body, in a real Node-RED: a request that Node-RED's
// httpNodeAuth or the node's shared secret refuses is answered at once, without
// its body being read into memory; open routes hold a bounded number of bytes.
// Measured as issue 19 did: 50 unauthenticated 10 MB POSTs at once (the
// process's RSS before and at its peak, beside a core `http in` route behind
// the same httpNodeAuth), and a 1 KB/s trickle answered in milliseconds.
// The core route is sent text/plain: with both roots "/" Node-RED's admin
// JSON parser reads an application/json body (up to 5 MB) before
// httpNodeAuth runs, even for core routes; the node's route is sent
// application/json, its worst case.
import assert from 'assert/strict';
import fs from 'fs';
import http from 'http';
import nodePath from 'path';
import { NodeRedProcess } from '../support/node-red-process';
import { seedEvent } from '../fixtures/events';

// Node-RED's own bcrypt, as its settings.js tells users to hash httpNodeAuth passwords with.
const bcrypt = require(require.resolve('bcryptjs', { paths: [nodePath.dirname(require.resolve('node-red/package.json'))] })) as {
  hashSync(text: string, rounds: number): string;
};

const MB = 1024 * 1024;
// Not JSON from its first byte: an open route that reads one fails fast.
const BIG = Buffer.alloc(10 * MB, 'x');
const SECRET = 'door-secret-19';
const BASIC = 'Basic ' + Buffer.from('findface:open-sesame').toString('base64');

function rssMb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) / 1024;
}

interface Answer {
  status: number;
  ms: number;
}

/** POSTs `body` (or trickles it at 1 KB/s when `trickle`), and stops sending once answered. */
function post(url: string, headers: Record<string, string>, body: Buffer, trickle = false): Promise<Answer> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const type = url.includes('/core/') ? 'text/plain' : 'application/json';
    const request = http.request(url, { method: 'POST', headers: { 'Content-Type': type, 'Content-Length': String(body.length), ...headers } });
    request.flushHeaders();
    let answered = false;
    request.on('response', (response) => {
      answered = true;
      response.resume();
      response.on('end', () => request.destroy());
      resolve({ status: response.statusCode ?? 0, ms: performance.now() - started });
    });
    request.on('error', (error) => (answered ? undefined : reject(error)));
    if (!trickle) {
      request.end(body);
      return;
    }
    let sent = 0;
    const drip = setInterval(() => {
      if (sent >= body.length) return clearInterval(drip);
      request.write(body.subarray(sent, sent + 100));
      sent += 100;
    }, 100);
    request.on('close', () => clearInterval(drip));
  });
}

/** 50 POSTs of 10 MB at once; the RSS of the process before and at its peak meanwhile. */
async function flood(nodeRed: NodeRedProcess, path: string, headers: Record<string, string>) {
  const pid = nodeRed.pid!;
  const before = rssMb(pid);
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, rssMb(pid))), 20);
  try {
    const answers = await Promise.all(Array.from({ length: 50 }, () => post(nodeRed.url + path, headers, BIG)));
    peak = Math.max(peak, rssMb(pid));
    return { before, peak, statuses: [...new Set(answers.map((answer) => answer.status))] };
  } finally {
    clearInterval(sampler);
  }
}

function flows(extra: Record<string, unknown> = {}) {
  return [
    { id: 'tab', type: 'tab', label: 'auth before body' },
    { id: 'source', type: 'findface-event-in', z: 'tab', mode: 'webhook', path: '/ff/events', maxBodyMb: 20, wires: [[]], ...extra },
    { id: 'core-in', type: 'http in', z: 'tab', url: '/core/events', method: 'post', upload: false, swaggerDoc: '', wires: [['core-out']] },
    { id: 'core-out', type: 'http response', z: 'tab', statusCode: '200', headers: {}, wires: [] },
  ];
}

describe('a real Node-RED: authentication before the body', function () {
  this.timeout(120000);

  describe('behind httpNodeAuth (basic auth, bcrypt hash in settings)', () => {
    let nodeRed: NodeRedProcess;
    before(async () => {
      nodeRed = await NodeRedProcess.create({ settings: { httpNodeAuth: { user: 'findface', pass: bcrypt.hashSync('open-sesame', 8) } } });
      await nodeRed.start();
      await nodeRed.deploy(flows({ credentials: { secret: SECRET } }));
    });
    afterEach(function () {
      if (this.currentTest?.state === 'failed') console.log(nodeRed.log.slice(-5000));
    });
    after(() => nodeRed?.dispose());

    it('takes an authenticated request with the secret, and answers broken JSON itself', async () => {
      const body = Buffer.from(JSON.stringify([seedEvent]));
      assert.equal((await post(`${nodeRed.url}/ff/events`, { Authorization: BASIC }, body)).status, 401, 'basic auth passes, the secret is missing');
      assert.equal((await post(`${nodeRed.url}/ff/events?token=${SECRET}`, { Authorization: BASIC }, body)).status, 200);
      assert.equal((await post(`${nodeRed.url}/ff/events?token=${SECRET}`, { Authorization: BASIC }, Buffer.from('[{"id": '))).status, 400);
    });

    it('answers a 1 KB/s trickle 401 at once: without basic auth (as core does), and with it but without the secret', async () => {
      const trickles = await Promise.all([
        post(`${nodeRed.url}/ff/events`, {}, Buffer.alloc(20_000, 'x'), true),
        post(`${nodeRed.url}/core/events`, {}, Buffer.alloc(20_000, 'x'), true),
        post(`${nodeRed.url}/ff/events`, { Authorization: BASIC }, Buffer.alloc(20_000, 'x'), true),
      ]);
      console.log(
        `      trickle answered in ${trickles.map((t) => `${t.status} ${t.ms.toFixed(0)} ms`).join(' / ')} (node without basic auth / core / node without secret)`,
      );
      for (const trickle of trickles) {
        assert.equal(trickle.status, 401);
        assert.ok(trickle.ms < 1000, `answered in ${trickle.ms} ms, not after the body (20 s)`);
      }
    });

    it('answers 50 unauthenticated 10 MB POSTs without holding their bodies, as a core route does', async () => {
      const core = await flood(nodeRed, '/core/events', {});
      const node = await flood(nodeRed, '/ff/events', {});
      const noSecret = await flood(nodeRed, '/ff/events', { Authorization: BASIC });
      const shown = (m: { before: number; peak: number }) => `${m.before.toFixed(0)} → ${m.peak.toFixed(0)} MB`;
      console.log(`      RSS: core http in ${shown(core)}; node, no basic auth ${shown(node)}; node, basic auth but no secret ${shown(noSecret)}`);
      assert.deepEqual(core.statuses, [401]);
      assert.deepEqual(node.statuses, [401]);
      assert.deepEqual(noSecret.statuses, [401]);
      // Reading them would hold 500 MB.
      // Not held: holding them would take 500 MB. On Node-RED 4.1 / Node.js 20 the growth is 2 MB; on Node-RED 5 /
      // Node.js 24 it is 70-80 MB (core route: 20-27 MB) while Node.js reads and discards what a refused client
      // still sends: a finding in the README, not a held body.
      const coreGrowth = core.peak - core.before;
      for (const m of [node, noSecret])
        assert.ok(
          m.peak - m.before < Math.max(120, coreGrowth + 60),
          `RSS grew ${(m.peak - m.before).toFixed(0)} MB (core route: ${coreGrowth.toFixed(0)} MB)`,
        );
    });
  });

  describe('an open route (no secret, no httpNodeAuth): the bodies being read are bounded', () => {
    let nodeRed: NodeRedProcess;
    before(async () => {
      nodeRed = await NodeRedProcess.create({ flows: flows() });
      await nodeRed.start();
    });
    after(() => nodeRed?.dispose());

    it('answers 50 10 MB POSTs that are not JSON at once with 400 or 503, holding at most the budget', async () => {
      const open = await flood(nodeRed, '/ff/events', {});
      console.log(`      RSS, open route: ${open.before.toFixed(0)} → ${open.peak.toFixed(0)} MB; answers ${open.statuses.join(', ')}`);
      assert.ok(
        open.statuses.every((status) => status === 400 || status === 503),
        open.statuses.join(','),
      );
      assert.ok(open.statuses.includes(503), 'some were refused for the budget');
      // The budget holds 32 MB of bodies at once; RSS adds the garbage of the bodies read and discarded
      // (measured +146 to +159 MB; reading all 50 at once, as before the budget, measured +397 MB).
      assert.ok(open.peak - open.before < 250, `RSS grew ${(open.peak - open.before).toFixed(0)} MB`);
    });
  });
});
