// The door's hand-written created_date reader (lib/access/event-date.ts)
// against two references: the regular expression it replaced (kept here,
// unchanged, as the grammar's statement) on any text near a date, and
// Date.parse on every FindFace format written the way Date.parse reads it.
import assert from 'assert/strict';
import fc from 'fast-check';
import { parseEventDate } from '../../nodes/lib/access/event-date';

const NUM_RUNS = 3000;

const DATE = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?(Z|z|[+-]\d{2}(?::?\d{2})?)$/;

/** The regex reader lib/access/event-date.ts had before (same results, several times slower). */
function referenceParse(value: unknown): number | undefined {
  if (typeof value !== 'string' || value.length > 40) return undefined;
  const match = DATE.exec(value);
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s, fraction, zone] = match;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 60) return undefined;
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (day > daysInMonth) return undefined;
  const millis = fraction ? Math.floor(Number(`0.${fraction}`) * 1000 + 1e-6) : 0;
  let offsetMinutes = 0;
  if (zone !== 'Z' && zone !== 'z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const offsetHours = Number(digits.slice(0, 2));
    const offsetMins = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
    if (offsetHours > 23 || offsetMins > 59) return undefined;
    offsetMinutes = sign * (offsetHours * 60 + offsetMins);
  }
  return Date.UTC(year, month - 1, day, hour, minute, second, millis) - offsetMinutes * 60_000;
}

const pad = (value: number, width: number) => String(value).padStart(width, '0');

interface DateParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** Fraction digits, '' for none. */
  fraction: string;
  /** 'Z', 'z', or an offset in minutes. */
  zone: 'Z' | 'z' | number;
  zoneForm: 'hh' | 'hhmm' | 'hh:mm';
  separator: 'T' | ' ';
  decimal: '.' | ',';
}

const partsArb: fc.Arbitrary<DateParts> = fc.record({
  year: fc.integer({ min: 0, max: 9999 }),
  month: fc.integer({ min: 0, max: 13 }),
  day: fc.integer({ min: 0, max: 32 }),
  hour: fc.integer({ min: 0, max: 25 }),
  minute: fc.integer({ min: 0, max: 61 }),
  second: fc.integer({ min: 0, max: 61 }),
  fraction: fc.oneof(fc.constant(''), fc.stringMatching(/^\d{1,10}$/), fc.constantFrom('999999999', '000000001', '5', '999', '123456', '9999999')),
  zone: fc.oneof(fc.constantFrom<'Z' | 'z'>('Z', 'z'), fc.integer({ min: -25 * 60, max: 25 * 60 })),
  zoneForm: fc.constantFrom<'hh' | 'hhmm' | 'hh:mm'>('hh', 'hhmm', 'hh:mm'),
  separator: fc.constantFrom<'T' | ' '>('T', ' '),
  decimal: fc.constantFrom<'.' | ','>('.', ','),
});

function zoneText(parts: DateParts): string {
  if (typeof parts.zone !== 'number') return parts.zone;
  const sign = parts.zone < 0 ? '-' : '+';
  const hours = Math.floor(Math.abs(parts.zone) / 60);
  const minutes = Math.abs(parts.zone) % 60;
  if (parts.zoneForm === 'hh') return `${sign}${pad(hours, 2)}`;
  return parts.zoneForm === 'hhmm' ? `${sign}${pad(hours, 2)}${pad(minutes, 2)}` : `${sign}${pad(hours, 2)}:${pad(minutes, 2)}`;
}

function written(parts: DateParts): string {
  const fraction = parts.fraction === '' ? '' : `${parts.decimal}${parts.fraction}`;
  return `${pad(parts.year, 4)}-${pad(parts.month, 2)}-${pad(parts.day, 2)}${parts.separator}${pad(parts.hour, 2)}:${pad(parts.minute, 2)}:${pad(parts.second, 2)}${fraction}${zoneText(parts)}`;
}

/** The same instant the way Date.parse reads it (ISO 8601 extended: T, '.', at most milliseconds, ±hh:mm). */
function forDateParse(parts: DateParts): string {
  const fraction = parts.fraction === '' ? '' : `.${parts.fraction.slice(0, 3).padEnd(3, '0')}`;
  let zone: string;
  if (typeof parts.zone !== 'number') zone = 'Z';
  else {
    const minutes = parts.zoneForm === 'hh' ? 0 : Math.abs(parts.zone) % 60;
    zone = `${parts.zone < 0 ? '-' : '+'}${pad(Math.floor(Math.abs(parts.zone) / 60), 2)}:${pad(minutes, 2)}`;
  }
  return `${pad(parts.year, 4)}-${pad(parts.month, 2)}-${pad(parts.day, 2)}T${pad(parts.hour, 2)}:${pad(parts.minute, 2)}:${pad(parts.second, 2)}${fraction}${zone}`;
}

describe('FindFace event dates, read by hand', function () {
  it('agrees with the regular expression on dates, near-dates and edge values', function () {
    fc.assert(
      fc.property(partsArb, (parts) => {
        const text = written(parts);
        assert.equal(parseEventDate(text), referenceParse(text), text);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('agrees with the regular expression on dates with one character changed, cut or added', function () {
    const mutated = fc
      .tuple(partsArb, fc.nat(), fc.constantFrom('cut', 'replace', 'insert'), fc.constantFrom('0', '9', 'a', ':', '-', '+', 'Z', ' ', '.', '٣', '\u0000'))
      .map(([parts, where, how, char]) => {
        const text = written(parts);
        const at = where % (text.length + 1);
        if (how === 'cut') return text.slice(0, at) + text.slice(at + 1);
        if (how === 'replace') return text.slice(0, at) + char + text.slice(at + 1);
        return text.slice(0, at) + char + text.slice(at);
      });
    fc.assert(
      fc.property(fc.oneof(mutated, fc.string({ maxLength: 45 })), (text) => {
        assert.equal(parseEventDate(text), referenceParse(text), JSON.stringify(text));
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('agrees with Date.parse on every valid FindFace format (Z, offsets, milli- and microseconds)', function () {
    const valid = partsArb.filter((parts) => {
      // Date.parse's own range and rules: years from 1970 (two-digit years differ), real days, no leap second, offsets within ±23:59,
      // fractions up to microseconds (a 9-digit fraction of x.999999999 ms is read as the next millisecond by both readers above).
      const days = new Date(Date.UTC(parts.year, parts.month, 0)).getUTCDate();
      const offsetOk = typeof parts.zone !== 'number' || Math.abs(parts.zone) < 24 * 60;
      return (
        parts.year >= 1970 &&
        parts.month >= 1 &&
        parts.month <= 12 &&
        parts.day >= 1 &&
        parts.day <= days &&
        parts.hour < 24 &&
        parts.minute < 60 &&
        parts.second < 60 &&
        parts.fraction.length <= 6 &&
        offsetOk
      );
    });
    let checked = 0;
    fc.assert(
      fc.property(valid, (parts) => {
        const text = written(parts);
        const expected = Date.parse(forDateParse(parts));
        assert.ok(Number.isFinite(expected), forDateParse(parts));
        assert.equal(parseEventDate(text), expected, `${text} vs ${forDateParse(parts)}`);
        checked++;
      }),
      { numRuns: NUM_RUNS },
    );
    assert.equal(checked, NUM_RUNS);
  });

  it('reads what FindFace writes', function () {
    assert.equal(parseEventDate('2019-04-09T12:29:23Z'), Date.parse('2019-04-09T12:29:23Z'));
    assert.equal(parseEventDate('2023-05-10T09:00:01.123456Z'), Date.parse('2023-05-10T09:00:01.123Z'));
    assert.equal(parseEventDate('2023-05-10T12:00:01.123456+03:00'), Date.parse('2023-05-10T09:00:01.123Z'));
    assert.equal(parseEventDate('2023-05-10T12:00:01,5+0300'), Date.parse('2023-05-10T09:00:01.500Z'));
    assert.equal(parseEventDate('2023-05-10T12:00:01-03'), Date.parse('2023-05-10T15:00:01Z'));
    assert.equal(parseEventDate('2024-02-29T00:00:00Z'), Date.parse('2024-02-29T00:00:00Z'));
    assert.equal(parseEventDate('2023-02-29T00:00:00Z'), undefined);
    assert.equal(parseEventDate('2023-05-10T09:00:01.1234567890Z'), undefined);
    assert.equal(parseEventDate('2023-05-10T09:00:01.Z'), undefined);
    assert.equal(parseEventDate('2023-05-10T09:00:01+03:'), undefined);
  });
});
