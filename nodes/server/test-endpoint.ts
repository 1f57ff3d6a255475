// "Test connection" in the server dialog:
//   POST <httpAdminRoot>/findface-server/:id/test   (permission findface-server.write)
// body (all optional) {url, token, timeout, rejectUnauthorized, ca}: the
// dialog's unsaved values; missing ones come from the deployed node. A token of
// "__PWRD__" (the editor's placeholder for a stored password) means the stored
// token, which is only ever sent to the stored URL. Answers
// {ok, status, message, cameras?} (status = FindFace's HTTP status, 0 when it
// did not answer).
import type { Request, Response } from 'express';
import type { NodeAPI } from 'node-red';
import { FindFaceClient, isFindFaceApiError } from '../lib/findface/findface-api';
import { normaliseServerUrl, parseServerConfig, parseServerTimeout } from '../lib/findface/server-config';
import { isBlank } from '../lib/common/values';
import { userDir } from '../shell/settings';
import { problemText } from '../shell/node-errors';
import type { ServerNode } from './server-node';

const TEST_TIMEOUT_MAX_MS = 15000;
/** The editor's placeholder for a stored password credential. */
const STORED_PASSWORD = '__PWRD__';

interface TestAnswer {
  ok: boolean;
  status: number;
  message: string;
  cameras?: number;
}

export function registerTestEndpoint(RED: NodeAPI): void {
  RED.httpAdmin.post('/findface-server/:id/test', RED.auth.needsPermission('findface-server.write'), async (req: Request, res: Response): Promise<void> => {
    const answer = (httpStatus: number, body: TestAnswer): void => {
      res.status(httpStatus).json(body);
    };
    try {
      const id = String(req.params.id);
      const body: Record<string, unknown> = req.body && typeof req.body === 'object' ? (req.body as Record<string, unknown>) : {};
      const found = RED.nodes.getNode(id) as ServerNode | null;
      const deployed = found?.type === 'findface-server' ? found : null;
      const stored = (RED.nodes.getCredentials(id) as { token?: string } | undefined) ?? deployed?.credentials;
      const deployedUrl = deployed ? deployed.url : '';
      const url = !isBlank(body.url) ? normaliseServerUrl(body.url) : deployedUrl;

      let token: unknown = body.token;
      if (token === undefined || token === STORED_PASSWORD) {
        if (!stored?.token) return answer(400, { ok: false, status: 0, message: RED._('findface-server.test.no-token') });
        // The stored token only ever goes to the stored address.
        if (!deployed || url !== deployedUrl) return answer(400, { ok: false, status: 0, message: RED._('findface-server.test.token-for-other-url') });
        token = stored.token;
      }
      const timeout = parseServerTimeout(isBlank(body.timeout) ? deployed?.settings.timeout : body.timeout);
      const timeoutMs = timeout.ok ? timeout.value : TEST_TIMEOUT_MAX_MS;
      const parsed = parseServerConfig(
        {
          url,
          token,
          timeout: Math.min(timeoutMs || TEST_TIMEOUT_MAX_MS, TEST_TIMEOUT_MAX_MS),
          rejectUnauthorized: body.rejectUnauthorized ?? deployed?.settings.rejectUnauthorized ?? true,
          ca: body.ca !== undefined ? body.ca : deployed?.settings.ca,
        },
        userDir(RED),
      );
      if (!parsed.ok) return answer(400, { ok: false, status: 0, message: problemText(RED, 'findface-server', parsed.problem) });
      const client = new FindFaceClient(parsed.value);
      try {
        const cameras = await client.listCameras();
        answer(200, { ok: true, status: 200, message: RED._('findface-server.test.ok', { count: cameras.length }), cameras: cameras.length });
      } catch (error) {
        const status = isFindFaceApiError(error) ? (error.status ?? 0) : 0;
        answer(200, { ok: false, status, message: (error as Error)?.message ?? String(error) });
      } finally {
        client.destroy();
      }
    } catch (error) {
      answer(500, { ok: false, status: 0, message: (error as Error)?.message ?? String(error) });
    }
  });
}
