// What the webhook-mode source answers to one HTTP request: the checks of
// method, secret, content type, size, encoding and body, in that order.
// Plain Node.js: the node adapts it to Node-RED's httpNode.
import { createHash, timingSafeEqual } from 'crypto';
import type { IncomingMessage } from 'http';
import { eventsFromBody, FaceEvent } from './event';

export interface IntakeOptions {
  /** Shared secret; empty or undefined: no authentication. */
  secret?: string;
  maxBodyBytes: number;
}

export type IntakeResult =
  | { status: 200; events: FaceEvent[] }
  | { status: 400 | 401 | 405 | 413 | 415; error: string; headers?: Record<string, string> };

/** The parts of an express request the intake reads; a plain IncomingMessage has all but the parsed ones. */
export interface IntakeRequest extends IncomingMessage {
  /** Set by an earlier body parser (Node-RED's admin JSON parser when both roots are "/"). */
  _body?: boolean;
  body?: unknown;
  query?: Record<string, unknown>;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** Constant-time comparison: hashing first makes the lengths equal. */
export function secretMatches(given: string | undefined, secret: string): boolean {
  if (typeof given !== 'string') return false;
  return timingSafeEqual(digest(given), digest(secret));
}

function tokenFromQuery(req: IntakeRequest): string | undefined {
  if (req.query && typeof req.query.token === 'string') return req.query.token;
  const queryStart = req.url?.indexOf('?') ?? -1;
  if (queryStart < 0) return undefined;
  return new URLSearchParams(req.url!.slice(queryStart + 1)).get('token') ?? undefined;
}

function bearerToken(req: IntakeRequest): string | undefined {
  const header = req.headers.authorization;
  const match = header ? /^Bearer\s+(.+)$/i.exec(header) : null;
  return match ? match[1].trim() : undefined;
}

function authorised(req: IntakeRequest, secret: string): boolean {
  // Both are checked so that neither form's failure reveals anything early.
  const byHeader = secretMatches(bearerToken(req), secret);
  const byQuery = secretMatches(tokenFromQuery(req), secret);
  return byHeader || byQuery;
}

/** application/json or application/<something>+json, in UTF-8. */
export function contentTypeProblem(header: string | undefined): string | null {
  if (!header) return 'the request has no Content-Type: send application/json';
  const [mediaType, ...parameters] = header.split(';').map((part) => part.trim().toLowerCase());
  if (mediaType !== 'application/json' && !/^application\/[a-z0-9.+-]+\+json$/.test(mediaType)) {
    return `Content-Type ${mediaType} is not JSON: send application/json`;
  }
  const charset = parameters.find((parameter) => parameter.startsWith('charset='));
  if (charset && !/^charset="?utf-8"?$/.test(charset)) return `${charset} is not supported: send UTF-8`;
  return null;
}

class BodyTooLarge extends Error {}

function readBody(req: IntakeRequest, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received > maxBytes) {
        cleanup();
        // Keep reading (and discarding) so the 413 can be answered on a sane connection.
        req.resume();
        reject(new BodyTooLarge());
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, received));
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('aborted', onAborted);
    };
    const onAborted = () => onError(new Error('the client aborted the request'));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('aborted', onAborted);
  });
}

function tooLarge(maxBytes: number): IntakeResult {
  return { status: 413, error: `the body is larger than the limit of ${maxBytes} bytes` };
}

export async function takeWebhookRequest(req: IntakeRequest, options: IntakeOptions): Promise<IntakeResult> {
  if (req.method !== 'POST') {
    return { status: 405, error: `method ${req.method} is not allowed: FindFace sends POST`, headers: { Allow: 'POST' } };
  }
  if (options.secret && !authorised(req, options.secret)) {
    return {
      status: 401,
      error: 'missing or wrong secret: send "Authorization: Bearer <secret>" or add ?token=<secret> to the URL',
      headers: { 'WWW-Authenticate': 'Bearer' },
    };
  }
  const typeProblem = contentTypeProblem(req.headers['content-type']);
  if (typeProblem) return { status: 415, error: typeProblem };
  const declaredLength = Number(req.headers['content-length']);
  if (declaredLength > options.maxBodyBytes) return tooLarge(options.maxBodyBytes);

  let body: unknown;
  if (req._body) {
    // An earlier JSON parser has read the stream already.
    body = req.body;
  } else {
    let raw: Buffer;
    try {
      raw = await readBody(req, options.maxBodyBytes);
    } catch (error) {
      if (error instanceof BodyTooLarge) return tooLarge(options.maxBodyBytes);
      throw error;
    }
    let text: string;
    try {
      text = utf8.decode(raw);
    } catch {
      return { status: 400, error: 'the body is not valid UTF-8' };
    }
    try {
      body = JSON.parse(text);
    } catch (error) {
      return { status: 400, error: `the body is not valid JSON: ${(error as Error).message}` };
    }
  }
  const checked = eventsFromBody(body);
  if (!checked.ok) return { status: 400, error: checked.error };
  return { status: 200, events: checked.events };
}
