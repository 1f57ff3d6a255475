import assert from 'assert';
import fc from 'fast-check';
import { isoTime } from '../../nodes/lib/common/iso-time';

describe('isoTime', () => {
  it('writes what toISOString writes, for any time of years 0000-9999 (fractions of a millisecond too)', () => {
    fc.assert(
      fc.property(fc.double({ min: -62_167_219_200_000, max: 253_402_300_799_999, noNaN: true }), (ms) => {
        assert.strictEqual(isoTime(ms), new Date(ms).toISOString());
      }),
      { numRuns: 20_000 },
    );
  });

  it('stays right across second boundaries, going forward and back', () => {
    const start = Date.UTC(2026, 11, 31, 23, 59, 59, 990);
    for (let ms = start; ms < start + 30; ms++) assert.strictEqual(isoTime(ms), new Date(ms).toISOString());
    for (let ms = start + 30; ms > start - 30; ms -= 7) assert.strictEqual(isoTime(ms), new Date(ms).toISOString());
    for (const ms of [0, -1, -999, -1000, -1001, 1, 999, 1000]) assert.strictEqual(isoTime(ms), new Date(ms).toISOString());
  });

  it('leaves years outside 0000-9999 to toISOString', () => {
    for (const ms of [Date.UTC(10000, 0, 1), Date.UTC(-1, 0, 1), Date.UTC(10000, 0, 1) + 1]) assert.strictEqual(isoTime(ms), new Date(ms).toISOString());
  });
});
