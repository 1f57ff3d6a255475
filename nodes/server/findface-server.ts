// findface-server (config node): a FindFace server's address, API token
// (credential), TLS settings and SERVICE_EXTERNAL_ADDRESS. It gives the nodes
// that use it an API client (lib/findface-api.ts), absolutiseUrls with its
// external address, and a shared, lazily started camera → group cache
// (lib/camera-groups.ts). See FindFaceServerHandle for the API.
//
// Admin endpoint for the editor's "Test connection" button:
//   POST <httpAdminRoot>/findface-server/:id/test   (permission findface-server.write)
// body (all optional) {url, token, timeout, rejectUnauthorized, ca}: the
// dialog's unsaved values; missing ones come from the deployed node. A token of
// "__PWRD__" (the editor's placeholder for a stored password) means the stored
// token, which is only ever sent to the stored URL. Answers
// {ok, status, message, cameras?} (status = FindFace's HTTP status, 0 when it
// did not answer).
import fs from 'fs';
import os from 'os';
import path from 'path';
import type { Node, NodeAPI, NodeDef } from 'node-red';
import type { Request, Response } from 'express';
import { CameraGroups, CameraGroupsStatus, cameraGroupsStatusText } from '../lib/findface/camera-groups';
import { absoluteUrl, httpNodeSettingsOf } from '../lib/delivery/target-url';
import {
  absolutiseUrls,
  baseUrlProblem,
  caProblem,
  ClientOptions,
  FindFaceApiError,
  FindFaceClient,
  isFindFaceApiError,
  tokenProblem,
  TokenSource,
} from '../lib/findface/findface-api';
import type { CameraGroupsLease, FindFaceServerHandle } from '../lib/findface/server-handle';
import { authFrom, LoginSession, ServerCredentials, sessionUuid } from '../lib/findface/session';
import { hookSettingsFrom } from '../lib/findface/hooks';

interface ServerDef extends NodeDef {
  url: string;
  externalAddress: string;
  timeout: number | string;
  rejectUnauthorized: boolean | string;
  ca: string;
}


type ServerNode = Node<ServerCredentials> & {
  client: FindFaceClient | null;
  configError: string | null;
  url: string;
  externalAddress: string;
  absolutise: FindFaceServerHandle['absolutise'];
  acquireCameraGroups: FindFaceServerHandle['acquireCameraGroups'];
  /** The configured timeout and TLS settings as given (for the test endpoint). */
  settings: { timeout: unknown; rejectUnauthorized: unknown; ca: unknown };
};

const DEFAULT_TIMEOUT_MS = 10000;
const TEST_TIMEOUT_MAX_MS = 15000;
/** The editor's placeholder for a stored password credential. */
const STORED_PASSWORD = '__PWRD__';

function isBlank(value: unknown): boolean {
  return value === undefined || value === null || (typeof value === 'string' && value.trim() === '');
}

function normaliseUrl(url: unknown): string {
  return typeof url === 'string' ? url.trim().replace(/\/+$/, '') : '';
}

function asBoolean(value: unknown, fallback: boolean): boolean {
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  return fallback;
}

/** Timeout in ms; blank = default; a problem for anything but a number ≥ 0. */
function timeoutOf(value: unknown): { ms: number; problem?: string } {
  if (isBlank(value)) return { ms: DEFAULT_TIMEOUT_MS };
  const ms = Number(value);
  if (!Number.isFinite(ms) || ms < 0) return { ms: DEFAULT_TIMEOUT_MS, problem: `the timeout "${String(value)}" must be a number of ms ≥ 0` };
  return { ms };
}

/**
 * The CA property: PEM text, or the path of a PEM file (relative to the user
 * directory). Answers the PEM text (undefined when blank) or a problem.
 */
function readCa(ca: unknown, userDir: string): { pem?: string; problem?: string } {
  if (isBlank(ca) || typeof ca !== 'string') return {};
  const text = ca.trim();
  let pem = text;
  if (!text.includes('-----BEGIN')) {
    const file = path.resolve(userDir, text);
    try {
      pem = fs.readFileSync(file, 'utf8');
    } catch (error) {
      return { problem: `cannot read the CA certificate file ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}` };
    }
  }
  const problem = caProblem(pem);
  return problem ? { problem } : { pem };
}

function externalAddressProblem(value: string): string | null {
  if (value === '') return null;
  const problem = baseUrlProblem(value);
  return problem ? problem.replace('the FindFace URL', 'the external address') : null;
}

/** Client options from the settings, or the first problem with them. */
function clientOptionsFrom(
  settings: { url: unknown; token: unknown; timeout: unknown; rejectUnauthorized: unknown; ca: unknown },
  userDir: string,
): { options?: ClientOptions; problem?: string } {
  const url = normaliseUrl(settings.url);
  const urlIssue = baseUrlProblem(url);
  if (urlIssue) return { problem: urlIssue };
  const token: string | TokenSource =
    typeof settings.token === 'object' && settings.token !== null ? (settings.token as TokenSource) : typeof settings.token === 'string' ? settings.token.trim() : '';
  const tokenIssue = typeof token === 'string' ? tokenProblem(token) : null;
  if (tokenIssue) return { problem: tokenIssue };
  const timeout = timeoutOf(settings.timeout);
  if (timeout.problem) return { problem: timeout.problem };
  const ca = readCa(settings.ca, userDir);
  if (ca.problem) return { problem: ca.problem };
  return {
    options: {
      baseUrl: url,
      token,
      timeoutMs: timeout.ms,
      tls: { ca: ca.pem, rejectUnauthorized: asBoolean(settings.rejectUnauthorized, true) },
    },
  };
}

export = function (RED: NodeAPI) {
  const userDir = (): string => ((RED.settings as unknown as { userDir?: string }).userDir) || path.join(os.homedir(), '.node-red');

  function FindFaceServerNode(this: ServerNode, config: ServerDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    // A path (a stand-in FindFace in this Node-RED's own flows) means this Node-RED's httpNode.
    node.url = absoluteUrl(normaliseUrl(config.url), httpNodeSettingsOf(RED));
    node.externalAddress = absoluteUrl(normaliseUrl(config.externalAddress), httpNodeSettingsOf(RED));
    const externalAddressType =
      config.externalAddress === undefined || config.externalAddress === null || typeof config.externalAddress === 'string'
        ? null
        : `the external address must be text (got ${JSON.stringify(config.externalAddress)})`;
    node.client = null;
    node.configError = null;
    node.settings = { timeout: config.timeout, rejectUnauthorized: config.rejectUnauthorized, ca: config.ca };

    // A fixed token, or a login with a user name and password (renewed before it expires and after a 401).
    const auth = authFrom(node.credentials);
    let session: LoginSession | undefined;
    if (auth.auth?.kind === 'login') {
      const { username, password } = auth.auth;
      const uuid = sessionUuid(node.id);
      session = new LoginSession({
        password,
        login: (options) => {
          if (!node.client) throw new FindFaceApiError('config', node.configError ?? 'the server is not configured');
          return node.client.login(username, password, { ...options, uuid });
        },
        onLogin: ({ expiresAt, reason }) =>
          node.debug(`logged in to FindFace (${reason}); the token expires ${expiresAt === undefined ? 'at an unknown time' : `at ${new Date(expiresAt).toISOString()}`}`),
      });
    }
    const built = clientOptionsFrom(
      {
        url: node.url,
        token: session ?? (auth.auth?.kind === 'token' ? auth.auth.token : ''),
        timeout: config.timeout,
        rejectUnauthorized: config.rejectUnauthorized,
        ca: config.ca,
      },
      userDir(),
    );
    let problem = auth.problem ?? built.problem ?? externalAddressType ?? externalAddressProblem(node.externalAddress);
    if (!problem && built.options) {
      try {
        node.client = new FindFaceClient(built.options);
      } catch (error) {
        problem = (error as Error).message;
      }
    }
    if (problem) {
      node.configError = problem;
      node.client = null;
      node.warn(`${RED._('findface-server.errors.config')}: ${problem}`);
    }

    node.absolutise = <T extends Record<string, unknown>>(event: T): T => absolutiseUrls(event, node.externalAddress);

    // ---- the shared camera → group cache, created on the first lease ---------------------------
    let groups: CameraGroups | undefined;
    let leases = 0;
    let closed = false;
    let lastState: CameraGroupsStatus['state'] | undefined;
    const onGroupsStatus = (status: CameraGroupsStatus) => {
      if (status.state === 'failed' && lastState !== 'failed') {
        node.warn(`${RED._('findface-server.errors.cameras')}: ${cameraGroupsStatusText(status)}`);
      } else if (status.state === 'loaded') {
        node.debug(cameraGroupsStatusText(status));
      }
      lastState = status.state;
    };
    const unusable = {
      listCameras: async () => {
        throw new FindFaceApiError('config', node.configError ?? 'the server is not configured');
      },
    };
    node.acquireCameraGroups = (): CameraGroupsLease => {
      if (!groups) {
        groups = new CameraGroups({ source: node.client ?? unusable, onStatus: onGroupsStatus });
        if (closed) groups.stop();
        else groups.start();
      }
      const leased = groups;
      leases++;
      let released = false;
      return {
        groups: leased,
        release: () => {
          if (released) return;
          released = true;
          leases--;
          if (leases <= 0 && groups === leased) {
            leased.stop();
            groups = undefined;
            leases = 0;
          }
        },
      };
    };

    node.on('close', (done: () => void) => {
      closed = true;
      groups?.stop();
      groups = undefined;
      leases = 0;
      node.client?.destroy();
      done();
    });
  }

  RED.nodes.registerType('findface-server', FindFaceServerNode as unknown as (this: Node, config: NodeDef) => void, {
    credentials: { token: { type: 'password' }, username: { type: 'text' }, password: { type: 'password' } },
  });

  /**
   * A client for an editor request: the dialog's unsaved settings, the
   * deployed node's for what the body leaves out. A stored secret (token or
   * password, sent back as "__PWRD__" or left out) only ever goes to the stored URL.
   * A user name and password log in first (this node's session uuid).
   */
  function requestClient(id: string, body: Record<string, unknown>): { client?: FindFaceClient; status?: number; message?: string } {
    const deployed = RED.nodes.getNode(id) as unknown as (ServerNode & { credentials?: ServerCredentials }) | null;
    const stored = (RED.nodes.getCredentials(id) as ServerCredentials | undefined) ?? deployed?.credentials ?? {};
    const deployedUrl = deployed ? deployed.url : '';
    const url = !isBlank(body.url) ? absoluteUrl(normaliseUrl(body.url), httpNodeSettingsOf(RED)) : deployedUrl;
    const sameUrl = !!deployed && normaliseUrl(url) === deployedUrl;
    const secret = (name: 'token' | 'password'): { value?: string; stored: boolean } => {
      const value = body[name];
      if (value === undefined || value === STORED_PASSWORD) return { value: stored[name], stored: true };
      return { value: typeof value === 'string' ? value : undefined, stored: false };
    };
    const token = secret('token');
    const password = secret('password');
    const username = body.username !== undefined ? (typeof body.username === 'string' ? body.username : '') : stored.username;
    if (isBlank(token.value) && isBlank(username)) return { status: 400, message: RED._('findface-server.test.no-token') };
    const auth = authFrom({ token: token.value, username, password: password.value });
    if (!auth.auth) return { status: 400, message: auth.problem ?? 'invalid credentials' };
    const usedStored = auth.auth.kind === 'token' ? token.stored : password.stored;
    // A stored secret only ever goes to the stored address.
    if (usedStored && !sameUrl) return { status: 400, message: RED._('findface-server.test.token-for-other-url') };
    let client: FindFaceClient | undefined;
    let tokenOption: string | TokenSource = '';
    if (auth.auth.kind === 'token') {
      tokenOption = auth.auth.token;
    } else {
      const { username: user, password: secret } = auth.auth;
      tokenOption = new LoginSession({
        password: secret,
        login: async (options) => {
          if (!client) throw new FindFaceApiError('config', 'no client');
          return client.login(user, secret, { ...options, uuid: sessionUuid(id) });
        },
      });
    }
    const timeout = timeoutOf(isBlank(body.timeout) ? deployed?.settings.timeout : body.timeout);
    const built = clientOptionsFrom(
      {
        url,
        token: tokenOption,
        timeout: Math.min(timeout.ms || TEST_TIMEOUT_MAX_MS, TEST_TIMEOUT_MAX_MS),
        rejectUnauthorized: body.rejectUnauthorized ?? deployed?.settings.rejectUnauthorized ?? true,
        ca: body.ca !== undefined ? body.ca : deployed?.settings.ca,
      },
      userDir(),
    );
    if (!built.options) return { status: 400, message: built.problem ?? 'invalid settings' };
    client = new FindFaceClient(built.options);
    return { client };
  }

  const bodyOf = (req: Request): Record<string, unknown> =>
    req.body && typeof req.body === 'object' && !Array.isArray(req.body) ? (req.body as Record<string, unknown>) : {};
  const failure = (error: unknown) => ({
    ok: false,
    status: isFindFaceApiError(error) ? error.status ?? 0 : 0,
    message: (error as Error)?.message ?? String(error),
  });

  // ---- "Test connection" ---------------------------------------------------------------------------
  RED.httpAdmin.post(
    '/findface-server/:id/test',
    RED.auth.needsPermission('findface-server.write'),
    async (req: Request, res: Response) => {
      const answer = (httpStatus: number, body: { ok: boolean; status: number; message: string; cameras?: number }) => {
        res.status(httpStatus).json(body);
      };
      try {
        const made = requestClient(String(req.params.id), bodyOf(req));
        if (!made.client) {
          answer(made.status ?? 400, { ok: false, status: 0, message: made.message ?? 'invalid settings' });
          return;
        }
        const client = made.client;
        try {
          const cameras = await client.listCameras();
          answer(200, {
            ok: true,
            status: 200,
            message: RED._('findface-server.test.ok', { count: cameras.length }),
            cameras: cameras.length,
          });
        } catch (error) {
          answer(200, failure(error));
        } finally {
          client.destroy();
        }
      } catch (error) {
        answer(500, { ok: false, status: 0, message: (error as Error)?.message ?? String(error) });
      }
    },
  );

  // ---- "Set up the webhook in FindFace" (from the source's dialog) -----------------------------
  // POST <httpAdminRoot>/findface-server/:id/hook   (permission findface-server.write)
  // body {hook: {name, url, active, batch_size, send_attempts, filters}, id?} plus the
  // connection settings as for /test. Updates the webhook `id`, else the one
  // with the same URL, else creates one. Answers {ok, status, message, hook?, created?}.
  RED.httpAdmin.post(
    '/findface-server/:id/hook',
    RED.auth.needsPermission('findface-server.write'),
    async (req: Request, res: Response) => {
      try {
        const body = bodyOf(req);
        const checked = hookSettingsFrom(body.hook);
        if (!checked.settings) {
          res.status(400).json({ ok: false, status: 0, message: checked.problem });
          return;
        }
        const made = requestClient(String(req.params.id), body);
        if (!made.client) {
          res.status(made.status ?? 400).json({ ok: false, status: 0, message: made.message ?? 'invalid settings' });
          return;
        }
        const client = made.client;
        try {
          const wanted = typeof body.hookId === 'number' && Number.isSafeInteger(body.hookId) ? body.hookId : undefined;
          const existing = (await client.listHooks()).find((hook) => (wanted !== undefined ? hook.id === wanted : hook.url === checked.settings!.url));
          const hook = existing ? await client.updateHook(existing.id, checked.settings) : await client.createHook(checked.settings);
          const key = existing ? 'findface-server.hook.updated' : 'findface-server.hook.created';
          res.status(200).json({ ok: true, status: existing ? 200 : 201, created: !existing, hook, message: RED._(key, { id: hook.id, url: hook.url ?? '' }) });
        } catch (error) {
          res.status(200).json(failure(error));
        } finally {
          client.destroy();
        }
      } catch (error) {
        res.status(500).json({ ok: false, status: 0, message: (error as Error)?.message ?? String(error) });
      }
    },
  );
};
