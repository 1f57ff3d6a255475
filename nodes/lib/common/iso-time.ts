// `new Date(ms).toISOString()` costs about 1 µs here, as much as the rest of
// what the source does with an event: the date is written once a second and
// the milliseconds appended. The same string as toISOString for every time
// of years 0000-9999 (test/unit/iso-time.test.ts).

let cachedSecond = Number.NaN;
/** `YYYY-MM-DDTHH:MM:SS.` of cachedSecond. */
let cachedPrefix = '';

/** The ISO 8601 UTC date of `ms` (wall-clock milliseconds since the epoch), as Date.prototype.toISOString writes it. */
export function isoTime(ms: number): string {
  // Date's own TimeClip: fractions of a millisecond are cut toward zero.
  const time = Math.trunc(ms);
  const second = Math.floor(time / 1000);
  if (second !== cachedSecond) {
    const full = new Date(time).toISOString();
    // Outside years 0000-9999 toISOString writes ±YYYYYY: left to it.
    if (full.length !== 24) return full;
    cachedSecond = second;
    cachedPrefix = full.slice(0, 20);
  }
  const millis = time - second * 1000;
  return `${cachedPrefix}${millis < 10 ? '00' : millis < 100 ? '0' : ''}${millis}Z`;
}
