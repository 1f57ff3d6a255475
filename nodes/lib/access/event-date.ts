// FindFace's `created_date` in every form it is written: `2019-04-09T12:29:23Z`
// (Security 3.x), with microseconds `2023-05-10T09:00:01.123456Z` or an
// offset `2023-05-10T12:00:01.123456+03:00` (Security 4.x, Multi). Parsed by
// hand so that a date without a zone (local to whom?) is refused instead of
// being read in Node-RED's zone, and fractions beyond milliseconds are not
// left to the engine.

const DATE = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?(Z|z|[+-]\d{2}(?::?\d{2})?)$/;

/** Wall-clock milliseconds since the epoch, or undefined when `value` is not a FindFace date with a zone. */
export function parseEventDate(value: unknown): number | undefined {
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
  // A leap second (:60) is read as the next second's start.
  return Date.UTC(year, month - 1, day, hour, minute, second, millis) - offsetMinutes * 60_000;
}
