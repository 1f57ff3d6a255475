// package.json as npm and the Node-RED Flow Library read it.
//
// 1. The declared ranges say exactly what the test matrix runs
//    (test/tools/runtimes.ts).
// 2. The Node-RED scorecard (node-red-dev validate: docs/P01..D03 in
//    github.com/node-red/node-red-dev-cli) as far as it works offline, with
//    the same rules as its src/libs/check{package,nodes,deps}.js. The checks
//    that need the network (P02's clone of the repository, P08's and N01's
//    look-ups in the Flow Library catalogue, D03's registry versions) are
//    done here on what is local, as their comments say. The outcome of every
//    check is asserted, the two that do not pass included, with the reason.
import assert from 'assert/strict';
import fs from 'fs';
import path from 'path';
import semver from 'semver';
import { MATRIX, repoRoot } from '../tools/runtimes';

interface PackageJson {
  name: string;
  version: string;
  license?: string;
  keywords?: string[];
  repository?: { type?: string; url?: string } | string;
  bugs?: { url?: string; email?: string } | string;
  homepage?: string;
  author?: { name?: string } | string;
  engines?: { node?: string };
  dependencies?: Record<string, string>;
  files?: string[];
  'node-red': { version?: string; nodes: Record<string, string> };
}

const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as PackageJson;
const lock = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { version?: string; dev?: boolean; engines?: Record<string, string> }>;
};

/** Our node types and categories: registerType calls in the editor files (as checknodes.js parses them). */
function nodeDefinitions(): Map<string, { category?: string }> {
  const defs = new Map<string, { category?: string }>();
  for (const js of Object.values(pkg['node-red'].nodes)) {
    const html = fs.readFileSync(path.join(repoRoot, js.replace(/\.js$/, '.html')), 'utf8');
    // One type per editor file here; the filter passes its definition as a variable (node-red-dev's parser wants it inline).
    const category = /category:\s*["']([^"']+)["']/.exec(html)?.[1];
    for (const match of html.matchAll(/registerType\(\s*["']([^"']+)["']/g)) defs.set(match[1], { category });
  }
  return defs;
}

function lockedVersion(name: string): string {
  const entry = lock.packages[`node_modules/${name}`];
  assert.ok(entry?.version, `${name} is not in package-lock.json`);
  return entry.version;
}

/** The versions the matrix runs: exact, or the system's / the devDependency's. */
const matrixNode = MATRIX.map((row) => (row.node === 'system' ? process.versions.node : row.node));
const matrixNodeRed = MATRIX.map((row) => (row.nodeRed === 'devDependency' ? lockedVersion('node-red') : row.nodeRed));

interface Check {
  id: string;
  pass: boolean;
  detail: string;
}

function scorecard(): Check[] {
  const checks: Check[] = [];
  const check = (id: string, pass: boolean, detail: string) => checks.push({ id, pass, detail });
  const repositoryUrl = typeof pkg.repository === 'string' ? pkg.repository : (pkg.repository?.url ?? '');
  const bugsUrl = typeof pkg.bugs === 'string' ? pkg.bugs : (pkg.bugs?.url ?? '');

  // P01 License: MUST have a license (checkpackage.js: the `license` field). And the full text beside it.
  const license = fs.existsSync(path.join(repoRoot, 'LICENSE')) ? fs.readFileSync(path.join(repoRoot, 'LICENSE'), 'utf8') : '';
  const fullApache =
    /Apache License\s+Version 2\.0, January 2004/.test(license) &&
    [1, 2, 3, 4, 5, 6, 7, 8, 9].every((n) => new RegExp(`\\n\\s*${n}\\. [A-Z]`).test(license)) &&
    /END OF TERMS AND CONDITIONS/.test(license) &&
    /APPENDIX: How to apply the Apache License to your work/.test(license);
  check('P01', pkg.license === 'Apache-2.0' && fullApache, `license ${pkg.license}, LICENSE holds the full Apache-2.0 text: ${fullApache}`);

  // P02 the repository's package.json has this name: needs a clone. Offline: the URL names this package (node-red-dev-cli PR #23's rule).
  const repoName = repositoryUrl
    .replace(/\.git$/, '')
    .split('/')
    .pop();
  check(
    'P02',
    repoName === pkg.name && /^git\+https:\/\/github\.com\/[^/]+\/[^/]+\.git$/.test(repositoryUrl),
    `repository ${repositoryUrl} (offline: its name only)`,
  );

  // P03 repository or bugs url/email; bugs url ends in /issues (PR #23).
  check('P03', Boolean(repositoryUrl) && /\/issues$/.test(bugsUrl), `repository ${repositoryUrl}, bugs ${bugsUrl}`);

  // P04 naming: scoped for packages first published after 2021-12-01; unscoped names starting with node-red must be node-red-contrib-.
  const scoped = /^@[a-z\d][\w.-]+\/[a-z\d][\w.-]*$/.test(pkg.name);
  check('P04', scoped, scoped ? 'scoped' : `unscoped ${pkg.name}: the contract fixes the name (a node-red-contrib- name, as the pre-2022 rule asks)`);
  check('P04 (unscoped rule)', !/^(node-red|nodered)/.test(pkg.name) || /^(node-red|nodered)-contrib-/.test(pkg.name), pkg.name);

  // P05 the node-red keyword.
  check('P05', pkg.keywords?.includes('node-red') === true, `keywords ${JSON.stringify(pkg.keywords)}`);

  // P06 node-red.version declared and satisfied by a current (latest) Node-RED: offline, the newest the matrix runs.
  const newestNodeRed = semver.rsort([...matrixNodeRed])[0];
  check(
    'P06',
    Boolean(pkg['node-red'].version) && semver.satisfies(newestNodeRed, pkg['node-red'].version ?? ''),
    `${pkg['node-red'].version} ∋ ${newestNodeRed}`,
  );

  // P07 engines.node declared and satisfied by the minimum Node.js of the latest Node-RED (semver.minVersion of its engines.node).
  const latestEngines =
    (JSON.parse(fs.readFileSync(path.join(repoRoot, '.cache', `node-red-${newestNodeRed}`, 'node_modules', 'node-red', 'package.json'), 'utf8')) as PackageJson)
      .engines?.node ?? '';
  const minimumNode = semver.minVersion(latestEngines)?.version ?? '';
  check(
    'P07',
    Boolean(pkg.engines?.node) && semver.satisfies(minimumNode, pkg.engines?.node ?? ''),
    `Node-RED ${newestNodeRed} needs ${latestEngines} (minimum ${minimumNode}); engines.node ${pkg.engines?.node}`,
  );

  // P08 similar names in other scopes: needs the Flow Library catalogue (not offline).

  // N01 node names unique in the Flow Library: needs the catalogue. Offline: every type carries the package's findface- prefix.
  const defs = nodeDefinitions();
  check(
    'N01',
    defs.size === Object.keys(pkg['node-red'].nodes).length && [...defs.keys()].every((type) => type.startsWith('findface-')),
    [...defs.keys()].join(', '),
  );

  // N02 an example uses each node that is not a config node.
  const examplesDir = path.join(repoRoot, 'examples');
  const used = new Set(
    fs
      .readdirSync(examplesDir)
      .flatMap((file) => (JSON.parse(fs.readFileSync(path.join(examplesDir, file), 'utf8')) as Array<{ type: string }>).map((n) => n.type)),
  );
  const missing = [...defs]
    .filter(([, def]) => def.category !== 'config')
    .map(([type]) => type)
    .filter((type) => !used.has(type));
  check('N02', missing.length === 0, missing.length ? `no example uses ${missing.join(', ')}` : 'every node is in an example');

  // D01 six dependencies or fewer.
  const dependencies = Object.keys(pkg.dependencies ?? {});
  check('D01', dependencies.length <= 6, `${dependencies.length}: ${dependencies.join(', ')}`);

  // D02 no known-bad package (badpackages.json: agent-base <6.0.0) in the production tree.
  const bad = Object.entries(lock.packages).filter(
    ([where, entry]) => !entry.dev && /(^|\/)node_modules\/agent-base$/.test(where) && semver.satisfies(entry.version ?? '0.0.0', '<6.0.0'),
  );
  check('D02', bad.length === 0, bad.map(([where, entry]) => `${where}@${entry.version}`).join(', ') || 'none');

  // D03 out-of-date dependencies: needs the registry. Offline: each locked production dependency satisfies its range.
  const stale = dependencies.filter((name) => !semver.satisfies(lockedVersion(name), pkg.dependencies![name]));
  check(
    'D03',
    stale.length === 0,
    stale.length ? `locked outside the range: ${stale.join(', ')}` : dependencies.map((name) => `${name}@${lockedVersion(name)}`).join(', '),
  );
  return checks;
}

describe('package.json', () => {
  describe('declares exactly what the test matrix runs', () => {
    it('engines.node: one caret range per Node.js the matrix runs, from the version it runs', () => {
      const declared = `^${[...new Set(matrixNode)].sort((a, b) => semver.compare(a, b)).join(' || ^')}`;
      assert.equal(pkg.engines?.node, declared);
    });

    it('node-red.version: one caret range per Node-RED the matrix runs, from the version it runs', () => {
      const declared = `^${[...new Set(matrixNodeRed)].sort((a, b) => semver.compare(a, b)).join(' || ^')}`;
      assert.equal(pkg['node-red'].version, declared);
    });

    it('Node-RED 5 on Node.js 24 is the first row and runs every suite', () => {
      const [first] = MATRIX;
      assert.equal(semver.major(first.nodeRed), 5);
      assert.equal(semver.major(first.node), 24);
      assert.deepEqual([...first.suites].sort(), ['e2e', 'editor', 'nodes']);
    });

    it("each row's Node.js satisfies the row's Node-RED's own engines.node (as installed under .cache/ or node_modules)", function () {
      for (const [index, row] of MATRIX.entries()) {
        const dir =
          row.nodeRed === 'devDependency'
            ? path.join(repoRoot, 'node_modules', 'node-red')
            : path.join(repoRoot, '.cache', `node-red-${row.nodeRed}`, 'node_modules', 'node-red');
        if (!fs.existsSync(path.join(dir, 'package.json')))
          assert.fail(`${dir} is missing: node test/tools/node-red-matrix.js --install (npm test's pretest) installs it`);
        const engines = (JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as PackageJson).engines?.node ?? '*';
        assert.ok(semver.satisfies(matrixNode[index], engines), `Node-RED ${matrixNodeRed[index]} needs Node.js ${engines}, the row runs ${matrixNode[index]}`);
      }
    });
  });

  it('has the fields the Flow Library and npm show: repository, bugs, homepage, author, license, keywords', () => {
    assert.match(typeof pkg.repository === 'object' ? (pkg.repository.url ?? '') : '', /^git\+https:\/\//);
    assert.ok(pkg.homepage && pkg.bugs && pkg.author && pkg.license);
    const author = typeof pkg.author === 'string' ? pkg.author : (pkg.author?.name ?? '');
    assert.notEqual(author.toLowerCase(), pkg.name.toLowerCase(), 'the package name is not an author');
    assert.ok(
      pkg.keywords && pkg.keywords.length >= 3 && pkg.keywords.every((k) => k === k.toLowerCase() && !/\s/.test(k)),
      `keywords ${JSON.stringify(pkg.keywords)}`,
    );
  });

  it('has a changelog with an Unreleased section and the released version', () => {
    const changelog = fs.readFileSync(path.join(repoRoot, 'CHANGELOG.md'), 'utf8');
    assert.match(changelog, /^## \[Unreleased\]$/m);
    assert.match(changelog, new RegExp(`^## \\[${pkg.version.replace(/\./g, '\\.')}\\] - \\d{4}-\\d{2}-\\d{2}$`, 'm'));
  });

  it("passes the offline Node-RED scorecard checks but P04 (unscoped name, fixed by the contract) and P07 (Node-RED 5's minimum Node.js 22.9 is untested)", () => {
    const checks = scorecard();
    console.log(checks.map((c) => `      ${c.pass ? 'pass' : 'FAIL'}  ${c.id.padEnd(20)} ${c.detail}`).join('\n'));
    assert.deepEqual(
      checks.filter((c) => !c.pass).map((c) => c.id),
      ['P04', 'P07'],
    );
    assert.deepEqual(
      checks.map((c) => c.id),
      ['P01', 'P02', 'P03', 'P04', 'P04 (unscoped rule)', 'P05', 'P06', 'P07', 'N01', 'N02', 'D01', 'D02', 'D03'],
    );
  });
});
