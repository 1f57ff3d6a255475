// The example flows in examples/ (what Import › Examples offers): nrlint
// finds no problem, every node type is Node-RED's own or this package's,
// every wire ends at a node of the same flow, the package's nodes use the
// contract's property names, every URL a sender posts to is served by the
// same example, and comment nodes explain each one.
import assert from 'assert/strict';
import { execFileSync } from 'child_process';
import fs from 'fs';
import path from 'path';

interface FlowNode {
  id: string;
  type: string;
  z?: string;
  name?: string;
  info?: string;
  wires?: string[][];
  [key: string]: unknown;
}

const repoRoot = path.resolve(__dirname, '..', '..');
const examplesDir = path.join(repoRoot, 'examples');
const exampleFiles = fs
  .readdirSync(examplesDir)
  .filter((file) => file.endsWith('.json'))
  .sort();

/** Node types the installed Node-RED registers itself: its core nodes' editor templates. */
function coreTypes(): Set<string> {
  const nodeRedDir = path.dirname(require.resolve('node-red/package.json'));
  const coreDir = path.join(path.dirname(require.resolve('@node-red/nodes/package.json', { paths: [nodeRedDir] })), 'core');
  const types = new Set<string>(['tab', 'subflow', 'group', 'junction']);
  const walk = (dir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(file);
      else if (entry.name.endsWith('.html')) {
        for (const match of fs.readFileSync(file, 'utf8').matchAll(/data-template-name="([^"]+)"/g)) types.add(match[1]);
      }
    }
  };
  walk(coreDir);
  return types;
}

/** The types this package registers: registerType calls in the editor files its node-red.nodes map lists. */
function ourTypes(): Set<string> {
  const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { 'node-red': { nodes: Record<string, string> } };
  const types = new Set<string>();
  for (const js of Object.values(pkg['node-red'].nodes)) {
    const html = path.join(repoRoot, js.replace(/\.js$/, '.html'));
    if (!fs.existsSync(html)) continue;
    for (const match of fs.readFileSync(html, 'utf8').matchAll(/registerType\(\s*["']([^"']+)["']/g)) types.add(match[1]);
  }
  return types;
}

const DOOR_EXAMPLE = '02-door-access-control.json';
const FILTER_KEYS = ['camera_group_in', 'matched_dossier_in', 'matched', 'camera_in', 'matched_lists_in', 'confidence_gte', 'matched_card_in'];
const WEBHOOK_PROPERTIES: Record<string, (v: unknown) => boolean> = {
  title: (v) => typeof v === 'string' && v.length > 0,
  // An absolute URL, or a path: this Node-RED's own httpNode (CONTRACT.md).
  url: (v) => typeof v === 'string' && (/^https?:\/\/\S+$/.test(v) || /^\/(?!\/)\S*$/.test(v)),
  active: (v) => typeof v === 'boolean',
  batchSize: (v) => Number.isInteger(v) && (v as number) >= 1,
  lingerMs: (v) => typeof v === 'number' && v >= 0,
  timeout: (v) => typeof v === 'number' && v > 0,
  backoffBase: (v) => typeof v === 'number' && v > 0,
  backoffFactor: (v) => typeof v === 'number' && v >= 1,
  backoffMax: (v) => typeof v === 'number' && v > 0,
  maxAttempts: (v) => Number.isInteger(v) && (v as number) >= 0,
  successCodes: (v) => typeof v === 'string' && /^\s*[1-5]\d\d\s*(,\s*[1-5]\d\d\s*)*$/.test(v),
};

function parseObject(text: unknown, what: string): Record<string, unknown> {
  assert.equal(typeof text, 'string', `${what} must be a JSON string`);
  const value = JSON.parse(text as string) as unknown;
  assert.ok(value !== null && typeof value === 'object' && !Array.isArray(value), `${what} is not a JSON object: ${text}`);
  return value as Record<string, unknown>;
}

describe('example flows', function () {
  this.timeout(20000);
  const core = coreTypes();
  const ours = ourTypes();
  const flows = new Map<string, FlowNode[]>(
    exampleFiles.map((file) => [file, JSON.parse(fs.readFileSync(path.join(examplesDir, file), 'utf8')) as FlowNode[]]),
  );

  it('are the five the README names', () => {
    assert.deepEqual(exampleFiles, [
      '01-seed-walkthrough.json',
      '02-door-access-control.json',
      '03-fan-out.json',
      '04-poll-findface-server.json',
      '05-several-instances-redis.json',
    ]);
  });

  it('knows the core types and ours (sanity check of this test)', () => {
    for (const type of ['inject', 'debug', 'http in', 'http response', 'comment', 'change', 'http request']) assert.ok(core.has(type), type);
    assert.ok(ours.has('findface-event-in'), [...ours].join(','));
  });

  for (const file of exampleFiles) {
    describe(file, () => {
      const flow = flows.get(file)!;
      const byId = new Map(flow.map((node) => [node.id, node]));
      const tabs = flow.filter((node) => node.type === 'tab');
      const nodes = flow.filter((node) => node.type !== 'tab');

      it('passes nrlint with .nrlintrc.js', () => {
        const nrlint = path.join(path.dirname(require.resolve('nrlint/package.json')), 'bin', 'nrlint.js');
        let output: string;
        try {
          output = execFileSync(process.execPath, [nrlint, '-c', path.join(repoRoot, '.nrlintrc.js'), '-f', 'json', path.join(examplesDir, file)], {
            encoding: 'utf8',
          });
        } catch (error) {
          const failed = error as { stdout?: string; stderr?: string };
          assert.fail(`nrlint found problems in ${file}:\n${failed.stdout ?? ''}${failed.stderr ?? ''}`);
        }
        assert.deepEqual(JSON.parse(output), []);
      });

      it("is one flow tab holding every node (the door example: its flow and its audit trail's), with unique ids and no credentials but the stand-ins'", () => {
        const door = file === DOOR_EXAMPLE;
        assert.equal(tabs.length, door ? 2 : 1, 'one tab, so that the example imports as its own flow');
        assert.equal(new Set(flow.map((node) => node.id)).size, flow.length, 'duplicate ids');
        const tabIds = new Set(tabs.map((tab) => tab.id));
        for (const node of nodes) {
          // Config nodes (no x) live outside the tabs.
          if (door && node.z === undefined && node.x === undefined) continue;
          assert.ok(tabIds.has(node.z as string), `${node.type} ${node.id} is not on the example's tab`);
        }
        for (const node of flow) {
          // The poll example's server node opens only the stand-in FindFace API built in the same flow.
          const standInToken = node.type === 'findface-server' && JSON.stringify(node.credentials) === '{"token":"demo-token"}';
          // The door example's digest requests go to the stand-in controllers of the same flow, with its demo login.
          const standInLogin = door && node.type === 'http request' && JSON.stringify(node.credentials) === '{"user":"admin","password":"door-demo-1"}';
          if (!standInToken && !standInLogin) assert.equal(node.credentials, undefined, `${node.id} carries credentials`);
        }
      });

      it("uses only core node types and this package's", () => {
        const unknown = nodes.map((node) => node.type).filter((type) => !core.has(type) && !ours.has(type));
        assert.deepEqual(unknown, []);
      });

      it('wires only to nodes that exist in the same flow', () => {
        for (const node of nodes) {
          for (const [port, targets] of (node.wires ?? []).entries()) {
            for (const target of targets) {
              const to = byId.get(target);
              assert.ok(to, `${node.type} ${node.id} output ${port + 1} is wired to missing node ${target}`);
              assert.equal(to.z, node.z, `${node.id} is wired to ${target} on another flow`);
              assert.notEqual(to.type, 'comment', `${node.id} is wired to a comment`);
            }
          }
        }
      });

      it('has comment nodes that explain it', () => {
        const comments = nodes.filter((node) => node.type === 'comment');
        assert.ok(comments.length >= 1, 'no comment node');
        const text = comments.map((node) => `${node.name}\n${node.info ?? ''}`).join('\n');
        assert.ok(
          comments.some((node) => typeof node.info === 'string' && node.info.length > 200),
          'no comment explains the flow in its info',
        );
        if (JSON.stringify(flow).includes('127.0.0.1:1880')) assert.match(text, /1880[\s\S]*port|port[\s\S]*1880/i, 'no comment says the port may differ');
      });

      it("gives the package's nodes the contract's properties", () => {
        for (const node of nodes) {
          const where = `${node.type} "${node.name || node.id}"`;
          if (node.type === 'findface-filter') {
            const filters = parseObject(node.filters, `${where} filters`);
            for (const key of Object.keys(filters)) assert.ok(FILTER_KEYS.includes(key), `${where}: unknown filter key ${key}`);
            assert.ok(node.outputs === 1 || node.outputs === 2, `${where}: outputs ${node.outputs}`);
            assert.equal(node.wires?.length, node.outputs, `${where}: wires for ${node.outputs} outputs`);
            parseObject(node.cameraGroups, `${where} cameraGroups`);
          } else if (node.type === 'findface-webhook') {
            for (const [key, valid] of Object.entries(WEBHOOK_PROPERTIES)) assert.ok(valid(node[key]), `${where}: ${key} = ${JSON.stringify(node[key])}`);
            assert.equal(node.wires?.length, 2, `${where}: two outputs`);
          } else if (node.type === 'findface-access') {
            assert.ok(typeof node.door === 'string' && node.door.length > 0, `${where}: door`);
            const allow = parseObject(node.allow, `${where} allow`);
            for (const key of Object.keys(allow)) assert.ok(FILTER_KEYS.includes(key), `${where}: unknown allow key ${key}`);
            for (const key of ['maxAgeS', 'cooldownS', 'confirmFrames', 'confirmWindowS'])
              assert.ok(typeof node[key] === 'number' && (node[key] as number) >= 0, `${where}: ${key}`);
            assert.equal(node.wires?.length, 2, `${where}: open and denied outputs`);
          } else if (node.type === 'findface-event-in') {
            assert.ok(['webhook', 'simulate', 'poll'].includes(node.mode as string), `${where}: mode ${node.mode}`);
            if (node.mode === 'webhook') assert.match(String(node.path), /^\/\S+$/, `${where}: path`);
            if (node.mode === 'simulate') {
              assert.ok(Number(node.rate) > 0, `${where}: rate`);
              assert.equal(node.inputs, 1, `${where}: a simulator takes start/stop, so it has an input`);
              parseObject(node.cameras, `${where} cameras`);
            }
            assert.equal(node.wires?.length, 1, `${where}: one output`);
          }
        }
      });

      it('serves, in the same flow, every local URL it posts to', () => {
        const served = new Set<string>();
        for (const node of nodes) {
          if (node.type === 'http in' && node.method === 'post') served.add(String(node.url));
          if (node.type === 'findface-event-in' && node.mode === 'webhook') served.add(String(node.path));
        }
        const servedGets = new Set(nodes.filter((n) => n.type === 'http in' && n.method === 'get').map((n) => String(n.url)));
        const senders = nodes.filter(
          (n) => typeof n.url === 'string' && (/^https?:\/\//.test(n.url as string) || (n.type.startsWith('findface-') && (n.url as string).startsWith('/'))),
        );
        for (const node of senders) {
          const local = (node.url as string).startsWith('/');
          const url = new URL(node.url as string, 'http://127.0.0.1:1880');
          if (url.hostname !== '127.0.0.1') continue;
          if (node.type === 'findface-server') {
            // A stand-in FindFace API: the two lists poll mode and the filter read.
            for (const list of ['/events/faces', '/cameras'])
              assert.ok(servedGets.has(url.pathname + list), `the flow does not serve GET ${url.pathname}${list}`);
            continue;
          }
          if (!local) assert.equal(url.port, '1880', `${node.id}: local URLs use Node-RED's default port, as the comments say`);
          assert.ok(served.has(url.pathname), `${node.type} "${node.name || node.title || node.id}" posts to ${url.pathname}, which the flow does not serve`);
        }
      });
    });
  }

  it('01, 03 and 04 post only to paths, so they run as imported on any port, httpNodeRoot or TLS', () => {
    for (const file of ['01-seed-walkthrough.json', '03-fan-out.json', '04-poll-findface-server.json']) {
      const flow = flows.get(file)!;
      // Comments may mention an address (e.g. a closed port to try); the nodes' settings may not.
      assert.doesNotMatch(
        JSON.stringify(flow, (key, value: unknown) => (key === 'info' ? undefined : value)),
        /127\.0\.0\.1:\d+|localhost:\d+/,
        `${file} names a host and port`,
      );
      const senders = flow.filter((node) => ['findface-webhook', 'findface-server', 'http request'].includes(node.type));
      assert.ok(senders.length > 0, `${file} has no sender (sanity check of this test)`);
      for (const node of senders) {
        assert.equal(node.type === 'http request', false, `${file}: an http request node needs a full URL; post with a webhook whose url is a path`);
        assert.match(String(node.url), /^\/(?!\/)/, `${file}: ${node.type} "${node.title || node.name || node.id}" url ${String(node.url)} is not a path`);
        if (node.type === 'findface-server') assert.match(String(node.externalAddress), /^\/(?!\/)/, `${file}: the stand-in's external address is not a path`);
      }
    }
  });

  describe(`${DOOR_EXAMPLE}: the door path`, () => {
    const flow = flows.get(DOOR_EXAMPLE)!;
    const tabEnv = new Map<string, string>();
    for (const tab of flow.filter((node) => node.type === 'tab')) {
      for (const entry of (tab.env as Array<{ name: string; value: string }> | undefined) ?? []) tabEnv.set(entry.name, entry.value);
    }

    it('opens no door through findface-webhook (it queues and retries: a door would open late)', () => {
      assert.deepEqual(
        flow.filter((node) => node.type === 'findface-webhook'),
        [],
      );
      assert.ok(flow.filter((node) => node.type === 'findface-access').length >= 5);
    });

    it("builds each controller's request from the flow environment, whose stand-in URLs come from FINDFACE_HTTP_NODE_URL and are served in the flow", () => {
      const routes = flow.filter((node) => node.type === 'http in').map((node) => `${node.method} ${String(node.url).replace(/:\w+/g, '[^/]+')}`);
      const builders = flow.filter((node) => node.type === 'change' && JSON.stringify(node.rules).includes('$env('));
      assert.ok(builders.length >= 4);
      for (const builder of builders) {
        const rules = builder.rules as Array<{ p: string; to: string }>;
        const url = rules.find((rule) => rule.p === 'url')!.to;
        const method = rules.find((rule) => rule.p === 'method')!.to.toLowerCase();
        const variable = /\$env\('(\w+)'\)/.exec(url)![1];
        if (variable === 'FINDFACE_ADMIN_URL') continue;
        const base = tabEnv.get(variable)!;
        assert.match(base, /^\$\{FINDFACE_HTTP_NODE_URL\}\//, `${variable} is built on FINDFACE_HTTP_NODE_URL`);
        const pathname = base.replace('${FINDFACE_HTTP_NODE_URL}', '') + /& '([^'?]+)/.exec(url)![1];
        assert.ok(
          routes.some((route) => new RegExp(`^${route}$`).test(`${method} ${pathname}`)),
          `${builder.name}: no stand-in serves ${method} ${pathname}`,
        );
      }
    });
  });

  it('can all be imported together: no two examples serve the same path', () => {
    const owners = new Map<string, string>();
    for (const [file, flow] of flows) {
      for (const node of flow) {
        const route =
          node.type === 'http in'
            ? `${node.method} ${node.url}`
            : node.type === 'findface-event-in' && node.mode === 'webhook'
              ? `post ${node.path}`
              : undefined;
        if (!route) continue;
        assert.ok(!owners.has(route), `${route} is served by ${owners.get(route)} and ${file}`);
        owners.set(route, file);
      }
    }
  });

  it('have ids unique across all examples (importing one next to another never clashes)', () => {
    const seen = new Map<string, string>();
    for (const [file, flow] of flows) {
      for (const node of flow) {
        assert.ok(!seen.has(node.id), `${node.id} is in ${seen.get(node.id)} and ${file}`);
        seen.set(node.id, file);
      }
    }
  });
});
