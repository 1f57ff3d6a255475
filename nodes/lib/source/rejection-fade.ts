// A stray rejected request (a scanner's GET, a wrong secret) turns the
// webhook source's status yellow for a while, not until the next deploy
// (issue 12): each rejection starts the fade again, and when it has run out
// the status is redrawn green. The timer, not a comparison of readings,
// decides that the fade is over, so a timer that fires a fraction of a
// millisecond early still fades.
import { Clock, OneShotTimer, systemClock } from '../common/clock';

/** How long the last rejection shows in the status. */
export const REJECTION_FADE_MS = 60000;

/**
 * The clock and fade every RejectionFade takes when none is given (the webhook
 * mode gives none). Tests replace them, e.g. with a fake clock, and restore
 * them after.
 */
export const rejectionFadeDefaults: { clock: Clock; fadeMs: number } = { clock: systemClock, fadeMs: REJECTION_FADE_MS };

export class RejectionFade {
  private shown = false;
  private readonly timer: OneShotTimer;

  /** `faded` is called when the fade has run out (redraw the status then). */
  constructor(
    private readonly faded: () => void,
    clock: Clock = rejectionFadeDefaults.clock,
    private readonly fadeMs: number = rejectionFadeDefaults.fadeMs,
  ) {
    if (!(Number.isFinite(fadeMs) && fadeMs >= 0)) throw new RangeError(`fadeMs must be a number ≥ 0, not ${fadeMs}`);
    this.timer = new OneShotTimer(clock);
  }

  /** A request was rejected: shown from now until fadeMs after the last one. */
  rejected(): void {
    this.shown = true;
    this.timer.start(this.fadeMs, () => {
      this.shown = false;
      this.faded();
    });
  }

  /** Whether a rejection is still shown. */
  get recent(): boolean {
    return this.shown;
  }

  /** Stops the timer (on close); nothing is called after. */
  stop(): void {
    this.timer.clear();
  }
}
