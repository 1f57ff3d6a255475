// What `npm pack` puts in the package: everything a user needs (compiled JS,
// editor HTML, locales, icons, examples) and nothing else.
import assert from 'assert/strict';
import { execFileSync } from 'child_process';
import { repoRoot } from '../support/node-red-process';

describe('npm pack', function () {
  this.timeout(60000);
  let files: string[];

  before(() => {
    const output = execFileSync('npm', ['pack', '--dry-run', '--json'], { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    files = (JSON.parse(output)[0].files as Array<{ path: string }>).map((file) => file.path).sort();
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

  it('holds the compiled libraries and the examples', () => {
    assert.ok(files.includes('nodes/lib/event/event.js'));
    assert.ok(files.some((file) => file.startsWith('examples/') && file.endsWith('.json')));
    assert.ok(files.includes('package.json') && files.includes('README.md'));
  });

  it('holds no sources, tests, benchmarks or local state', () => {
    const stray = files.filter((file) => /\.ts$/.test(file) || /^(test|bench|\.cache|\.node-red|\.ci|\.artifacts)\//.test(file) || file === 'tsconfig.json');
    assert.deepEqual(stray, []);
  });
});
