import assert from 'assert/strict';
import { parseHeaders, parseSuccessCodes, parseWebhookConfig, WEBHOOK_DEFAULTS } from '../../nodes/lib/delivery/webhook-config';

const base = { id: 'a3f0c0de00000308', url: 'http://127.0.0.1:8888/hook' };
const problemOf = (props: Record<string, unknown>) => {
  const parsed = parseWebhookConfig({ ...base, ...props });
  assert.equal(parsed.ok, false, JSON.stringify(props));
  return !parsed.ok ? parsed.problem : undefined;
};

describe('webhook config', () => {
  it('gives FindFace defaults for blank properties', () => {
    const parsed = parseWebhookConfig({ ...base, batchSize: '', timeout: undefined, backoffBase: '  ' });
    assert.ok(parsed.ok);
    const config = parsed.value;
    assert.deepEqual(
      [config.batchSize, config.lingerMs, config.timeoutMs, config.maxAttempts, config.queueMaxEvents],
      [1, 0, WEBHOOK_DEFAULTS.timeout, 10, WEBHOOK_DEFAULTS.queueMaxEvents],
    );
    assert.deepEqual(config.backoff, { base: 0.1, factor: 2.7, max: 100 });
    assert.deepEqual([...config.successCodes], [200]);
    assert.equal(config.queueMaxBytes, 256 * 1024 * 1024);
    assert.equal(config.active, true);
    assert.equal(config.logEvents, true);
    assert.equal(config.authType, 'none');
  });

  it('names the webhook by its title, else its name (older flows), else its id', () => {
    const title = (props: Record<string, unknown>) => {
      const parsed = parseWebhookConfig({ ...base, ...props });
      return parsed.ok ? parsed.value.title : undefined;
    };
    assert.equal(title({ title: ' door 1 ', name: 'old' }), 'door 1');
    assert.equal(title({ title: '', name: 'old' }), 'old');
    assert.equal(title({}), base.id);
  });

  it('takes numbers and booleans as the editor stores them', () => {
    const parsed = parseWebhookConfig({
      ...base,
      batchSize: '50',
      lingerMs: 20,
      active: 'true',
      logEvents: 'false',
      queueMaxMb: '0',
      successCodes: '200, 202',
    });
    assert.ok(parsed.ok);
    assert.equal(parsed.value.batchSize, 50);
    assert.equal(parsed.value.lingerMs, 20);
    assert.equal(parsed.value.logEvents, false);
    assert.equal(parsed.value.queueMaxBytes, undefined);
    assert.deepEqual([...parsed.value.successCodes], [200, 202]);
  });

  it('reports each wrong property as an i18n code with its parameters', () => {
    assert.deepEqual(problemOf({ url: 'ftp://x/' }), { code: 'url-scheme', value: 'ftp://x/' });
    assert.deepEqual(problemOf({ url: 'not a url' }), { code: 'not-url', value: 'not a url' });
    assert.deepEqual(problemOf({ url: '' }), { code: 'no-url' });
    assert.deepEqual(problemOf({ url: 5 }), { code: 'not-text', key: 'url', value: '5' });
    assert.deepEqual(problemOf({ batchSize: '0' }), { code: 'not-integer', key: 'batchSize', min: 1, value: '0' });
    assert.deepEqual(problemOf({ batchSize: '1.5' }), { code: 'not-integer', key: 'batchSize', min: 1, value: '1.5' });
    assert.deepEqual(problemOf({ backoffFactor: '0.5' }), { code: 'not-number', key: 'backoffFactor', min: 1, value: '0.5' });
    assert.deepEqual(problemOf({ backoffMax: 'Infinity' }), { code: 'not-number', key: 'backoffMax', min: 0, value: 'Infinity' });
    assert.deepEqual(problemOf({ timeout: [5] }), { code: 'not-number', key: 'timeout', min: 0, value: '[5]' });
    assert.deepEqual(problemOf({ active: 'yes' }), { code: 'not-boolean', key: 'active', value: 'yes' });
    assert.deepEqual(problemOf({ logEvents: 1 }), { code: 'not-boolean', key: 'logEvents', value: '1' });
    assert.deepEqual(problemOf({ authType: 'digest' }), { code: 'bad-auth-type', value: 'digest' });
    assert.deepEqual(problemOf({ successCodes: '200,ok' }), { code: 'bad-success-code', value: 'ok' });
  });

  it('lets an inactive webhook have no URL', () => {
    assert.ok(parseWebhookConfig({ id: 'x', active: false }).ok);
  });

  it('parses success codes', () => {
    const codes = (value: unknown) => {
      const parsed = parseSuccessCodes(value);
      return parsed.ok ? [...parsed.value] : parsed.problem;
    };
    assert.deepEqual(codes(' 200, 202,204 '), [200, 202, 204]);
    assert.deepEqual(codes(''), [200]);
    assert.deepEqual(codes(201), [201]);
    assert.deepEqual(codes('2000'), { code: 'bad-success-code', value: '2000' });
    assert.deepEqual(codes('200,,'), { code: 'bad-success-code', value: '' });
  });

  it('checks the extra headers', () => {
    const headers = (value: unknown) => {
      const parsed = parseHeaders(value);
      return parsed.ok ? parsed.value : parsed.problem;
    };
    assert.deepEqual(headers(''), {});
    assert.deepEqual(headers('{"X-Door": "1"}'), { 'X-Door': '1' });
    // The rules are lib/delivery/headers.ts's (test/unit/headers.test.ts); here, that they reach the webhook's codes.
    assert.equal((headers('{') as { code: string }).code, 'headers.not-json');
    assert.deepEqual(headers('[1]'), { code: 'headers.not-object', value: '[1]' });
    assert.deepEqual(headers({}), { code: 'headers.not-text', value: '{}' });
    assert.deepEqual(headers('{"a b": "1"}'), { code: 'headers.bad-name', name: '"a b"' });
    assert.deepEqual(headers('{"Authorization": "x"}'), { code: 'headers.sender-header', name: 'Authorization' });
    assert.deepEqual(headers('{"Transfer-Encoding": "chunked"}'), { code: 'headers.transport-header', name: 'Transfer-Encoding' });
  });
});
