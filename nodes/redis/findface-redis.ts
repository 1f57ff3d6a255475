// findface-redis (config): a Redis server shared by several Node-RED
// instances (webhook queue, poll cursor, repeats, door cooldowns). Settings
// are checked by lib/redis/redis-config.ts; the password and ACL user are
// credentials. One command connection and one subscriber connection per
// config node, both reconnecting by themselves.
import os from 'os';
import Redis, { RedisOptions } from 'ioredis';
import { commandConnectionOptions, subscriberConnectionOptions } from '../lib/redis/client-options';
import type { Node, NodeAPI, NodeDef } from 'node-red';
import { parseRedisSettings, RedisDef, RedisSettings } from '../lib/redis/redis-config';
import type { RedisHandle } from './redis-handle';

interface FindFaceRedisDef extends NodeDef, RedisDef {
  tls?: string;
}

interface RedisCredentials {
  username?: string;
  password?: string;
}

interface TlsConfigNode {
  addTLSOptions(options: Record<string, unknown>): Record<string, unknown>;
}

/**
 * Redis replays its append-only file as the default user, and before the fix
 * of redis/redis#14545 it drops (with only a line in its own log) every
 * replayed MULTI/EXEC that user may not run: every queue append of this
 * package (a Lua script with several writes). Asks Redis, once per deploy,
 * whether the default user may run the queue's writes; resolves with Redis's
 * reason when it may not, or undefined (allowed, or not ours to ask: a user
 * without ACL rights, a Redis before 7.0).
 */
async function warnIfReplayDrops(redis: Redis, prefix: string): Promise<string | undefined> {
  try {
    const answer = await redis.call('ACL', 'DRYRUN', 'default', 'XADD', `${prefix}:webhook:events`, '*', 'e', '{}');
    return answer === 'OK' ? undefined : String(answer);
  } catch {
    return undefined;
  }
}

/** How long a close waits for Redis to answer QUIT before it drops the connection. */
const CLOSE_QUIT_MS = 1000;
const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

export = function (RED: NodeAPI) {
  function FindFaceRedisNode(this: Node<RedisCredentials>, config: FindFaceRedisDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    const parsed = parseRedisSettings(config);
    const handle = node as unknown as RedisHandle & { configError?: string; settings: RedisSettings };
    if (!parsed.ok) {
      Object.assign(handle, { configError: RED._(`findface-redis.errors.${parsed.problem.code}`, { value: parsed.problem.value ?? '' }) });
      node.error(handle.configError);
      return;
    }
    const settings = parsed.value;
    const options: RedisOptions = commandConnectionOptions(node.credentials ?? {});
    const tlsNode = config.tls ? (RED.nodes.getNode(config.tls) as unknown as TlsConfigNode | null) : null;
    if (config.tls && !tlsNode) {
      // Never a plain connection where TLS was asked for.
      Object.assign(handle, { configError: RED._('findface-redis.errors.no-tls-config', { id: config.tls }) });
      node.error(handle.configError);
      return;
    }
    if (tlsNode) options.tls = tlsNode.addTLSOptions({}) as RedisOptions['tls'];
    else if (settings.url.startsWith('rediss:')) options.tls = {};
    const redis = new Redis(settings.url, options);
    const subscriber = new Redis(settings.url, subscriberConnectionOptions(options));
    const listeners = new Map<string, Set<() => void>>();
    const watchers = new Set<(connected: boolean, error?: string) => void>();
    let connected = false;
    let lastError: string | undefined;
    /** One warning per outage, not one per reconnect attempt. */
    let outageLogged = false;
    const tell = () => watchers.forEach((watch) => watch(connected, lastError));
    let replayChecked = false;
    redis.on('ready', () => {
      if (!replayChecked) {
        replayChecked = true;
        void warnIfReplayDrops(redis, settings.prefix).then((reason) => reason && node.warn(RED._('findface-redis.log.aof-default-user', { reason })));
      }
      connected = true;
      lastError = undefined;
      if (outageLogged) node.log(RED._('findface-redis.log.up', { url: settings.url }));
      outageLogged = false;
      tell();
    });
    redis.on('error', (error: Error) => {
      // ioredis names host and port, never the user or the password.
      lastError = error.message;
      if (!outageLogged) node.warn(RED._('findface-redis.log.down', { url: settings.url, error: error.message }));
      outageLogged = true;
      tell();
    });
    redis.on('end', () => {
      connected = false;
      tell();
    });
    redis.on('close', () => {
      connected = false;
      tell();
    });
    subscriber.on('error', () => undefined);
    subscriber.on('message', (channel: string) => listeners.get(channel)?.forEach((listener) => listener()));
    // After a reconnect, messages sent meanwhile are lost: tell every listener to look again.
    subscriber.on('ready', () => listeners.forEach((set) => set.forEach((listener) => listener())));

    Object.assign(handle, {
      settings,
      instanceId: `${os.hostname()}:${process.pid}`,
      redis,
      key: (...parts: string[]) => [settings.prefix, ...parts].join(':'),
      subscribe(channel: string, listener: () => void) {
        let set = listeners.get(channel);
        if (!set) {
          set = new Set();
          listeners.set(channel, set);
          void subscriber.subscribe(channel).catch(() => undefined);
        }
        set.add(listener);
        return () => {
          const current = listeners.get(channel);
          current?.delete(listener);
          if (current && current.size === 0) {
            listeners.delete(channel);
            void subscriber.unsubscribe(channel).catch(() => undefined);
          }
        };
      },
      watchConnection(listener: (up: boolean, error?: string) => void) {
        watchers.add(listener);
        listener(connected, lastError);
        return () => watchers.delete(listener);
      },
    });

    node.on('close', (done: () => void) => {
      watchers.clear();
      listeners.clear();
      // QUIT only on a connection that is up: on one still (re)connecting ioredis would hold it
      // in its offline queue forever, and the reconnecting would outlive the node.
      const quit = (client: Redis) => (client.status === 'ready' ? Promise.race([client.quit(), delay(CLOSE_QUIT_MS)]) : Promise.resolve());
      Promise.allSettled([quit(redis), quit(subscriber)]).finally(() => {
        redis.disconnect();
        subscriber.disconnect();
        done();
      });
    });
  }

  RED.nodes.registerType('findface-redis', FindFaceRedisNode as unknown as (this: Node, config: NodeDef) => void, {
    credentials: { username: { type: 'text' }, password: { type: 'password' } },
  });
};
