// `npm start`: Node-RED with this working tree loaded as the package and an
// example flow deployed, in a user directory inside the repo (.node-red/,
// ignored by git). It runs the matrix's first row, Node-RED 5 on Node.js 24,
// when `npm test` (or `npm run test:matrix`) has installed them under .cache/,
// else the devDependency Node-RED on the Node.js running npm; it says which.
// EXAMPLE picks another example (a file name in examples/ without .json);
// PORT another port.
import { spawn } from 'child_process';
import fs from 'fs';
import path from 'path';
import { devNodeRedVersion, installedNode, installedNodeRed, MATRIX, repoRoot } from './runtimes';

const userDir = path.join(repoRoot, '.node-red');
const example = process.env.EXAMPLE ?? '01-seed-walkthrough';
const port = Number(process.env.PORT ?? 1880);

const exampleFile = path.join(repoRoot, 'examples', `${example}.json`);
if (!fs.existsSync(exampleFile)) {
  const available = fs.readdirSync(path.join(repoRoot, 'examples')).map((name) => name.replace(/\.json$/, ''));
  console.error(`No example "${example}". Available: ${available.join(', ')}`);
  process.exit(1);
}

fs.mkdirSync(path.join(userDir, 'node_modules'), { recursive: true });
const link = path.join(userDir, 'node_modules', 'node-red-contrib-findface');
if (!fs.existsSync(link)) fs.symlinkSync(repoRoot, link, 'dir');
// The example as shipped, its URLs pointed at this Node-RED's port (the
// examples post to 127.0.0.1:1880). Edits made in the editor are kept until
// the example itself changes.
const flowFile = path.join(userDir, `flows-${example}.json`);
const shipped = fs.readFileSync(exampleFile, 'utf8').split('127.0.0.1:1880').join(`127.0.0.1:${port}`);
const shippedCopy = path.join(userDir, `.shipped-${example}.json`);
if (!fs.existsSync(flowFile) || !fs.existsSync(shippedCopy) || fs.readFileSync(shippedCopy, 'utf8') !== shipped) {
  fs.writeFileSync(flowFile, shipped);
  fs.writeFileSync(shippedCopy, shipped);
}
fs.writeFileSync(
  path.join(userDir, 'settings.js'),
  `module.exports = ${JSON.stringify(
    {
      uiHost: '127.0.0.1',
      uiPort: port,
      flowFile: path.basename(flowFile),
      credentialSecret: false,
      telemetry: { enabled: false },
      editorTheme: { tours: false, palette: { catalogues: [] } },
      // Node-RED also loads the modules beside its own node_modules (this
      // repo's devDependencies): keep the nrlint plugin out of the demo
      // editor. The example flows are linted by test/unit/examples.test.ts.
      externalModules: { palette: { denyList: ['nrlint'] } },
    },
    null,
    2,
  )};\n`,
);

const [main] = MATRIX;
const mainNode = installedNode(main.node);
const mainNodeRed = installedNodeRed(main.nodeRed);
const [node, nodeRedDir, runtime] =
  mainNode && mainNodeRed
    ? [mainNode, mainNodeRed, `Node-RED ${main.nodeRed} on Node.js ${main.node} (from .cache/)`]
    : [
        process.execPath,
        path.dirname(require.resolve('node-red/package.json')),
        `Node-RED ${devNodeRedVersion()} on Node.js ${process.versions.node} (run npm test once to install Node-RED ${main.nodeRed} on Node.js ${main.node})`,
      ];
console.log(`Starting ${runtime} with ${path.relative(repoRoot, exampleFile)}: open http://127.0.0.1:${port}/`);
const child = spawn(node, [path.join(nodeRedDir, 'red.js'), '-u', userDir, '-s', path.join(userDir, 'settings.js')], { stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
child.on('exit', (code) => process.exit(code ?? 0));
