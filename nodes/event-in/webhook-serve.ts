// Where webhook mode's route is served: on Node-RED's httpNode, or on the
// node's own port (lib/source/port-listener.ts), with TLS from a core
// tls-config node. The intake that answers is webhook-mode.ts's, the same
// for both.
import type { IncomingMessage, ServerResponse } from 'http';
import type { NextFunction, Request, Response } from 'express';
import type { Node, NodeAPI } from 'node-red';
import type { IntakeRequest } from '../lib/source/webhook-intake';
import type { OwnPortListen } from '../lib/source/event-in-config';
import { captureRawBody, isLiteralPath } from '../lib/source/raw-body-capture';
import { ListenerError, ListenerTls, PortListeners, RouteLease } from '../lib/source/port-listener';
import { removeRoute } from '../shell/http-routes';
import { httpNodeRoot } from '../shell/settings';
import type { SourceContext } from './source-mode';

/** The own-port listeners of this runtime: nodes on one address share one. */
const portListeners = new PortListeners();

interface TlsConfigNode {
  valid?: boolean;
  addTLSOptions?(options: Record<string, unknown>): Record<string, unknown>;
}

/**
 * The listener's TLS from a core tls-config node, as the core nodes take it
 * (`addTLSOptions`). A CA with "verify" ticked asks every client for a
 * certificate that CA signed (mutual TLS); without a CA, no client certificate.
 */
export function tlsOf(RED: NodeAPI, id: string): { tls: ListenerTls } | { problem: string } {
  const tlsNode = RED.nodes.getNode(id) as (Node & TlsConfigNode) | null;
  if (!tlsNode || typeof tlsNode.addTLSOptions !== 'function') return { problem: RED._('findface-event-in.errors.no-tls-config', { tls: id }) };
  if (tlsNode.valid === false) return { problem: RED._('findface-event-in.errors.tls-config-invalid', { tls: tlsNode.name || id }) };
  const options = tlsNode.addTLSOptions({}) as {
    key?: string | Buffer;
    cert?: string | Buffer;
    ca?: string | Buffer;
    passphrase?: string;
    rejectUnauthorized?: boolean;
  };
  if (!options.key || !options.cert) return { problem: RED._('findface-event-in.errors.tls-no-cert', { tls: tlsNode.name || id }) };
  return {
    tls: {
      key: options.key,
      cert: options.cert,
      ca: options.ca,
      passphrase: options.passphrase,
      requireClientCert: Boolean(options.ca) && options.rejectUnauthorized !== false,
    },
  };
}

export type Intake = (req: IntakeRequest & { ip?: string }, res: ServerResponse, failed: (error: Error) => void) => void;

/** The own port's state for the status: asked for, bound (once listening) or the reason it could not be. */
type PortState = { asked: number; bound?: number } | { asked: number; error: string };

export interface Served {
  /** undefined on httpNode. */
  port(): PortState | undefined;
  stop(): Promise<void>;
}

export function serveOnHttpNode(RED: NodeAPI, path: string, intake: Intake): Served {
  const handler = (req: Request, res: Response, next: NextFunction) => intake(req, res, next);
  const stopCapture = isLiteralPath(path) ? captureRawBody(RED.httpNode as never, `${httpNodeRoot(RED)}/${path}`) : () => undefined;
  RED.httpNode.all(path, handler);
  return {
    port: () => undefined,
    async stop() {
      removeRoute(RED.httpNode, handler);
      stopCapture();
    },
  };
}

/**
 * The route on the node's own listener. The listener opens in the background:
 * a port that cannot be had is a red status and an error Catch nodes get
 * (never a crash); the node stays deployed and answers nothing.
 */
export function serveOnOwnPort(ctx: SourceContext, listen: OwnPortListen, tls: ListenerTls | undefined, path: string, intake: Intake): Served {
  const { RED, node } = ctx;
  let state: PortState = { asked: listen.port };
  let stopped = false;
  const handler = (req: IncomingMessage, res: ServerResponse) =>
    intake(req, res, () => {
      // As express does with an error before any answer: the client gets none, the socket goes.
      res.destroy();
    });
  const owner = `"${node.name || node.id}" (${node.id})`;
  const leasing: Promise<RouteLease | undefined> = portListeners
    .acquire({ port: listen.port, host: listen.host, tls, tlsId: listen.tls }, path, owner, handler)
    .then(
      (lease) => {
        state = { asked: listen.port, bound: lease.port };
        ctx.statusChanged();
        return lease;
      },
      (error: unknown) => {
        if (stopped) return undefined;
        const message =
          error instanceof ListenerError && error.code === 'path-taken'
            ? RED._('findface-event-in.errors.port-path-taken', { path, port: listen.port, owner: error.owner ?? '' })
            : error instanceof ListenerError && error.code === 'tls-mismatch'
              ? RED._('findface-event-in.errors.port-tls-mismatch', { port: listen.port })
              : RED._('findface-event-in.errors.port-in-use', { port: listen.port, error: (error as Error).message });
        state = { asked: listen.port, error: message };
        ctx.statusChanged();
        // With a message, so that Catch nodes on the tab receive it.
        node.error(message, { topic: 'listen', payload: { port: listen.port, host: listen.host, path, error: message } });
        return undefined;
      },
    );
  return {
    port: () => state,
    async stop() {
      stopped = true;
      const lease = await leasing;
      await lease?.release();
    },
  };
}
