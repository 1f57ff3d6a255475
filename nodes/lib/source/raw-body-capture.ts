// Reads the raw body of the webhook routes before any other body parser.
//
// With Node-RED's default settings (httpAdminRoot and httpNodeRoot both "/")
// the admin API's JSON parser runs before every node route: it would answer
// unparseable JSON itself (in HTML) and leave only a parsed object, so the
// exact bytes a signature covers would be lost. Node-RED's own `http in`
// node solves this the same way for its raw-body routes: a middleware at the
// top of the root express app that reads the body of the registered routes
// and marks the request as parsed (`_body`), which makes the other parsers
// step aside. Only literal paths are captured; the rest fall through.
// Every method but GET and HEAD is read, so that the node, not the admin
// parser, answers a PUT of broken JSON (with its 405). Paths are matched as
// express matches routes: case-insensitively, ignoring a trailing slash.
import type { IncomingMessage, ServerResponse } from 'http';

export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`the body is larger than the limit of ${limit} bytes`);
  }
}

/** What the capture leaves on the request for the route handler. */
export interface CapturedRequest extends IncomingMessage {
  _body?: boolean;
  body?: unknown;
  skipRawBodyParser?: boolean;
  /** The raw bytes, or the error met while reading them. */
  findfaceRawBody?: Buffer | Error;
  originalUrl?: string;
}

type Middleware = (req: CapturedRequest, res: ServerResponse, next: (error?: unknown) => void) => void;

interface ExpressLike {
  parent?: ExpressLike;
  _router?: { stack: Array<{ handle: unknown }> };
  router?: { stack: Array<{ handle: unknown }> };
  use(middleware: Middleware): unknown;
}

/** Reads a request body, keeping at most `maxBytes` (the rest is read and dropped). */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > maxBytes) tooLarge = true;
      if (!tooLarge) chunks.push(chunk);
    });
    req.on('end', () => (tooLarge ? reject(new BodyTooLargeError(maxBytes)) : resolve(Buffer.concat(chunks, received))));
    req.on('error', reject);
    req.on('aborted', () => reject(new Error('the client aborted the request')));
  });
}

/** The key of a route path: express's defaults (Node-RED's too) ignore case and one trailing slash. */
export function routeKey(path: string): string {
  return path.replace(/\/{2,}/g, '/').replace(/(.)\/$/, '$1').toLowerCase();
}

function stackOf(app: ExpressLike) {
  return (app._router ?? app.router)?.stack;
}

const capturesByApp = new WeakMap<object, Map<string, number>>();

/**
 * Captures the bodies of `fullPath` (the path as the root app sees it, with
 * httpNodeRoot) up to `maxBytes`. Returns the function that stops it.
 */
export function captureRawBody(httpNode: ExpressLike, fullPath: string, maxBytes: number): () => void {
  let root = httpNode;
  while (root.parent) root = root.parent;
  let routes = capturesByApp.get(root);
  if (!routes) {
    const captured = new Map<string, number>();
    routes = captured;
    capturesByApp.set(root, captured);
    const capture: Middleware = (req, _res, next) => {
      if (req.method === 'GET' || req.method === 'HEAD' || captured.size === 0 || req._body) return next();
      const pathname = (req.url ?? '').split('?')[0];
      const limit = captured.get(routeKey(pathname));
      if (limit === undefined) return next();
      // Whatever happens, the other parsers must not read this stream again.
      req._body = true;
      req.skipRawBodyParser = true;
      readBody(req, limit).then(
        (body) => {
          req.findfaceRawBody = body;
          req.body = body;
          next();
        },
        (error: Error) => {
          req.findfaceRawBody = error;
          next();
        },
      );
    };
    root.use(capture);
    const stack = stackOf(root);
    if (stack) {
      const index = stack.findIndex((layer) => layer.handle === capture);
      if (index > 0) stack.unshift(stack.splice(index, 1)[0]);
    }
  }
  const key = routeKey(fullPath);
  routes.set(key, maxBytes);
  // The node that registered a path is its only owner (the node refuses duplicates).
  return () => routes!.delete(key);
}

/** Only literal paths can be matched before express routes them. */
export function isLiteralPath(path: string): boolean {
  return !/[:*?()[\]+]/.test(path);
}
