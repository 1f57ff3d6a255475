// The raw-body capture in an express set-up like Node-RED's with both roots
// "/": the admin app's JSON parser runs before the node routes. The capture
// must read the body of every request express routes to a captured path.
import assert from 'assert/strict';
import express from 'express';
import http from 'http';
import net from 'net';
import { captureRawBody, CapturedRequest, routeKey } from '../../nodes/lib/source/raw-body-capture';

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
    const httpNode = express();
    root.use('/', httpNode);
    httpNode.all('/hooks/in', (req, res) => {
      const raw = (req as unknown as CapturedRequest).findfaceRawBody;
      seen.push({ method: req.method, raw: Buffer.isBuffer(raw) ? raw.toString() : null });
      res.status(299).json({ ok: true });
    });
    stop = captureRawBody(httpNode as never, '//hooks/in', 1000);
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

  it('reads the raw body of a POST, so the admin parser does not answer broken JSON', async () => {
    const response = await send('POST', '/hooks/in', '[{"id": ');
    assert.equal(response.status, 299);
    assert.deepEqual(seen, [{ method: 'POST', raw: '[{"id": ' }]);
  });

  it('matches the path as express does: in any case, with a trailing slash', async () => {
    for (const path of ['/HOOKS/IN', '/Hooks/In/', '/hooks/in?x=1']) {
      const response = await send('POST', path, '[{"id": ');
      assert.equal(response.status, 299, path);
    }
    assert.deepEqual(seen.map((entry) => entry.raw), ['[{"id": ', '[{"id": ', '[{"id": ']);
  });

  it('reads the body of other methods too, so the route answers them (e.g. with 405)', async () => {
    for (const method of ['PUT', 'PATCH', 'DELETE']) {
      const response = await send(method, '/hooks/in', '{broken');
      assert.equal(response.status, 299, method);
    }
    assert.deepEqual(seen, ['PUT', 'PATCH', 'DELETE'].map((method) => ({ method, raw: '{broken' })));
  });

  it('leaves GET and other paths alone', async () => {
    assert.equal((await send('GET', '/hooks/in')).status, 299);
    assert.deepEqual(seen, [{ method: 'GET', raw: null }]);
    // Another path: the admin parser still answers broken JSON itself.
    assert.equal((await send('POST', '/hooks/other', '{broken')).status, 400);
  });

  it('keys routes the way express compares them', () => {
    assert.equal(routeKey('//Hooks//In/'), '/hooks/in');
    assert.equal(routeKey('/'), '/');
  });
});
