// The node-red-node-test-helper, pointed at the Node-RED under test:
// NODE_RED_PATH (the version matrix sets it to an installed node-red
// package directory) or the devDependency.
import fs from 'fs';
import path from 'path';

const helper = require('node-red-node-test-helper');

const packageDir = process.env.NODE_RED_PATH ? path.resolve(process.env.NODE_RED_PATH) : path.dirname(require.resolve('node-red/package.json'));

export const nodeRedPath = require.resolve(packageDir);
export const nodeRedVersion: string = JSON.parse(fs.readFileSync(path.join(packageDir, 'package.json'), 'utf8')).version;

/** A core node module of the Node-RED under test, e.g. coreNode('common/25-catch.js'). */
export function coreNode(file: string): unknown {
  return require(require.resolve(`@node-red/nodes/core/${file}`, { paths: [packageDir] }));
}

helper.init(nodeRedPath);

// A suite whose node type is not registered (a module that failed to load, a
// misspelt type) must fail, not go quietly pending with no node to test.
const loadFlow = helper.load.bind(helper);
helper.load = async (nodes: unknown, flow: Array<{ id: string; type: string; d?: boolean }>, credentials?: unknown) => {
  await loadFlow(nodes, flow, credentials);
  const missing = flow.filter((node) => node.type !== 'tab' && !node.type.startsWith('subflow') && !node.d && !helper.getNode(node.id));
  if (missing.length) throw new Error(`node types not registered, or nodes not started: ${missing.map((node) => `${node.id} (${node.type})`).join(', ')}`);
};

export default helper as {
  load(nodes: unknown, flow: unknown[], credentials?: unknown): Promise<void>;
  unload(): Promise<void>;
  getNode(id: string): any;
  startServer(): Promise<void>;
  stopServer(): Promise<void>;
  settings(settings: Record<string, unknown>): void;
  request(): import('supertest').SuperTest<import('supertest').Test>;
  url(): string;
  log(): any;
  _RED: any;
};
