// What the findface-redis config node gives the nodes that use it.
import type { Redis } from 'ioredis';
import type { NodeAPI } from 'node-red';
import type { RedisSettings } from '../lib/redis/redis-config';

export interface RedisHandle {
  /** Set when the config node's settings are wrong: the user must not get a silent local fallback. */
  readonly configError?: string;
  readonly settings: RedisSettings;
  /** Names this Node-RED instance in leases and statuses (`host:pid`). */
  readonly instanceId: string;
  /** The shared connection for commands; fails fast while Redis is away (no offline queue). */
  readonly redis: Redis;
  /** Listens to a pub/sub channel on the shared subscriber connection; returns the unsubscribe. */
  subscribe(channel: string, listener: () => void): () => void;
  /** Calls back with every change of the connection (and once at once with the current one); returns the removal. */
  watchConnection(listener: (connected: boolean, error?: string) => void): () => void;
  /** `prefix:part:part…`: every key of the package. */
  key(...parts: string[]): string;
}

/** The findface-redis config node a node names, or the reason it cannot be used (in the node's own words). */
export function resolveRedis(RED: NodeAPI, id: string): { handle: RedisHandle } | { error: string } {
  const handle = RED.nodes.getNode(id) as unknown as RedisHandle | null;
  if (!handle) return { error: RED._('findface-redis.errors.not-deployed', { id }) };
  if (handle.configError) return { error: RED._('findface-redis.errors.config', { error: handle.configError }) };
  return { handle };
}
