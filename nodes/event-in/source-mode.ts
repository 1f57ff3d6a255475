// What each mode of findface-event-in (webhook-mode.ts, simulate-mode.ts,
// poll-mode.ts) gives the node: a status to show, an optional input handler,
// and a stop that removes every route, timer and socket it started.
import type { Node, NodeAPI, NodeMessage, NodeMessageInFlow, NodeStatus } from 'node-red';
import type { FaceEvent } from '../lib/event/event';
import { EventMessage, eventMessage, EventSourceKind } from '../lib/source/event-messages';
import { nextMessageId } from '../lib/common/message-id';
import type { CardInfo } from '../lib/findface/card-lookup';
import type { Done } from '../shell/node-errors';
import type { RedisHandle } from '../redis/redis-handle';
import { isoTime } from '../lib/common/iso-time';

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

/**
 * The events as messages, one send each: Node-RED deep-clones all but the
 * first message of a multi-message send. Built without object spreads, with
 * one date per request and a message id of our own: on the own port this is
 * a good part of what a request costs (bench/own-port.ts).
 */
export function emitEvents(ctx: SourceContext, events: FaceEvent[], source: EventSourceKind, extra?: (index: number) => Record<string, unknown>): void {
  const receivedAt = isoTime(Date.now());
  for (let index = 0; index < events.length; index++) {
    const message = eventMessage(events[index], source, receivedAt, ctx.cardOf) as EventMessage & NodeMessage;
    if (extra) Object.assign(message, extra(index));
    message._msgid = nextMessageId();
    ctx.node.send(message);
  }
}
