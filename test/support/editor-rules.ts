// The rules the editor runs (resources/filter.js, written by scripts/build.js
// from the compiled nodes/lib/filter/filter.js and served by Node-RED), loaded
// as a browser loads them, for the parity tests.
import assert from 'assert/strict';
import fs from 'fs';
import path from 'path';
import vm from 'vm';

const repo = path.join(__dirname, '..', '..');

/**
 * The rules the editor runs: resources/filter.js as the build writes it and
 * Node-RED serves it, run as a browser would (a script defining
 * window.FindFace.filter), in a context of its own.
 */
export function editorRules(): typeof import('../../nodes/lib/filter/filter') {
  const file = path.join(repo, 'resources', 'filter.js');
  assert.ok(fs.existsSync(file), 'resources/filter.js is missing: run the build');
  const window: { FindFace?: { filter?: unknown } } = {};
  vm.runInNewContext(fs.readFileSync(file, 'utf8'), { window }, { filename: file });
  assert.ok(window.FindFace?.filter, 'resources/filter.js does not define window.FindFace.filter');
  return window.FindFace.filter as typeof import('../../nodes/lib/filter/filter');
}

/** Results from another context compared by value (their prototypes differ). */
export function plain(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, (_key, item) => (item instanceof Map || Object.prototype.toString.call(item) === '[object Map]' ? [...(item as Map<unknown, unknown>)] : item)));
}
