// How the findface-redis config node's command connection talks to Redis:
// fail fast while Redis is away (no offline queue, one retry, a command
// timeout), so that the source answers 503 and FindFace sends again rather
// than an event waiting in a buffer that a crash would lose.
import type { RedisOptions } from 'ioredis';

/** Fail fast while Redis is away: the source answers 503 and FindFace sends again. */
export const COMMAND_TIMEOUT_MS = 2000;

export function commandConnectionOptions(credentials: { username?: string; password?: string }): RedisOptions {
  return {
    username: credentials.username || undefined,
    password: credentials.password || undefined,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: COMMAND_TIMEOUT_MS,
    connectTimeout: 5000,
    retryStrategy: (times) => Math.min(times * 200, 2000),
  };
}

/** The subscriber waits for Redis instead: it only listens, and its subscriptions are made again on reconnect. */
export function subscriberConnectionOptions(command: RedisOptions): RedisOptions {
  return { ...command, enableOfflineQueue: true, maxRetriesPerRequest: null, commandTimeout: undefined };
}
