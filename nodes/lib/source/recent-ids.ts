// Event ids seen within a time window, for dropping events FindFace sends
// again (it retries a batch whose answer it did not get). Bounded in size:
// the oldest ids go first. The window is a duration, so it is measured on the
// monotonic clock: setting the system clock forward must not let repeats through.
import { Clock, systemClock } from '../common/clock';

export class RecentIds {
  private readonly expiries = new Map<string, number>();

  constructor(
    private readonly windowMs: number,
    private readonly maxSize = 100_000,
    private readonly clock: Pick<Clock, 'monotonic'> = systemClock,
  ) {}

  get size(): number {
    return this.expiries.size;
  }

  /** True when `id` was seen within the window; records it either way. */
  seenBefore(id: string): boolean {
    const now = this.clock.monotonic();
    this.evict(now);
    const expiry = this.expiries.get(id);
    if (expiry !== undefined && expiry > now) return true;
    // Re-insert so that the map stays in expiry order.
    this.expiries.delete(id);
    this.expiries.set(id, now + this.windowMs);
    if (this.expiries.size > this.maxSize) this.expiries.delete(this.expiries.keys().next().value as string);
    return false;
  }

  /** `id` was not taken after all (nothing queued it): a repeat of it passes. */
  forget(id: string): void {
    this.expiries.delete(id);
  }

  private evict(now: number): void {
    for (const [id, expiry] of this.expiries) {
      if (expiry > now) break;
      this.expiries.delete(id);
    }
  }
}
