// Standard Webhooks signatures (https://www.standardwebhooks.com/): HMAC-SHA256
// over "id.timestamp.body" with the base64 key after a `whsec_` prefix,
// sent as `webhook-signature: v1,<base64>` (several, space-separated, while a
// key is being rotated).
import { createHash, createHmac } from 'crypto';

const SECRET_PREFIX = 'whsec_';

/** The HMAC key of a Standard Webhooks secret: base64 after the `whsec_` prefix. */
export function signingKey(secret: string): Buffer {
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  return Buffer.from(encoded, 'base64');
}

/** The `v1` signature of a message: base64 HMAC-SHA256 of "id.timestamp.body". */
export function standardSignature(secret: string, id: string, timestamp: number | string, body: Buffer | string): string {
  return createHmac('sha256', signingKey(secret)).update(`${id}.${timestamp}.`).update(body).digest('base64');
}

/** Secrets as a user types them: separated by spaces or commas. */
export function parseSecrets(text: string | undefined): string[] {
  return (text ?? '').split(/[\s,]+/).filter(Boolean);
}

/**
 * The id of a message: the same body gives the same id, so a receiver can
 * recognise a batch sent again after a lost answer.
 */
export function messageId(body: Buffer | string): string {
  return `msg_${createHash('sha256').update(body).digest('hex').slice(0, 32)}`;
}

/** The three headers that sign `body` with every secret, at `nowMs`. */
export function signatureHeaders(secrets: string[], body: Buffer | string, nowMs: number): Record<string, string> {
  const id = messageId(body);
  const timestamp = Math.floor(nowMs / 1000);
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': secrets.map((secret) => `v1,${standardSignature(secret, id, timestamp, body)}`).join(' '),
  };
}
