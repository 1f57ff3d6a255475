// Typed access to what the nodes read from Node-RED's settings.
import os from 'os';
import path from 'path';
import type { NodeAPI } from 'node-red';
import { infoLogged } from '../lib/common/log-level';

interface KnownSettings {
  userDir?: unknown;
  logging?: unknown;
  httpNodeRoot?: unknown;
}

function known(RED: NodeAPI): KnownSettings {
  return RED.settings as KnownSettings;
}

/** Node-RED's user directory (where the queues and cursors live): `userDir`, else ~/.node-red as Node-RED itself defaults. */
export function userDir(RED: NodeAPI): string {
  const dir = known(RED).userDir;
  return typeof dir === 'string' && dir !== '' ? dir : path.join(os.homedir(), '.node-red');
}

/** Whether any logger prints info lines (so per-event lines need not even be made when none does). */
export function infoLines(RED: NodeAPI): boolean {
  return infoLogged(known(RED).logging);
}

/** The prefix of httpNode routes (`httpNodeRoot`, default `/`). */
export function httpNodeRoot(RED: NodeAPI): string {
  const root = known(RED).httpNodeRoot;
  return typeof root === 'string' && root !== '' ? root : '/';
}
