// The server dialog's admin endpoints, both permission-guarded
// (findface-server.write). The body carries the dialog's unsaved values;
// missing ones come from the deployed node. A secret of "__PWRD__" (the
// editor's placeholder for a stored password credential) means the stored
// one, which is only ever sent to the stored URL.
//   POST <httpAdminRoot>/findface-server/:id/test  {url, token | username+password, timeout, rejectUnauthorized, ca}
//     → {ok, status, message, cameras?}  (status = FindFace's HTTP status, 0 when it did not answer)
//   POST <httpAdminRoot>/findface-server/:id/hook  {hook: {name, url, active, batch_size, send_attempts, filters}, hookId?} + the same
//     → updates the webhook `hookId`, else the one with the same URL, else creates one: {ok, status, message, hook?, created?}
import type { Request, Response } from 'express';
import type { NodeAPI } from 'node-red';
import { FindFaceApiError, FindFaceClient, isFindFaceApiError, TokenSource } from '../lib/findface/findface-api';
import { normaliseServerUrl, parseServerConfig, parseServerTimeout } from '../lib/findface/server-config';
import { authFrom, LoginSession, ServerCredentials, sessionUuid } from '../lib/findface/session';
import { hookSettingsFrom, redactToken } from '../lib/findface/hooks';
import { absoluteUrl, httpNodeSettingsOf } from '../lib/delivery/target-url';
import { isBlank } from '../lib/common/values';
import { userDir } from '../shell/settings';
import { problemText } from '../shell/node-errors';
import type { ServerNode } from './server-node';

const TEST_TIMEOUT_MAX_MS = 15000;
/** The editor's placeholder for a stored password credential. */
const STORED_PASSWORD = '__PWRD__';

interface Answer {
  ok: boolean;
  status: number;
  message: string;
}

type Made = { client: FindFaceClient } | { status: number; message: string };

function bodyOf(req: Request): Record<string, unknown> {
  return req.body && typeof req.body === 'object' && !Array.isArray(req.body) ? (req.body as Record<string, unknown>) : {};
}

function failure(error: unknown): Answer {
  return { ok: false, status: isFindFaceApiError(error) ? (error.status ?? 0) : 0, message: (error as Error)?.message ?? String(error) };
}

export function registerTestEndpoint(RED: NodeAPI): void {
  /** An API client for the dialog's settings (a user name and password log in first, with this node's session uuid). */
  function requestClient(id: string, body: Record<string, unknown>): Made {
    const found = RED.nodes.getNode(id) as ServerNode | null;
    const deployed = found?.type === 'findface-server' ? found : null;
    const stored = (RED.nodes.getCredentials(id) as ServerCredentials | undefined) ?? deployed?.credentials ?? {};
    const deployedUrl = deployed ? deployed.url : '';
    const url = !isBlank(body.url) ? absoluteUrl(normaliseServerUrl(body.url), httpNodeSettingsOf(RED)) : deployedUrl;
    const sameUrl = !!deployed && url === deployedUrl;
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
    // The login session asks the client for its token: the client exists by then.
    const made: { client?: FindFaceClient } = {};
    let tokenOption: string | TokenSource;
    if (auth.auth.kind === 'token') tokenOption = auth.auth.token;
    else {
      const { username: user, password: pass } = auth.auth;
      tokenOption = new LoginSession({
        password: pass,
        login: async (options) => {
          if (!made.client) throw new FindFaceApiError('config', RED._('findface-server.errors.not-configured'));
          return made.client.login(user, pass, { ...options, uuid: sessionUuid(id) });
        },
      });
    }
    const timeout = parseServerTimeout(isBlank(body.timeout) ? deployed?.settings.timeout : body.timeout);
    const timeoutMs = timeout.ok ? timeout.value : TEST_TIMEOUT_MAX_MS;
    const parsed = parseServerConfig(
      {
        url,
        token: tokenOption,
        timeout: Math.min(timeoutMs || TEST_TIMEOUT_MAX_MS, TEST_TIMEOUT_MAX_MS),
        rejectUnauthorized: body.rejectUnauthorized ?? deployed?.settings.rejectUnauthorized ?? true,
        ca: body.ca !== undefined ? body.ca : deployed?.settings.ca,
      },
      userDir(RED),
    );
    if (!parsed.ok) return { status: 400, message: problemText(RED, 'findface-server', parsed.problem) };
    made.client = new FindFaceClient(parsed.value);
    return { client: made.client };
  }

  /** Answers with what `use` makes of a client for the dialog's settings; FindFace's failures are answers (200), a bug is a 500. */
  async function withClient(res: Response, id: string, body: Record<string, unknown>, use: (client: FindFaceClient) => Promise<void>): Promise<void> {
    try {
      const made = requestClient(id, body);
      if (!('client' in made)) {
        res.status(made.status).json({ ok: false, status: 0, message: made.message });
        return;
      }
      try {
        await use(made.client);
      } catch (error) {
        res.status(200).json(failure(error));
      } finally {
        made.client.destroy();
      }
    } catch (error) {
      res.status(500).json({ ok: false, status: 0, message: (error as Error)?.message ?? String(error) });
    }
  }

  RED.httpAdmin.post('/findface-server/:id/test', RED.auth.needsPermission('findface-server.write'), (req: Request, res: Response) =>
    withClient(res, String(req.params.id), bodyOf(req), async (client) => {
      const cameras = await client.listCameras();
      res.status(200).json({ ok: true, status: 200, message: RED._('findface-server.test.ok', { count: cameras.length }), cameras: cameras.length });
    }),
  );

  RED.httpAdmin.post('/findface-server/:id/hook', RED.auth.needsPermission('findface-server.write'), (req: Request, res: Response) => {
    const body = bodyOf(req);
    // The source's shared secret goes into the URL (FindFace can only be given a URL: `?token=`).
    let secret: unknown = body.secret;
    if (secret === STORED_PASSWORD && typeof body.source === 'string') {
      secret = (RED.nodes.getCredentials(body.source) as { secret?: string } | undefined)?.secret;
    }
    const checked = hookSettingsFrom(body.hook, typeof secret === 'string' && secret !== STORED_PASSWORD ? secret : '');
    const settings = checked.settings;
    if (!settings) {
      res.status(400).json({ ok: false, status: 0, message: checked.problem });
      return;
    }
    return withClient(res, String(req.params.id), body, async (client) => {
      const wanted = typeof body.hookId === 'number' && Number.isSafeInteger(body.hookId) ? body.hookId : undefined;
      const target = redactToken(settings.url);
      const existing = (await client.listHooks()).find((hook) => (wanted !== undefined ? hook.id === wanted : redactToken(String(hook.url ?? '')) === target));
      const hook = existing ? await client.updateHook(existing.id, settings) : await client.createHook(settings);
      const key = existing ? 'findface-server.hook.updated' : 'findface-server.hook.created';
      const shown = { ...hook, url: redactToken(String(hook.url ?? '')) };
      res.status(200).json({ ok: true, status: existing ? 200 : 201, created: !existing, hook: shown, message: RED._(key, { id: hook.id, url: shown.url }) });
    });
  });
}
