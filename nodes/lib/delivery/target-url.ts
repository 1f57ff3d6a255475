// A webhook `url` that is a path (`/door-relay/open`) means this Node-RED's
// own httpNode at that path (CONTRACT.md): the scheme from `https`, the host
// and port from `uiHost`/`uiPort`, the prefix from `httpNodeRoot`, read from
// the runtime settings. An example flow can then post to its own routes on
// whatever port, root or TLS it is imported into. The host a server bound to
// all interfaces is reached on is the loopback, as Node-RED's own
// "Server now running at" line shows it (red.js getListenPath).
/** The runtime settings a path resolves against (RED.settings, and the port the server listens on). */
export interface HttpNodeSettings {
  uiHost?: unknown;
  uiPort?: unknown;
  /** Node-RED's `https` setting: an options object or a function; any value means TLS. */
  https?: unknown;
  /** `false` when Node-RED serves no httpNode routes. */
  httpNodeRoot?: unknown;
}

/** Codes under `findface-webhook.errors.` in the locale files. */
export type TargetUrlProblem = 'url-empty' | 'url-invalid' | 'url-scheme' | 'url-no-http-node';

export interface TargetUrlError {
  code: TargetUrlProblem;
  value?: string;
}

/** Shaped as the filter's Parsed<T>: a value, or an i18n problem code with its parameter. */
export type ResolvedUrl = { ok: true; value: string } | { ok: false; problem: TargetUrlError };

const ALL_INTERFACES = new Set(['', '0.0.0.0', '::', '[::]']);

/** The host name to reach this Node-RED on, in URL form (IPv6 literals in brackets). */
function loopbackOr(host: unknown): string {
  const text = typeof host === 'string' ? host.trim() : '';
  if (ALL_INTERFACES.has(text)) return text.includes(':') ? '[::1]' : '127.0.0.1';
  return text.includes(':') && !text.startsWith('[') ? `[${text}]` : text;
}

function portOf(port: unknown): number {
  const value = typeof port === 'string' && port.trim() !== '' ? Number(port) : port;
  return typeof value === 'number' && Number.isInteger(value) && value > 0 && value < 65536 ? value : 1880;
}

/** httpNodeRoot as a prefix: "" for "/", "/api" for "api", "/api/" or "/api". */
function rootPrefix(root: unknown): string {
  const text = typeof root === 'string' ? root.trim() : '';
  return `/${text}`.replace(/\/{2,}/g, '/').replace(/\/+$/, '');
}

/** True when `url` is meant as a path on this Node-RED's httpNode. */
export function isLocalPath(url: string): boolean {
  return url.trim().startsWith('/') && !url.trim().startsWith('//');
}

/**
 * The absolute http(s) URL a webhook posts to: an absolute URL as given
 * (http or https only), a path resolved against this Node-RED's httpNode.
 */
export function resolveTargetUrl(url: string, settings: HttpNodeSettings): ResolvedUrl {
  const text = url.trim();
  if (text === '') return { ok: false, problem: { code: 'url-empty' } };
  if (isLocalPath(text)) {
    if (settings.httpNodeRoot === false) return { ok: false, problem: { code: 'url-no-http-node', value: text } };
    const scheme = settings.https ? 'https' : 'http';
    const base = `${scheme}://${loopbackOr(settings.uiHost)}:${portOf(settings.uiPort)}`;
    try {
      return { ok: true, value: new URL(`${rootPrefix(settings.httpNodeRoot)}${text}`, base).toString() };
    } catch {
      return { ok: false, problem: { code: 'url-invalid', value: text } };
    }
  }
  let parsed: URL;
  try {
    parsed = new URL(text);
  } catch {
    return { ok: false, problem: { code: 'url-invalid', value: text } };
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return { ok: false, problem: { code: 'url-scheme', value: text } };
  return { ok: true, value: text };
}

/** The URL to post to: a path resolved as above, anything else as given (the node's URL check reports it). */
export function absoluteUrl(url: string, settings: HttpNodeSettings): string {
  if (!isLocalPath(url)) return url;
  const result = resolveTargetUrl(url, settings);
  return result.ok ? result.value : url;
}

interface RuntimeLike {
  settings: object;
  server?: { address?(): unknown } | null;
}

/**
 * The httpNode settings of a running Node-RED (the node's RED): the port the
 * server listens on once it listens (it may be `uiPort: 0`), else `uiPort`.
 */
export function httpNodeSettingsOf(red: RuntimeLike): HttpNodeSettings {
  const settings = red.settings as HttpNodeSettings;
  let listening: unknown;
  try {
    listening = red.server?.address?.();
  } catch {
    listening = undefined;
  }
  const port = listening && typeof listening === 'object' && 'port' in listening ? (listening as { port: unknown }).port : undefined;
  return { uiHost: settings.uiHost, uiPort: port || settings.uiPort, https: settings.https, httpNodeRoot: settings.httpNodeRoot };
}
