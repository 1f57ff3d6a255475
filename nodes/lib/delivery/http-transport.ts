// The webhook sender's HTTP side: keep-alive connections of the node's own
// (one per request in flight: `maxInFlight`), the
// request headers (content type, extra headers, authorization, Standard
// Webhooks signatures) and the raw POST of the already-encoded JSON body.
import http from 'http';
import https from 'https';
import type { AxiosInstance } from 'axios';
import { rawHttpClient } from '../common/raw-http';
import { signatureHeaders } from '../common/standard-webhooks';
import type { Transport } from './sender';
import type { AuthType } from './webhook-config';

/** Answers larger than this are cut off (the sender only needs the status). */
const MAX_RESPONSE_BYTES = 10 * 1024 * 1024;

export interface WebhookRequestOptions {
  url: string;
  authType: AuthType;
  headers: Record<string, string>;
  credentials: { user?: string; password?: string; token?: string };
  /** Standard Webhooks secrets: each signs every attempt. */
  signingSecrets: string[];
  /** Wall-clock ms, for the signature's timestamp. */
  now?: () => number;
  /** Requests on the wire at once (the sender's maxInFlight); default 1. */
  connections?: number;
}

/** The Authorization header from the credentials. */
export function authorizationHeader(authType: AuthType, credentials: WebhookRequestOptions['credentials']): string | undefined {
  if (authType === 'basic') return `Basic ${Buffer.from(`${credentials.user ?? ''}:${credentials.password ?? ''}`).toString('base64')}`;
  if (authType === 'bearer') return `Bearer ${credentials.token ?? ''}`;
  return undefined;
}

/** The headers of one attempt to post `body` (signed at each attempt: the timestamp is the attempt's, the id the batch's). */
export function webhookHeaders(options: WebhookRequestOptions, body: Buffer | string): Record<string, string> {
  const headers: Record<string, string> = { ...options.headers, 'Content-Type': 'application/json' };
  const authorization = authorizationHeader(options.authType, options.credentials);
  if (authorization) headers.Authorization = authorization;
  if (options.signingSecrets.length) Object.assign(headers, signatureHeaders(options.signingSecrets, body, (options.now ?? Date.now)()));
  return headers;
}

export class WebhookHttp {
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;
  private readonly client: AxiosInstance;

  constructor(private readonly options: WebhookRequestOptions) {
    const maxSockets = options.connections ?? 1;
    this.httpAgent = new http.Agent({ keepAlive: true, maxSockets });
    this.httpsAgent = new https.Agent({ keepAlive: true, maxSockets });
    this.client = rawHttpClient({ httpAgent: this.httpAgent, httpsAgent: this.httpsAgent, maxResponseBytes: MAX_RESPONSE_BYTES });
  }

  /** For the sender: POST the body to the node's URL; any status is an answer. */
  readonly transport: Transport = async (body, signal) => {
    const response = await this.client.post(this.options.url, body, { signal, headers: this.headers(body) });
    return { status: response.status, statusText: response.statusText, headers: response.headers as Record<string, unknown> };
  };

  get url(): string {
    return this.options.url;
  }

  headers(body: Buffer | string): Record<string, string> {
    return webhookHeaders(this.options, body);
  }

  destroy(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}
