// How a findface-server node authenticates: a fixed API token, or a user
// name and password that log in with `POST /auth/login/` (HTTP Basic, a
// `uuid` that names this node as the "device"; FindFace Multi 2.1
// "Authentication", docs.ntechlab.com/projects/ffmulti/en/2.1/api_authentication.html,
// and the OpenAPI's LoginRequestRequest/LoginResult). The login's token lasts
// until its `token_expiration_datetime`: the session logs in again shortly
// before that (when the next request needs a token) and at once after a 401.
// No Node-RED import. Neither the password nor a token ever goes into a
// message: errors come from findface-api.ts, which scrubs them.
import { createHash } from 'crypto';
import { Clock, systemClock } from '../common/clock';
import type { RequestOptions, TokenSource } from './findface-api';

/** Credentials as the config node stores them (`token`, or `username` and `password`). */
export interface ServerCredentials {
  token?: string;
  username?: string;
  password?: string;
}

export type ServerAuth = { kind: 'token'; token: string } | { kind: 'login'; username: string; password: string };

/** What the credentials ask for, or a problem (in English, naming no secret). */
export function authFrom(credentials: ServerCredentials | undefined): { auth?: ServerAuth; problem?: string } {
  const text = (value: unknown) => (typeof value === 'string' ? value.trim() : '');
  const token = text(credentials?.token);
  const username = text(credentials?.username);
  const password = typeof credentials?.password === 'string' ? credentials.password : '';
  if (token && (username || password)) return { problem: 'give either an API token or a user name and password, not both' };
  if (token) return { auth: { kind: 'token', token } };
  if (username && !password) return { problem: 'a user name is set but no password' };
  if (password && !username) return { problem: 'a password is set but no user name' };
  if (username) {
    if (username.includes(':')) return { problem: 'the user name must not contain ":" (HTTP Basic cannot send it)' };
    return { auth: { kind: 'login', username, password } };
  }
  return { problem: 'no API token is set, nor a user name and password' };
}

/**
 * The `uuid` this node logs in with: the same for the same node id across
 * restarts (FindFace lists sessions by device), different for each node.
 */
export function sessionUuid(nodeId: string): string {
  const hex = createHash('sha256').update(`node-red-contrib-findface/findface-server/${nodeId}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${((parseInt(hex[16], 16) & 3) | 8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** A login as findface-api's `FindFaceClient.login` answers it. */
export interface LoginResult {
  token: string;
  /** `token_expiration_datetime` as FindFace gives it. */
  expires?: string;
}

export interface LoginSessionOptions {
  /** Logs in (`client.login(username, password, {uuid, signal})`). */
  login(options: RequestOptions): Promise<LoginResult>;
  /** The password, kept out of every message the client builds. */
  password: string;
  /** Renew this long before the expiry at most (ms, default 5 minutes); never more than a tenth of the token's life. */
  renewBeforeMs?: number;
  /** Called after each login (for a debug line; gets no token). */
  onLogin?(info: { expiresAt: number | undefined; renewal: boolean; reason: 'first' | 'expiring' | 'refused' }): void;
  clock?: Clock;
}

const DEFAULT_RENEW_BEFORE_MS = 5 * 60 * 1000;

/** A logged-in session: a TokenSource for FindFaceClient that logs in when needed. */
export class LoginSession implements TokenSource {
  private current: { token: string; obtainedAt: number; expiresAt: number | undefined } | undefined;
  private pending: Promise<string> | undefined;
  private readonly clock: Clock;
  private readonly renewBeforeMs: number;
  private logins = 0;
  private nextReason: 'first' | 'expiring' | 'refused' = 'first';
  private readonly spent = new Set<string>();

  constructor(private readonly options: LoginSessionOptions) {
    this.clock = options.clock ?? systemClock;
    this.renewBeforeMs = options.renewBeforeMs ?? DEFAULT_RENEW_BEFORE_MS;
  }

  /** How many logins so far. */
  get loginCount(): number {
    return this.logins;
  }

  /** When the current token expires (ms since the epoch), if known. */
  get expiresAt(): number | undefined {
    return this.current?.expiresAt;
  }

  async token(options: RequestOptions = {}): Promise<string> {
    const current = this.current;
    if (current && !this.expiring(current)) return current.token;
    if (current) this.nextReason = 'expiring';
    if (!this.pending) {
      const pending = this.login(options);
      this.pending = pending;
      // A failed login is not kept: the next request tries again.
      pending.then(
        () => (this.pending === pending ? (this.pending = undefined) : undefined),
        () => (this.pending === pending ? (this.pending = undefined) : undefined),
      );
    }
    return this.pending;
  }

  refused(token: string): boolean {
    if (this.current?.token !== token) return true;
    this.spent.add(token);
    this.current = undefined;
    this.nextReason = 'refused';
    return true;
  }

  secrets(): string[] {
    return [this.options.password, ...(this.current ? [this.current.token] : []), ...this.spent];
  }

  private expiring(current: { obtainedAt: number; expiresAt: number | undefined }): boolean {
    if (current.expiresAt === undefined) return false;
    const life = Math.max(0, current.expiresAt - current.obtainedAt);
    const margin = Math.min(this.renewBeforeMs, life / 10);
    return this.clock.now() >= current.expiresAt - margin;
  }

  private async login(options: RequestOptions): Promise<string> {
    const reason = this.nextReason;
    const result = await this.options.login(options);
    const parsed = result.expires === undefined ? NaN : Date.parse(result.expires);
    const now = this.clock.now();
    if (this.current) this.spent.add(this.current.token);
    this.current = { token: result.token, obtainedAt: now, expiresAt: Number.isNaN(parsed) ? undefined : parsed };
    this.logins++;
    this.nextReason = 'expiring';
    // Keep only the last few spent tokens for scrubbing.
    while (this.spent.size > 8) this.spent.delete(this.spent.values().next().value as string);
    this.options.onLogin?.({ expiresAt: this.current.expiresAt, renewal: this.logins > 1, reason });
    return result.token;
  }
}
