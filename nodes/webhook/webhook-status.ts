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
  /** With queue "redis": the connection, and whether this instance holds the delivery lease (else who does). */
  shared?: { connected: boolean; error?: string; holding: boolean; holder?: string };
}

export function webhookStatus(RED: NodeAPI, view: WebhookView): NodeStatus {
  const t = (key: string, values?: Record<string, string | number>) => RED._(`findface-webhook.status.${key}`, values);
  if (view.configProblem) return { fill: 'red', shape: 'ring', text: t('config-error') };
  if (!view.active) return { fill: 'grey', shape: 'ring', text: t('inactive') };
  if (view.queueError) return { fill: 'red', shape: 'ring', text: t('queue-error') };
  if (view.shared && !view.shared.connected) {
    // Before the first connection nothing failed yet: still opening.
    if (view.shared.error === undefined) return { fill: 'grey', shape: 'dot', text: t('opening') };
    return { fill: 'red', shape: 'ring', text: t('redis-down', { error: short(view.shared.error, 16) }) };
  }
  if (!view.sender) return { fill: 'grey', shape: 'dot', text: t('opening') };
  const s = view.sender.status;
  const count = s.depth;
  // The reason's code (ECONNREFUSED, HTTP_500) is short; the whole message is in the log.
  const error = s.lastError ? short(s.lastError.code || s.lastError.message, 14) : '';
  if (s.state === 'gone') return { fill: 'red', shape: 'ring', text: t('gone', { count }) };
  if (view.queueFull) return { fill: 'red', shape: 'dot', text: t('full', { count }) };
  if (view.shared && !view.shared.holding) {
    // Another instance delivers: this one only queues.
    const holder = view.shared.holder;
    return { fill: 'grey', shape: 'dot', text: holder ? t('standby', { count, holder: short(holder, 16) }) : t('standby-nobody', { count }) };
  }
  if (s.state === 'backoff') return { fill: 'yellow', shape: 'ring', text: t('backoff', { seconds: (s.backoffSeconds ?? 0).toFixed(1), count, error }) };
  if (s.state === 'sending' || s.state === 'lingering') return { fill: 'blue', shape: 'dot', text: t('sending', { count }) };
  if (error) return { fill: 'yellow', shape: 'dot', text: t('idle-error', { count, error }) };
  return { fill: 'green', shape: 'dot', text: t('idle', { count }) };
}
