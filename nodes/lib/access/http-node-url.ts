// The absolute URL of this Node-RED's own httpNode root, for flows whose core
// `http request` node must reach an `http in` route of the same Node-RED (the
// door examples' stand-in controllers). Node-RED gives flows no way to learn
// its port or httpNodeRoot: its only built-in environment variables are
// NR_NODE_*, NR_GROUP_*, NR_FLOW_*, NR_SUBFLOW_* (nodered.org/docs/user-guide/
// environment-variables), and a Function node's sandbox has no settings. So
// the package publishes it as the environment variable FINDFACE_HTTP_NODE_URL,
// which flows read with `$env('FINDFACE_HTTP_NODE_URL')` (JSONata) or
// `${FINDFACE_HTTP_NODE_URL}` in a flow's environment.

export const HTTP_NODE_URL_ENV = 'FINDFACE_HTTP_NODE_URL';
/** The same for the admin root (httpAdminRoot), where the door's audit endpoint is. */
export const HTTP_ADMIN_URL_ENV = 'FINDFACE_ADMIN_URL';

export interface HttpSettings {
  uiPort?: unknown;
  uiHost?: unknown;
  https?: unknown;
  httpNodeRoot?: unknown;
  httpAdminRoot?: unknown;
}

/** e.g. `http://127.0.0.1:1881/api` (no trailing slash); a wildcard bind address is reached on loopback. */
export function httpNodeUrl(settings: HttpSettings, rootSetting: 'httpNodeRoot' | 'httpAdminRoot' = 'httpNodeRoot'): string {
  const scheme = settings.https ? 'https' : 'http';
  const port = Number(settings.uiPort ?? 1880) || 1880;
  const bound = typeof settings.uiHost === 'string' ? settings.uiHost.trim() : '';
  let host = bound === '' || bound === '0.0.0.0' || bound === '::' ? '127.0.0.1' : bound;
  if (host.includes(':') && !host.startsWith('[')) host = `[${host}]`;
  const configured = settings[rootSetting];
  let root = typeof configured === 'string' ? configured : '/';
  if (!root.startsWith('/')) root = `/${root}`;
  root = root.replace(/\/+$/, '');
  return `${scheme}://${host}:${port}${root}`;
}
