// What `npm pack` puts in the package: exactly the runtime files, derived
// from the source tree (every compiled node and lib module, the editor files,
// both locales, the icons beside each node and in icons/, the examples, the
// served resources/ if there are any) plus package.json, README, LICENSE and
// CHANGELOG, and nothing else: no TypeScript, tests, benchmarks, scripts,
// tsconfig or local state.
import assert from 'assert/strict';
import { execFileSync } from 'child_process';
import fs from 'fs';
import path from 'path';
import { repoRoot } from '../support/node-red-process';

function walk(dir: string): string[] {
  const absolute = path.join(repoRoot, dir);
  if (!fs.existsSync(absolute)) return [];
  return fs.readdirSync(absolute, { withFileTypes: true }).flatMap((entry) => {
    const relative = `${dir}/${entry.name}`;
    return entry.isDirectory() ? walk(relative) : [relative];
  });
}

/** The runtime files the working tree (built) should ship. */
function expectedFiles(): string[] {
  const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { 'node-red': { nodes: Record<string, string> } };
  const nodesTree = walk('nodes');
  const compiled = nodesTree.filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts')).map((file) => file.replace(/\.ts$/, '.js'));
  const editor = nodesTree.filter((file) => file.endsWith('.html'));
  const locales = nodesTree.filter((file) => /\/locales\/[^/]+\/[^/]+\.json$/.test(file));
  const icons = walk('icons').filter((file) => file.endsWith('.svg'));
  const iconsBesideNodes = Object.values(pkg['node-red'].nodes).flatMap((file) => icons.map((icon) => `${path.posix.dirname(file)}/${icon}`));
  const examples = walk('examples').filter((file) => file.endsWith('.json'));
  const resources = walk('resources').filter((file) => !file.endsWith('.ts'));
  return [
    ...new Set([
      ...compiled,
      ...editor,
      ...locales,
      ...icons,
      ...iconsBesideNodes,
      ...examples,
      ...resources,
      'package.json',
      'README.md',
      'LICENSE',
      'CHANGELOG.md',
    ]),
  ].sort();
}

describe('npm pack', function () {
  this.timeout(60000);
  let files: string[];

  before(() => {
    const output = execFileSync('npm', ['pack', '--dry-run', '--json'], { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    files = (JSON.parse(output)[0].files as Array<{ path: string }>).map((file) => file.path).sort();
  });

  it('holds exactly the runtime files', () => {
    const expected = expectedFiles();
    assert.deepEqual(
      { missing: expected.filter((file) => !files.includes(file)), extra: files.filter((file) => !expected.includes(file)) },
      { missing: [], extra: [] },
    );
  });

  it('holds every registered node with its editor file, both locales, help and icon', () => {
    const pkg = require(`${repoRoot}/package.json`);
    for (const [type, file] of Object.entries(pkg['node-red'].nodes as Record<string, string>)) {
      const html = file.replace(/\.js$/, '.html');
      const dir = file.slice(0, file.lastIndexOf('/'));
      const locales = ['en-US', 'ru'].flatMap((lang) => [`${dir}/locales/${lang}/${type}.json`, `${dir}/locales/${lang}/${type}.html`]);
      for (const wanted of [file, html, ...locales, `${dir}/icons/${type}.svg`, `icons/${type}.svg`]) {
        assert.ok(files.includes(wanted), `${wanted} is missing from the package`);
      }
    }
  });

  it('holds the compiled libraries, the examples, the licence and the changelog', () => {
    assert.ok(files.includes('nodes/lib/event/event.js'));
    assert.ok(files.includes('nodes/lib/delivery/target-url.js'));
    assert.ok(files.some((file) => file.startsWith('examples/') && file.endsWith('.json')));
    for (const file of ['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md']) assert.ok(files.includes(file), file);
  });

  it('holds no sources, tests, benchmarks, scripts, configuration or local state', () => {
    const stray = files.filter(
      (file) =>
        /\.ts$/.test(file) ||
        /^(test|bench|scripts|\.cache|\.node-red|\.ci|\.artifacts|node_modules)\//.test(file) ||
        /^(tsconfig\.json|\.nrlintrc\.js|\.mocharc\.json|package-lock\.json|\.gitignore)$/.test(file),
    );
    assert.deepEqual(stray, []);
  });
});
