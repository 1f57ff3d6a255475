// The webhook node's extra request headers (`headers`, a JSON object string),
// checked once at deploy and in the editor. Refused: names that are not HTTP
// tokens, the headers the transport owns (a `Transfer-Encoding: chunked`
// makes the receiver answer 400 to every request, so every batch is given
// up), the headers the sender sets itself, two names that differ only in
// case, and values that are not visible ASCII (Node.js sends Latin-1 and
// drops the rest: `ж` arrives empty, NUL vanishes) with single spaces or tabs
// inside.
//
// The editor (nodes/webhook/findface-webhook.html) runs this very module:
// scripts/build.js serves the compiled file as resources/headers.js
// (window.FindFace.headers), so it must stay browser-safe: no imports, no
// Node.js API. test/unit/headers.test.ts runs the served copy against this one
// and checks that the dialog uses it.

/** Hop-by-hop and framing headers: the HTTP client writes them from the request itself. */
export const TRANSPORT_HEADERS: readonly string[] = [
  'content-length',
  'host',
  'transfer-encoding',
  'connection',
  'expect',
  'te',
  'trailer',
  'upgrade',
  'keep-alive',
  'proxy-connection',
];

/** Headers the sender writes: the body's type, the node's authentication and Standard Webhooks signatures. */
export const SENDER_HEADERS: readonly string[] = ['content-type', 'authorization', 'webhook-id', 'webhook-timestamp', 'webhook-signature'];

export type HeaderProblemCode =
  'not-text' | 'not-json' | 'not-object' | 'bad-name' | 'transport-header' | 'sender-header' | 'duplicate-name' | 'not-string' | 'bad-value';

/**
 * What is wrong with `headers`, as an i18n code (`findface-webhook.errors.headers.<code>`
 * in the locale files) and its parameters: `name` the header, `value` the
 * offending value as JSON (shortened), `detail` the JSON parser's message.
 */
export interface HeaderProblem {
  code: HeaderProblemCode;
  name?: string;
  value?: string;
  detail?: string;
}

export type ParsedHeaders = { ok: true; value: Record<string, string> } | { ok: false; problem: HeaderProblem };

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Visible ASCII, with spaces or tabs only between visible characters; empty is allowed. */
const VISIBLE_VALUE = /^(?:[\x21-\x7e](?:[\t\x20-\x7e]*[\x21-\x7e])?)?$/;
const SHOWN_MAX = 30;

function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > SHOWN_MAX ? `${text.slice(0, SHOWN_MAX - 1)}…` : text;
}

function refused(code: HeaderProblemCode, extra: Omit<HeaderProblem, 'code'> = {}): ParsedHeaders {
  return { ok: false, problem: { code, ...extra } };
}

/** Parses the node's `headers` property; blank (or absent) means none. */
export function parseHeaders(text: unknown): ParsedHeaders {
  if (text === undefined || text === null || (typeof text === 'string' && text.trim() === '')) return { ok: true, value: {} };
  if (typeof text !== 'string') return refused('not-text', { value: shown(text) });
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return refused('not-json', { detail: (error as Error).message });
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return refused('not-object', { value: shown(parsed) });
  const headers: Array<[string, string]> = [];
  const seen = new Set<string>();
  for (const [name, value] of Object.entries(parsed as Record<string, unknown>)) {
    if (!TOKEN.test(name)) return refused('bad-name', { name: shown(name) });
    const lower = name.toLowerCase();
    if (TRANSPORT_HEADERS.includes(lower)) return refused('transport-header', { name });
    if (SENDER_HEADERS.includes(lower)) return refused('sender-header', { name });
    if (seen.has(lower)) return refused('duplicate-name', { name });
    seen.add(lower);
    if (typeof value !== 'string') return refused('not-string', { name, value: shown(value) });
    if (!VISIBLE_VALUE.test(value)) return refused('bad-value', { name, value: shown(value) });
    headers.push([name, value]);
  }
  // fromEntries keeps a name such as __proto__ as an own property.
  return { ok: true, value: Object.fromEntries(headers) };
}
