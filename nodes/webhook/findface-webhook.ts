// findface-webhook ("webhook"): FindFace's WebhookUpdaterService as a node.
// Every input msg.payload is appended to a durable on-disk queue
// (<userDir>/findface-queues/<node id>) and delivered in batches by the
// retrying sender in lib/sender.ts (one POST in flight, FindFace's backoff).
// This file is the adapter: config, queue life cycle, HTTP transport, status,
// outputs and logs.
import http from 'http';
import https from 'https';
import os from 'os';
import path from 'path';
import axios from 'axios';
import type { Request, Response } from 'express';
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow } from 'node-red';
import { acknowledge } from '../lib/event/acknowledgement';
import { backoffProblem, BackoffOptions } from '../lib/delivery/backoff';
import { describeCorrupt, DurableQueue } from '../lib/delivery/queue/durable-queue';
import { adoptLegacyQueueDir, queueDirFor } from '../lib/delivery/queue/queue-dir';
import { infoLogged } from '../lib/common/log-level';
import { EventQueue } from '../lib/delivery/queue/queue';
import { sampleEvent } from '../lib/event/sample-event';
import { DeliveredReport, GivenUpReport, parseSuccessCodes, Sender, SenderStatus, Transport } from '../lib/delivery/sender';
import { parseSecrets, signatureHeaders } from '../lib/common/standard-webhooks';
import { parseHeaders } from '../lib/delivery/headers';
import { absoluteUrl, httpNodeSettingsOf } from '../lib/delivery/target-url';

interface WebhookDef extends NodeDef {
  title: string;
  url: string;
  active: boolean | string;
  batchSize: number | string;
  lingerMs: number | string;
  timeout: number | string;
  backoffBase: number | string;
  backoffFactor: number | string;
  backoffMax: number | string;
  maxAttempts: number | string;
  successCodes: string;
  queueMaxEvents: number | string;
  queueMaxMb: number | string;
  /** "none" | "basic" | "bearer": credentials user/password or token. */
  authType: string;
  /** Extra request headers as a JSON object string (not for secrets: those go in the credentials). */
  headers: string;
}

interface WebhookCredentials {
  user?: string;
  password?: string;
  token?: string;
  /** Standard Webhooks secrets (whsec_…), space-separated: the request is signed with each. */
  signingSecrets?: string;
}

const AUTH_TYPES = ['none', 'basic', 'bearer'];

/** The Authorization header from the credentials. */
function authorizationHeader(authType: string, credentials: WebhookCredentials): string | undefined {
  if (authType === 'basic') return `Basic ${Buffer.from(`${credentials.user ?? ''}:${credentials.password ?? ''}`).toString('base64')}`;
  if (authType === 'bearer') return `Bearer ${credentials.token ?? ''}`;
  return undefined;
}

const DEFAULTS = {
  batchSize: 1,
  lingerMs: 0,
  timeout: 10000,
  backoffBase: 0.1,
  backoffFactor: 2.7,
  backoffMax: 100,
  maxAttempts: 10,
  successCodes: '200',
  queueMaxEvents: 1000000,
  queueMaxMb: 256,
};

const STATUS_INTERVAL_MS = 500;
/** How long a close (redeploy, stop) lets a request in flight finish before aborting it. */
const CLOSE_GRACE_MS = 2000;
/** Answers larger than this are cut off (the sender only needs the status). */
const MAX_RESPONSE_BYTES = 10 * 1024 * 1024;

function isBlank(value: unknown): boolean {
  return value === undefined || value === null || (typeof value === 'string' && value.trim() === '');
}

/** A number property; blank means the default. */
function numberProp(
  config: WebhookDef,
  key: keyof typeof DEFAULTS & keyof WebhookDef,
  min: number,
  integer: boolean,
  problems: string[],
): number {
  const raw = config[key];
  const fallback = DEFAULTS[key] as number;
  if (isBlank(raw)) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || (integer && !Number.isInteger(value))) {
    problems.push(`${key} must be ${integer ? 'an integer' : 'a number'} ≥ ${min} (got "${String(raw)}")`);
    return fallback;
  }
  return value;
}

function urlProblem(url: string): string | null {
  if (isBlank(url)) return 'url is empty';
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return `url must be http:// or https:// (got "${url}")`;
  } catch {
    return `url is not a URL: "${url}"`;
  }
  return null;
}

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function short(text: string, max = 60): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

export = function (RED: NodeAPI) {
  const logInfo = infoLogged((RED.settings as unknown as { logging?: unknown }).logging);
  function FindFaceWebhookNode(this: Node<WebhookCredentials>, config: WebhookDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    const problems: string[] = [];
    const text = (key: 'title' | 'url' | 'name') => {
      const value = config[key];
      if (value === undefined || value === null) return '';
      if (typeof value !== 'string') {
        problems.push(`${key} must be text (got ${JSON.stringify(value)})`);
        return '';
      }
      return value.trim();
    };
    const title = text('title') || text('name') || node.id;
    const url = absoluteUrl(text('url'), httpNodeSettingsOf(RED));
    const activeValues: Record<string, boolean> = { true: true, false: false };
    const active = config.active === undefined ? true : activeValues[String(config.active)];
    if (active === undefined) problems.push(`active must be true or false (got ${JSON.stringify(config.active)})`);
    const authType = isBlank(config.authType) ? 'none' : String(config.authType);
    if (!AUTH_TYPES.includes(authType)) problems.push(`authType must be one of ${AUTH_TYPES.join(', ')} (got ${JSON.stringify(config.authType)})`);
    const extraHeaders = parseHeaders(config.headers);
    if (!extraHeaders.ok) problems.push(RED._(`findface-webhook.errors.headers.${extraHeaders.problem.code}`, { ...extraHeaders.problem }));
    const credentials: WebhookCredentials = node.credentials ?? {};
    const signingSecrets = parseSecrets(credentials.signingSecrets);
    const authorization = authorizationHeader(authType, credentials);
    const batchSize = Math.max(1, numberProp(config, 'batchSize', 1, true, problems));
    const lingerMs = numberProp(config, 'lingerMs', 0, false, problems);
    const timeout = numberProp(config, 'timeout', 0, false, problems);
    const backoff: BackoffOptions = {
      base: numberProp(config, 'backoffBase', 0, false, problems),
      factor: numberProp(config, 'backoffFactor', 1, false, problems),
      max: numberProp(config, 'backoffMax', 0, false, problems),
    };
    const maxAttempts = numberProp(config, 'maxAttempts', 0, true, problems);
    const queueMaxEvents = numberProp(config, 'queueMaxEvents', 1, true, problems);
    const queueMaxMb = numberProp(config, 'queueMaxMb', 0, false, problems);
    let successCodes: Set<number> = new Set([200]);
    try {
      successCodes = parseSuccessCodes(config.successCodes);
    } catch (error) {
      problems.push((error as Error).message);
    }
    const backoffIssue = backoffProblem(backoff);
    if (backoffIssue) problems.push(backoffIssue);
    if (active) {
      const issue = urlProblem(url);
      if (issue) problems.push(issue);
    }
    const configProblem = problems.length ? problems.join('; ') : undefined;

    const userDir = ((RED.settings as unknown as { userDir?: string }).userDir) || path.join(os.homedir(), '.node-red');
    const queueDir = queueDirFor(userDir, node.id);

    let closed = false;
    let queue: EventQueue | undefined;
    let sender: Sender | undefined;
    let queueError: string | undefined;
    /** Set when an append is refused for lack of room; cleared by a later message that fits. */
    let queueFull = false;
    let inputSeq = 0;
    let queueFullSeq = 0;
    /** Inputs whose append has not settled; close waits for them before stopping the sender. */
    let unsettled = 0;
    let onAllSettled: (() => void) | undefined;
    const settleOne = () => {
      if (--unsettled === 0) onAllSettled?.();
    };

    // ---- status, redrawn at most every STATUS_INTERVAL_MS --------------------------------------
    let statusTimer: NodeJS.Timeout | undefined;
    let statusDirty = false;
    const t = (key: string, values?: Record<string, string | number>) => RED._(`findface-webhook.status.${key}`, values);

    const renderStatus = () => {
      if (closed) return;
      if (configProblem) {
        node.status({ fill: 'red', shape: 'ring', text: short(`${t('config-error')}: ${configProblem}`) });
        return;
      }
      if (!active) {
        node.status({ fill: 'grey', shape: 'ring', text: t('inactive') });
        return;
      }
      if (queueError) {
        node.status({ fill: 'red', shape: 'ring', text: short(`${t('queue-error')}: ${queueError}`) });
        return;
      }
      if (!sender) {
        node.status({ fill: 'grey', shape: 'dot', text: t('opening') });
        return;
      }
      const s: SenderStatus = sender.status;
      const count = s.depth;
      const lastError = s.lastError ? short(s.lastError.message, 40) : '';
      if (s.state === 'gone') {
        node.status({ fill: 'red', shape: 'ring', text: t('gone', { error: lastError, count }) });
      } else if (queueFull) {
        node.status({ fill: 'red', shape: 'dot', text: t('full', { count }) });
      } else if (s.state === 'backoff') {
        node.status({ fill: 'yellow', shape: 'ring', text: t('backoff', { seconds: (s.backoffSeconds ?? 0).toFixed(1), count, error: lastError }) });
      } else if (s.state === 'sending' || s.state === 'lingering') {
        node.status({ fill: 'blue', shape: 'dot', text: t('sending', { count }) });
      } else if (lastError) {
        node.status({ fill: 'yellow', shape: 'dot', text: t('idle-error', { count, error: lastError }) });
      } else {
        node.status({ fill: 'green', shape: 'dot', text: t('idle', { count }) });
      }
    };

    const requestStatus = () => {
      if (closed) return;
      if (statusTimer) {
        statusDirty = true;
        return;
      }
      renderStatus();
      statusTimer = setTimeout(() => {
        statusTimer = undefined;
        if (statusDirty) {
          statusDirty = false;
          requestStatus();
        }
      }, STATUS_INTERVAL_MS);
    };

    // ---- HTTP transport: axios POST, keep-alive agent of this node --------------------------------
    const httpAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 1 });
    const client = axios.create({
      httpAgent,
      httpsAgent,
      // Every answer is classified by the sender; redirects are failures (a POST must not become a GET).
      validateStatus: () => true,
      maxRedirects: 0,
      maxContentLength: MAX_RESPONSE_BYTES,
      maxBodyLength: Infinity,
      responseType: 'text',
      // The body is already JSON; axios must not parse or re-encode it (nor the answer).
      transformRequest: [(data: unknown) => data],
      transformResponse: [(data: unknown) => data],
    });
    const requestHeaders = (body: Buffer | string): Record<string, string> => {
      const headers: Record<string, string> = { ...(extraHeaders.ok ? extraHeaders.value : {}), 'Content-Type': 'application/json' };
      if (authorization) headers.Authorization = authorization;
      // Signed at each attempt: the timestamp is the attempt's, the id the batch's.
      if (signingSecrets.length) Object.assign(headers, signatureHeaders(signingSecrets, body, Date.now()));
      return headers;
    };
    (node as unknown as { testRequest: TestRequest }).testRequest = { url, headers: requestHeaders };
    const transport: Transport = async (body, signal) => {
      const response = await client.post(url, body, { signal, headers: requestHeaders(body) });
      return { status: response.status, statusText: response.statusText, headers: response.headers as Record<string, unknown> };
    };

    // ---- outputs and logs ---------------------------------------------------------------------
    const onDelivered = (report: DeliveredReport) => {
      node.send([{ topic: title, payload: report } as NodeMessage, null]);
    };
    const onGivenUp = (report: GivenUpReport) => {
      const error: Record<string, unknown> = { message: report.error.message, code: report.error.code };
      if (report.error.statusCode !== undefined) error.statusCode = report.error.statusCode;
      node.send([null, { topic: title, payload: report.payloads, error, ids: report.ids, attempts: report.attempts } as NodeMessage]);
    };
    const onError = (error: Error & { code?: string }) => {
      node.error(error.message, { topic: title, payload: { code: error.code ?? 'ERROR', url, queued: queue?.length ?? 0 } } as NodeMessage);
    };

    // ---- queue ----------------------------------------------------------------------------------
    let ready: Promise<Sender | undefined> = Promise.resolve(undefined);
    if (!configProblem && active) {
      // A queue of an earlier version (named by the id itself) moves to its new name first.
      ready = adoptLegacyQueueDir(userDir, node.id)
        .then((adopted) => {
          if (adopted.moved) node.log(`Queue: moved ${adopted.from} to ${adopted.to}`);
          return DurableQueue.open({
            dir: queueDir,
            maxEvents: queueMaxEvents,
            maxBytes: queueMaxMb > 0 ? Math.floor(queueMaxMb * 1024 * 1024) : undefined,
            onCorrupt: (record) => node.warn(describeCorrupt(record)),
          });
        })
        .then(
        (opened: EventQueue) => {
          queue = opened;
          if (closed) return undefined;
          sender = new Sender({
            queue: opened,
            transport,
            title,
            batchSize,
            lingerMs,
            timeoutMs: timeout,
            backoff,
            maxAttempts,
            successCodes,
            hooks: {
              // FindFace's per-event lines at info; not made at all when no logger prints info.
              log: logInfo ? (line) => node.log(line) : undefined,
              warn: (line) => node.warn(line),
              status: requestStatus,
              delivered: onDelivered,
              givenUp: onGivenUp,
              error: onError,
            },
          });
          sender.start();
          requestStatus();
          return sender;
        },
        (error: unknown) => {
          queueError = (error as Error).message ?? String(error);
          node.error(RED._('findface-webhook.errors.queue-open', { dir: queueDir, error: queueError }));
          requestStatus();
          return undefined;
        },
      );
    } else if (configProblem) {
      node.error(configProblem);
    }
    renderStatus();

    // Every input settles a waiting source's acknowledgement (see lib/acknowledgement.ts) with done.
    node.on('input', (msg: NodeMessageInFlow, _send: unknown, nodeDone: (err?: Error) => void) => {
      const done = (error?: Error) => {
        acknowledge(msg, error);
        nodeDone(error);
      };
      if (configProblem) {
        done(new Error(configProblem));
        return;
      }
      if (!active) {
        // Switched off on purpose: not queued, as the contract says, and nothing to retry.
        done();
        return;
      }
      if (closed) {
        done(new Error(RED._('findface-webhook.errors.closed')));
        return;
      }
      const payload = msg.payload;
      if (payload === undefined) {
        done(new Error(RED._('findface-webhook.errors.no-payload')));
        return;
      }
      // An array payload (e.g. the filter's array output) contributes its elements.
      const items = Array.isArray(payload) ? payload : [payload];
      const seq = ++inputSeq;
      unsettled++;
      const appended = sender
        ? sender.enqueue(items)
        : ready.then((s) => {
            if (!s) throw new Error(queueError ?? RED._('findface-webhook.errors.closed'));
            return s.enqueue(items);
          });
      appended.then(
        () => {
          if (queueFull && seq > queueFullSeq) {
            queueFull = false;
            requestStatus();
          }
          settleOne();
          done();
        },
        (error: unknown) => {
          const err = error instanceof Error ? error : new Error(String(error));
          if (errorCode(err) === 'QUEUE_FULL') {
            queueFull = true;
            queueFullSeq = Math.max(queueFullSeq, seq);
            requestStatus();
          }
          settleOne();
          done(err);
        },
      );
    });

    node.on('close', (removed: boolean, done: () => void) => {
      closed = true;
      if (statusTimer) clearTimeout(statusTimer);
      statusTimer = undefined;
      const finish = async () => {
        const s = await ready;
        if (unsettled > 0) await new Promise<void>((resolve) => (onAllSettled = resolve));
        if (s) await s.stop(Math.min(timeout || CLOSE_GRACE_MS, CLOSE_GRACE_MS));
        // Only a queue this node opened is deleted: one that failed to open ("already open") belongs to another node.
        if (queue) {
          if (removed) await queue.destroy();
          else await queue.close();
        }
      };
      finish()
        .catch((error: unknown) => node.error(RED._('findface-webhook.errors.close', { error: (error as Error).message ?? String(error) })))
        .finally(() => {
          httpAgent.destroy();
          httpsAgent.destroy();
          node.status({});
          done();
        });
    });
  }

  RED.nodes.registerType<Node<WebhookCredentials>, WebhookDef, unknown, WebhookCredentials>('findface-webhook', FindFaceWebhookNode, {
    credentials: {
      user: { type: 'text' },
      password: { type: 'password' },
      token: { type: 'password' },
      signingSecrets: { type: 'password' },
    },
  });

  // ---- "Send test event": the seed's sample event, posted once, answer shown in the dialog ------------
  RED.httpAdmin.post('/findface-webhook/:id/test', RED.auth.needsPermission('findface-webhook.write'), async (req: Request, res: Response) => {
    const body: Record<string, unknown> = req.body && typeof req.body === 'object' ? (req.body as Record<string, unknown>) : {};
    const deployed = RED.nodes.getNode(String(req.params.id)) as unknown as { testRequest?: TestRequest } | null;
    const target = typeof body.url === 'string' && body.url.trim() ? absoluteUrl(body.url.trim(), httpNodeSettingsOf(RED)) : undefined;
    const problem = target ? urlProblem(target) : deployed?.testRequest ? null : RED._('findface-webhook.test.no-url');
    if (problem) {
      res.status(400).json({ ok: false, message: problem });
      return;
    }
    const payload = JSON.stringify([sampleEvent]);
    // The deployed node's credentials and headers go only to the deployed node's own URL.
    const useDeployed = deployed?.testRequest && (!target || target === deployed.testRequest.url);
    const url = useDeployed ? deployed!.testRequest!.url : target!;
    const headers = useDeployed ? deployed!.testRequest!.headers(payload) : { 'Content-Type': 'application/json' };
    const started = performance.now();
    try {
      const response = await axios.post(url, payload, {
        headers,
        timeout: 10000,
        maxRedirects: 0,
        validateStatus: () => true,
        responseType: 'text',
        transformRequest: [(data: unknown) => data],
        transformResponse: [(data: unknown) => data],
        maxContentLength: 64 * 1024,
      });
      const answer = typeof response.data === 'string' ? response.data.slice(0, 500) : '';
      res.json({ ok: response.status === 200, status: response.status, statusText: response.statusText, body: answer, latencyMs: Math.round(performance.now() - started) });
    } catch (error) {
      const err = error as Error & { code?: string };
      res.json({ ok: false, status: 0, message: [err.code, err.message].filter(Boolean).join(' '), latencyMs: Math.round(performance.now() - started) });
    }
  });
};

interface TestRequest {
  url: string;
  headers(body: Buffer | string): Record<string, string>;
}
