// The build: remove every compiled file first (so a deleted or moved .ts can
// never leave a stale .js to be tested or packed), compile the TypeScript in
// place, and put the icons beside each node's .js, where Node-RED looks for
// them (`<dir of the node file>/icons`).
'use strict';
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');

const root = path.resolve(__dirname, '..');
const compiledTrees = ['nodes', 'test', 'bench'];

function removeCompiled(dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name === 'icons' && dir.startsWith(path.join(root, 'nodes'))) fs.rmSync(file, { recursive: true, force: true });
      else if (entry.name !== 'node_modules') removeCompiled(file);
    } else if (entry.name.endsWith('.js')) {
      // Every .js in these trees is compiled output (the sources are .ts).
      fs.rmSync(file);
    }
  }
}

for (const tree of compiledTrees) removeCompiled(path.join(root, tree));
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(root, 'tsconfig.json')], { stdio: 'inherit' });
const pkg = require(path.join(root, 'package.json'));
for (const file of Object.values(pkg['node-red'].nodes)) {
  fs.cpSync(path.join(root, 'icons'), path.join(root, path.dirname(file), 'icons'), { recursive: true });
}
