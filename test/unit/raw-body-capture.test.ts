// The raw-body capture in an express set-up like Node-RED's with both roots
// "/": the admin app's JSON parser runs before the node routes, and Node-RED's
// httpNodeAuth between them and the routes. The capture must keep the admin
// parser away from every request express routes to a captured path, and leave
// the body unread for the route, so that the authentication answers first.
import assert from 'assert/strict';
import express from 'express';
import http from 'http';
import net from 'net';
import { PassThrough } from 'stream';
import { BodyBudgetError, BodyTooLargeError, ByteBudget, captureRawBody, CapturedRequest, readBody, routeKey } from '../../nodes/lib/source/raw-body-capture';

interface Seen {
  method: string;
  raw: string | null;
}

describe('raw-body capture', () => {
  let server: http.Server;
  let url: string;
  let stop: () => void;
  const seen: Seen[] = [];

  before(async () => {
    const root = express();
    const admin = express();
    admin.use(express.json());
    root.use('/', admin);
    // As Node-RED mounts httpNodeAuth: before the node routes, after the admin app.
    root.use('/', (req, res, next) => {
      if (req.headers['x-auth'] === 'no') {
        res.set('WWW-Authenticate', 'Basic realm="Authorization Required"').sendStatus(401);
        return;
      }
      next();
    });
    const httpNode = express();
    root.use('/', httpNode);
    httpNode.all('/hooks/in', (req, res) => {
      const captured = req as unknown as CapturedRequest;
      const answer = (raw: string | null) => {
        seen.push({ method: req.method, raw });
        res.status(299).json({ ok: true });
      };
      if (captured.findfaceBodyUnread)
        readBody(req, 1000).then(
          (body) => answer(body.toString()),
          () => res.sendStatus(413),
        );
      else answer(null);
    });
    stop = captureRawBody(httpNode as never, '//hooks/in');
    server = http.createServer(root);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  });
  after(async () => {
    stop();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(() => (seen.length = 0));

  const send = (method: string, path: string, body?: string) =>
    fetch(url + path, { method, headers: body === undefined ? {} : { 'Content-Type': 'application/json' }, body });

  it('leaves the raw body of a POST to the route, so the admin parser does not answer broken JSON', async () => {
    const response = await send('POST', '/hooks/in', '[{"id": ');
    assert.equal(response.status, 299);
    assert.deepEqual(seen, [{ method: 'POST', raw: '[{"id": ' }]);
  });

  it('matches the path as express does: in any case, with a trailing slash', async () => {
    for (const path of ['/HOOKS/IN', '/Hooks/In/', '/hooks/in?x=1']) {
      const response = await send('POST', path, '[{"id": ');
      assert.equal(response.status, 299, path);
    }
    assert.deepEqual(
      seen.map((entry) => entry.raw),
      ['[{"id": ', '[{"id": ', '[{"id": '],
    );
  });

  it('claims the body of other methods too, so the route answers them (e.g. with 405)', async () => {
    for (const method of ['PUT', 'PATCH', 'DELETE']) {
      const response = await send(method, '/hooks/in', '{broken');
      assert.equal(response.status, 299, method);
    }
    assert.deepEqual(
      seen,
      ['PUT', 'PATCH', 'DELETE'].map((method) => ({ method, raw: '{broken' })),
    );
  });

  it('leaves GET and other paths alone', async () => {
    assert.equal((await send('GET', '/hooks/in')).status, 299);
    assert.deepEqual(seen, [{ method: 'GET', raw: null }]);
    // Another path: the admin parser still answers broken JSON itself.
    assert.equal((await send('POST', '/hooks/other', '{broken')).status, 400);
  });

  it('does not read the body before the authentication between it and the route: a refused trickle is answered at once', async () => {
    const { port } = server.address() as net.AddressInfo;
    const started = performance.now();
    const status = await new Promise<number>((resolve, reject) => {
      const request = http.request({
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/hooks/in',
        headers: { 'Content-Type': 'application/json', 'Content-Length': '100000', 'X-Auth': 'no' },
      });
      request.on('response', (response) => {
        resolve(response.statusCode ?? 0);
        response.resume();
        request.destroy();
      });
      request.on('error', reject);
      // One byte every 50 ms: the whole body would take over an hour.
      const drip = setInterval(() => request.write('['), 50);
      request.on('close', () => clearInterval(drip));
    });
    const answeredMs = performance.now() - started;
    assert.equal(status, 401);
    assert.ok(answeredMs < 1000, `answered in ${answeredMs} ms`);
    assert.deepEqual(seen, []);
  });

  it('keys routes the way express compares them', () => {
    assert.equal(routeKey('//Hooks//In/'), '/hooks/in');
    assert.equal(routeKey('/'), '/');
  });
});

describe('readBody', () => {
  it('rejects at once when the body goes over the limit, not at its end', async () => {
    const stream = new PassThrough();
    const reading = readBody(stream as never, 10);
    stream.write(Buffer.alloc(8));
    stream.write(Buffer.alloc(8));
    await assert.rejects(reading, BodyTooLargeError);
  });

  it('takes the bytes it keeps from a budget, refuses a chunk that does not fit, and gives back what it took', async () => {
    const budget = new ByteBudget(100);
    const first = new PassThrough();
    const firstRead = readBody(first as never, 1000, budget);
    first.write(Buffer.alloc(60));
    await new Promise(setImmediate);
    assert.equal(budget.held, 60);
    const second = new PassThrough();
    const secondRead = readBody(second as never, 1000, budget);
    second.write(Buffer.alloc(30));
    await new Promise(setImmediate);
    assert.equal(budget.held, 90);
    second.write(Buffer.alloc(30));
    await assert.rejects(secondRead, BodyBudgetError);
    assert.equal(budget.held, 60, 'the refused read gave its bytes back');
    first.end(Buffer.alloc(100));
    const body = await firstRead;
    assert.equal(body.length, 160, 'a body alone may go over the budget');
    assert.equal(budget.held, 160, 'until the caller releases it');
    budget.release(body.length);
    assert.equal(budget.held, 0);
    assert.equal(budget.fits(1000), true);
  });
});
