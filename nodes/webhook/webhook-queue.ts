// Where the webhook node's queue lives and who delivers it: the durable queue
// on this machine's disk (<userDir>/findface-queues/…, opened in the
// background, a queue of an earlier version's name moved first), or, with
// `queue: "redis"`, a stream in a findface-redis config node's Redis, delivered
// by whichever instance holds the lease (lib/redis/shared-delivery.ts).
import type { Node, NodeAPI } from 'node-red';
import { describeCorrupt, DurableQueue } from '../lib/delivery/queue/durable-queue';
import { adoptLegacyQueueDir, queueDirFor, queuesRoot } from '../lib/delivery/queue/queue-dir';
import type { EventQueue } from '../lib/delivery/queue/queue';
import type { Sender } from '../lib/delivery/sender';
import type { WebhookConfig } from '../lib/delivery/webhook-config';
import { SharedDelivery } from '../lib/redis/shared-delivery';
import type { RedisHandle } from '../redis/redis-handle';
import { userDir } from '../shell/settings';
import { asError } from '../shell/node-errors';
import type { WebhookView } from './webhook-status';

export interface WebhookDelivery {
  /** The started sender, once the queue is open; undefined when it could not open or the node closed first. */
  ready: Promise<Sender | undefined>;
  /** The queue once open (for counts, close and destroy). */
  queue(): EventQueue | undefined;
  stop(started: Sender, graceMs: number): Promise<void>;
  /** Stops following the Redis connection (nothing on disk). */
  unwatch(): void;
}

export interface DeliveryOptions {
  config: WebhookConfig;
  shared: RedisHandle | undefined;
  view: WebhookView;
  requestStatus: () => void;
  makeSender: (queue: EventQueue) => Sender;
  closed: () => boolean;
}

export function openDelivery(RED: NodeAPI, node: Node, options: DeliveryOptions): WebhookDelivery {
  return options.shared ? sharedDelivery(node, options.shared, options) : diskDelivery(RED, node, options);
}

function sharedDelivery(node: Node, redis: RedisHandle, { config, view, requestStatus, makeSender }: DeliveryOptions): WebhookDelivery {
  const sharedView = { connected: false, holding: false } as NonNullable<WebhookView['shared']>;
  view.shared = sharedView;
  const delivery = new SharedDelivery({
    redis: redis.redis,
    prefix: redis.key('webhook', node.id),
    owner: redis.instanceId,
    leaseMs: redis.settings.leaseMs,
    maxEvents: config.queueMaxEvents,
    maxBytes: config.queueMaxBytes,
    subscribe: (channel, listener) => redis.subscribe(channel, listener),
    makeSender,
    onHolder: (holding, holder) => {
      sharedView.holding = holding;
      sharedView.holder = holder;
      requestStatus();
    },
    // Lease and refresh failures while Redis is away: the status says so (the config node logs the outage once).
    onError: (error) => {
      sharedView.error = error.message;
      requestStatus();
    },
  });
  const unwatch = redis.watchConnection((connected, error) => {
    sharedView.connected = connected;
    if (error) sharedView.error = error;
    requestStatus();
  });
  view.sender = delivery.sender;
  delivery.start();
  return {
    ready: Promise.resolve(delivery.sender),
    queue: () => delivery.queue,
    stop: (_started, graceMs) => delivery.stop(graceMs),
    unwatch,
  };
}

function diskDelivery(RED: NodeAPI, node: Node, { config, view, requestStatus, makeSender, closed }: DeliveryOptions): WebhookDelivery {
  const dir = userDir(RED);
  const queueDir = queueDirFor(dir, node.id);
  let queue: EventQueue | undefined;
  const ready = adoptLegacyQueueDir(dir, node.id)
    .then((adopted) => {
      if (adopted.moved) node.log(`Queue: moved ${adopted.from} to ${adopted.to}`);
      return DurableQueue.open({
        dir: queueDir,
        maxEvents: config.queueMaxEvents,
        maxBytes: config.queueMaxBytes,
        onCorrupt: (record) => node.warn(describeCorrupt(record)),
        deleteWithin: queuesRoot(dir),
      });
    })
    .then(
      (opened: EventQueue) => {
        queue = opened;
        if (closed()) return undefined;
        const sender = makeSender(opened);
        view.sender = sender;
        sender.start();
        requestStatus();
        return sender;
      },
      (error: unknown) => {
        view.queueError = asError(error).message;
        node.error(RED._('findface-webhook.errors.queue-open', { dir: queueDir, error: view.queueError }));
        requestStatus();
        return undefined;
      },
    );
  return { ready, queue: () => queue, stop: (started, graceMs) => started.stop(graceMs), unwatch: () => undefined };
}
