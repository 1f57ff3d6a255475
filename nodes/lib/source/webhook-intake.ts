// What the webhook-mode source answers to one HTTP request: the checks of
// method, secret, content type and declared size come first and are answered
// without reading the body; then the body is read (bounded by the size limit
// and, until the request is authenticated, by a budget shared by every route),
// and its signature, encoding and events are checked, in that order. The
// unread rest of a refused body is discarded as it arrives (Node.js does so
// once the answer is written), and the connection stays usable, as with
// Node-RED's own httpNodeAuth: the client can read its 401/413/415/503.
// Plain Node.js: the node adapts it to Node-RED's httpNode.
import { createHash, timingSafeEqual } from 'crypto';
import { eventsFromBody, FaceEvent } from '../event/event';
import { BodyBudgetError, BodyTooLargeError, ByteBudget, CapturedRequest, readBody } from './raw-body-capture';
import { standardSignature } from '../common/standard-webhooks';

export interface IntakeOptions {
  /** Shared secret; empty or undefined: no authentication. */
  secret?: string;
  /** Standard Webhooks signing secrets (`whsec_…`); any one of them may sign. Empty: not required. */
  signingSecrets?: string[];
  /** How far a signed request's `webhook-timestamp` may be from now, in seconds (default 300). */
  toleranceS?: number;
  maxBodyBytes: number;
  /** The request was authenticated before it reached the intake (Node-RED's httpNodeAuth is set). */
  authenticatedUpstream?: boolean;
  /** Bounds the bytes held by bodies of requests not yet authenticated; default: one budget for the process. */
  budget?: ByteBudget;
  /** Milliseconds since the epoch; for tests. */
  now?: () => number;
}

/**
 * Bodies of requests that neither a shared secret nor Node-RED's httpNodeAuth
 * has authenticated (open routes, or signatures only, which need the body),
 * held at once across every route of the process.
 */
export const UNAUTHENTICATED_BODY_BYTES = 32 * 1024 * 1024;
const unauthenticatedBodies = new ByteBudget(UNAUTHENTICATED_BODY_BYTES);

export type IntakeResult =
  { status: 200; events: FaceEvent[] } | { status: 400 | 401 | 405 | 413 | 415 | 503; error: string; headers?: Record<string, string> };

/**
 * The parts of an express request the intake reads; a plain IncomingMessage
 * has all but the parsed ones. The body comes from the raw-body capture, or
 * from an earlier JSON parser (`_body`), or is read here.
 */
export interface IntakeRequest extends CapturedRequest {
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
  // What FindFace and most senders write, answered without splitting and matching.
  if (header === 'application/json' || header === 'application/json; charset=utf-8') return null;
  if (!header) return 'the request has no Content-Type: send application/json';
  const [mediaType, ...parameters] = header.split(';').map((part) => part.trim().toLowerCase());
  if (mediaType !== 'application/json' && !/^application\/[a-z0-9.+-]+\+json$/.test(mediaType)) {
    return `Content-Type ${mediaType} is not JSON: send application/json`;
  }
  const charset = parameters.find((parameter) => parameter.startsWith('charset='));
  if (charset && !/^charset="?utf-8"?$/.test(charset)) return `${charset} is not supported: send UTF-8`;
  return null;
}

function header(req: IntakeRequest, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Checks the Standard Webhooks headers (webhook-id, webhook-timestamp, webhook-signature). */
function signatureProblem(req: IntakeRequest, raw: Buffer, options: IntakeOptions): string | null {
  const id = header(req, 'webhook-id');
  const timestamp = header(req, 'webhook-timestamp');
  const signatures = header(req, 'webhook-signature');
  if (!id || !timestamp || !signatures) return 'the request is not signed: webhook-id, webhook-timestamp and webhook-signature are required';
  if (!/^\d{1,12}$/.test(timestamp)) return 'webhook-timestamp is not a number of seconds';
  const toleranceS = options.toleranceS ?? 300;
  const nowS = Math.floor((options.now ?? Date.now)() / 1000);
  if (Math.abs(nowS - Number(timestamp)) > toleranceS) return `webhook-timestamp is more than ${toleranceS} s away from now`;
  const given = signatures
    .split(' ')
    .filter((entry) => entry.startsWith('v1,'))
    .map((entry) => Buffer.from(entry.slice(3), 'base64'));
  let valid = false;
  for (const secret of options.signingSecrets!) {
    const expected = Buffer.from(standardSignature(secret, id, timestamp, raw), 'base64');
    for (const signature of given) {
      if (signature.length === expected.length && timingSafeEqual(signature, expected)) valid = true;
    }
  }
  return valid ? null : 'no valid signature in webhook-signature';
}

function tooLarge(maxBytes: number): Exclude<IntakeResult, { status: 200 }> {
  return { status: 413, error: `the body is larger than the limit of ${maxBytes} bytes` };
}

function overBudget(limit: number): Exclude<IntakeResult, { status: 200 }> {
  // FindFace sends the batch again on anything but 200: nothing is lost.
  return { status: 503, error: new BodyBudgetError(limit).message, headers: { 'Retry-After': '1' } };
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

  // Checked above: a shared secret that matched, or Node-RED's own authentication.
  const budget = options.secret || options.authenticatedUpstream ? undefined : (options.budget ?? unauthenticatedBodies);
  if (budget && declaredLength > 0 && !budget.fits(declaredLength)) return overBudget(budget.limit);
  let raw: Buffer | undefined;
  let body: unknown;
  if (req.findfaceBodyUnread || !req._body) {
    try {
      raw = await readBody(req, options.maxBodyBytes, budget);
    } catch (error) {
      if (error instanceof BodyTooLargeError) return tooLarge(options.maxBodyBytes);
      if (error instanceof BodyBudgetError) return overBudget(error.limit);
      throw error;
    }
  } else {
    // An earlier JSON parser has read the stream already (a route the capture cannot match).
    body = req.body;
  }
  try {
    return bodyResult(req, raw, body, options);
  } finally {
    if (raw) budget?.release(raw.length);
  }
}

/** The checks that need the body: signature, encoding, JSON, events. */
function bodyResult(req: IntakeRequest, raw: Buffer | undefined, parsedBody: unknown, options: IntakeOptions): IntakeResult {
  let body = parsedBody;
  if (options.signingSecrets?.length) {
    const problem = raw ? signatureProblem(req, raw, options) : 'the body was parsed before this node, so its signature cannot be checked';
    if (problem) return { status: 401, error: problem };
  }
  if (raw) {
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
