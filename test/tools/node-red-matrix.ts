// Runs the node tests (test/nodes) against each other Node-RED version the
// package claims to support. The devDependency (4.1) is tested by
// `npm run test:nodes`; this installs the others under .cache/ once.
import { execFileSync, spawnSync } from 'child_process';
import fs from 'fs';
import path from 'path';

const repoRoot = path.resolve(__dirname, '..', '..');
// 3.1: the oldest version in the declared range. 5.0: the newest major; it
// asks for Node.js 22, yet its runtime loads under Node.js 20 for these tests.
const versions = (process.env.NODE_RED_MATRIX ?? '3.1.15,5.0.7').split(',').filter(Boolean);

function install(version: string): string {
  const prefix = path.join(repoRoot, '.cache', `node-red-${version}`);
  const runtime = path.join(prefix, 'node_modules', 'node-red');
  if (!fs.existsSync(path.join(runtime, 'package.json'))) {
    fs.mkdirSync(prefix, { recursive: true });
    fs.writeFileSync(path.join(prefix, 'package.json'), JSON.stringify({ name: 'matrix', private: true }));
    console.log(`installing node-red@${version} into ${prefix}`);
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--engine-strict=false', `node-red@${version}`], {
      cwd: prefix,
      stdio: 'inherit',
    });
  }
  return runtime;
}

let failed = false;
for (const version of versions) {
  const runtime = install(version);
  console.log(`\n=== node tests on node-red@${version} ===`);
  const result = spawnSync(
    process.execPath,
    [require.resolve('mocha/bin/mocha.js'), 'test/nodes/**/*.test.js'],
    { cwd: repoRoot, stdio: 'inherit', env: { ...process.env, NODE_RED_PATH: runtime } },
  );
  if (result.status !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
