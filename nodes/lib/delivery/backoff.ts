// FindFace's webhook backoff: after the n-th consecutive failure of a batch
// the sender waits backoffBase × backoffFactor^n seconds (0.270, 0.729,
// 1.968 … with the defaults 0.1 and 2.7, as in FindFace's journal), capped at
// backoffMax. A 429/503 answer's Retry-After replaces the computed wait.

export interface BackoffOptions {
  /** Seconds; default 0.1. */
  base: number;
  /** Default 2.7. */
  factor: number;
  /** Seconds; default 100 (FindFace's documented cap). */
  max: number;
}

export const DEFAULT_BACKOFF: Readonly<BackoffOptions> = Object.freeze({ base: 0.1, factor: 2.7, max: 100 });

/** Seconds to wait after the `failures`-th consecutive failure (1 = the first). */
export function backoffSeconds(failures: number, options: BackoffOptions = DEFAULT_BACKOFF): number {
  const n = Math.max(1, Math.floor(failures));
  const { base, factor, max } = options;
  const wait = base * Math.pow(factor, n);
  // factor^n overflows to Infinity for long outages with "retry forever".
  if (!Number.isFinite(wait) || wait > max) return Math.max(0, max);
  return Math.max(0, wait);
}

/** Seconds as FindFace logs them: three decimals (`0.270`). */
export function formatSeconds(seconds: number): string {
  return seconds.toFixed(3);
}

/** Checks backoff settings; returns a problem description or null. */
export function backoffProblem(options: BackoffOptions): string | null {
  const { base, factor, max } = options;
  if (!Number.isFinite(base) || base < 0) return 'backoffBase must be a number of seconds ≥ 0';
  if (!Number.isFinite(factor) || factor < 1) return 'backoffFactor must be a number ≥ 1';
  if (!Number.isFinite(max) || max < 0) return 'backoffMax must be a number of seconds ≥ 0';
  return null;
}

const DELAY_SECONDS = /^\s*(\d+)\s*$/;

/**
 * The wait a `Retry-After` header asks for, in seconds, clamped to
 * 0..`maxSeconds`: either delay-seconds (`120`) or an HTTP date (`Wed, 21 Oct
 * 2015 07:28:00 GMT`, measured from `nowMs`). Undefined when the header is
 * missing or unparseable, so the caller falls back to the computed backoff.
 */
export function parseRetryAfter(header: string | string[] | number | undefined | null, nowMs: number, maxSeconds: number): number | undefined {
  if (header === undefined || header === null) return undefined;
  let value: string;
  if (Array.isArray(header)) {
    if (header.length === 0) return undefined;
    value = String(header[0]);
  } else {
    value = String(header);
  }
  if (value.length > 100) return undefined;
  let seconds: number;
  const delay = DELAY_SECONDS.exec(value);
  if (delay) {
    seconds = Number(delay[1]);
  } else {
    // An HTTP date needs at least a day, month and year; refuse bare numbers
    // with signs or fractions, which Date.parse would read as years.
    if (!/[a-z]/i.test(value)) return undefined;
    const at = Date.parse(value);
    if (Number.isNaN(at)) return undefined;
    seconds = (at - nowMs) / 1000;
  }
  if (!Number.isFinite(seconds)) return Math.max(0, maxSeconds);
  return Math.min(Math.max(0, seconds), Math.max(0, maxSeconds));
}
