// How a node reports what went wrong, the same way in every node: i18n texts
// for parse problems, a red status, and errors Catch nodes receive.
import type { Node, NodeAPI, NodeMessageInFlow } from 'node-red';
import type { Problem } from '../lib/common/parsed';
import { acknowledge } from '../lib/event/acknowledgement';
import { short } from '../lib/common/values';
import { STATUS_MAX_CHARS } from './status';

export type Done = (error?: Error) => void;

/** A parse problem in the node's words: `<type>.errors.<code>` from its locale files. */
export function problemText(RED: NodeAPI, type: string, problem: Pick<Problem, 'code'>): string {
  const { code, ...params } = problem as Problem;
  return RED._(`${type}.errors.${code}`, params as Record<string, string | number>);
}

export function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/** An input that failed: red status, and done(err) so Catch nodes get it; a source waiting for the event hears of it too. */
export function failInput(node: Node, msg: NodeMessageInFlow, done: Done, error: unknown): void {
  const err = asError(error);
  node.status({ fill: 'red', shape: 'ring', text: short(err.message, STATUS_MAX_CHARS) });
  acknowledge(msg, err);
  done(err);
}

/**
 * A node whose configuration cannot work: red status, the error logged once,
 * and every message that arrives fails with it (never a silent pass or
 * drop). Answers the Error.
 */
export function refuseEveryInput(node: Node, message: string): Error {
  const error = new Error(message);
  node.status({ fill: 'red', shape: 'ring', text: short(message, STATUS_MAX_CHARS) });
  node.error(message);
  node.on('input', (msg: NodeMessageInFlow, _send: unknown, done: Done) => {
    acknowledge(msg, error);
    done(error);
  });
  return error;
}
