import assert from 'assert/strict';
import fs from 'fs';
import http from 'http';
import https from 'https';
import net from 'net';
import path from 'path';
import { ListenerError, PortListeners, RouteLease } from '../../nodes/lib/source/port-listener';

const tlsDir = path.join(__dirname, '..', 'fixtures', 'tls');
const read = (file: string) => fs.readFileSync(path.join(tlsDir, file));

interface Answer {
  status: number;
  body: string;
}

function get(port: number, pathname: string, agent?: http.Agent): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: pathname, method: 'POST', agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end('[]');
  });
}

const answer = (text: string) => (_req: http.IncomingMessage, res: http.ServerResponse) => res.end(text);

describe('port listeners (listen: "port")', () => {
  let listeners: PortListeners;
  const leases: RouteLease[] = [];
  beforeEach(() => {
    listeners = new PortListeners();
  });
  afterEach(async () => {
    await Promise.all(leases.splice(0).map((lease) => lease.release()));
    assert.equal(listeners.size, 0, 'every listener closed');
  });

  it('serves two paths on one port with one listener, matching as express does', async () => {
    const a = await listeners.acquire({ port: 0, host: '127.0.0.1' }, '/findface/a', 'node a', answer('a'));
    leases.push(a);
    // Port 0 gives a port; a second node on that port joins the same listener.
    const b = await listeners.acquire({ port: a.port, host: '127.0.0.1' }, '/findface/b/', 'node b', answer('b'));
    leases.push(b);
    assert.equal(listeners.size, 1);
    assert.deepEqual(await get(a.port, '/findface/a'), { status: 200, body: 'a' });
    assert.deepEqual(await get(a.port, '/FindFace/A/?token=x'), { status: 200, body: 'a' });
    assert.deepEqual(await get(a.port, '/findface/b'), { status: 200, body: 'b' });
    const missing = await get(a.port, '/other');
    assert.equal(missing.status, 404);
    assert.deepEqual(JSON.parse(missing.body), { error: 'no webhook at this path' });
  });

  it('refuses a path served already on the port, naming who serves it', async () => {
    const a = await listeners.acquire({ port: 0, host: '127.0.0.1' }, '/x', 'node a on flow 1', answer('a'));
    leases.push(a);
    await assert.rejects(listeners.acquire({ port: a.port, host: '127.0.0.1' }, '/X/', 'node b', answer('b')), (error: ListenerError) => {
      assert.equal(error.code, 'path-taken');
      assert.equal(error.owner, 'node a on flow 1');
      return true;
    });
  });

  it('reports a port another program holds, and stays usable', async () => {
    const other = net.createServer();
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    const port = (other.address() as net.AddressInfo).port;
    try {
      await assert.rejects(listeners.acquire({ port, host: '127.0.0.1' }, '/x', 'node a', answer('a')), (error: ListenerError) => error.code === 'port-in-use');
      assert.equal(listeners.size, 0);
    } finally {
      await new Promise<void>((resolve) => other.close(() => resolve()));
    }
    leases.push(await listeners.acquire({ port, host: '127.0.0.1' }, '/x', 'node a', answer('a')));
    assert.equal((await get(port, '/x')).status, 200);
  });

  it('closes with its last route, even with an idle keep-alive connection open, and reopens', async () => {
    const a = await listeners.acquire({ port: 0, host: '127.0.0.1' }, '/x', 'node a', answer('a'));
    const agent = new http.Agent({ keepAlive: true });
    try {
      assert.equal((await get(a.port, '/x', agent)).status, 200);
      const started = Date.now();
      await a.release();
      assert.ok(Date.now() - started < 2000, 'an idle keep-alive connection does not hold the close');
      assert.equal(listeners.size, 0);
      await assert.rejects(get(a.port, '/x'), /ECONNREFUSED/);
      const again = await listeners.acquire({ port: a.port, host: '127.0.0.1' }, '/x', 'node a', answer('again'));
      leases.push(again);
      assert.deepEqual(await get(a.port, '/x'), { status: 200, body: 'again' });
    } finally {
      agent.destroy();
    }
  });

  it('a close with a request in flight on a keep-alive connection answers it, then closes that connection', async () => {
    let answerLater: (() => void) | undefined;
    const slow = (_req: http.IncomingMessage, res: http.ServerResponse) => {
      answerLater = () => res.end('late');
    };
    const a = await listeners.acquire({ port: 0, host: '127.0.0.1' }, '/x', 'node a', slow);
    const agent = new http.Agent({ keepAlive: true });
    try {
      let connection: string | undefined;
      const inFlight = new Promise<Answer>((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port: a.port, path: '/x', method: 'POST', agent }, (res) => {
          connection = res.headers.connection;
          let body = '';
          res.on('data', (chunk) => (body += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('error', reject);
        req.end('[]');
      });
      for (let i = 0; i < 100 && !answerLater; i++) await new Promise((resolve) => setTimeout(resolve, 10));
      assert.ok(answerLater, 'the request reached the handler');
      const started = Date.now();
      const closing = a.release();
      answerLater();
      assert.deepEqual(await inFlight, { status: 200, body: 'late' }, 'the request in flight is answered');
      assert.equal(connection, 'close');
      await closing;
      assert.ok(Date.now() - started < 2000, `closed in ${Date.now() - started} ms`);
      assert.equal(listeners.size, 0);
    } finally {
      agent.destroy();
    }
  });

  it('a route taken while the listener closes waits for the close and opens a new one', async () => {
    const a = await listeners.acquire({ port: 0, host: '127.0.0.1' }, '/x', 'old node', answer('old'));
    const closing = a.release();
    const next = listeners.acquire({ port: a.port, host: '127.0.0.1' }, '/x', 'new node', answer('new'));
    await closing;
    const lease = await next;
    leases.push(lease);
    assert.deepEqual(await get(lease.port, '/x'), { status: 200, body: 'new' });
  });

  it('refuses other TLS settings on an open address', async () => {
    const a = await listeners.acquire({ port: 0, host: '127.0.0.1' }, '/x', 'node a', answer('a'));
    leases.push(a);
    await assert.rejects(
      listeners.acquire(
        { port: a.port, host: '127.0.0.1', tlsId: 'tls1', tls: { key: read('server.key'), cert: read('server.crt') } },
        '/y',
        'node b',
        answer('b'),
      ),
      (error: ListenerError) => error.code === 'tls-mismatch',
    );
  });

  describe('TLS', () => {
    function tlsGet(port: number, options: https.RequestOptions = {}): Promise<Answer> {
      return new Promise((resolve, reject) => {
        const req = https.request({ host: '127.0.0.1', port, path: '/x', method: 'POST', ca: read('ca.crt'), agent: false, ...options }, (res) => {
          let body = '';
          res.on('data', (chunk) => (body += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('error', reject);
        req.end('[]');
      });
    }

    it('serves HTTPS with the given certificate', async () => {
      const a = await listeners.acquire(
        { port: 0, host: '127.0.0.1', tlsId: 'tls1', tls: { key: read('server.key'), cert: read('server.crt') } },
        '/x',
        'node a',
        answer('secure'),
      );
      leases.push(a);
      assert.deepEqual(await tlsGet(a.port), { status: 200, body: 'secure' });
      await assert.rejects(get(a.port, '/x'), 'plain HTTP gets no answer');
    });

    it('with mutual TLS, refuses a client without a certificate signed by the CA', async () => {
      const tls = { key: read('server.key'), cert: read('server.crt'), ca: read('ca.crt'), requireClientCert: true };
      const a = await listeners.acquire({ port: 0, host: '127.0.0.1', tlsId: 'mtls', tls }, '/x', 'node a', answer('mutual'));
      leases.push(a);
      await assert.rejects(tlsGet(a.port));
      assert.deepEqual(await tlsGet(a.port, { key: read('client.key'), cert: read('client.crt') }), { status: 200, body: 'mutual' });
    });
  });
});
