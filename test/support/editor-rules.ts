// The rules the editor runs (resources/filter.js and resources/headers.js,
// written by scripts/build.js from the compiled lib modules and served by
// Node-RED), loaded as a browser loads them, for the parity tests.
import assert from 'assert/strict';
import fs from 'fs';
import path from 'path';
import vm from 'vm';

const repo = path.join(__dirname, '..', '..');

/**
 * A lib module as the editor runs it: resources/<name>.js as the build
 * writes it and Node-RED serves it, run as a browser would (a script defining
 * window.FindFace.<name>), in a context of its own with no Node.js globals.
 */
export function servedModule<T>(name: string): T {
  const file = path.join(repo, 'resources', `${name}.js`);
  assert.ok(fs.existsSync(file), `resources/${name}.js is missing: run the build`);
  const window: { FindFace?: Record<string, unknown> } = {};
  vm.runInNewContext(fs.readFileSync(file, 'utf8'), { window }, { filename: file });
  assert.ok(window.FindFace?.[name], `resources/${name}.js does not define window.FindFace.${name}`);
  return window.FindFace[name] as T;
}

/** The filter rules the editor runs (resources/filter.js). */
export function editorRules(): typeof import('../../nodes/lib/filter/filter') {
  return servedModule<typeof import('../../nodes/lib/filter/filter')>('filter');
}

/** Results from another context compared by value (their prototypes differ). */
export function plain(value: unknown): unknown {
  return JSON.parse(
    JSON.stringify(value, (_key, item) =>
      item instanceof Map || Object.prototype.toString.call(item) === '[object Map]' ? [...(item as Map<unknown, unknown>)] : item,
    ),
  );
}
