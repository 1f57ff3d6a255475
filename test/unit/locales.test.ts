// The message catalogs, loaded through @node-red/util's i18n as Node-RED
// loads them: every key in both languages with the same placeholders, every
// key the editor files and the node code name present, every text renders
// with real values, and status texts stay short.
import assert from 'assert/strict';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { catalogProblems, flatten, keysNamedInHtml, LANGUAGES, loadNodeCatalogs, NodeCatalogs, placeholders, render } from '../support/locale-check';

const repo = path.join(__dirname, '..', '..');
const pkg = JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8'));
const nodeFiles = Object.entries(pkg['node-red'].nodes as Record<string, string>).map(([type, file]) => ({ type, file: path.join(repo, file) }));

/** The longest status text a node shows; longer ones overlap the next node at ordinary spacing. */
const STATUS_MAX = 40;

function sourcesOf(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) =>
      entry.isDirectory() && entry.name !== 'locales' && entry.name !== 'icons'
        ? sourcesOf(path.join(dir, entry.name))
        : entry.name.endsWith('.ts')
          ? [path.join(dir, entry.name)]
          : [],
    );
}

describe('message catalogs (through @node-red/util i18n)', () => {
  const loaded: NodeCatalogs[] = [];

  before(async () => {
    for (const { type, file } of nodeFiles) loaded.push(await loadNodeCatalogs(file, type));
  });

  it('every node has a catalog and help in every language', () => {
    for (const { type, file } of nodeFiles) {
      for (const lang of LANGUAGES) {
        const dir = path.join(path.dirname(file), 'locales', lang);
        assert.ok(fs.existsSync(path.join(dir, `${type}.json`)), `${type}: ${lang}/${type}.json is missing`);
        assert.ok(fs.existsSync(path.join(dir, `${type}.html`)), `${type}: ${lang}/${type}.html (help) is missing`);
      }
    }
  });

  it('every key is in both languages, with the same placeholders', () => {
    for (const node of loaded) assert.deepEqual(catalogProblems(node.catalogs), [], node.type);
  });

  it('every key an editor file names exists', () => {
    for (const { type, file } of nodeFiles) {
      const html = fs.readFileSync(file.replace(/\.js$/, '.html'), 'utf8');
      const keys = flatten(loaded.find((node) => node.type === type)!.catalogs['en-US']);
      const missing = keysNamedInHtml(html, type).filter((key) => !keys.has(key) && ![...keys.keys()].some((k) => k.startsWith(`${key}.`)));
      assert.deepEqual(missing, [], `${type}.html names keys its catalog lacks`);
    }
  });

  it('every full key the node code names exists', () => {
    for (const { type, file } of nodeFiles) {
      const keys = flatten(loaded.find((node) => node.type === type)!.catalogs['en-US']);
      const prefix = `${type}.`;
      const missing: string[] = [];
      // Keys the code builds relative to its node (`text('errors.x')`) are checked by the render test.
      for (const source of sourcesOf(path.dirname(file))) {
        const code = fs.readFileSync(source, 'utf8');
        for (const m of code.matchAll(/['"`](findface-[a-z-]+\.[A-Za-z0-9_.-]+[A-Za-z0-9_-])['"`]/g)) {
          const permission = /needsPermission\(\s*$/.test(code.slice(Math.max(0, m.index! - 40), m.index));
          if (!permission && m[1].startsWith(prefix) && !keys.has(m[1])) missing.push(`${path.relative(repo, source)}: ${m[1]}`);
        }
      }
      assert.deepEqual(missing, [], type);
    }
  });

  it('every text renders in every language with real values, no placeholder left', () => {
    for (const node of loaded) {
      for (const [key, text] of flatten(node.catalogs['en-US'])) {
        const params = Object.fromEntries(placeholders(text).map((name) => [name, `‹${name}›`]));
        for (const lang of LANGUAGES) {
          const shown = render(node.namespace, key, lang, params);
          assert.ok(!/__[A-Za-z0-9_]+__/.test(shown), `${lang} ${key} leaves a placeholder: ${shown}`);
          assert.notEqual(shown, key, `${lang} ${key} did not render`);
          for (const name of Object.keys(params)) assert.ok(shown.includes(`‹${name}›`), `${lang} ${key} drops __${name}__`);
        }
      }
    }
  });

  it(`status texts stay within ${STATUS_MAX} characters with short values`, () => {
    for (const node of loaded) {
      for (const [key, text] of flatten(node.catalogs['en-US'])) {
        if (!key.startsWith(`${node.type}.status.`)) continue;
        const params = Object.fromEntries(placeholders(text).map((name) => [name, '123']));
        for (const lang of LANGUAGES) {
          const shown = render(node.namespace, key, lang, params);
          assert.ok(shown.length <= STATUS_MAX, `${lang} ${key} is ${shown.length} characters: "${shown}"`);
        }
      }
    }
  });

  describe('the check itself, on a deliberately broken catalog', () => {
    let dir: string;
    before(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ff-locales-'));
      const write = (lang: string, catalog: unknown) => {
        fs.mkdirSync(path.join(dir, 'locales', lang), { recursive: true });
        fs.writeFileSync(path.join(dir, 'locales', lang, 'broken-node.json'), JSON.stringify(catalog));
      };
      write('en-US', { 'broken-node': { status: { queued: '__count__ queued' }, errors: { bad: 'bad __value__', gone: 'gone' } } });
      write('ru', { 'broken-node': { status: { queued: '__cnt__ в очереди' }, errors: { bad: 'плохо __value__' }, extra: 'лишнее' } });
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it('finds the missing key, the extra key and the placeholder mismatch', async () => {
      const broken = await loadNodeCatalogs(path.join(dir, 'broken-node.js'), 'broken-node', 'test');
      assert.deepEqual(
        catalogProblems(broken.catalogs).sort(),
        [
          'ru: missing broken-node.errors.gone',
          'ru: broken-node.extra is not in en-US',
          'ru: broken-node.status.queued has placeholders [cnt], en-US has [count]',
        ].sort(),
      );
    });
  });
});
