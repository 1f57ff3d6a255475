// The absolute URL of this Node-RED's own httpNode root, for flows whose core
// `http request` node must reach an `http in` route of the same Node-RED (the
// door examples' stand-in controllers). Node-RED gives flows no way to learn
// its port or httpNodeRoot: its only built-in environment variables are
// NR_NODE_*, NR_GROUP_*, NR_FLOW_*, NR_SUBFLOW_* (nodered.org/docs/user-guide/
// environment-variables), and a Function node's sandbox has no settings. So
// the package publishes it as the environment variable FINDFACE_HTTP_NODE_URL,
// which flows read with `$env('FINDFACE_HTTP_NODE_URL')` (JSONata) or
// `${FINDFACE_HTTP_NODE_URL}` in a flow's environment.

import { resolveTargetUrl } from '../delivery/target-url';

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

/**
 * e.g. `http://127.0.0.1:1881/api` (no trailing slash), resolved as a
 * webhook's path URL is (lib/delivery/target-url.ts); undefined when
 * Node-RED serves no such routes (the root setting is false).
 */
export function httpNodeUrl(settings: HttpSettings, rootSetting: 'httpNodeRoot' | 'httpAdminRoot' = 'httpNodeRoot'): string | undefined {
  const resolved = resolveTargetUrl('/', { ...settings, httpNodeRoot: settings[rootSetting] ?? '/' });
  return resolved.ok ? resolved.value.replace(/\/+$/, '') : undefined;
}
