// The simulator's pace: `rate` events per second from start(), the first at
// once, without drift (event n is due n/rate seconds after the start, not
// 1/rate after event n-1). Every duration is read from the clock's monotonic
// reading, so setting the system clock back does not stop it and setting it
// forward does not fire a burst; a stalled event loop skips what it missed
// beyond `maxCatchUp` events instead of bursting them out.
import { Clock, OneShotTimer, systemClock } from '../common/clock';
import { eventsDue } from './simulator';

export interface RateSchedulerOptions {
  /** Events per second, above 0. */
  rate: number;
  /** Called with how many events are due now (≥ 1). */
  emit(count: number): void;
  clock?: Clock;
  /** Most events made up for in one go after a stall; default 100. */
  maxCatchUp?: number;
}

export class RateScheduler {
  private readonly clock: Clock;
  private readonly timer: OneShotTimer;
  private readonly emit: (count: number) => void;
  private readonly maxCatchUp: number;
  private currentRate: number;
  private startedAt = 0;
  private emitted = 0;
  private active = false;

  constructor(options: RateSchedulerOptions) {
    if (!(options.rate > 0) || !Number.isFinite(options.rate)) throw new RangeError(`RateScheduler rate must be a number above 0, got ${String(options.rate)}`);
    this.clock = options.clock ?? systemClock;
    this.timer = new OneShotTimer(this.clock);
    this.emit = options.emit;
    this.maxCatchUp = options.maxCatchUp ?? 100;
    this.currentRate = options.rate;
  }

  get running(): boolean {
    return this.active;
  }

  get rate(): number {
    return this.currentRate;
  }

  start(): void {
    if (this.active) return;
    this.active = true;
    this.startedAt = this.clock.monotonic();
    this.emitted = 0;
    this.tick();
  }

  stop(): void {
    this.active = false;
    this.timer.clear();
  }

  /** A new pace; a running scheduler starts again from now at it. */
  setRate(rate: number): void {
    if (!(rate > 0) || !Number.isFinite(rate)) throw new RangeError(`RateScheduler rate must be a number above 0, got ${String(rate)}`);
    this.currentRate = rate;
    if (this.active) {
      this.stop();
      this.start();
    }
  }

  private tick(): void {
    const due = eventsDue(this.clock.monotonic() - this.startedAt, this.currentRate);
    let count = due - this.emitted;
    if (count > this.maxCatchUp) {
      // Skip what a stalled loop missed rather than bursting it out.
      this.emitted = due - this.maxCatchUp;
      count = this.maxCatchUp;
    }
    if (count > 0) {
      this.emitted += count;
      this.emit(count);
    }
    // emit() may have stopped the scheduler.
    if (!this.active) return;
    const nextDueAt = this.startedAt + (this.emitted * 1000) / this.currentRate;
    this.timer.start(Math.max(0, nextDueAt - this.clock.monotonic()), () => this.tick());
  }
}
