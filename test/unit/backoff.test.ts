import assert from 'assert/strict';
import { backoffProblem, backoffSeconds, DEFAULT_BACKOFF, formatSeconds, parseRetryAfter } from '../../nodes/lib/delivery/backoff';

describe('backoff', () => {
  describe('backoffSeconds', () => {
    it('waits 0.270, 0.729, 1.968 … after the 1st, 2nd, 3rd failure, as in FindFace journal', () => {
      const waits = [1, 2, 3, 4, 5, 6].map((n) => formatSeconds(backoffSeconds(n)));
      assert.deepEqual(waits, ['0.270', '0.729', '1.968', '5.314', '14.349', '38.742']);
    });

    it('is base × factor^n exactly', () => {
      for (let n = 1; n <= 6; n++) {
        assert.ok(Math.abs(backoffSeconds(n) - 0.1 * 2.7 ** n) < 1e-12, `n=${n}`);
      }
    });

    it('is capped at backoffMax (100 s by default), also for very long outages', () => {
      assert.equal(backoffSeconds(7), 100);
      assert.equal(backoffSeconds(1000), 100);
      assert.equal(backoffSeconds(1e9), 100);
      assert.equal(formatSeconds(backoffSeconds(5000)), '100.000');
      assert.equal(backoffSeconds(3, { base: 0.1, factor: 2.7, max: 1 }), 1);
    });

    it('follows custom settings', () => {
      assert.equal(backoffSeconds(1, { base: 1, factor: 2, max: 60 }), 2);
      assert.equal(backoffSeconds(5, { base: 1, factor: 2, max: 60 }), 32);
      assert.equal(backoffSeconds(6, { base: 1, factor: 2, max: 60 }), 60);
      assert.equal(backoffSeconds(4, { base: 0.001, factor: 1, max: 60 }), 0.001);
      assert.equal(backoffSeconds(4, { base: 0, factor: 3, max: 60 }), 0);
    });

    it('treats a failure count below 1 as the first failure', () => {
      assert.equal(backoffSeconds(0), backoffSeconds(1));
      assert.equal(backoffSeconds(-3), backoffSeconds(1));
    });

    it('has FindFace defaults', () => {
      assert.deepEqual({ ...DEFAULT_BACKOFF }, { base: 0.1, factor: 2.7, max: 100 });
    });
  });

  describe('formatSeconds', () => {
    it('prints three decimals', () => {
      assert.equal(formatSeconds(0.27000000000000005), '0.270');
      assert.equal(formatSeconds(5), '5.000');
      assert.equal(formatSeconds(0), '0.000');
    });
  });

  describe('backoffProblem', () => {
    it('accepts the defaults and rejects nonsense', () => {
      assert.equal(backoffProblem(DEFAULT_BACKOFF), null);
      assert.match(String(backoffProblem({ base: -1, factor: 2, max: 1 })), /backoffBase/);
      assert.match(String(backoffProblem({ base: NaN, factor: 2, max: 1 })), /backoffBase/);
      assert.match(String(backoffProblem({ base: 1, factor: 0.5, max: 1 })), /backoffFactor/);
      assert.match(String(backoffProblem({ base: 1, factor: 2, max: -1 })), /backoffMax/);
      assert.match(String(backoffProblem({ base: 1, factor: 2, max: Infinity })), /backoffMax/);
    });
  });

  describe('parseRetryAfter', () => {
    const now = Date.parse('2024-01-24T14:09:02Z');

    it('reads delay-seconds', () => {
      assert.equal(parseRetryAfter('5', now, 100), 5);
      assert.equal(parseRetryAfter(' 0 ', now, 100), 0);
      assert.equal(parseRetryAfter(['7', '9'], now, 100), 7);
      assert.equal(parseRetryAfter(12, now, 100), 12);
    });

    it('reads an HTTP date relative to now', () => {
      assert.equal(parseRetryAfter('Wed, 24 Jan 2024 14:09:32 GMT', now, 100), 30);
      assert.equal(parseRetryAfter(new Date(now + 1500).toUTCString(), now, 100), 1);
    });

    it('clamps to 0..max', () => {
      assert.equal(parseRetryAfter('3600', now, 100), 100);
      assert.equal(parseRetryAfter('99999999999999999999999', now, 100), 100);
      assert.equal(parseRetryAfter('Wed, 24 Jan 2024 13:00:00 GMT', now, 100), 0);
      assert.equal(parseRetryAfter('Wed, 24 Jan 2024 18:00:00 GMT', now, 100), 100);
      assert.equal(parseRetryAfter('5', now, 0.5), 0.5);
    });

    it('ignores a missing or unreadable header (the computed backoff applies)', () => {
      for (const value of [undefined, null, '', 'soon', '-5', '1.5', '+3', [], 'x'.repeat(200), 'Mon, 99 Foo 2024 xx:yy GMT']) {
        assert.equal(parseRetryAfter(value as string, now, 100), undefined, JSON.stringify(value));
      }
    });
  });
});
