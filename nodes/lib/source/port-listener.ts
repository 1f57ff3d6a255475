// HTTP(S) listeners of the source's own, for `listen: "port"`: Node's own
// server with keep-alive, past Node-RED's express stack. Nodes on one
// address (host + port) share one listener and are told apart by path;
// the listener opens with the first route and closes with the last.
// Paths match as express matches literal routes (case-insensitively,
// ignoring a trailing slash; the query string is not part of the path).
import http from 'http';
import https from 'https';
import type { IncomingMessage, ServerResponse } from 'http';
import type { AddressInfo } from 'net';
import { routeKey } from './raw-body-capture';

/** TLS of a listener, as Node-RED's core tls-config node gives it (`addTLSOptions`). */
export interface ListenerTls {
  key?: string | Buffer;
  cert?: string | Buffer;
  ca?: string | Buffer;
  passphrase?: string;
  /** Mutual TLS: ask every client for a certificate signed by `ca`, refuse the others. */
  requireClientCert?: boolean;
}

export interface ListenerAddress {
  port: number;
  /** Bind address; empty: every interface (Node's default). */
  host?: string;
  tls?: ListenerTls;
  /** What identifies the TLS settings (the tls-config node's id): listeners on one address must share it. */
  tlsId?: string;
}

export type RouteHandler = (req: IncomingMessage, res: ServerResponse) => void;

export type ListenerErrorCode = 'port-in-use' | 'path-taken' | 'tls-mismatch' | 'listen-failed';

export class ListenerError extends Error {
  constructor(
    readonly code: ListenerErrorCode,
    message: string,
    /** For `path-taken`: who serves the path. */
    readonly owner?: string,
  ) {
    super(message);
    this.name = 'ListenerError';
  }
}

export interface RouteLease {
  /** The port the listener is bound to (the one asked for, or the one given for port 0). */
  readonly port: number;
  /** Removes the route; the last route closes the listener. Resolves once it is closed. */
  release(): Promise<void>;
}

/** How long open requests may go on once a listener closes, before their connections are cut. */
const CLOSE_GRACE_MS = 5000;

interface Listener {
  /** `host:port` it is known by. */
  key: string;
  tlsId: string;
  server: http.Server;
  routes: Map<string, { owner: string; handler: RouteHandler }>;
  ready: Promise<number>;
  /** Set while the listener closes: a new route on this address waits for it. */
  closing?: Promise<void>;
  /** Answers not yet written: told to close their connection when the listener closes. */
  open: Set<ServerResponse>;
}

function addressKey(address: ListenerAddress): string {
  return `${address.host || '*'}:${address.port}`;
}

function pathOf(url: string | undefined): string {
  const raw = url ?? '/';
  const query = raw.indexOf('?');
  let path = query < 0 ? raw : raw.slice(0, query);
  try {
    path = decodeURIComponent(path);
  } catch {
    // Left as sent: an undecodable path matches no route.
  }
  return routeKey(path);
}

function answerError(res: ServerResponse, status: number, error: string, headers: Record<string, string> = {}): void {
  const body = JSON.stringify({ error });
  res.writeHead(status, { ...headers, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function notFound(res: ServerResponse): void {
  answerError(res, 404, 'no webhook at this path');
}

/** A request that reaches a closing listener (on a kept-alive connection): not taken, so the sender tries again. */
function closingAnswer(res: ServerResponse): void {
  // FindFace sends the batch again on anything but 200.
  answerError(res, 503, 'the webhook is being redeployed: try again', { 'Retry-After': '1', Connection: 'close' });
}

/** The listeners of one Node-RED runtime. */
export class PortListeners {
  private readonly listeners = new Map<string, Listener>();

  /**
   * Serves `path` on the address with `handler`. Rejects with a
   * ListenerError: the port is in use by another program, the path is
   * served already on this address (by `owner`), or the address is open with
   * other TLS settings.
   */
  async acquire(address: ListenerAddress, path: string, owner: string, handler: RouteHandler): Promise<RouteLease> {
    const key = addressKey(address);
    let listener = this.listeners.get(key);
    if (listener?.closing) {
      await listener.closing;
      listener = this.listeners.get(key);
    }
    const tlsId = address.tlsId ?? '';
    if (listener && listener.tlsId !== tlsId) {
      throw new ListenerError('tls-mismatch', `${key} is already served with other TLS settings`);
    }
    const route = routeKey(path);
    if (listener?.routes.has(route)) {
      const other = listener.routes.get(route)!.owner;
      throw new ListenerError('path-taken', `${path} on port ${address.port} is served already by ${other}`, other);
    }
    if (!listener) listener = this.open(key, tlsId, address);
    listener.routes.set(route, { owner, handler });
    let port: number;
    try {
      port = await listener.ready;
    } catch (error) {
      listener.routes.delete(route);
      throw error;
    }
    const opened = listener;
    let released = false;
    return {
      port,
      release: async () => {
        if (released) return;
        released = true;
        opened.routes.delete(route);
        if (opened.routes.size === 0) await this.close(opened);
      },
    };
  }

  private open(key: string, tlsId: string, address: ListenerAddress): Listener {
    const routes: Listener['routes'] = new Map();
    const open = new Set<ServerResponse>();
    const serve = (req: IncomingMessage, res: ServerResponse) => {
      if (listener.closing) return closingAnswer(res);
      const route = routes.get(pathOf(req.url));
      if (!route) return notFound(res);
      open.add(res);
      res.once('close', () => open.delete(res));
      route.handler(req, res);
    };
    const tls = address.tls;
    const server: http.Server = tls
      ? https.createServer(
          {
            key: tls.key,
            cert: tls.cert,
            ca: tls.ca,
            passphrase: tls.passphrase,
            requestCert: Boolean(tls.requireClientCert),
            rejectUnauthorized: Boolean(tls.requireClientCert),
          },
          serve,
        )
      : http.createServer(serve);
    server.keepAliveTimeout = 65_000;
    const listener: Listener = {
      key,
      tlsId,
      server,
      routes,
      open,
      ready: new Promise<number>((resolve, reject) => {
        const failed = (error: NodeJS.ErrnoException) => {
          this.listeners.delete(listener.key);
          reject(
            error.code === 'EADDRINUSE'
              ? new ListenerError('port-in-use', `port ${address.port} is in use by another program`)
              : new ListenerError('listen-failed', `cannot listen on ${key}: ${error.message}`),
          );
        };
        server.once('error', failed);
        server.listen({ port: address.port, host: address.host || undefined }, () => {
          server.off('error', failed);
          // Later socket errors (a client gone mid-request) are the request's, never the runtime's.
          server.on('error', () => undefined);
          const port = (server.address() as AddressInfo).port;
          if (address.port === 0) {
            // Asked for any port: known from now on by the one given.
            this.listeners.delete(key);
            listener.key = addressKey({ ...address, port });
            this.listeners.set(listener.key, listener);
          }
          resolve(port);
        });
      }),
    };
    this.listeners.set(key, listener);
    return listener;
  }

  private close(listener: Listener): Promise<void> {
    if (listener.closing) return listener.closing;
    const { server } = listener;
    listener.closing = new Promise<void>((resolve) => {
      if (!server.listening) {
        this.listeners.delete(listener.key);
        resolve();
        return;
      }
      const cut = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
      server.close(() => {
        clearTimeout(cut);
        this.listeners.delete(listener.key);
        resolve();
      });
      // Keep-alive connections would hold the close: the idle ones go now, the busy ones once answered.
      for (const res of listener.open) if (!res.headersSent) res.setHeader('Connection', 'close');
      server.closeIdleConnections();
    });
    return listener.closing;
  }

  /** Open listeners (for tests and status). */
  get size(): number {
    return this.listeners.size;
  }
}
