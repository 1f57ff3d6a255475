import assert from 'assert/strict';
import { absoluteUrl, httpNodeSettingsOf, isLocalPath, resolveTargetUrl, HttpNodeSettings } from '../../nodes/lib/delivery/target-url';

function resolved(url: string, settings: HttpNodeSettings): string {
  const result = resolveTargetUrl(url, settings);
  assert.ok(result.ok, `${url} did not resolve: ${JSON.stringify(result)}`);
  return result.value;
}

describe("target-url: a webhook url that is a path means this Node-RED's httpNode", () => {
  it('resolves a path against http, the port and the root of the runtime settings', () => {
    assert.equal(resolved('/door-relay/open', { uiHost: '127.0.0.1', uiPort: 1881, httpNodeRoot: '/' }), 'http://127.0.0.1:1881/door-relay/open');
    assert.equal(resolved('/door-relay/open', { uiHost: '127.0.0.1', uiPort: 1881, httpNodeRoot: '/api/' }), 'http://127.0.0.1:1881/api/door-relay/open');
  });

  it('uses https when the `https` setting is given (an options object or a function)', () => {
    assert.equal(resolved('/hook', { uiPort: 8443, https: { key: 'k', cert: 'c' } }), 'https://127.0.0.1:8443/hook');
    assert.equal(resolved('/hook', { uiPort: 8443, https: () => ({}) }), 'https://127.0.0.1:8443/hook');
    assert.equal(resolved('/hook', { uiPort: 1880, https: undefined }), 'http://127.0.0.1:1880/hook');
  });

  it('reaches a server bound to every interface on the loopback (0.0.0.0, ::, unset)', () => {
    assert.equal(resolved('/x', { uiHost: '0.0.0.0', uiPort: 1880 }), 'http://127.0.0.1:1880/x');
    assert.equal(resolved('/x', { uiHost: '::', uiPort: 1880 }), 'http://[::1]:1880/x');
    assert.equal(resolved('/x', { uiPort: 1880 }), 'http://127.0.0.1:1880/x');
    assert.equal(resolved('/x', { uiHost: '', uiPort: 1880 }), 'http://127.0.0.1:1880/x');
  });

  it('keeps a specific host, IPv6 literals in brackets', () => {
    assert.equal(resolved('/x', { uiHost: '192.168.10.5', uiPort: 1880 }), 'http://192.168.10.5:1880/x');
    assert.equal(resolved('/x', { uiHost: 'localhost', uiPort: 1880 }), 'http://localhost:1880/x');
    assert.equal(resolved('/x', { uiHost: 'fd00::5', uiPort: 1880 }), 'http://[fd00::5]:1880/x');
  });

  it('takes httpNodeRoot with or without its leading and trailing slashes', () => {
    for (const root of ['/api', '/api/', 'api', 'api/', '//api//']) {
      assert.equal(resolved('/events', { uiPort: 1881, httpNodeRoot: root }), 'http://127.0.0.1:1881/api/events', `root ${root}`);
    }
    for (const root of ['/', '', undefined]) {
      assert.equal(resolved('/events', { uiPort: 1881, httpNodeRoot: root }), 'http://127.0.0.1:1881/events', `root ${String(root)}`);
    }
    assert.equal(resolved('/events', { uiPort: 1881, httpNodeRoot: '/red/nodes/' }), 'http://127.0.0.1:1881/red/nodes/events');
  });

  it("keeps the path's own trailing slash and query", () => {
    assert.equal(resolved('/door/open/', { uiPort: 1880, httpNodeRoot: '/api/' }), 'http://127.0.0.1:1880/api/door/open/');
    assert.equal(resolved('/door?id=3', { uiPort: 1880 }), 'http://127.0.0.1:1880/door?id=3');
    assert.equal(resolved('  /door  ', { uiPort: 1880 }), 'http://127.0.0.1:1880/door');
  });

  it('takes the port as a number or a numeric string, 1880 when there is none', () => {
    assert.equal(resolved('/x', { uiPort: '1881' }), 'http://127.0.0.1:1881/x');
    assert.equal(resolved('/x', {}), 'http://127.0.0.1:1880/x');
  });

  it('passes an absolute http(s) URL through unchanged', () => {
    const settings = { uiPort: 1881, httpNodeRoot: '/api/' };
    assert.equal(resolved('http://10.0.0.7:8080/open', settings), 'http://10.0.0.7:8080/open');
    assert.equal(resolved('https://hooks.example.com/ff', settings), 'https://hooks.example.com/ff');
  });

  it('names what is wrong: empty, not a URL, another scheme, no httpNode', () => {
    assert.deepEqual(resolveTargetUrl('  ', {}), { ok: false, problem: { code: 'url-empty' } });
    assert.deepEqual(resolveTargetUrl('door-relay/open', {}), { ok: false, problem: { code: 'url-invalid', value: 'door-relay/open' } });
    assert.deepEqual(resolveTargetUrl('ftp://host/x', {}), { ok: false, problem: { code: 'url-scheme', value: 'ftp://host/x' } });
    assert.deepEqual(resolveTargetUrl('/x', { httpNodeRoot: false }), { ok: false, problem: { code: 'url-no-http-node', value: '/x' } });
  });

  it('tells a path from a scheme-relative URL', () => {
    assert.equal(isLocalPath('/a'), true);
    assert.equal(isLocalPath('//evil.example.com/a'), false);
    assert.equal(resolveTargetUrl('//evil.example.com/a', {}).ok, false);
  });
});

describe('target-url: the settings of a running Node-RED', () => {
  it('takes the port the server listens on over uiPort, and uiPort before it listens', () => {
    const settings = { uiHost: '0.0.0.0', uiPort: 0, httpNodeRoot: '/api/', https: undefined };
    assert.equal(httpNodeSettingsOf({ settings, server: { address: () => ({ port: 41234, address: '0.0.0.0', family: 'IPv4' }) } }).uiPort, 41234);
    assert.equal(httpNodeSettingsOf({ settings: { ...settings, uiPort: 1881 }, server: { address: () => null } }).uiPort, 1881);
    assert.equal(httpNodeSettingsOf({ settings: { ...settings, uiPort: 1881 } }).uiPort, 1881);
  });

  it('resolves a path only: an absolute URL, and a path it cannot resolve, stay as given', () => {
    assert.equal(absoluteUrl('/open', { uiPort: 1881, httpNodeRoot: '/api/' }), 'http://127.0.0.1:1881/api/open');
    assert.equal(absoluteUrl('http://10.0.0.7/open', { uiPort: 1881 }), 'http://10.0.0.7/open');
    assert.equal(absoluteUrl('/open', { httpNodeRoot: false }), '/open');
  });
});
