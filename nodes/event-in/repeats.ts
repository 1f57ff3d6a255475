// The source's repeat dropping (`dedupWindowS`): FindFace sends a batch again
// when it did not get its answer. Local to this instance (lib/source/recent-ids.ts),
// or, with a findface-redis config node, shared by every instance through
// atomic `SET NX PX` claims (lib/redis/shared-state.ts), so that two
// instances behind one load balancer never pass one event twice.
import type { FaceEvent } from '../lib/event/event';
import { RecentIds } from '../lib/source/recent-ids';
import { SharedRecentIds } from '../lib/redis/shared-state';
import type { SourceContext } from './source-mode';

export interface RepeatDropper {
  /** The events not seen within the window, in order; they are recorded as seen. Rejects while Redis is away. */
  fresh(events: FaceEvent[]): Promise<FaceEvent[]>;
  /** These events were not accepted after all (no queue took them): their repeat must pass. */
  forget(ids: string[]): void;
}

export function repeatDropper(ctx: SourceContext, windowMs: number): RepeatDropper | undefined {
  if (!(windowMs > 0)) return undefined;
  const shared = ctx.shared;
  if (shared) {
    const ids = new SharedRecentIds(shared.redis, shared.key('repeats', ctx.node.id), windowMs);
    return {
      fresh: (events) => ids.fresh(events),
      // Best effort: while Redis is away the claim expires with the window.
      forget: (forgotten) => void ids.forget(forgotten).catch(() => undefined),
    };
  }
  const recent = new RecentIds(windowMs);
  return {
    fresh: async (events) => events.filter((event) => !recent.seenBefore(String(event.id))),
    forget: (forgotten) => forgotten.forEach((id) => recent.forget(id)),
  };
}
