// The webhook node's extra headers (nodes/lib/delivery/headers.ts), and the
// rules the editor runs: the same module served as resources/headers.js, which
// the webhook dialog (nodes/webhook/findface-webhook.html) loads instead of a
// copy of its own; the served copy gives the same answers on the cases below
// and on random inputs.
import assert from 'assert/strict';
import fs from 'fs';
import path from 'path';
import fc from 'fast-check';
import { HeaderProblemCode, ParsedHeaders, parseHeaders, SENDER_HEADERS, TRANSPORT_HEADERS } from '../../nodes/lib/delivery/headers';
import { plain, servedModule } from '../support/editor-rules';

const repo = path.join(__dirname, '..', '..');

function editorRules(): { parseHeaders(text: unknown): ParsedHeaders } {
  return servedModule<typeof import('../../nodes/lib/delivery/headers')>('headers');
}

const locales = ['en-US', 'ru'].map((locale) => ({
  locale,
  texts: JSON.parse(fs.readFileSync(path.join(repo, 'nodes', 'webhook', 'locales', locale, 'findface-webhook.json'), 'utf8'))['findface-webhook'].errors
    .headers as Record<string, string>,
}));

const accepted: Array<[unknown, Record<string, string>]> = [
  [undefined, {}],
  ['', {}],
  ['  ', {}],
  ['{}', {}],
  ['{"X-Site": "entrance"}', { 'X-Site': 'entrance' }],
  ['{"X-Api-Key": "Bearer abc def", "x-empty": ""}', { 'X-Api-Key': 'Bearer abc def', 'x-empty': '' }],
  ['{"X-Tab": "a\\tb", "X-Symbols": "!#$%&\'*+-.^_`|~\\"(),/:;<=>?@[\\\\]{}"}', { 'X-Tab': 'a\tb', 'X-Symbols': '!#$%&\'*+-.^_`|~"(),/:;<=>?@[\\]{}' }],
  ['{"__proto__": "x"}', JSON.parse('{"__proto__": "x"}')],
];

const refused: Array<[unknown, HeaderProblemCode, string?]> = [
  [42, 'not-text'],
  [{ 'X-A': 'b' }, 'not-text'],
  ['not json', 'not-json'],
  ['[1]', 'not-object'],
  ['"text"', 'not-object'],
  ['null', 'not-object'],
  ['{"X A": "b"}', 'bad-name'],
  ['{"": "b"}', 'bad-name'],
  ['{"X-ж": "b"}', 'bad-name'],
  ['{"X:A": "b"}', 'bad-name'],
  ...TRANSPORT_HEADERS.map((name): [string, HeaderProblemCode, string] => [
    JSON.stringify({ [name.toUpperCase()]: 'x' }),
    'transport-header',
    name.toUpperCase(),
  ]),
  ['{"Transfer-Encoding": "chunked"}', 'transport-header', 'Transfer-Encoding'],
  ...SENDER_HEADERS.map((name): [string, HeaderProblemCode, string] => [JSON.stringify({ [name]: 'x' }), 'sender-header', name]),
  ['{"X-A": "1", "x-a": "2"}', 'duplicate-name', 'x-a'],
  ['{"X-A": 5}', 'not-string', 'X-A'],
  ['{"X-A": null}', 'not-string', 'X-A'],
  ['{"X-A": ["a"]}', 'not-string', 'X-A'],
  ['{"X-A": "ж"}', 'bad-value', 'X-A'],
  ['{"X-A": "caf\\u00e9"}', 'bad-value', 'X-A'],
  ['{"X-A": "a\\u0000b"}', 'bad-value', 'X-A'],
  ['{"X-A": "a\\r\\nX-B: c"}', 'bad-value', 'X-A'],
  ['{"X-A": "a\\u007fb"}', 'bad-value', 'X-A'],
  ['{"X-A": " padded"}', 'bad-value', 'X-A'],
  ['{"X-A": "padded "}', 'bad-value', 'X-A'],
  ['{"X-A": "\\t"}', 'bad-value', 'X-A'],
];

describe('webhook headers', () => {
  const editor = editorRules();

  it('the webhook dialog loads the served rules and keeps no copy of its own', () => {
    const html = fs.readFileSync(path.join(repo, 'nodes', 'webhook', 'findface-webhook.html'), 'utf8');
    assert.match(html, /<script src="resources\/node-red-contrib-findface\/headers\.js"><\/script>/);
    assert.match(html, /var parseHeaders = window\.FindFace\.headers\.parseHeaders;/);
    assert.doesNotMatch(html, /function parseHeaders|TRANSPORT_HEADERS|SENDER_HEADERS|x21-\\x7e/, 'a hand-written mirror of the rules');
    assert.ok(JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8')).files.includes('resources/'), 'resources/ is packed');
  });

  for (const [text, value] of accepted) {
    it(`accepts ${JSON.stringify(text)}`, () => {
      assert.deepEqual(parseHeaders(text), { ok: true, value });
      assert.deepEqual(plain(editor.parseHeaders(text)), plain(parseHeaders(text)), 'the editor agrees');
    });
  }

  for (const [text, code, name] of refused) {
    it(`refuses ${JSON.stringify(text)}: ${code}`, () => {
      const result = parseHeaders(text);
      assert.equal(result.ok, false);
      if (result.ok) return;
      assert.equal(result.problem.code, code);
      if (name !== undefined) assert.equal(result.problem.name, name);
      assert.deepEqual(plain(editor.parseHeaders(text)), plain(result), 'the editor agrees');
    });
  }

  it('has a text for every problem in en-US and ru, naming what it needs', () => {
    for (const [text] of refused) {
      const result = parseHeaders(text);
      if (result.ok) assert.fail('refused above');
      for (const { locale, texts } of locales) {
        const template = texts[result.problem.code];
        assert.ok(template, `${locale} has findface-webhook.errors.headers.${result.problem.code}`);
        for (const placeholder of template.match(/__\w+__/g) ?? []) {
          const key = placeholder.slice(2, -2) as keyof typeof result.problem;
          assert.notEqual(result.problem[key], undefined, `${locale} ${result.problem.code} uses ${placeholder}, which the problem carries`);
        }
      }
    }
  });

  it('the editor gives the same answer as the runtime on random headers', () => {
    const nameChars = fc.constantFrom(...'aZ9-_.~!#:ж X'.split(''), 'Content-Length', 'te', 'TE', 'Authorization', 'host');
    const valueChars = fc.oneof(fc.constantFrom(' ', '\t', '\u0000', '\r', '\n', '\u007f', 'ж', 'é', '"', '\\'), fc.string({ maxLength: 3 }));
    const name = fc.array(nameChars, { maxLength: 4 }).map((parts) => parts.join(''));
    const value = fc.oneof(
      fc.array(valueChars, { maxLength: 5 }).map((parts) => parts.join('')),
      fc.jsonValue({ maxDepth: 1 }),
    );
    const text = fc.oneof(
      fc.array(fc.tuple(name, value), { maxLength: 4 }).map((entries) => JSON.stringify(Object.fromEntries(entries))),
      fc.string(),
      fc.jsonValue().map((json) => JSON.stringify(json)),
    );
    fc.assert(
      fc.property(text, (input) => {
        assert.deepEqual(plain(editor.parseHeaders(input)), plain(parseHeaders(input)));
      }),
      { numRuns: 3000 },
    );
  });
});
