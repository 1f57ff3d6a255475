// FindFace's `created_date` in every form it is written: `2019-04-09T12:29:23Z`
// (Security 3.x), with microseconds `2023-05-10T09:00:01.123456Z` or an
// offset `2023-05-10T12:00:01.123456+03:00` (Security 4.x, Multi). Parsed by
// hand so that a date without a zone (local to whom?) is refused instead of
// being read in Node-RED's zone, and fractions beyond milliseconds are not
// left to the engine.
//
// The grammar (what test/unit/event-date.test.ts checks against a regular
// expression and Date.parse):
//   YYYY-MM-DD (T|space) hh:mm:ss [(.|,) 1-9 digits] (Z|z|±hh|±hhmm|±hh:mm)
// read character by character: a door reads one per event (microseconds make
// every date new), and this is several times quicker than a regex match.

const ZERO = 48;
const MAX_LENGTH = 40;
/** `YYYY-MM-DDThh:mm:ssZ`, the shortest date. */
const MIN_LENGTH = 20;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** The number written by `count` digits at `from`, or -1 when one of them is not a digit 0-9. */
function digitsAt(text: string, from: number, count: number): number {
  let value = 0;
  for (let index = from; index < from + count; index++) {
    const digit = text.charCodeAt(index) - ZERO;
    if (!(digit >= 0 && digit <= 9)) return -1;
    value = value * 10 + digit;
  }
  return value;
}

function daysIn(year: number, month: number): number {
  if (month !== 2) return DAYS_IN_MONTH[month - 1];
  // Date.UTC, which gives the instant below, reads years 0-99 as 1900-1999.
  const fullYear = year < 100 ? 1900 + year : year;
  return fullYear % 4 === 0 && (fullYear % 100 !== 0 || fullYear % 400 === 0) ? 29 : 28;
}

/**
 * Days from 1970-01-01 to a proleptic Gregorian date, by H. Hinnant's
 * days_from_civil (http://howardhinnant.github.io/date_algorithms.html);
 * quicker than Date.UTC, which is kept for years 0-99 (it reads them as
 * 1900-1999, and so did this reader before).
 */
function daysSinceEpoch(year: number, month: number, day: number): number {
  if (year < 100) return Date.UTC(year, month - 1, day) / 86_400_000;
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

/** Wall-clock milliseconds since the epoch, or undefined when `value` is not a FindFace date with a zone. */
export function parseEventDate(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const length = value.length;
  if (length < MIN_LENGTH || length > MAX_LENGTH) return undefined;
  const separator = value.charCodeAt(10);
  if (value.charCodeAt(4) !== 45 || value.charCodeAt(7) !== 45 || (separator !== 84 && separator !== 32)) return undefined; // - - T/space
  if (value.charCodeAt(13) !== 58 || value.charCodeAt(16) !== 58) return undefined; // : :
  const year = digitsAt(value, 0, 4);
  const month = digitsAt(value, 5, 2);
  const day = digitsAt(value, 8, 2);
  const hour = digitsAt(value, 11, 2);
  const minute = digitsAt(value, 14, 2);
  const second = digitsAt(value, 17, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 60) return undefined;
  if (day > daysIn(year, month)) return undefined;

  let at = 19;
  let millis = 0;
  const mark = value.charCodeAt(at);
  if (mark === 46 || mark === 44) {
    // . or ,
    at++;
    let fraction = 0;
    let scale = 1;
    while (at < length && scale < 1e9) {
      const digit = value.charCodeAt(at) - ZERO;
      if (digit < 0 || digit > 9) break;
      fraction = fraction * 10 + digit;
      scale *= 10;
      at++;
    }
    if (scale === 1) return undefined;
    // fraction / scale is the double nearest the decimal fraction, as Number('0.<digits>') is.
    millis = Math.floor((fraction / scale) * 1000 + 1e-6);
  }

  let offsetMinutes = 0;
  const zone = value.charCodeAt(at);
  const zoneLength = length - at;
  if (zone === 90 || zone === 122) {
    // Z or z
    if (zoneLength !== 1) return undefined;
  } else if (zone === 43 || zone === 45) {
    // + or -
    const offsetHours = digitsAt(value, at + 1, 2);
    let offsetMins = 0;
    if (zoneLength === 5) offsetMins = digitsAt(value, at + 3, 2);
    else if (zoneLength === 6 && value.charCodeAt(at + 3) === 58) offsetMins = digitsAt(value, at + 4, 2);
    else if (zoneLength !== 3) return undefined;
    if (offsetHours < 0 || offsetMins < 0 || offsetHours > 23 || offsetMins > 59) return undefined;
    offsetMinutes = (zone === 45 ? -1 : 1) * (offsetHours * 60 + offsetMins);
  } else {
    return undefined;
  }
  // A leap second (:60) is read as the next second's start.
  return daysSinceEpoch(year, month, day) * 86_400_000 + ((hour * 60 + minute - offsetMinutes) * 60 + second) * 1000 + millis;
}
