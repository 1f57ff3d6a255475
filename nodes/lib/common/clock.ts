// Time for the modules that wait (sender, poller, camera groups), injectable
// so that their tests can run on fake timers.

export interface Clock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
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
