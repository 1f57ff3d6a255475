import assert from 'assert/strict';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { parseExternalAddress, parseServerConfig, parseServerTimeout } from '../../nodes/lib/findface/server-config';

const TOKEN = 'a1b2c3d4e5';
const dir = os.tmpdir();
const problemOf = (props: Record<string, unknown>) => {
  const parsed = parseServerConfig({ url: 'https://findface.example', token: TOKEN, ...props }, dir);
  return parsed.ok ? undefined : parsed.problem;
};

describe('findface-server config', () => {
  it('gives the client options: the URL without trailing slashes, default timeout, TLS verified', () => {
    const parsed = parseServerConfig({ url: ' https://findface.example/ ', token: ` ${TOKEN} ` }, dir);
    assert.ok(parsed.ok);
    assert.deepEqual(parsed.value, { baseUrl: 'https://findface.example', token: TOKEN, timeoutMs: 10000, tls: { ca: undefined, rejectUnauthorized: true } });
    const insecure = parseServerConfig({ url: 'https://x', token: TOKEN, rejectUnauthorized: 'false', timeout: '500' }, dir);
    assert.ok(insecure.ok);
    assert.equal(insecure.value.tls?.rejectUnauthorized, false);
    assert.equal(insecure.value.timeoutMs, 500);
  });

  it('reports each problem as an i18n code, never with the token in it', () => {
    assert.deepEqual(problemOf({ url: '' }), { code: 'no-url' });
    assert.deepEqual(problemOf({ url: 'ftp://x' }), { code: 'url-scheme', value: 'ftp://x' });
    assert.deepEqual(problemOf({ url: 'not a url' }), { code: 'not-url', value: 'not a url' });
    assert.deepEqual(problemOf({ url: 'https://u:p@x' }), { code: 'url-credentials' });
    assert.deepEqual(problemOf({ url: 'https://x/?a=1' }), { code: 'url-query' });
    assert.deepEqual(problemOf({ token: '' }), { code: 'no-token' });
    assert.deepEqual(problemOf({ token: 'a b' }), { code: 'token-chars' });
    assert.deepEqual(problemOf({ timeout: '-1' }), { code: 'bad-timeout', value: '-1' });
    assert.deepEqual(problemOf({ ca: 'not pem\n-----BEGIN' }), { code: 'ca-not-pem' });
    const missing = problemOf({ ca: 'no/such/ca.pem' });
    assert.deepEqual(missing, { code: 'ca-file', file: path.resolve(dir, 'no/such/ca.pem'), detail: 'ENOENT' });
    const broken = problemOf({ ca: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----' });
    assert.equal(broken?.code, 'ca-unreadable');
    for (const problem of [missing, broken]) assert.ok(!JSON.stringify(problem).includes(TOKEN));
  });

  it('reads a CA file relative to the user directory', () => {
    const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ff-ca-'));
    try {
      fs.writeFileSync(path.join(userDir, 'ca.pem'), 'nothing');
      assert.deepEqual(parseServerConfig({ url: 'https://x', token: TOKEN, ca: 'ca.pem' }, userDir), { ok: false, problem: { code: 'ca-not-pem' } });
    } finally {
      fs.rmSync(userDir, { recursive: true, force: true });
    }
  });

  it('checks the external address and the timeout on their own', () => {
    assert.deepEqual(parseExternalAddress(' http://172.20.77.17/ '), { ok: true, value: 'http://172.20.77.17' });
    assert.deepEqual(parseExternalAddress(undefined), { ok: true, value: '' });
    assert.deepEqual(parseExternalAddress(5), { ok: false, problem: { code: 'external-not-text', value: '5' } });
    assert.deepEqual(parseExternalAddress('x'), { ok: false, problem: { code: 'external-not-url', value: 'x' } });
    assert.deepEqual(parseExternalAddress('ftp://x'), { ok: false, problem: { code: 'external-scheme', value: 'ftp://x' } });
    assert.deepEqual(parseServerTimeout(''), { ok: true, value: 10000 });
    assert.deepEqual(parseServerTimeout(true), { ok: false, problem: { code: 'bad-timeout', value: 'true' } });
  });
});
