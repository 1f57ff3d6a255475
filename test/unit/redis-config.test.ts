// The findface-redis config node's settings: what a flow may hold and what it
// must not (a password or an ACL user in the URL: they are credentials).
import assert from 'assert/strict';
import { parseWebhookConfig } from '../../nodes/lib/delivery/webhook-config';
import { DEFAULT_LEASE_S, DEFAULT_PREFIX, parseRedisSettings } from '../../nodes/lib/redis/redis-config';

describe('findface-redis settings', () => {
  it('takes redis:// and rediss:// URLs with a database number, defaults for prefix and lease', () => {
    assert.deepEqual(parseRedisSettings({ url: ' redis://10.0.0.5:6379/2 ' }), {
      ok: true,
      value: { url: 'redis://10.0.0.5:6379/2', prefix: DEFAULT_PREFIX, leaseMs: DEFAULT_LEASE_S * 1000 },
    });
    assert.deepEqual(parseRedisSettings({ url: 'rediss://redis.example:6380', prefix: 'site-a', leaseS: '2.5' }), {
      ok: true,
      value: { url: 'rediss://redis.example:6380', prefix: 'site-a', leaseMs: 2500 },
    });
  });

  it('refuses a URL that carries a password or an ACL user, without repeating it', () => {
    for (const url of ['redis://:s3cret@127.0.0.1:6379', 'redis://alice:s3cret@127.0.0.1:6379', 'redis://alice@127.0.0.1:6379']) {
      const parsed = parseRedisSettings({ url });
      assert.equal(parsed.ok, false, url);
      if (parsed.ok) continue;
      assert.equal(parsed.problem.code, 'bad-url');
      assert.ok(!String(parsed.problem.value).includes('s3cret') && !String(parsed.problem.value).includes('alice'), String(parsed.problem.value));
    }
  });

  it('refuses other schemes, a missing host, a bad prefix and a lease out of 1–300 s', () => {
    assert.equal(parseRedisSettings({ url: 'http://127.0.0.1:6379' }).ok, false);
    assert.equal(parseRedisSettings({ url: '' }).ok, false);
    assert.equal(parseRedisSettings({}).ok, false);
    const prefix = parseRedisSettings({ url: 'redis://h', prefix: 'a b' });
    assert.deepEqual(prefix, { ok: false, problem: { code: 'bad-prefix', value: 'a b' } });
    for (const leaseS of ['0.5', '301', 'x', -1])
      assert.equal(parseRedisSettings({ url: 'redis://h', leaseS }).ok ? 'ok' : 'refused', 'refused', String(leaseS));
  });
});

describe('findface-webhook queue property', () => {
  const base = { id: 'hook', url: 'http://127.0.0.1:9/x' };
  it('disk by default; redis needs the config node id; anything else is refused', () => {
    const disk = parseWebhookConfig(base);
    assert.ok(disk.ok && disk.value.queue === 'disk' && disk.value.redis === undefined);
    const shared = parseWebhookConfig({ ...base, queue: 'redis', redis: 'r1' });
    assert.ok(shared.ok && shared.value.queue === 'redis' && shared.value.redis === 'r1');
    assert.deepEqual(parseWebhookConfig({ ...base, queue: 'redis' }), { ok: false, problem: { code: 'no-redis' } });
    assert.deepEqual(parseWebhookConfig({ ...base, queue: 'memory' }), { ok: false, problem: { code: 'bad-queue', value: 'memory' } });
  });
});
