// The findface-server config node's properties (and the "Test connection"
// request's unsaved values), parsed and checked once: the API client's
// options, or the first problem as an i18n code (`findface-server.errors.<code>`).
import fs from 'fs';
import path from 'path';
import { X509Certificate } from 'crypto';
import type { ClientOptions, TokenSource } from './findface-api';
import { isBlank } from '../common/values';
import { Parsed, parsedValue, parseProblem, Problem, shownValue } from '../common/parsed';

export const DEFAULT_SERVER_TIMEOUT_MS = 10000;

export type ServerProblemCode =
  | 'no-url'
  | 'not-url'
  | 'url-scheme'
  | 'url-credentials'
  | 'url-query'
  | 'external-not-text'
  | 'external-not-url'
  | 'external-scheme'
  | 'external-credentials'
  | 'external-query'
  | 'no-token'
  | 'token-chars'
  | 'bad-timeout'
  | 'ca-file'
  | 'ca-not-pem'
  | 'ca-unreadable';

/** What the settings are read from: the node's properties and credential, or the dialog's unsaved values. */
export interface ServerProperties {
  url?: unknown;
  /** A fixed API token (text), or a TokenSource: a login session (lib/findface/session.ts). */
  token?: unknown;
  timeout?: unknown;
  rejectUnauthorized?: unknown;
  ca?: unknown;
}

type Result<T> = Parsed<T, ServerProblemCode>;

/** The URL as compared and used: trimmed, without trailing slashes. */
export function normaliseServerUrl(url: unknown): string {
  return typeof url === 'string' ? url.trim().replace(/\/+$/, '') : '';
}

function addressProblem(url: string, prefix: 'url' | 'external'): Problem<ServerProblemCode> | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { code: prefix === 'url' ? 'not-url' : 'external-not-url', value: url };
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return { code: `${prefix}-scheme`, value: url };
  if (parsed.username || parsed.password) return { code: `${prefix}-credentials` };
  if (parsed.search || parsed.hash) return { code: `${prefix}-query` };
  return null;
}

/** FindFace's address: an http(s) URL without credentials, query or fragment. */
export function serverUrlProblem(url: string): Problem<ServerProblemCode> | null {
  return url === '' ? { code: 'no-url' } : addressProblem(url, 'url');
}

/** SERVICE_EXTERNAL_ADDRESS: blank, or an address like the server's. */
export function parseExternalAddress(value: unknown): Result<string> {
  if (value !== undefined && value !== null && typeof value !== 'string') return parseProblem('external-not-text', { value: shownValue(value) });
  const address = normaliseServerUrl(value);
  const problem = address === '' ? null : addressProblem(address, 'external');
  return problem ? { ok: false, problem } : parsedValue(address);
}

/** Timeout in ms; blank = the default. */
export function parseServerTimeout(value: unknown): Result<number> {
  if (isBlank(value)) return parsedValue(DEFAULT_SERVER_TIMEOUT_MS);
  const ms = typeof value === 'number' || typeof value === 'string' ? Number(value) : NaN;
  if (!Number.isFinite(ms) || ms < 0) return parseProblem('bad-timeout', { value: shownValue(value) });
  return parsedValue(ms);
}

/** PEM text, or the path of a PEM file relative to the user directory; undefined when blank. */
export function parseCa(value: unknown, userDir: string): Result<string | undefined> {
  if (isBlank(value) || typeof value !== 'string') return parsedValue(undefined);
  const text = value.trim();
  let pem = text;
  if (!text.includes('-----BEGIN')) {
    const file = path.resolve(userDir, text);
    try {
      pem = fs.readFileSync(file, 'utf8');
    } catch (error) {
      return parseProblem('ca-file', { file, detail: (error as NodeJS.ErrnoException).code ?? (error as Error).message });
    }
  }
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g);
  if (!blocks) return parseProblem('ca-not-pem');
  for (const block of blocks) {
    try {
      new X509Certificate(block);
    } catch (error) {
      return parseProblem('ca-unreadable', { detail: (error as Error).message });
    }
  }
  return parsedValue(pem);
}

function asBoolean(value: unknown, fallback: boolean): boolean {
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  return fallback;
}

function isTokenSource(value: unknown): value is TokenSource {
  return typeof value === 'object' && value !== null && typeof (value as TokenSource).token === 'function';
}

/** The API client's options from the settings (the token is never part of a problem). */
export function parseServerConfig(props: ServerProperties, userDir: string): Result<ClientOptions> {
  const url = normaliseServerUrl(props.url);
  const urlIssue = serverUrlProblem(url);
  if (urlIssue) return { ok: false, problem: urlIssue };
  let token: string | TokenSource;
  if (isTokenSource(props.token)) token = props.token;
  else {
    token = typeof props.token === 'string' ? props.token.trim() : '';
    if (token === '') return parseProblem('no-token');
    if (!/^[\x21-\x7e]+$/.test(token)) return parseProblem('token-chars');
  }
  const timeout = parseServerTimeout(props.timeout);
  if (!timeout.ok) return timeout;
  const ca = parseCa(props.ca, userDir);
  if (!ca.ok) return ca;
  return parsedValue({
    baseUrl: url,
    token,
    timeoutMs: timeout.value,
    tls: { ca: ca.value, rejectUnauthorized: asBoolean(props.rejectUnauthorized, true) },
  });
}
