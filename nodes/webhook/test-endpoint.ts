// "Send test event" in the webhook dialog: the seed's sample event, posted
// once; the answer is shown in the dialog. The deployed node's credentials and
// headers go only to the deployed node's own URL.
import type { Request, Response } from 'express';
import type { Node, NodeAPI } from 'node-red';
import { rawHttpClient } from '../lib/common/raw-http';
import { sampleEvent } from '../lib/event/sample-event';
import { webhookUrlProblem } from '../lib/delivery/webhook-config';
import { absoluteUrl, httpNodeSettingsOf } from '../lib/delivery/target-url';
import { problemText } from '../shell/node-errors';

/** What a deployed webhook node offers the endpoint. */
export interface TestRequest {
  url: string;
  headers(body: Buffer | string): Record<string, string>;
}

export type WebhookNode = Node & { testRequest?: TestRequest };

const testClient = rawHttpClient({ timeoutMs: 10000, maxResponseBytes: 64 * 1024 });

export function registerTestEndpoint(RED: NodeAPI): void {
  RED.httpAdmin.post('/findface-webhook/:id/test', RED.auth.needsPermission('findface-webhook.write'), async (req: Request, res: Response) => {
    const body: Record<string, unknown> = req.body && typeof req.body === 'object' ? (req.body as Record<string, unknown>) : {};
    const node = RED.nodes.getNode(String(req.params.id)) as WebhookNode | null;
    const deployed = node?.type === 'findface-webhook' ? node.testRequest : undefined;
    const given = typeof body.url === 'string' && body.url.trim() ? body.url.trim() : undefined;
    const urlIssue = given ? webhookUrlProblem(given) : null;
    // A path means this Node-RED's own httpNode, as for the deployed node.
    const target = given && !urlIssue ? absoluteUrl(given, httpNodeSettingsOf(RED)) : given;
    const problem = urlIssue ? problemText(RED, 'findface-webhook', urlIssue) : target || deployed ? null : RED._('findface-webhook.test.no-url');
    if (problem) {
      res.status(400).json({ ok: false, message: problem });
      return;
    }
    const payload = JSON.stringify([sampleEvent]);
    const useDeployed = deployed && (!target || target === deployed.url) ? deployed : undefined;
    const url = useDeployed ? useDeployed.url : (target as string);
    const headers = useDeployed ? useDeployed.headers(payload) : { 'Content-Type': 'application/json' };
    const started = performance.now();
    try {
      const response = await testClient.post(url, payload, { headers });
      const answer = typeof response.data === 'string' ? response.data.slice(0, 500) : '';
      res.json({
        ok: response.status === 200,
        status: response.status,
        statusText: response.statusText,
        body: answer,
        latencyMs: Math.round(performance.now() - started),
      });
    } catch (error) {
      const err = error as Error & { code?: string };
      res.json({ ok: false, status: 0, message: [err.code, err.message].filter(Boolean).join(' '), latencyMs: Math.round(performance.now() - started) });
    }
  });
}
