// The door path in a real Node-RED (the packed package, installed as a user
// would):
// - the door example (02) on import, on a port of its own and httpNodeRoot
//   "/api": every controller request reaches its in-flow stand-in and is
//   answered 200 (digest included), and Tasmota's commands reach the broker;
// - 20 people walking up (bursts of 3-8 frames) posted to a webhook source
//   → door access nodes → requests to fake Hikvision, Dahua, Shelly Gen1/Gen2
//   controllers and a Tasmota relay over MQTT: each opens exactly once per
//   allowed person; stale events open nothing; after kill -9 and a restart,
//   events dated before it open nothing; the audit trail holds one line per
//   decision across the restart.
import assert from 'assert/strict';
import fs from 'fs';
import http from 'http';
import path from 'path';
import type { AddressInfo } from 'net';
import { NodeRedProcess, repoRoot } from '../support/node-red-process';
import { Controller, FakeDoorControllers } from '../support/door-controllers';
import { sleep, waitFor } from '../support/wait';
import { createWalkUp } from '../../nodes/lib/source/walk-up';
import { nodeFileName } from '../../nodes/lib/common/node-files';

type FlowNode = Record<string, any> & { id: string; type: string };

const findfaceDate = (ms: number) => new Date(ms).toISOString();

describe('door access in a real Node-RED', function () {
  this.timeout(120000);
  let fake: FakeDoorControllers;
  let nodeRed: NodeRedProcess | undefined;

  beforeEach(async () => {
    fake = new FakeDoorControllers();
    await fake.start();
  });
  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && nodeRed) console.log(nodeRed.log.slice(-4000));
    await nodeRed?.dispose();
    nodeRed = undefined;
    await fake.stop();
  });

  it('runs the door example on import on port and httpNodeRoot "/api": each stand-in controller answers 200, Tasmota gets its pulse', async function () {
    const flow = JSON.parse(fs.readFileSync(path.join(repoRoot, 'examples', '02-door-access-control.json'), 'utf8')) as FlowNode[];
    // The test's copy: its broker, a faster camera feed, and a tap on each answer to a recorder.
    const answers: Array<{ name: string; status: number }> = [];
    const recorder = http.createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        answers.push(JSON.parse(body));
        res.end();
      });
    });
    await new Promise<void>((resolve) => recorder.listen(0, '127.0.0.1', resolve));
    try {
      const recorderUrl = `http://127.0.0.1:${(recorder.address() as AddressInfo).port}/answer`;
      for (const node of flow) {
        if (node.type === 'mqtt-broker') Object.assign(node, { broker: '127.0.0.1', port: String(fake.mqttPort) });
        if (node.type === 'findface-event-in') node.rate = 40;
        if (node.type === 'debug' && / answer$/.test(node.name)) {
          const tap = `${node.id}-tap`;
          flow.push({
            id: tap,
            type: 'change',
            z: node.z,
            name: '',
            rules: [
              { t: 'set', p: 'payload', pt: 'msg', to: `{"name": "${node.name}", "status": statusCode}`, tot: 'jsonata' },
              { t: 'delete', p: 'headers', pt: 'msg' },
              { t: 'delete', p: 'url', pt: 'msg' },
              { t: 'delete', p: 'method', pt: 'msg' },
            ],
            x: 0,
            y: 0,
            wires: [[`${tap}-post`]],
          });
          flow.push({
            id: `${tap}-post`,
            type: 'http request',
            z: node.z,
            name: '',
            method: 'POST',
            ret: 'txt',
            url: recorderUrl,
            tls: '',
            persist: false,
            proxy: '',
            authType: '',
            senderr: false,
            headers: [],
            x: 0,
            y: 0,
            wires: [[]],
          });
          const feeder = flow.find((other) => other.wires?.[0]?.includes(node.id))!;
          feeder.wires[0].push(tap);
        }
      }
      // Deployed as the editor deploys an import, so that the http request nodes' credentials are kept.
      nodeRed = await NodeRedProcess.create({ flows: [], settings: { httpNodeRoot: '/api' } });
      await nodeRed.start();
      await nodeRed.deploy(flow);
      const names = ['Hikvision answer', 'Dahua answer', 'Shelly Gen1 answer', 'Shelly Gen2 answer'];
      await waitFor(
        () => names.every((name) => answers.some((answer) => answer.name === name)) || undefined,
        60000,
        'an answer from every stand-in controller',
      );
      await waitFor(() => fake.count('tasmota') >= 1 || undefined, 20000, 'a Tasmota pulse on the broker');
      for (const answer of answers) assert.equal(answer.status, 200, `${answer.name} answered ${answer.status}`);
      assert.deepEqual(fake.refused, []);
      assert.equal(fake.opens.find((open) => open.controller === 'tasmota')!.detail, 'door-demo-relay pulse 30');
      assert.deepEqual(nodeRed.errorLines(), []);
    } finally {
      recorder.closeAllConnections();
      await new Promise<void>((resolve) => recorder.close(() => resolve()));
    }
  });

  it('opens each fake controller exactly once per allowed person of 20 walking up, never for stale events, nor after kill -9 for events from before the restart; the audit trail has one line per decision', async function () {
    const doors: Array<{ id: string; controller: Controller; builder: FlowNode[] }> = [];
    const tab = 'doortesttab';
    const req = (id: string, rules: unknown[], auth: string): FlowNode[] => [
      { id: `${id}-build`, type: 'change', z: tab, name: '', rules, x: 0, y: 0, wires: [[`${id}-http`]] },
      {
        id: `${id}-http`,
        type: 'http request',
        z: tab,
        name: '',
        method: 'use',
        ret: 'txt',
        url: '',
        tls: '',
        persist: false,
        proxy: '',
        authType: auth,
        senderr: false,
        headers: [],
        x: 0,
        y: 0,
        wires: [[]],
        credentials: auth ? { user: fake.user, password: fake.password } : undefined,
      },
    ];
    const set = (p: string, to: string, tot = 'str') => ({ t: 'set', p, pt: 'msg', to, tot });
    doors.push({
      id: 'doorhik',
      controller: 'hikvision',
      builder: req(
        'doorhik',
        [
          set('method', 'PUT'),
          set('url', `${fake.url}/ISAPI/AccessControl/RemoteControl/door/1`),
          set('headers', '{"Content-Type":"application/xml"}', 'json'),
          set('payload', '<RemoteControlDoor><cmd>open</cmd></RemoteControlDoor>'),
        ],
        'digest',
      ),
    });
    doors.push({
      id: 'doordahua',
      controller: 'dahua',
      builder: req(
        'doordahua',
        [
          set('method', 'GET'),
          set('url', `'${fake.url}/cgi-bin/accessControl.cgi?action=openDoor&channel=1&UserID=' & $string(payload.personId) & '&Type=Remote'`, 'jsonata'),
          { t: 'delete', p: 'payload', pt: 'msg' },
        ],
        'digest',
      ),
    });
    doors.push({
      id: 'doorsh1',
      controller: 'shelly1',
      builder: req('doorsh1', [set('method', 'GET'), set('url', `${fake.url}/relay/0?turn=on&timer=3`), { t: 'delete', p: 'payload', pt: 'msg' }], ''),
    });
    doors.push({
      id: 'doorsh2',
      controller: 'shelly2',
      builder: req(
        'doorsh2',
        [set('method', 'GET'), set('url', `${fake.url}/rpc/Switch.Set?id=0&on=true&toggle_after=3`), { t: 'delete', p: 'payload', pt: 'msg' }],
        '',
      ),
    });
    const tasmota: FlowNode[] = [
      {
        id: 'doortas-build',
        type: 'function',
        z: tab,
        name: 'pulse',
        func: "return [[{topic: 'cmnd/relay1/PulseTime1', payload: '30'}, {topic: 'cmnd/relay1/POWER1', payload: 'ON'}]];",
        outputs: 1,
        libs: [],
        x: 0,
        y: 0,
        wires: [['doortas-mqtt']],
      },
      { id: 'doortas-mqtt', type: 'mqtt out', z: tab, name: '', topic: '', qos: '1', retain: 'false', broker: 'doorbroker', x: 0, y: 0, wires: [] },
      {
        id: 'doorbroker',
        type: 'mqtt-broker',
        name: 'test broker',
        broker: '127.0.0.1',
        port: String(fake.mqttPort),
        clientid: '',
        autoConnect: true,
        usetls: false,
        protocolVersion: '4',
        keepalive: '60',
        cleansession: true,
      },
    ];
    doors.push({ id: 'doortas', controller: 'tasmota', builder: tasmota });
    const flows: FlowNode[] = [
      { id: tab, type: 'tab', label: 'doors' },
      { id: 'doorsource', type: 'findface-event-in', z: tab, mode: 'webhook', path: '/door/events', x: 0, y: 0, wires: [doors.map((door) => door.id)] },
      ...doors.map((door) => ({
        id: door.id,
        type: 'findface-access',
        z: tab,
        door: `door ${door.controller}`,
        allow: '{"matched": true}',
        maxAgeS: 30,
        cooldownS: 60,
        confirmFrames: 1,
        confirmWindowS: 3,
        x: 0,
        y: 0,
        wires: [[`${door.id}-build`], []],
      })),
      ...doors.flatMap((door) => door.builder),
    ];
    nodeRed = await NodeRedProcess.create({ flows: [] });
    await nodeRed.start();
    await nodeRed.deploy(flows);
    await waitFor(() => nodeRed!.log.includes('Connected to broker') || undefined, 10000, 'the MQTT connection');
    let posted = 0;
    const postEvent = async (event: Record<string, unknown>) => {
      const answer = await fetch(`${nodeRed!.url}/door/events`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify([event]),
      });
      assert.equal(answer.status, 200, await answer.text());
      posted++;
    };

    // 20 people walk up at once, each frame posted when it is taken and dated then.
    const walkUp = createWalkUp({
      seed: 2026,
      shape: 'ffs4',
      cameras: { '1': 1 },
      dossiers: Array.from({ length: 30 }, (_, index) => 100 + index),
      matchedRatio: 0.7,
      framesMin: 3,
      framesMax: 8,
    });
    const bursts = Array.from({ length: 20 }, () => walkUp.burst(Date.now()));
    const allowed = new Set(bursts.filter((burst) => burst.person !== null).map((burst) => burst.person as number));
    assert.ok(allowed.size >= 8 && allowed.size < 20, `${allowed.size} people on the lists among 20`);
    const start = Date.now();
    await Promise.all(
      bursts.flatMap((burst) =>
        burst.frames.map(async (frame) => {
          await sleep(frame.atMs);
          await postEvent({ ...frame.event, created_date: findfaceDate(start + frame.atMs) });
        }),
      ),
    );
    const controllers: Controller[] = ['hikvision', 'dahua', 'shelly1', 'shelly2', 'tasmota'];
    await waitFor(
      () => controllers.every((controller) => fake.count(controller) >= allowed.size) || undefined,
      20000,
      'an open per allowed person at every controller',
    );
    await sleep(1500);
    for (const controller of controllers)
      assert.equal(fake.count(controller), allowed.size, `${controller} opened ${fake.count(controller)} times for ${allowed.size} people`);
    assert.deepEqual(new Set(fake.opens.filter((open) => open.controller === 'dahua').map((open) => Number(open.detail))), allowed);
    assert.deepEqual(fake.refused, []);

    // Stale: new people, events dated 60 s ago.
    const opensBefore = fake.opens.length;
    for (let person = 200; person < 205; person++) {
      await postEvent({
        id: `stale-${person}`,
        camera: { id: 1, group: 1 },
        matched: true,
        matched_dossier: person,
        confidence: 0.9,
        created_date: findfaceDate(Date.now() - 60_000),
      });
    }
    await sleep(1500);
    assert.equal(fake.opens.length, opensBefore, 'a stale event opened a door');

    // Every decision reached the trail before the crash (each door node writes its own).
    const auditLines = (id: string) => {
      const dir = path.join(nodeRed!.userDir, 'findface-audit', nodeFileName(id));
      if (!fs.existsSync(dir)) return 0;
      return fs.readdirSync(dir).reduce(
        (sum, file) =>
          sum +
          fs
            .readFileSync(path.join(dir, file), 'utf8')
            .split('\n')
            .filter((line) => line.trim() !== '').length,
        0,
      );
    };
    await waitFor(() => doors.every((door) => auditLines(door.id) === posted) || undefined, 5000, 'every decision in the audit trail');

    // Crash, with events dated just before it still to come (e.g. FindFace retrying them): maxAgeS 30
    // keeps them fresh across the restart, so only the start of the new run can refuse them.
    const beforeCrash = Date.now();
    await nodeRed.kill9();
    const restarted = await NodeRedProcess.create({ userDir: nodeRed.userDir });
    nodeRed = restarted;
    await restarted.start();
    await waitFor(() => restarted.log.includes('Connected to broker') || undefined, 10000, 'the MQTT connection after the restart');
    const lateOnes = [...allowed].slice(0, 3).concat([300, 301, 302]);
    for (const person of lateOnes) {
      await postEvent({
        id: `late-${person}`,
        camera: { id: 1, group: 1 },
        matched: true,
        matched_dossier: person,
        confidence: 0.95,
        created_date: findfaceDate(beforeCrash - 500),
      });
    }
    await sleep(1500);
    assert.equal(fake.opens.length, opensBefore, 'an event from before the restart opened a door after it');
    await waitFor(() => doors.every((door) => auditLines(door.id) === posted) || undefined, 5000, 'one audit line per decision across the restart');
    const audit = (await (await fetch(`${restarted.url}/findface-access/doorhik/audit?limit=6`)).json()) as Array<{ reason: string; event: string }>;
    assert.deepEqual(
      audit.map((line) => line.reason),
      Array(6).fill('before-start'),
    );
    assert.deepEqual(restarted.errorLines(), []);
  });
});
