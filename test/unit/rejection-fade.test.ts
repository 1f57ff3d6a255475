// The fade of the webhook source's "rejected" status (lib/source/rejection-fade.ts)
// on a fake clock: shown from a rejection until the fade has run out after
// the last one, then faded with one call.
import assert from 'assert/strict';
import { REJECTION_FADE_MS, RejectionFade, rejectionFadeDefaults } from '../../nodes/lib/source/rejection-fade';
import { systemClock } from '../../nodes/lib/common/clock';
import { steppingClock } from '../support/stepping-clock';

describe('rejection fade (lib/source/rejection-fade.ts)', () => {
  it('shows a rejection for the fade time after the last one, then fades once', () => {
    const clock = steppingClock();
    let faded = 0;
    const fade = new RejectionFade(() => faded++, clock, 1000);
    assert.equal(fade.recent, false);
    fade.rejected();
    assert.equal(fade.recent, true);
    clock.fake.tick(600);
    fade.rejected();
    clock.fake.tick(999);
    assert.equal(fade.recent, true, 'the second rejection started the fade again');
    assert.equal(faded, 0);
    clock.fake.tick(1);
    assert.equal(fade.recent, false);
    assert.equal(faded, 1);
    clock.fake.tick(10_000);
    assert.equal(faded, 1, 'faded once');
  });

  it('fades when its timer fires, whatever the monotonic reading says', () => {
    const clock = steppingClock();
    let fire: (() => void) | undefined;
    // A timer that fires early (libuv rounds): the fade is over all the same.
    const early = { ...clock, setTimeout: (callback: () => void) => (fire = callback), clearTimeout: () => (fire = undefined) };
    let faded = 0;
    const fade = new RejectionFade(() => faded++, early, 1000);
    fade.rejected();
    fire!();
    assert.equal(fade.recent, false);
    assert.equal(faded, 1);
  });

  it('calls nothing after stop', () => {
    const clock = steppingClock();
    let faded = 0;
    const fade = new RejectionFade(() => faded++, clock, 1000);
    fade.rejected();
    fade.stop();
    clock.fake.tick(5000);
    assert.equal(faded, 0);
    assert.equal(clock.fake.countTimers(), 0);
  });

  it('takes the real clock and a minute by default, and refuses a fade that is not a number ≥ 0', () => {
    assert.equal(rejectionFadeDefaults.clock, systemClock);
    assert.equal(rejectionFadeDefaults.fadeMs, REJECTION_FADE_MS);
    assert.equal(REJECTION_FADE_MS, 60_000);
    for (const bad of [-1, Number.NaN, Infinity]) assert.throws(() => new RejectionFade(() => undefined, systemClock, bad), RangeError);
  });
});
