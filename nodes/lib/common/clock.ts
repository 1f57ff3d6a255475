// Time for the modules that wait (sender, poller, camera groups, simulator),
// injectable so that their tests can run on fake timers. Two readings: `now`
// is the wall clock (for dates: event dates, log lines, Retry-After dates);
// `monotonic` never steps back or jumps when the system clock is set, so
// every duration (linger, backoff, windows, rates) is measured with it.

export interface Clock {
  /** Wall-clock milliseconds since the epoch: for dates only. */
  now(): number;
  /** Milliseconds from an arbitrary origin that never goes back: for durations. */
  monotonic(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** One pending callback at a time: starting it again replaces the one waiting. */
export class OneShotTimer {
  private handle: unknown = undefined;

  constructor(private readonly clock: Clock) {}

  start(ms: number, callback: () => void): void {
    this.clear();
    this.handle = this.clock.setTimeout(() => {
      this.handle = undefined;
      callback();
    }, ms);
  }

  clear(): void {
    if (this.handle === undefined) return;
    this.clock.clearTimeout(this.handle);
    this.handle = undefined;
  }
}
