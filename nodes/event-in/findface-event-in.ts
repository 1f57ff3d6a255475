// findface-event-in ("face event in"): FindFace face events into a flow,
// received on a webhook URL (webhook-mode.ts), read from a FindFace server
// (poll-mode.ts) or simulated (simulate-mode.ts). The properties are parsed
// per mode by lib/source/event-in-config.ts; this file picks the mode and
// owns the node's status, input and close.
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { EventInProperties, parseEventInConfig } from '../lib/source/event-in-config';
import { ThrottledStatus } from '../shell/status';
import { findFaceServer } from '../shell/config-node';
import { asError, Done, failInput, problemText, refuseEveryInput } from '../shell/node-errors';
import { pollMode } from './poll-mode';
import { simulateMode } from './simulate-mode';
import type { SourceContext, SourceMode, SourceModeFailure } from './source-mode';
import { WebhookCredentials, webhookMode } from './webhook-mode';
import { redisRef } from '../lib/redis/redis-config';
import { resolveRedis } from '../redis/redis-handle';

type EventInDef = NodeDef & EventInProperties;

export = function (RED: NodeAPI) {
  function FindFaceEventInNode(this: Node<WebhookCredentials>, def: EventInDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const parsed = parseEventInConfig(def);
    if (!parsed.ok) {
      refuseEveryInput(node, problemText(RED, 'findface-event-in', parsed.problem));
      return;
    }
    // The mode redraws the status from its first event on, so the status exists before the mode does.
    const running: { mode?: SourceMode } = {};
    const status = new ThrottledStatus(node, () => running.mode?.status() ?? {});
    const ctx: SourceContext & { node: Node<WebhookCredentials> } = { RED, node, statusChanged: () => status.request() };
    const config = parsed.value;
    // Shared with other instances through Redis: never a silent local fallback when it cannot be used.
    const redisId = config.mode === 'simulate' ? undefined : redisRef((def as { redis?: unknown }).redis);
    if (redisId) {
      const resolved = resolveRedis(RED, redisId);
      if ('error' in resolved) {
        refuseEveryInput(node, resolved.error);
        return;
      }
      ctx.shared = resolved.handle;
    }
    if (config.mode !== 'simulate' && config.cardsFrom !== undefined) {
      const cards = findFaceServer(RED, config.cardsFrom)?.cards() ?? null;
      if (cards) ctx.cardOf = (dossierId) => cards.peek(dossierId);
      else node.warn(RED._('findface-event-in.errors.no-card-server'));
    }
    const started: SourceMode | SourceModeFailure =
      config.mode === 'webhook' ? webhookMode(ctx, config) : config.mode === 'poll' ? pollMode(ctx, config) : simulateMode(ctx, config);
    if ('error' in started) {
      refuseEveryInput(node, started.error);
      return;
    }
    const mode = started;
    running.mode = mode;
    status.now();

    node.on('input', (msg: NodeMessageInFlow, _send: unknown, done: Done) => {
      if (!mode.input) return done();
      try {
        mode.input(msg, (error?: Error) => {
          status.now();
          done(error);
        });
      } catch (error) {
        failInput(node, msg, done, error);
      }
    });

    node.on('close', (removed: boolean, done: () => void) => {
      status.close();
      mode
        .stop(removed)
        .catch((error: unknown) => node.warn(asError(error).message))
        .finally(done);
    });
  }

  RED.nodes.registerType<Node<WebhookCredentials>, EventInDef, unknown, WebhookCredentials>('findface-event-in', FindFaceEventInNode, {
    credentials: { secret: { type: 'password' }, signingSecrets: { type: 'password' } },
  });
};
