// A Clock on fake timers whose wall reading can be set back or forward (as
// NTP or an operator would) while its monotonic reading and its timers run on.
import FakeTimers from '@sinonjs/fake-timers';
import { Clock } from '../../nodes/lib/common/clock';

export interface SteppingClock extends Clock {
  fake: FakeTimers.Clock;
  /** Moves the wall clock by `ms` (negative: back); monotonic time and timers are untouched. */
  stepWall(ms: number): void;
}

export function steppingClock(wallStart = Date.UTC(2026, 11, 1, 10, 0, 0)): SteppingClock {
  const fake = FakeTimers.createClock(0);
  let wallOffset = wallStart;
  return {
    fake,
    now: () => fake.now + wallOffset,
    monotonic: () => fake.now,
    setTimeout: (fn, ms) => fake.setTimeout(fn, ms),
    clearTimeout: (handle) => fake.clearTimeout(handle as FakeTimers.TimerId),
    stepWall: (ms) => {
      wallOffset += ms;
    },
  };
}
