// What each mode of findface-event-in (webhook-mode.ts, simulate-mode.ts,
// poll-mode.ts) gives the node: a status to show, an optional input handler,
// and a stop that removes every route, timer and socket it started.
import type { Node, NodeAPI, NodeMessage, NodeMessageInFlow, NodeStatus } from 'node-red';
import type { FaceEvent } from '../lib/event/event';
import { eventMessage, EventSourceKind } from '../lib/source/event-messages';
import type { CardInfo } from '../lib/findface/card-lookup';
import type { Done } from '../shell/node-errors';
import type { RedisHandle } from '../redis/redis-handle';

export interface SourceMode {
  status(): NodeStatus;
  /** A message on the input; done(err) for a bad one. */
  input?(msg: NodeMessageInFlow, done: Done): void;
  stop(removed: boolean): Promise<void>;
}

/** A mode that could not start: the reason, already in the node's words. */
export interface SourceModeFailure {
  error: string;
}

export interface SourceContext {
  RED: NodeAPI;
  node: Node;
  /** The status changed (redrawn at most every 500 ms). */
  statusChanged(): void;
  /** "Who was seen": the card from the server's cache, never waited for (lib/findface/card-lookup.ts). */
  cardOf?: (dossierId: number) => CardInfo | undefined;
  /** The findface-redis config node shared with other instances (property `redis`): poll lease and cursor, repeats. */
  shared?: RedisHandle;
}

/** The events as messages, one send each: Node-RED deep-clones all but the first message of a multi-message send. */
export function emitEvents(ctx: SourceContext, events: FaceEvent[], source: EventSourceKind, extra?: (index: number) => Record<string, unknown>): void {
  const receivedAt = new Date();
  events.forEach((event, index) => ctx.node.send({ ...eventMessage(event, source, receivedAt, ctx.cardOf), ...extra?.(index) } as NodeMessage));
}
