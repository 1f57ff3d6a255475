// Simulate mode: realistic events (lib/source/simulator.ts) at `rate` per
// second (lib/source/rate-scheduler.ts); `start`, `stop`, `toggle` and
// `msg.rate` on the input, any other message makes one event.
import type { FaceEvent } from '../lib/event/event';
import { createSimulator, Simulator } from '../lib/source/simulator';
import { createWalkUpSimulator } from '../lib/source/walk-up';
import { RateScheduler } from '../lib/source/rate-scheduler';
import { parseRate, SimulateModeConfig } from '../lib/source/event-in-config';
import { isBlank } from '../lib/common/values';
import { problemText } from '../shell/node-errors';
import { emitEvents, SourceContext, SourceMode } from './source-mode';

export function simulateMode(ctx: SourceContext, config: SimulateModeConfig): SourceMode {
  const { RED } = ctx;
  const settings = { cameras: config.cameras, dossiers: config.dossiers, matchedRatio: config.matchedRatio, shape: config.shape, seed: config.seed };
  // Walking up, each person is a burst of frames paced by the rate the scheduler keeps.
  const simulator: Simulator = config.simulation === 'walk-up' ? createWalkUpSimulator(settings, () => scheduler.rate) : createSimulator(settings);
  let emitted = 0;
  const emit = (count: number) => {
    const events: FaceEvent[] = [];
    for (let index = 0; index < count; index++) events.push(simulator.next());
    emitted += count;
    emitEvents(ctx, events, 'simulate');
    ctx.statusChanged();
  };
  const scheduler = new RateScheduler({ rate: config.rate, emit });
  if (config.autostart) scheduler.start();

  return {
    status: () =>
      scheduler.running
        ? { fill: 'green', shape: 'dot', text: RED._('findface-event-in.status.simulating', { rate: scheduler.rate, count: emitted }) }
        : { fill: 'grey', shape: 'ring', text: RED._('findface-event-in.status.stopped', { count: emitted }) },
    input(msg, done) {
      const command = typeof msg.payload === 'string' ? msg.payload.trim().toLowerCase() : undefined;
      const newRate = (msg as { rate?: unknown }).rate;
      if (newRate !== undefined) {
        // A blank rate in a message is a mistake, not "the default".
        const rate = parseRate(isBlank(newRate) ? NaN : newRate);
        if (!rate.ok) return done(new Error(problemText(RED, 'findface-event-in', rate.problem)));
        scheduler.setRate(rate.value);
      }
      if (command === 'start') scheduler.start();
      else if (command === 'stop') scheduler.stop();
      else if (command === 'toggle') {
        if (scheduler.running) scheduler.stop();
        else scheduler.start();
      } else if (newRate === undefined) emit(1);
      ctx.statusChanged();
      done();
    },
    async stop() {
      scheduler.stop();
    },
  };
}
