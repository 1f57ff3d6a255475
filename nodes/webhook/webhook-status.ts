// The webhook node's status: one short line from the sender's state.
import type { NodeAPI, NodeStatus } from 'node-red';
import type { SenderStatus } from '../lib/delivery/sender';
import { short } from '../lib/common/values';

export interface WebhookView {
  configProblem?: string;
  active: boolean;
  queueError?: string;
  queueFull: boolean;
  sender?: { status: SenderStatus };
}

export function webhookStatus(RED: NodeAPI, view: WebhookView): NodeStatus {
  const t = (key: string, values?: Record<string, string | number>) => RED._(`findface-webhook.status.${key}`, values);
  if (view.configProblem) return { fill: 'red', shape: 'ring', text: t('config-error') };
  if (!view.active) return { fill: 'grey', shape: 'ring', text: t('inactive') };
  if (view.queueError) return { fill: 'red', shape: 'ring', text: t('queue-error') };
  if (!view.sender) return { fill: 'grey', shape: 'dot', text: t('opening') };
  const s = view.sender.status;
  const count = s.depth;
  // The reason's code (ECONNREFUSED, HTTP_500) is short; the whole message is in the log.
  const error = s.lastError ? short(s.lastError.code || s.lastError.message, 14) : '';
  if (s.state === 'gone') return { fill: 'red', shape: 'ring', text: t('gone', { count }) };
  if (view.queueFull) return { fill: 'red', shape: 'dot', text: t('full', { count }) };
  if (s.state === 'backoff') return { fill: 'yellow', shape: 'ring', text: t('backoff', { seconds: (s.backoffSeconds ?? 0).toFixed(1), count, error }) };
  if (s.state === 'sending' || s.state === 'lingering') return { fill: 'blue', shape: 'dot', text: t('sending', { count }) };
  if (error) return { fill: 'yellow', shape: 'dot', text: t('idle-error', { count, error }) };
  return { fill: 'green', shape: 'dot', text: t('idle', { count }) };
}
