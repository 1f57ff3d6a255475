// The message a source emits for one event: the event untouched as payload,
// a topic by camera and the normalised fields under msg.findface.
import { FaceEvent, normaliseEvent } from '../event/event';
import type { CardInfo } from '../findface/card-lookup';
import { isoTime } from '../common/iso-time';

export type EventSourceKind = 'webhook' | 'simulate' | 'poll';

export interface EventMessage {
  payload: FaceEvent;
  topic: string;
  findface: {
    source: EventSourceKind;
    eventId: string;
    cameraId: number;
    cameraGroupId: number | null;
    dossierId: number | null;
    matched: boolean;
    receivedAt: string;
    /** "Who was seen" (lookupCards): the matched card from the server's cache, when it has it. */
    card?: CardInfo;
  };
  [key: string]: unknown;
}

export function eventMessage(
  event: FaceEvent,
  source: EventSourceKind,
  /** When the event was received, as an ISO date (one per request: a body of 100 events shares it). */
  receivedAt: string = isoTime(Date.now()),
  cardOf?: (dossierId: number) => CardInfo | undefined,
): EventMessage {
  const normalised = normaliseEvent(event);
  const message: EventMessage = {
    payload: event,
    topic: `findface/camera/${normalised.cameraId}`,
    findface: {
      source,
      eventId: normalised.id,
      cameraId: normalised.cameraId,
      cameraGroupId: normalised.cameraGroupId ?? null,
      dossierId: normalised.dossierId,
      matched: normalised.matched,
      receivedAt,
    },
  };
  const card = cardOf && normalised.dossierId !== null ? cardOf(normalised.dossierId) : undefined;
  if (card) message.findface.card = card;
  return message;
}
