// The findface-redis config node's settings, checked once on deploy.
export type RedisProblemCode = 'bad-url' | 'bad-prefix' | 'bad-lease';

export interface RedisProblem {
  code: RedisProblemCode;
  value?: string;
}

export type ParsedRedis<T> = { ok: true; value: T } | { ok: false; problem: RedisProblem };

export interface RedisSettings {
  /** `redis://host:port[/db]` or `rediss://…` (TLS); the ACL user and password are credentials, never in the URL. */
  url: string;
  /** Every key of the package starts with it (several sites on one Redis: one prefix each). */
  prefix: string;
  /** How long a lease lasts without renewal: the take-over time after an instance dies. */
  leaseMs: number;
}

export interface RedisDef {
  url?: unknown;
  prefix?: unknown;
  leaseS?: unknown;
}

export const DEFAULT_PREFIX = 'findface';
export const DEFAULT_LEASE_S = 5;

export function parseRedisSettings(def: RedisDef): ParsedRedis<RedisSettings> {
  const url = typeof def.url === 'string' ? def.url.trim() : '';
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (!parsed || (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') || !parsed.hostname) {
    return { ok: false, problem: { code: 'bad-url', value: url.replace(/\/\/[^@/]*@/, '//…@') } };
  }
  if (parsed.password || parsed.username) {
    // The ACL user and password belong in the credentials, never in flows.json.
    return { ok: false, problem: { code: 'bad-url', value: url.replace(/\/\/[^@/]*@/, '//…@') } };
  }
  const prefix = def.prefix === undefined || def.prefix === '' ? DEFAULT_PREFIX : def.prefix;
  if (typeof prefix !== 'string' || !/^[A-Za-z0-9_.:-]{1,64}$/.test(prefix)) return { ok: false, problem: { code: 'bad-prefix', value: String(prefix) } };
  const leaseS = def.leaseS === undefined || def.leaseS === '' ? DEFAULT_LEASE_S : Number(def.leaseS);
  if (!Number.isFinite(leaseS) || leaseS < 1 || leaseS > 300) return { ok: false, problem: { code: 'bad-lease', value: String(def.leaseS) } };
  return { ok: true, value: { url, prefix, leaseMs: Math.round(leaseS * 1000) } };
}

/** A node's `redis` property: the findface-redis config node's id, or undefined when none is chosen (everything local). */
export function redisRef(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() && value !== '_ADD_' ? value.trim() : undefined;
}
