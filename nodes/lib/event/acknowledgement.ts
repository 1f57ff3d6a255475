// Lets a webhook-mode source answer FindFace only once every event of a
// request has been taken by the flow: durably queued by a webhook sender, or
// deliberately dropped by a filter. Each event's message carries an ack
// function (`msg._findfaceAck`); Node-RED's message cloning keeps functions by
// reference, so the ack survives fan-out. The first call for an event
// settles it.

/** The message property that carries the ack function. */
export const ACK_PROPERTY = '_findfaceAck';

export type Ack = (error?: Error) => void;

export type AckOutcome = { ok: true } | { ok: false; error: string };

/** Calls the ack a message carries, if any: `error` when the event could not be taken. */
export function acknowledge(msg: object, error?: Error): void {
  const ack = (msg as Record<string, unknown>)[ACK_PROPERTY];
  if (typeof ack === 'function') (ack as Ack)(error);
}

/**
 * One ack per event; `onSettled` runs once: ok when every event was acked
 * without error, else at the first error or when `timeoutMs` passes.
 */
export function ackGroup(eventIds: string[], timeoutMs: number, onSettled: (outcome: AckOutcome) => void): Ack[] {
  let pending = eventIds.length;
  let settled = false;
  const settle = (outcome: AckOutcome) => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    onSettled(outcome);
  };
  const timer = setTimeout(() => {
    settle({ ok: false, error: `${pending} of ${eventIds.length} events were not queued within ${timeoutMs} ms` });
  }, timeoutMs);
  return eventIds.map((id) => {
    let done = false;
    return (error?: Error) => {
      if (done) return;
      done = true;
      if (error) {
        settle({ ok: false, error: `event ${id} could not be queued: ${error.message}` });
        return;
      }
      pending--;
      if (pending === 0) settle({ ok: true });
    };
  });
}
