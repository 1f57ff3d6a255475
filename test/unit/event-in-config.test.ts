import assert from 'assert/strict';
import { MAX_BODY_MB, parseEventInConfig, parseRate } from '../../nodes/lib/source/event-in-config';

const problemOf = (props: Record<string, unknown>) => {
  const parsed = parseEventInConfig(props);
  assert.equal(parsed.ok, false, JSON.stringify(props));
  return parsed.ok ? undefined : parsed.problem;
};
const simulate = { mode: 'simulate', cameras: '{"1": 1, "2": 1}', dossiers: '1, 2', matchedRatio: '0.3', shape: 'ffs3', rate: '2' };
const poll = { mode: 'poll', server: 'srv1' };

describe('event-in config', () => {
  it('parses webhook mode with its defaults; the mode defaults to webhook', () => {
    assert.deepEqual(parseEventInConfig({ path: 'findface/events' }), {
      ok: true,
      value: {
        cardsFrom: undefined,
        mode: 'webhook',
        path: '/findface/events',
        maxBodyBytes: 10 * 1024 * 1024,
        dedupWindowMs: 0,
        toleranceS: 300,
        respond: 'auto',
        queuedTimeoutMs: 10000,
        listen: { kind: 'httpNode' },
      },
    });
    const queued = parseEventInConfig({ mode: 'webhook', path: '/a', respond: 'queued', queuedTimeoutS: '2', dedupWindowS: '30', maxBodyMb: '0.5' });
    assert.ok(queued.ok && queued.value.mode === 'webhook');
    assert.deepEqual(
      [queued.value.respond, queued.value.queuedTimeoutMs, queued.value.dedupWindowMs, queued.value.maxBodyBytes],
      ['queued', 2000, 30000, 512 * 1024],
    );
  });

  it('reports webhook mode problems as codes', () => {
    assert.deepEqual(problemOf({ path: '' }), { code: 'no-path' });
    assert.deepEqual(problemOf({ path: 5 }), { code: 'bad-path', value: '5' });
    assert.deepEqual(problemOf({ path: '/a', maxBodyMb: '0' }), { code: 'bad-size', value: '0', max: MAX_BODY_MB });
    assert.deepEqual(problemOf({ path: '/a', maxBodyMb: 1e308 }), { code: 'bad-size', value: '1e+308', max: MAX_BODY_MB });
    assert.deepEqual(problemOf({ path: '/a', respond: 'queue' }), { code: 'bad-respond', value: 'queue' });
    assert.equal(problemOf({ path: '/a', toleranceS: {} })?.code, 'bad-number');
    assert.deepEqual(problemOf({ mode: 'push' }), { code: 'bad-mode', mode: 'push' });
  });

  it('parses listen: "port" with its port, bind address and tls-config id; httpNode is the default', () => {
    const listenOf = (props: Record<string, unknown>) => {
      const parsed = parseEventInConfig({ path: '/findface/events', ...props });
      assert.ok(parsed.ok && parsed.value.mode === 'webhook', JSON.stringify(parsed));
      return parsed.value.listen;
    };
    assert.deepEqual(listenOf({}), { kind: 'httpNode' });
    assert.deepEqual(listenOf({ listen: '' }), { kind: 'httpNode' });
    assert.deepEqual(listenOf({ listen: 'httpNode', port: 'anything' }), { kind: 'httpNode' }, 'the port fields count only for "port"');
    assert.deepEqual(listenOf({ listen: 'port', port: '8443' }), { kind: 'port', port: 8443, host: '', tls: undefined });
    assert.deepEqual(listenOf({ listen: 'port', port: 9000, host: ' 127.0.0.1 ', tls: 'tls1' }), { kind: 'port', port: 9000, host: '127.0.0.1', tls: 'tls1' });
    assert.deepEqual(listenOf({ listen: 'port', port: 0, host: '[::1]', tls: '' }), { kind: 'port', port: 0, host: '::1', tls: undefined });
    assert.deepEqual(listenOf({ listen: 'port', port: 80, host: 'gateway.local', tls: '_ADD_' }), {
      kind: 'port',
      port: 80,
      host: 'gateway.local',
      tls: undefined,
    });
  });

  it('reports own-port problems as codes', () => {
    assert.deepEqual(problemOf({ path: '/a', listen: 'socket' }), { code: 'bad-listen', value: 'socket' });
    for (const port of [undefined, '', 'http', -1, 65536, 80.5, true, '8o']) {
      assert.equal(problemOf({ path: '/a', listen: 'port', port })?.code, 'bad-port', String(port));
    }
    assert.deepEqual(problemOf({ path: '/a', listen: 'port', port: 80, host: 'no such host!' }), { code: 'bad-host', value: 'no such host!' });
    assert.deepEqual(problemOf({ path: '/a', listen: 'port', port: 80, host: 5 }), { code: 'bad-host', value: '5' });
    assert.deepEqual(problemOf({ path: '/a', listen: 'port', port: 80, tls: {} }), { code: 'bad-tls', value: '{}' });
    assert.deepEqual(problemOf({ path: '/cam/:id', listen: 'port', port: 80 }), { code: 'port-path-pattern', path: '/cam/:id' });
    assert.equal(parseEventInConfig({ path: '/cam/:id' }).ok, true, 'a pattern stays fine on httpNode');
  });

  it('parses simulate mode', () => {
    const parsed = parseEventInConfig({ ...simulate, seed: '42', autostart: false });
    assert.deepEqual(parsed, {
      ok: true,
      value: {
        mode: 'simulate',
        cameras: { 1: 1, 2: 1 },
        dossiers: [1, 2],
        matchedRatio: 0.3,
        shape: 'ffs3',
        rate: 2,
        seed: 42,
        autostart: false,
        simulation: 'steady',
      },
    });
    const single = parseEventInConfig({ ...simulate, dossiers: 7, seed: '' });
    assert.ok(single.ok && single.value.mode === 'simulate');
    assert.deepEqual([single.value.dossiers, single.value.seed, single.value.autostart], [[7], undefined, true]);
  });

  it('reports simulate mode problems as codes', () => {
    assert.equal(problemOf({ ...simulate, cameras: 'null' })?.code, 'bad-cameras');
    assert.equal(problemOf({ ...simulate, cameras: '{' })?.code, 'bad-cameras');
    assert.deepEqual(problemOf({ ...simulate, cameras: '{}' }), { code: 'no-cameras' });
    assert.deepEqual(problemOf({ ...simulate, cameras: '{"a": 1}' }), { code: 'bad-camera-id', key: 'a' });
    assert.deepEqual(problemOf({ ...simulate, cameras: '{"1": 1.5}' }), { code: 'bad-camera-group', key: '1', value: '1.5' });
    assert.deepEqual(problemOf({ ...simulate, dossiers: '1, x' }), { code: 'bad-dossiers', value: '1, x' });
    assert.deepEqual(problemOf({ ...simulate, dossiers: '', matchedRatio: 0.5 }), { code: 'no-dossiers' });
    assert.deepEqual(problemOf({ ...simulate, matchedRatio: 2 }), { code: 'bad-ratio', value: '2' });
    assert.deepEqual(problemOf({ ...simulate, shape: 'v9' }), { code: 'bad-shape', value: 'v9' });
    assert.deepEqual(problemOf({ ...simulate, rate: '0' }), { code: 'bad-rate', value: '0' });
    assert.deepEqual(problemOf({ ...simulate, rate: 10001 }), { code: 'bad-rate', value: '10001' });
    assert.deepEqual(problemOf({ ...simulate, seed: '1.5' }), { code: 'bad-seed', value: '1.5' });
    assert.deepEqual(problemOf({ ...simulate, seed: true }), { code: 'bad-seed', value: 'true' });
    assert.deepEqual(parseRate('0.2'), { ok: true, value: 0.2 });
  });

  it('parses poll mode', () => {
    assert.deepEqual(parseEventInConfig({ ...poll, pollFilters: '{"cameras": [1, 2], "no_match": false}', pollIntervalS: '2', startAt: 'beginning' }), {
      ok: true,
      value: {
        cardsFrom: undefined,
        mode: 'poll',
        server: 'srv1',
        intervalMs: 2000,
        filters: { cameras: [1, 2], no_match: false },
        selection: { query: { cameras: [1, 2], no_match: false } },
        startAt: 'beginning',
      },
    });
    // There is no `matched` parameter in GET /events/faces/ (lib/findface/poll-filters.ts).
    assert.equal(problemOf({ ...poll, pollFilters: '{"matched": true}' })?.code, 'poll-filters.unknown-param');
    const defaults = parseEventInConfig(poll);
    assert.ok(defaults.ok && defaults.value.mode === 'poll');
    assert.deepEqual([defaults.value.intervalMs, defaults.value.filters, defaults.value.startAt], [5000, {}, 'now']);
  });

  it('reports poll mode problems as codes', () => {
    assert.deepEqual(problemOf({ mode: 'poll' }), { code: 'no-server' });
    assert.equal(problemOf({ ...poll, pollFilters: '{' })?.code, 'poll-filters.not-json');
    assert.equal(problemOf({ ...poll, pollFilters: '[1]' })?.code, 'poll-filters.not-object');
    assert.deepEqual(problemOf({ ...poll, pollFilters: '{"id_gte": 5}' }), { code: 'poll-filters.poller-param', key: 'id_gte', detail: '' });
    assert.deepEqual(problemOf({ ...poll, pollFilters: '{"cameras": [{}]}' }), { code: 'poll-filters.not-integer', key: 'cameras', value: '[{}]', detail: '' });
    assert.deepEqual(problemOf({ ...poll, pollIntervalS: '0.05' }), { code: 'bad-interval', value: '0.05' });
    assert.deepEqual(problemOf({ ...poll, pollIntervalS: true }), { code: 'bad-interval', value: 'true' });
  });
});
