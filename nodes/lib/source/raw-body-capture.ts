// Claims the raw body of the webhook routes before any other body parser.
//
// With Node-RED's default settings (httpAdminRoot and httpNodeRoot both "/")
// the admin API's JSON parser runs before every node route: it would answer
// unparseable JSON itself (in HTML) and leave only a parsed object, so the
// exact bytes a signature covers would be lost. Node-RED's own `http in`
// node solves this the same way for its raw-body routes: a middleware at the
// top of the root express app that marks the request as parsed (`_body`),
// which makes the other parsers step aside. Only literal paths are claimed;
// the rest fall through. Every method but GET and HEAD is claimed, so that
// the node, not the admin parser, answers a PUT of broken JSON (with its
// 405). Paths are matched as express matches routes: case-insensitively,
// ignoring a trailing slash.
//
// The body is NOT read here: the route handler reads it, after Node-RED's
// own `httpNodeAuth` middleware (mounted between this one and the routes)
// and after the node's cheap checks (secret, content type, declared length)
// have passed. A request refused by either is answered without its body ever
// being held in memory.
import type { IncomingMessage, ServerResponse } from 'http';

export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`the body is larger than the limit of ${limit} bytes`);
  }
}

export class BodyBudgetError extends Error {
  constructor(readonly limit: number) {
    super(`too many request bodies are being read at once (over ${limit} bytes held): try again`);
  }
}

/** What the capture leaves on the request for the route handler. */
export interface CapturedRequest extends IncomingMessage {
  _body?: boolean;
  body?: unknown;
  skipRawBodyParser?: boolean;
  /** Set by the capture: the stream is still unread (`_body` only keeps other parsers away). */
  findfaceBodyUnread?: boolean;
  originalUrl?: string;
}

/**
 * Bytes held in memory by request bodies being read, across every route: a
 * read that would go over `limit` is refused (the caller answers 503), except
 * that a body may always grow while it is the only one held (so a limit
 * smaller than a route's size limit cannot refuse every request).
 */
export class ByteBudget {
  private heldBytes = 0;

  constructor(readonly limit: number) {}

  get held(): number {
    return this.heldBytes;
  }

  /** Whether a new body of `bytes` would be taken now. */
  fits(bytes: number): boolean {
    return this.heldBytes === 0 || this.heldBytes + bytes <= this.limit;
  }

  /** Takes `bytes` for a reader holding `ownBytes` already, when they fit or nobody else holds any; false otherwise. */
  tryTake(bytes: number, ownBytes = 0): boolean {
    if (this.heldBytes > ownBytes && this.heldBytes + bytes > this.limit) return false;
    this.heldBytes += bytes;
    return true;
  }

  release(bytes: number): void {
    this.heldBytes = Math.max(0, this.heldBytes - bytes);
  }
}

type Middleware = (req: CapturedRequest, res: ServerResponse, next: (error?: unknown) => void) => void;

interface ExpressLike {
  parent?: ExpressLike;
  _router?: { stack: Array<{ handle: unknown }> };
  router?: { stack: Array<{ handle: unknown }> };
  use(middleware: Middleware): unknown;
}

/**
 * Reads a request body of at most `maxBytes`. Over the limit it rejects at
 * once with BodyTooLargeError (the rest of the stream is discarded as it
 * comes). With a `budget`, every byte kept is taken from it first; a chunk
 * that does not fit rejects with BodyBudgetError. On rejection the bytes taken
 * are given back; on success the caller owns them and releases
 * `body.length` when it no longer holds the body.
 */
export function readBody(req: IncomingMessage, maxBytes: number, budget?: ByteBudget): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const finish = (error?: Error) => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', finish);
      req.off('aborted', onAborted);
      if (!error) {
        resolve(Buffer.concat(chunks, received));
        return;
      }
      budget?.release(received);
      chunks.length = 0;
      // Discard whatever else arrives, so the answer can be written.
      req.resume();
      reject(error);
    };
    const onData = (chunk: Buffer) => {
      if (received + chunk.length > maxBytes) return finish(new BodyTooLargeError(maxBytes));
      if (budget && !budget.tryTake(chunk.length, received)) return finish(new BodyBudgetError(budget.limit));
      received += chunk.length;
      chunks.push(chunk);
    };
    const onEnd = () => finish();
    const onAborted = () => finish(new Error('the client aborted the request'));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', finish);
    req.on('aborted', onAborted);
  });
}

let lastPath = '';
let lastKey = '';

/** The key of a route path: express's defaults (Node-RED's too) ignore case and one trailing slash. */
export function routeKey(path: string): string {
  // Every request asks for the key of its path, and a webhook's requests all have the same one.
  if (path === lastPath) return lastKey;
  const key = path
    .replace(/\/{2,}/g, '/')
    .replace(/(.)\/$/, '$1')
    .toLowerCase();
  lastPath = path;
  lastKey = key;
  return key;
}

function stackOf(app: ExpressLike) {
  return (app._router ?? app.router)?.stack;
}

const capturesByApp = new WeakMap<object, Set<string>>();

/**
 * Claims the bodies of `fullPath` (the path as the root app sees it, with
 * httpNodeRoot) for the route handler, which reads them. Returns the function
 * that stops it.
 */
export function captureRawBody(httpNode: ExpressLike, fullPath: string): () => void {
  let root = httpNode;
  while (root.parent) root = root.parent;
  let routes = capturesByApp.get(root);
  if (!routes) {
    const captured = new Set<string>();
    routes = captured;
    capturesByApp.set(root, captured);
    const capture: Middleware = (req, _res, next) => {
      if (req.method === 'GET' || req.method === 'HEAD' || captured.size === 0 || req._body) return next();
      const pathname = (req.url ?? '').split('?')[0];
      if (!captured.has(routeKey(pathname))) return next();
      // The other parsers must not read this stream: the route does.
      req._body = true;
      req.skipRawBodyParser = true;
      req.findfaceBodyUnread = true;
      next();
    };
    root.use(capture);
    const stack = stackOf(root);
    if (stack) {
      const index = stack.findIndex((layer) => layer.handle === capture);
      if (index > 0) stack.unshift(stack.splice(index, 1)[0]);
    }
  }
  const key = routeKey(fullPath);
  routes.add(key);
  // The node that registered a path is its only owner (the node refuses duplicates).
  return () => routes!.delete(key);
}

/** Only literal paths can be matched before express routes them. */
export function isLiteralPath(path: string): boolean {
  return !/[:*?()[\]+]/.test(path);
}
