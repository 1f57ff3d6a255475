// Webhook mode: FindFace posts events to a route on Node-RED's httpNode, or
// on a port of the node's own (`listen: "port"`, lib/source/port-listener.ts:
// Node's own http/https server, past Node-RED's express stack). One intake
// serves both: the request checks live in lib/source/webhook-intake.ts; this
// module serves the route, answers, drops repeats, and keeps the path to one
// node.
import type { IncomingMessage, ServerResponse } from 'http';
import type { Node } from 'node-red';
import { ACK_PROPERTY, ackGroup, acknowledgedDownstream, WiredNode } from '../lib/event/acknowledgement';
import type { FaceEvent } from '../lib/event/event';
import { routeKey } from '../lib/source/raw-body-capture';
import { parseSecrets } from '../lib/common/standard-webhooks';
import { IntakeRequest, IntakeResult, takeWebhookRequest } from '../lib/source/webhook-intake';
import { RejectionFade } from '../lib/source/rejection-fade';
import type { WebhookModeConfig } from '../lib/source/event-in-config';
import type { ListenerTls } from '../lib/source/port-listener';
import { emitEvents, SourceContext, SourceMode, SourceModeFailure } from './source-mode';
import { serveOnHttpNode, serveOnOwnPort, tlsOf } from './webhook-serve';
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

function ownerOf(ctx: SourceContext): PathOwner {
  const getSetting = (ctx.RED.util as { getSetting?: (node: Node, name: string) => unknown }).getSetting;
  const tab = getSetting?.(ctx.node, 'NR_FLOW_NAME');
  return { id: ctx.node.id, name: ctx.node.name || ctx.node.id, tab: typeof tab === 'string' && tab ? tab : (ctx.node.z ?? '') };
}

/** A JSON answer, written the same way on httpNode (an express response is a ServerResponse) and on the own port. */
function answer(res: ServerResponse, status: number, body: unknown, headers?: Record<string, string>): void {
  const text = JSON.stringify(body);
  const fields: Record<string, string> = headers ? { ...headers } : {};
  fields['Content-Type'] = 'application/json; charset=utf-8';
  fields['Content-Length'] = String(Buffer.byteLength(text));
  res.writeHead(status, fields);
  res.end(text);
}

export function webhookMode(ctx: SourceContext & { node: Node<WebhookCredentials> }, config: WebhookModeConfig): SourceMode | SourceModeFailure {
  const { RED, node } = ctx;
  const path = config.path;
  const listen = config.listen;
  let tls: ListenerTls | undefined;
  if (listen.kind === 'port' && listen.tls) {
    const fromConfig = tlsOf(RED, listen.tls);
    if ('problem' in fromConfig) return { error: fromConfig.problem };
    tls = fromConfig.tls;
  }
  const ownerKey = routeKey(path);
  if (listen.kind === 'httpNode') {
    const owner = pathOwners.get(ownerKey);
    if (owner && owner.id !== node.id)
      return { error: RED._('findface-event-in.errors.path-in-use', { path, node: owner.id, name: owner.name, tab: owner.tab }) };
    pathOwners.set(ownerKey, ownerOf(ctx));
  }
  const options = {
    secret: node.credentials?.secret || undefined,
    signingSecrets: parseSecrets(node.credentials?.signingSecrets),
    toleranceS: config.toleranceS,
    maxBodyBytes: config.maxBodyBytes,
    // Node-RED's own authentication of httpNode routes runs before this node's handler (never on the own port).
    authenticatedUpstream: listen.kind === 'httpNode' && Boolean((RED.settings as { httpNodeAuth?: unknown }).httpNodeAuth),
  };
  // Read per request: a modified-nodes deploy can change what is wired behind the source.
  const acknowledgedBehind = () =>
    acknowledgedDownstream((node as unknown as WiredNode).wires, (id) => RED.nodes.getNode(id) as unknown as WiredNode | undefined);
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
  let lastWarnAt = -Infinity;
  let warningsHeld = 0;
  // A stray bad request turns the status yellow for a while (lib/source/rejection-fade.ts), not until the next deploy.
  const rejection = new RejectionFade(() => ctx.statusChanged());

  const noteRejected = () => {
    rejected++;
    rejection.rejected();
    ctx.statusChanged();
  };
  const noteAccepted = () => ctx.statusChanged();

  const warnRejected = (result: Exclude<IntakeResult, { status: 200 }>, req: IncomingMessage & { ip?: string }) => {
    noteRejected();
    const now = performance.now();
    if (now - lastWarnAt < WARN_INTERVAL_MS) {
      warningsHeld++;
      return;
    }
    const held = warningsHeld ? ` (${RED._('findface-event-in.log.more-rejected', { count: warningsHeld })})` : '';
    warningsHeld = 0;
    lastWarnAt = now;
    const ip = req.ip ?? req.socket?.remoteAddress ?? '';
    node.warn(RED._('findface-event-in.errors.rejected', { status: result.status, ip, error: result.error }) + held);
  };

  const accept = (events: FaceEvent[], res: ServerResponse) => {
    if (!repeats) return acceptFresh(events, events, res);
    repeats.fresh(events).then(
      (fresh) => acceptFresh(events, fresh, res),
      (error: Error) => {
        // Repeats cannot be told apart now (shared state away): FindFace sends again.
        node.warn(RED._('findface-event-in.errors.not-queued', { error: error.message }));
        answer(res, 503, { error: error.message });
        noteRejected();
      },
    );
  };

  const acceptFresh = (events: FaceEvent[], fresh: FaceEvent[], res: ServerResponse) => {
    duplicates += events.length - fresh.length;
    received += fresh.length;
    const accepted: Record<string, number> =
      fresh.length === events.length ? { accepted: fresh.length } : { accepted: fresh.length, duplicates: events.length - fresh.length };
    if (fresh.length && waitForQueue()) {
      const acks = ackGroup(
        fresh.map((event) => String(event.id)),
        config.queuedTimeoutMs,
        (outcome) => {
          if (outcome.ok) {
            answer(res, 200, accepted);
            noteAccepted();
          } else {
            // FindFace sends the batch again on anything but 200: nothing is lost, and its repeat is no repeat.
            repeats?.forget(fresh.map((event) => String(event.id)));
            node.warn(RED._('findface-event-in.errors.not-queued', { error: outcome.error }));
            answer(res, 503, { error: outcome.error });
            noteRejected();
          }
        },
      );
      emitEvents(ctx, fresh, 'webhook', (index) => ({ [ACK_PROPERTY]: acks[index] }));
      return;
    }
    emitEvents(ctx, fresh, 'webhook');
    answer(res, 200, accepted);
    noteAccepted();
  };

  /** The one intake of both ways to listen; `failed`: the stream broke (the client went away mid-body), nothing to answer. */
  const intake = (req: IntakeRequest & { ip?: string }, res: ServerResponse, failed: (error: Error) => void) => {
    takeWebhookRequest(req, options).then(
      (result) => {
        if (result.status === 200) return accept(result.events, res);
        warnRejected(result, req);
        answer(res, result.status, { error: result.error }, result.headers);
      },
      (error: Error) => {
        noteRejected();
        if (!res.headersSent && !res.writableEnded) failed(error);
      },
    );
  };

  const served = listen.kind === 'httpNode' ? serveOnHttpNode(RED, path, intake) : serveOnOwnPort(ctx, listen, tls, path, intake);

  return {
    status: () => {
      const port = served.port();
      if (port && 'error' in port)
        return { fill: 'red', shape: 'ring', text: RED._('findface-event-in.status.port-failed', { port: port.asked, error: port.error }) };
      if (port && port.bound === undefined) return { fill: 'grey', shape: 'ring', text: RED._('findface-event-in.status.starting', { port: port.asked }) };
      let text = port
        ? RED._('findface-event-in.status.listening-port', { port: port.bound!, path, count: received })
        : RED._('findface-event-in.status.listening', { path, count: received });
      if (duplicates) text += ` · ${RED._('findface-event-in.status.duplicates', { count: duplicates })}`;
      if (rejection.recent) {
        return { fill: 'yellow', shape: 'dot', text: `${RED._('findface-event-in.status.rejected', { count: rejected })} · ${text}` };
      }
      return { fill: 'green', shape: 'dot', text };
    },
    async stop() {
      rejection.stop();
      await served.stop();
      if (listen.kind === 'httpNode' && pathOwners.get(ownerKey)?.id === node.id) pathOwners.delete(ownerKey);
    },
  };
}
