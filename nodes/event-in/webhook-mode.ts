// Webhook mode: FindFace posts events to a route on Node-RED's httpNode. The
// request checks live in lib/source/webhook-intake.ts; this module serves the
// route, answers, drops repeats, and keeps the path to one node.
import type { NextFunction, Request, Response } from 'express';
import type { Node } from 'node-red';
import { ACK_PROPERTY, ackGroup, acknowledgedDownstream, WiredNode } from '../lib/event/acknowledgement';
import type { FaceEvent } from '../lib/event/event';
import { captureRawBody, isLiteralPath, routeKey } from '../lib/source/raw-body-capture';
import { parseSecrets } from '../lib/common/standard-webhooks';
import { IntakeResult, takeWebhookRequest } from '../lib/source/webhook-intake';
import type { WebhookModeConfig } from '../lib/source/event-in-config';
import { removeRoute } from '../shell/http-routes';
import { httpNodeRoot } from '../shell/settings';
import { emitEvents, SourceContext, SourceMode, SourceModeFailure } from './source-mode';
import { repeatDropper } from './repeats';

export interface WebhookCredentials {
  secret?: string;
  /** Standard Webhooks secrets (whsec_…), separated by spaces or commas: any one may sign. */
  signingSecrets?: string;
}

interface PathOwner {
  id: string;
  name: string;
  tab: string;
}

/** Webhook paths in use on httpNode (by route key: express ignores case), so a second node cannot silently shadow the first. */
const pathOwners = new Map<string, PathOwner>();

/** A flood of bad requests must not flood the log: one line a second at most. */
const WARN_INTERVAL_MS = 1000;
/** A stray bad request turns the status yellow for this long, not until the next deploy. */
export const REJECTION_FADE_MS = 60000;

function ownerOf(ctx: SourceContext): PathOwner {
  const getSetting = (ctx.RED.util as { getSetting?: (node: Node, name: string) => unknown }).getSetting;
  const tab = getSetting?.(ctx.node, 'NR_FLOW_NAME');
  return { id: ctx.node.id, name: ctx.node.name || ctx.node.id, tab: typeof tab === 'string' && tab ? tab : (ctx.node.z ?? '') };
}

export function webhookMode(ctx: SourceContext & { node: Node<WebhookCredentials> }, config: WebhookModeConfig): SourceMode | SourceModeFailure {
  const { RED, node } = ctx;
  const path = config.path;
  const ownerKey = routeKey(path);
  const owner = pathOwners.get(ownerKey);
  if (owner && owner.id !== node.id) return { error: RED._('findface-event-in.errors.path-in-use', { path, node: owner.id, name: owner.name, tab: owner.tab }) };
  pathOwners.set(ownerKey, ownerOf(ctx));
  const options = {
    secret: node.credentials?.secret || undefined,
    signingSecrets: parseSecrets(node.credentials?.signingSecrets),
    toleranceS: config.toleranceS,
    maxBodyBytes: config.maxBodyBytes,
    // Node-RED's own authentication of httpNode routes runs before this node's handler.
    authenticatedUpstream: Boolean((RED.settings as { httpNodeAuth?: unknown }).httpNodeAuth),
  };
  // Read per request: a modified-nodes deploy can change what is wired behind the source.
  const acknowledgedBehind = () => acknowledgedDownstream((node as unknown as WiredNode).wires, (id) => RED.nodes.getNode(id) as unknown as WiredNode | undefined);
  let warnedEmitted = false;
  const waitForQueue = () => {
    if (config.respond === 'queued') return true;
    if (config.respond === 'auto') return acknowledgedBehind();
    if (!warnedEmitted && acknowledgedBehind()) node.warn(RED._('findface-event-in.errors.emitted-before-queued'));
    warnedEmitted = true;
    return false;
  };
  const repeats = repeatDropper(ctx, config.dedupWindowMs);
  let received = 0;
  let duplicates = 0;
  let rejected = 0;
  let lastRejectedAt = -Infinity;
  let lastWarnAt = -Infinity;
  let warningsHeld = 0;
  let fadeTimer: NodeJS.Timeout | undefined;

  const noteRejected = () => {
    rejected++;
    lastRejectedAt = performance.now();
    if (fadeTimer) clearTimeout(fadeTimer);
    fadeTimer = setTimeout(() => {
      fadeTimer = undefined;
      ctx.statusChanged();
    }, REJECTION_FADE_MS);
    ctx.statusChanged();
  };
  const noteAccepted = () => ctx.statusChanged();

  const warnRejected = (result: Exclude<IntakeResult, { status: 200 }>, req: Request) => {
    noteRejected();
    const now = performance.now();
    if (now - lastWarnAt < WARN_INTERVAL_MS) {
      warningsHeld++;
      return;
    }
    const held = warningsHeld ? ` (${RED._('findface-event-in.log.more-rejected', { count: warningsHeld })})` : '';
    warningsHeld = 0;
    lastWarnAt = now;
    node.warn(RED._('findface-event-in.errors.rejected', { status: result.status, ip: req.ip ?? '', error: result.error }) + held);
  };

  const accept = (events: FaceEvent[], res: Response) => {
    if (!repeats) return acceptFresh(events, events, res);
    repeats.fresh(events).then(
      (fresh) => acceptFresh(events, fresh, res),
      (error: Error) => {
        // Repeats cannot be told apart now (shared state away): FindFace sends again.
        node.warn(RED._('findface-event-in.errors.not-queued', { error: error.message }));
        res.status(503).json({ error: error.message });
        noteRejected();
      },
    );
  };

  const acceptFresh = (events: FaceEvent[], fresh: FaceEvent[], res: Response) => {
    duplicates += events.length - fresh.length;
    received += fresh.length;
    const answer: Record<string, number> = { accepted: fresh.length };
    if (fresh.length !== events.length) answer.duplicates = events.length - fresh.length;
    if (fresh.length && waitForQueue()) {
      const acks = ackGroup(fresh.map((event) => String(event.id)), config.queuedTimeoutMs, (outcome) => {
        if (outcome.ok) {
          res.status(200).json(answer);
          noteAccepted();
        } else {
          // FindFace sends the batch again on anything but 200: nothing is lost, and its repeat is no repeat.
          repeats?.forget(fresh.map((event) => String(event.id)));
          node.warn(RED._('findface-event-in.errors.not-queued', { error: outcome.error }));
          res.status(503).json({ error: outcome.error });
          noteRejected();
        }
      });
      emitEvents(ctx, fresh, 'webhook', (index) => ({ [ACK_PROPERTY]: acks[index] }));
      return;
    }
    emitEvents(ctx, fresh, 'webhook');
    res.status(200).json(answer);
    noteAccepted();
  };

  const handler = (req: Request, res: Response, next: NextFunction) => {
    takeWebhookRequest(req, options).then(
      (result) => {
        if (result.status === 200) return accept(result.events, res);
        warnRejected(result, req);
        if (result.headers) res.set(result.headers);
        res.status(result.status).json({ error: result.error });
      },
      (error: Error) => {
        // The client went away mid-body, or the stream failed: nothing to answer, nothing emitted.
        noteRejected();
        if (!res.headersSent && !res.writableEnded) next(error);
      },
    );
  };

  const stopCapture = isLiteralPath(path) ? captureRawBody(RED.httpNode as never, `${httpNodeRoot(RED)}/${path}`) : () => undefined;
  RED.httpNode.all(path, handler);

  return {
    status: () => {
      let text = RED._('findface-event-in.status.listening', { path, count: received });
      if (duplicates) text += ` · ${RED._('findface-event-in.status.duplicates', { count: duplicates })}`;
      if (performance.now() - lastRejectedAt < REJECTION_FADE_MS) {
        return { fill: 'yellow', shape: 'dot', text: `${RED._('findface-event-in.status.rejected', { count: rejected })} · ${text}` };
      }
      return { fill: 'green', shape: 'dot', text };
    },
    async stop() {
      if (fadeTimer) clearTimeout(fadeTimer);
      removeRoute(RED.httpNode, handler);
      stopCapture();
      if (pathOwners.get(ownerKey)?.id === node.id) pathOwners.delete(ownerKey);
    },
  };
}
