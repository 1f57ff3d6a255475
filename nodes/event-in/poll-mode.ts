// Poll mode: events read from a FindFace server (lib/findface/poller.ts),
// never one twice; the cursor is kept in <userDir>/findface-cursors. Any input
// polls at once (also the way to retry at once after a 401, once the token is fixed).
// With a findface-redis config node (`redis`) the cursor is kept in Redis and
// only the instance holding the poll lease polls (lib/redis/leased-job.ts);
// the others show which instance does.
import { LeasedJob } from '../lib/redis/leased-job';
import { RedisCursorStore } from '../lib/redis/shared-state';
import { short } from '../lib/common/values';
import path from 'path';
import type { NodeMessage, NodeStatus } from 'node-red';
import type { FaceEvent } from '../lib/event/event';
import { FileCursorStore, Poller, PollerStatus } from '../lib/findface/poller';
import { compilePollSelection } from '../lib/findface/poll-filters';
import { adoptLegacyFile, childPath, nodeFileName } from '../lib/common/node-files';
import type { PollModeConfig } from '../lib/source/event-in-config';
import { findFaceServer } from '../shell/config-node';
import { userDir } from '../shell/settings';
import { emitEvents, SourceContext, SourceMode, SourceModeFailure } from './source-mode';

const FILLS: Partial<Record<PollerStatus['state'], NodeStatus['fill']>> = {
  waiting: 'green',
  polling: 'blue',
  backoff: 'yellow',
  idle: 'grey',
  stopped: 'grey',
};

export function pollMode(ctx: SourceContext, config: PollModeConfig): SourceMode | SourceModeFailure {
  const { RED, node } = ctx;
  const server = findFaceServer(RED, config.server);
  if (!server) return { error: RED._('findface-event-in.errors.no-server') };
  if (server.configError || !server.client) return { error: RED._('findface-event-in.errors.server-config', { error: server.configError ?? '' }) };
  const cursorsDir = path.join(userDir(RED), 'findface-cursors');
  const cursorFile = childPath(cursorsDir, `${nodeFileName(node.id)}.json`);
  adoptLegacyFile(cursorsDir, `${node.id.replace(/[^A-Za-z0-9._-]/g, '_')}.json`, cursorFile); // the name earlier versions used
  const shared = ctx.shared;
  const leaseKey = shared?.key('poll', node.id, 'lease');
  let job: LeasedJob | undefined;
  const store =
    shared && leaseKey
      ? new RedisCursorStore(shared.redis, shared.key('poll', node.id, 'cursor'), { key: leaseKey, value: () => job?.leaseValue })
      : new FileCursorStore(cursorFile);
  const sharedView = { holding: false, holder: undefined as string | undefined, connected: true, error: undefined as string | undefined };
  // The server may ignore a filter: what the event shows is checked again before it is emitted.
  const groupsLease = 'camera_groups' in config.filters ? server.acquireCameraGroups() : undefined;
  const selection = compilePollSelection(config.selection, (camera) => groupsLease?.groups.groupOf(camera));
  let current: PollerStatus | undefined;
  let lastReported = '';
  const client = server.client;
  const makePoller = () =>
    new Poller({
      select: (event) => selection.failing(event),
      source: client,
      store,
      sourceKey: server.url,
      intervalMs: config.intervalMs,
      filters: config.filters,
      startAt: config.startAt,
      onEvent: (event) => emitEvents(ctx, [server.absolutise(event as FaceEvent & Record<string, unknown>)], 'poll'),
      onStatus: (status) => {
        current = status;
        // An auth or configuration failure halts polling: Catch nodes hear of each new one (node.error needs a message for that).
        if (status.state === 'halted' && status.error && status.error.message !== lastReported) {
          lastReported = status.error.message;
          node.error(status.error.message, { topic: 'findface/poll', payload: { error: status.error, server: server.url } } as NodeMessage);
        }
        ctx.statusChanged();
      },
      onWarning: (message) => node.warn(message),
    });
  let poller: Poller | undefined;
  let unwatch: (() => void) | undefined;
  if (shared && leaseKey) {
    job = new LeasedJob({
      redis: shared.redis,
      key: leaseKey,
      owner: shared.instanceId,
      ttlMs: shared.settings.leaseMs,
      run: () => {
        const running = makePoller();
        poller = running;
        running.start();
        return async () => {
          if (poller === running) poller = undefined;
          await running.stop();
        };
      },
      onHolder: (holding, holder) => {
        sharedView.holding = holding;
        sharedView.holder = holder;
        ctx.statusChanged();
      },
      onError: (error) => {
        sharedView.error = error.message;
        ctx.statusChanged();
      },
    });
    unwatch = shared.watchConnection((connected, error) => {
      sharedView.connected = connected;
      if (error) sharedView.error = error;
      ctx.statusChanged();
    });
    job.start();
  } else {
    poller = makePoller();
    poller.start();
  }

  return {
    status: () => {
      if (shared && !sharedView.connected && sharedView.error !== undefined) {
        return { fill: 'red', shape: 'ring', text: RED._('findface-redis.status.redis-down', { error: short(sharedView.error, 16) }) };
      }
      if (shared && !sharedView.holding) {
        const holder = sharedView.holder;
        return {
          fill: 'grey',
          shape: 'ring',
          text: holder ? RED._('findface-redis.status.standby', { holder: short(holder, 24) }) : RED._('findface-redis.status.standby-nobody'),
        };
      }
      const status = current ?? { state: 'idle', emitted: 0, waitMs: undefined, error: undefined };
      const count = status.emitted;
      const t = (key: string, values?: Record<string, string | number>) => RED._(`findface-event-in.status.poll.${key}`, values);
      if (status.state === 'halted') {
        const text = status.error?.kind === 'auth' ? t('auth', { status: status.error.status ?? '' }) : t('halted');
        return { fill: 'red', shape: 'ring', text };
      }
      const seconds = ((status.waitMs ?? 0) / 1000).toFixed(1);
      return { fill: FILLS[status.state] ?? 'grey', shape: 'dot', text: t(status.state, { count, seconds }) };
    },
    input(_msg, done) {
      poller?.trigger();
      done();
    },
    async stop(removed) {
      unwatch?.();
      if (job) await job.stop();
      else await poller?.stop();
      groupsLease?.release();
      // A cursor in Redis stays for the instances that still run the node.
      if (removed && store instanceof FileCursorStore) await store.remove();
    },
  };
}
