// findface-webhook ("webhook"): FindFace's WebhookUpdaterService as a node.
// Every input's `property` (msg.payload by default, shell/event-property.ts) is appended to a durable on-disk queue
// (<userDir>/findface-queues/<nodeFileName(id)>, lib/delivery/queue/queue-dir.ts)
// and delivered in batches by the retrying sender (lib/delivery/sender.ts:
// maxInFlight POSTs in flight, one by default; FindFace's backoff). With
// `queue: "redis"` the queue is a stream in the Redis of a findface-redis
// config node, shared by several Node-RED instances; the one holding the
// delivery lease runs the sender (lib/redis/shared-delivery.ts). The
// properties are parsed by lib/delivery/webhook-config.ts; this file wires
// queue, sender, transport, status, outputs and logs.
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow } from 'node-red';
import { acknowledge } from '../lib/event/acknowledgement';
import { absoluteUrl, httpNodeSettingsOf } from '../lib/delivery/target-url';
import { EventQueue } from '../lib/delivery/queue/queue';
import { DeliveredReport, GivenUpReport, Sender } from '../lib/delivery/sender';
import type { RedisHandle } from '../redis/redis-handle';
import { parseWebhookConfig, WebhookConfig, WebhookProperties } from '../lib/delivery/webhook-config';
import { WebhookHttp } from '../lib/delivery/http-transport';
import { parseSecrets } from '../lib/common/standard-webhooks';
import type { Problem } from '../lib/common/parsed';
import { infoLines } from '../shell/settings';
import { ThrottledStatus } from '../shell/status';
import { DeferredLog } from '../lib/common/deferred-log';
import { asError, Done, problemText, refuseEveryInput } from '../shell/node-errors';
import { EventProperty, EventPropertyDef, parseEventProperty, readEventProperty } from '../shell/event-property';
import { webhookStatus, WebhookView } from './webhook-status';
import { registerTestEndpoint, WebhookNode } from './test-endpoint';
import { openDelivery, WebhookDelivery } from './webhook-queue';

type WebhookDef = NodeDef & WebhookProperties & EventPropertyDef;

interface WebhookCredentials {
  user?: string;
  password?: string;
  token?: string;
  /** Standard Webhooks secrets (whsec_…), space-separated: the request is signed with each. */
  signingSecrets?: string;
}

/** How long a close (redeploy, stop) lets a request in flight finish before aborting it. */
const CLOSE_GRACE_MS = 2000;

export = function (RED: NodeAPI) {
  const logsInfo = infoLines(RED);

  function FindFaceWebhookNode(this: Node<WebhookCredentials> & WebhookNode, def: WebhookDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const parsed = parseWebhookConfig(def);
    // The title names the node in the log and the debug sidebar (which show node.name); older flows have only a name.
    if (typeof def.title === 'string' && def.title.trim()) node.name = def.title.trim();
    // Read-only here, so a flow or global context key may hold what to send as well as a message property.
    const property = parseEventProperty(RED.util, def, ['msg', 'flow', 'global']);
    // A node that never opened a queue never deletes one: it may be another node's (issue: ids `a/b` and `a_b`).
    const refuse = (problem: Problem) =>
      refuseEveryInput(node, `${RED._('findface-webhook.status.config-error')}: ${problemText(RED, 'findface-webhook', problem)}`);
    if (!parsed.ok) return void refuse(parsed.problem);
    if (!property.ok) return void refuse(property.problem);
    let shared: RedisHandle | undefined;
    if (parsed.value.queue === 'redis') {
      const id = parsed.value.redis ?? '';
      shared = (RED.nodes.getNode(id) as unknown as RedisHandle | null) ?? undefined;
      const problem = !shared
        ? RED._('findface-webhook.errors.redis-missing', { id })
        : shared.configError
          ? RED._('findface-webhook.errors.redis-config', { error: shared.configError })
          : undefined;
      // Never a silent local queue instead of the shared one: the other instances would not see it.
      if (problem) return void refuseEveryInput(node, `${RED._('findface-webhook.status.config-error')}: ${problem}`);
    }
    startWebhook(node, parsed.value, property.value, shared);
  }

  function startWebhook(node: Node<WebhookCredentials> & WebhookNode, config: WebhookConfig, property: EventProperty, shared: RedisHandle | undefined): void {
    const { title } = config;
    const credentials: WebhookCredentials = node.credentials ?? {};
    const http = new WebhookHttp({
      // A path means this Node-RED's own httpNode (its port, host, TLS and httpNodeRoot).
      url: absoluteUrl(config.url, httpNodeSettingsOf(RED)),
      authType: config.authType,
      headers: config.headers,
      credentials,
      signingSecrets: parseSecrets(credentials.signingSecrets),
      connections: config.maxInFlight,
    });
    node.testRequest = { url: http.url, headers: (body) => http.headers(body) };

    const view: WebhookView = { active: config.active, queueFull: false };
    const status = new ThrottledStatus(node, () => webhookStatus(RED, view));
    const lines = new DeferredLog(node);
    let closed = false;
    let sender: Sender | undefined;
    /** view.queueFull is set when an append is refused for lack of room, and cleared by a later message that fits. */
    let inputSeq = 0;
    let queueFullSeq = 0;
    /** Inputs whose append has not settled; close waits for them before stopping the sender. */
    let unsettled = 0;
    let onAllSettled: (() => void) | undefined;
    const settleOne = () => {
      if (--unsettled === 0) onAllSettled?.();
    };

    const onDelivered = (report: DeliveredReport) => node.send([{ topic: title, payload: report } as NodeMessage, null]);
    const onGivenUp = (report: GivenUpReport) => {
      const error: Record<string, unknown> = { message: report.error.message, code: report.error.code };
      if (report.error.statusCode !== undefined) error.statusCode = report.error.statusCode;
      node.send([null, { topic: title, payload: report.payloads, error, ids: report.ids, attempts: report.attempts } as NodeMessage]);
    };
    const onError = (error: Error & { code?: string }) => {
      lines.flush();
      node.error(error.message, {
        topic: title,
        payload: { code: error.code ?? 'ERROR', url: config.url, queued: delivery.queue()?.length ?? 0 },
      } as NodeMessage);
    };

    const makeSender = (opened: EventQueue) =>
      new Sender({
        queue: opened,
        transport: http.transport,
        title,
        batchSize: config.batchSize,
        lingerMs: config.lingerMs,
        timeoutMs: config.timeoutMs,
        maxInFlight: config.maxInFlight,
        backoff: config.backoff,
        maxAttempts: config.maxAttempts,
        successCodes: config.successCodes,
        hooks: {
          // FindFace's per-event lines at info: off with logEvents false, and not made at all when no logger prints info.
          log: config.logEvents && logsInfo ? (line) => lines.log(line) : undefined,
          warn: (line) => lines.warn(line),
          status: () => status.request(),
          delivered: onDelivered,
          givenUp: onGivenUp,
          error: onError,
        },
      });

    const delivery: WebhookDelivery = config.active
      ? openDelivery(RED, node, { config, shared, view, requestStatus: () => status.request(), makeSender, closed: () => closed })
      : { ready: Promise.resolve(undefined), queue: () => undefined, stop: (started, graceMs) => started.stop(graceMs), unwatch: () => undefined };
    const ready = delivery.ready;
    void ready.then((started) => (sender = started));
    status.now();

    // Every input settles a waiting source's acknowledgement (lib/event/acknowledgement.ts) with done.
    node.on('input', (msg: NodeMessageInFlow, _send: unknown, nodeDone: Done) => {
      const done = (error?: Error) => {
        // Node-RED logs an error no Catch node takes: after the lines made before it.
        if (error) lines.flush();
        acknowledge(msg, error);
        nodeDone(error);
      };
      // Switched off on purpose: not queued, as the contract says, and nothing to retry.
      if (!config.active) return done();
      if (closed) return done(new Error(RED._('findface-webhook.errors.closed')));
      readEventProperty(RED.util, node, msg, property, (error, value) => {
        if (error) return done(error);
        // A context store may answer after a close began.
        if (closed) return done(new Error(RED._('findface-webhook.errors.closed')));
        if (value === undefined) return done(new Error(RED._('findface-webhook.errors.no-event', { property: property.label })));
        enqueue(value, done);
      });
    });

    const enqueue = (value: unknown, done: Done) => {
      // An array (e.g. the filter's array output) contributes its elements.
      const items = Array.isArray(value) ? value : [value];
      const seq = ++inputSeq;
      unsettled++;
      const appended = sender
        ? sender.enqueue(items)
        : ready.then((opened) => {
            if (!opened) throw new Error(view.queueError ?? RED._('findface-webhook.errors.closed'));
            return opened.enqueue(items);
          });
      appended.then(
        () => {
          if (view.queueFull && seq > queueFullSeq) {
            view.queueFull = false;
            status.request();
          }
          settleOne();
          done();
        },
        (error: unknown) => {
          const err = asError(error);
          if ((err as { code?: unknown }).code === 'QUEUE_FULL') {
            view.queueFull = true;
            queueFullSeq = Math.max(queueFullSeq, seq);
            status.request();
          }
          settleOne();
          done(err);
        },
      );
    };

    node.on('close', (removed: boolean, done: () => void) => {
      closed = true;
      status.close();
      delivery.unwatch();
      const finish = async () => {
        const started = await ready;
        if (unsettled > 0) await new Promise<void>((resolve) => (onAllSettled = resolve));
        if (started) await delivery.stop(started, Math.min(config.timeoutMs || CLOSE_GRACE_MS, CLOSE_GRACE_MS));
        // Only a queue this node opened is deleted: one that failed to open ("already open") belongs to another node.
        const queue = delivery.queue();
        if (queue) await (removed ? queue.destroy() : queue.close());
      };
      finish()
        .catch((error: unknown) => {
          lines.flush();
          node.error(RED._('findface-webhook.errors.close', { error: asError(error).message }));
        })
        .finally(() => {
          lines.flush();
          http.destroy();
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
  registerTestEndpoint(RED);
};
