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

/** A running node as the runtime has it: its type and, per output, the ids it is wired to. */
export interface WiredNode {
  type: string;
  wires: string[][];
}

/** Node types that settle the ack of every event they receive, or pass it on untouched. */
const WEBHOOK_TYPE = 'findface-webhook';
const FILTER_TYPE = 'findface-filter';

/**
 * Whether every event sent on `wires` is certain to be acknowledged: some
 * wire leads to a webhook node (it acks every input, with an error when it
 * cannot queue it), or to a webhook filter each of whose outputs does so in
 * turn (a one-output filter acks what it drops; with two outputs, a failing
 * event goes on through the second). Any other node (function, switch,
 * subflow, link …) may drop or replace a message without acking it, so it
 * does not count. `lookup` answers running nodes only: a disabled node, or
 * one not started, is not there.
 */
export function acknowledgedDownstream(wires: string[][], lookup: (id: string) => WiredNode | undefined): boolean {
  const visiting = new Set<string>();
  const acksAll = (id: string): boolean => {
    if (visiting.has(id)) return false;
    const node = lookup(id);
    if (!node) return false;
    if (node.type === WEBHOOK_TYPE) return true;
    if (node.type !== FILTER_TYPE) return false;
    visiting.add(id);
    const outputs = node.wires.length > 0 ? node.wires : [[]];
    const result = outputs.every((targets) => targets.some(acksAll));
    visiting.delete(id);
    return result;
  };
  return wires.some((targets) => targets.some(acksAll));
}
