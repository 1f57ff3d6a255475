// Every configuration problem code of the parse functions has its text in
// both locales, and the two locales hold the same keys.
import assert from 'assert/strict';
import fs from 'fs';
import path from 'path';

const root = path.resolve(__dirname, '../..');
const read = (file: string) => fs.readFileSync(path.join(root, file), 'utf8');
const locale = (node: string, lang: string) => JSON.parse(read(`nodes/${node}/locales/${lang}/findface-${node}.json`))[`findface-${node}`];

/** The string members of an exported union type `name` in a TypeScript source. */
function unionMembers(source: string, name: string): string[] {
  const match = new RegExp(`export type ${name} =([^;]+);`).exec(source);
  assert.ok(match, name);
  return [...match[1].matchAll(/'([^']+)'/g)].map((m) => m[1]);
}

function keys(value: unknown, prefix = ''): string[] {
  if (typeof value !== 'object' || value === null) return [prefix];
  return Object.entries(value).flatMap(([key, inner]) => keys(inner, prefix ? `${prefix}.${key}` : key));
}

describe('configuration error texts', () => {
  const cases: Array<[string, string, string]> = [
    ['webhook', 'nodes/lib/delivery/webhook-config.ts', 'WebhookProblemCode'],
    ['server', 'nodes/lib/findface/server-config.ts', 'ServerProblemCode'],
    ['event-in', 'nodes/lib/source/event-in-config.ts', 'EventInProblemCode'],
    ['redis', 'nodes/lib/redis/redis-config.ts', 'RedisProblemCode'],
  ];
  for (const [node, file, type] of cases) {
    it(`findface-${node}: every ${type} has a text in en-US and ru, and both locales have the same keys`, () => {
      const codes = unionMembers(read(file), type);
      assert.ok(codes.length >= 3);
      for (const lang of ['en-US', 'ru']) {
        const errors = locale(node, lang).errors;
        for (const code of codes) assert.equal(typeof errors[code], 'string', `${lang} findface-${node}.errors.${code}`);
      }
      assert.deepEqual(keys(locale(node, 'ru')).sort(), keys(locale(node, 'en-US')).sort());
    });
  }
});
