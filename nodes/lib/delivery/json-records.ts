// The queued events as the sender handles them: UTF-8 JSON records, posted
// as they are. Reading an event's id and joining records into a request body
// work on the bytes, without parsing the events.
/** An event's id as FindFace logs it; null when the event has none (a string or a number). */
export type EventId = string | number | null;

/** The id FindFace would log: the payload's `id` when it is a string or number. */
export function eventIdOf(payload: unknown): EventId {
  if (typeof payload === 'object' && payload !== null && !Array.isArray(payload)) {
    const id = (payload as { id?: unknown }).id;
    if (typeof id === 'string' || typeof id === 'number') return id;
  }
  return null;
}

const QUOTE = 34;
const BACKSLASH = 92;
const COMMA = 44;
const COLON = 58;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;
const MINUS = 45;
const DIGIT_0 = 48;
const DIGIT_9 = 57;
const LETTER_I = 105;
const LETTER_D = 100;

const isSpace = (c: number) => c === 32 || c === 10 || c === 13 || c === 9;

function skipSpace(json: Buffer, at: number): number {
  while (at < json.length && isSpace(json[at])) at++;
  return at;
}

function hasBackslash(json: Buffer, from: number, to: number): boolean {
  const at = json.indexOf(BACKSLASH, from);
  return at >= 0 && at < to;
}

/** Index just after the string that starts at `at` (a quote); -1 when it does not end. */
function stringEnd(json: Buffer, at: number): number {
  for (let quote = json.indexOf(QUOTE, at + 1); quote >= 0; quote = json.indexOf(QUOTE, quote + 1)) {
    let backslashes = 0;
    while (json[quote - 1 - backslashes] === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return quote + 1;
  }
  return -1;
}

/** Index just after the JSON value that starts at `at`; -1 for bytes that are not JSON. */
function valueEnd(json: Buffer, at: number): number {
  const first = json[at];
  if (first === QUOTE) return stringEnd(json, at);
  if (first === OPEN_BRACE || first === OPEN_BRACKET) {
    let depth = 0;
    for (let i = at; i < json.length; i++) {
      const c = json[i];
      if (c === QUOTE) {
        i = stringEnd(json, i) - 1;
        if (i < 0) return -1;
      } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
        depth++;
      } else if ((c === CLOSE_BRACE || c === CLOSE_BRACKET) && --depth === 0) {
        return i + 1;
      }
    }
    return -1;
  }
  let i = at;
  while (i < json.length && json[i] !== COMMA && json[i] !== CLOSE_BRACE && json[i] !== CLOSE_BRACKET && !isSpace(json[i])) i++;
  return i > at ? i : -1;
}

/**
 * `eventIdOf(JSON.parse(json))` for valid UTF-8 JSON, without building the
 * event: the sender reads ids for its log lines and reports from the queued
 * bytes, walking the top-level keys only (the last "id" wins, as in
 * JSON.parse). Every byte it looks for is ASCII, which never occurs inside a
 * multi-byte UTF-8 character.
 */
export function eventIdOfJson(json: Buffer): EventId {
  let at = skipSpace(json, 0);
  if (json[at] !== OPEN_BRACE) return null;
  at = skipSpace(json, at + 1);
  let id: EventId = null;
  while (json[at] === QUOTE) {
    const keyEnd = stringEnd(json, at);
    if (keyEnd < 0) return null;
    const isId =
      keyEnd - at === 4
        ? json[at + 1] === LETTER_I && json[at + 2] === LETTER_D
        : keyEnd - at > 4 && hasBackslash(json, at, keyEnd) && JSON.parse(json.toString('utf8', at, keyEnd)) === 'id';
    at = skipSpace(json, keyEnd);
    if (json[at] !== COLON) return null;
    at = skipSpace(json, at + 1);
    const end = valueEnd(json, at);
    if (end < 0) return null;
    if (isId) {
      const c = json[at];
      if (c === QUOTE) id = hasBackslash(json, at, end) ? (JSON.parse(json.toString('utf8', at, end)) as string) : json.toString('utf8', at + 1, end - 1);
      else if (c === MINUS || (c >= DIGIT_0 && c <= DIGIT_9)) id = Number(json.toString('latin1', at, end));
      else id = null;
    }
    at = skipSpace(json, end);
    if (json[at] !== COMMA) break;
    at = skipSpace(json, at + 1);
  }
  return id;
}

/** The request body: the records, as they are, in a JSON array. */
export function jsonArray(records: Buffer[]): Buffer {
  let length = records.length + 1;
  for (const record of records) length += record.length;
  const body = Buffer.allocUnsafe(Math.max(2, length));
  body[0] = OPEN_BRACKET;
  let at = 1;
  for (let i = 0; i < records.length; i++) {
    if (i > 0) body[at++] = COMMA;
    at += records[i].copy(body, at);
  }
  body[at] = CLOSE_BRACKET;
  return body;
}
