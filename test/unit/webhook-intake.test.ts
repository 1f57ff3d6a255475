import assert from 'assert/strict';
import http from 'http';
import net from 'net';
import { contentTypeProblem, IntakeOptions, IntakeResult, secretMatches, takeWebhookRequest } from '../../nodes/lib/source/webhook-intake';
import { ByteBudget } from '../../nodes/lib/source/raw-body-capture';
import { seedEvent } from '../fixtures/events';

/** A bare Node http server that answers with the intake's decision. */
function startServer(options: IntakeOptions) {
  const results: IntakeResult[] = [];
  const server = http.createServer((req, res) => {
    takeWebhookRequest(req, options).then(
      (result) => {
        results.push(result);
        const body = result.status === 200 ? { accepted: result.events.length } : { error: result.error };
        res.writeHead(result.status, { 'Content-Type': 'application/json', ...(result.status !== 200 ? result.headers : {}) });
        res.end(JSON.stringify(body));
      },
      () => res.destroy(),
    );
  });
  return new Promise<{ url: string; results: IntakeResult[]; close: () => Promise<void> }>((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}`,
        results,
        close: () =>
          new Promise((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}

const json = { 'Content-Type': 'application/json' };

describe('webhook intake', () => {
  let server: Awaited<ReturnType<typeof startServer>>;
  before(async () => (server = await startServer({ secret: 's3cret', maxBodyBytes: 2048 })));
  after(() => server.close());

  const post = (body: string | Uint8Array, headers: Record<string, string> = { ...json, Authorization: 'Bearer s3cret' }, path = '/') =>
    fetch(server.url + path, { method: 'POST', headers, body: body as BodyInit });

  it('accepts the seed body (an array of one event) and keeps it unchanged', async () => {
    const response = await post(JSON.stringify([seedEvent]));
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { accepted: 1 });
    const last = server.results.at(-1)!;
    assert.equal(last.status, 200);
    if (last.status === 200) assert.deepEqual(last.events, [seedEvent]);
  });

  it('accepts one event object', async () => {
    const response = await post(JSON.stringify({ id: 5, camera: { id: 2 } }));
    assert.equal(response.status, 200);
  });

  it('accepts the token in the query, as FindFace can only be given a URL', async () => {
    const response = await post(JSON.stringify([seedEvent]), json, '/?token=s3cret');
    assert.equal(response.status, 200);
  });

  it('answers 401 without the secret, with a wrong one, or a wrong scheme', async () => {
    for (const headers of [json, { ...json, Authorization: 'Bearer wrong' }, { ...json, Authorization: 'Basic s3cret' }]) {
      const response = await post(JSON.stringify([seedEvent]), headers);
      assert.equal(response.status, 401);
      assert.match((await response.json()).error, /secret/);
    }
    assert.equal((await post('[]', json, '/?token=s3cre')).status, 401);
  });

  it('answers 405 to other methods', async () => {
    const response = await fetch(server.url, { method: 'PUT', headers: json, body: '[]' });
    assert.equal(response.status, 405);
    assert.equal(response.headers.get('allow'), 'POST');
    assert.equal((await fetch(server.url)).status, 405);
  });

  it('answers 415 to a content type that is not JSON, or not UTF-8', async () => {
    const auth = { Authorization: 'Bearer s3cret' };
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1']) {
      const response = await post(JSON.stringify([seedEvent]), { ...auth, 'Content-Type': type });
      assert.equal(response.status, 415, type);
    }
    assert.equal((await post(JSON.stringify([seedEvent]), { ...auth, 'Content-Type': 'application/vnd.findface+json; charset=UTF-8' })).status, 200);
  });

  it('answers 413 over the limit, declared or streamed', async () => {
    const big = JSON.stringify([{ ...seedEvent, padding: 'x'.repeat(4000) }]);
    assert.equal((await post(big)).status, 413);
    // Chunked, without Content-Length: the limit holds while reading.
    const status = await new Promise<number>((resolve, reject) => {
      const request = http.request(server.url, { method: 'POST', headers: { ...json, Authorization: 'Bearer s3cret' } }, (response) => {
        response.resume();
        resolve(response.statusCode!);
      });
      request.on('error', reject);
      for (let i = 0; i < 10; i++) request.write('x'.repeat(500));
      request.end();
    });
    assert.equal(status, 413);
  });

  it('answers 400 naming the problem: not JSON, not UTF-8, not events', async () => {
    const cases: Array<[string | Uint8Array, RegExp]> = [
      ['[{"id": "1", "camera": 2', /not valid JSON/],
      [new Uint8Array([0x5b, 0xff, 0xfe, 0x5d]), /not valid UTF-8/],
      ['[]', /empty array/],
      ['[{"id": "1", "camera": 2}, {"id": "2"}]', /event \[1\] has no "camera"/],
      ['{"id": "1", "camera": "2"}', /"camera" must be/],
      ['"hello"', /the body is a string/],
      ['[{"id":"1","camera":1,"__proto__":{"x":1}}]', /forbidden key/],
    ];
    for (const [body, message] of cases) {
      const response = await post(body);
      assert.equal(response.status, 400, String(body));
      assert.match((await response.json()).error, message);
    }
  });

  it('uses a body an earlier JSON parser has read', async () => {
    const req = Object.assign(new http.IncomingMessage(new net.Socket()), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      _body: true,
      body: [seedEvent],
    });
    const result = await takeWebhookRequest(req, { maxBodyBytes: 1000 });
    assert.equal(result.status, 200);
  });

  it('compares secrets of any length', () => {
    assert.equal(secretMatches('a', 'a'), true);
    assert.equal(secretMatches('a', 'ab'), false);
    assert.equal(secretMatches(undefined, 'a'), false);
  });

  it('names the content type problem', () => {
    assert.equal(contentTypeProblem('application/json'), null);
    assert.equal(contentTypeProblem('Application/JSON; charset="utf-8"'), null);
    assert.match(contentTypeProblem(undefined)!, /no Content-Type/);
  });

  describe('before the body', () => {
    /** Sends headers and then one byte every 50 ms (the body would take minutes); resolves with the status and how long it took. */
    function trickle(target: string, headers: Record<string, string>, path = '/'): Promise<{ status: number; ms: number }> {
      const started = performance.now();
      return new Promise((resolve, reject) => {
        const request = http.request(target + path, { method: 'POST', headers: { 'Content-Length': '5000', ...headers } });
        request.on('response', (response) => {
          response.resume();
          resolve({ status: response.statusCode ?? 0, ms: performance.now() - started });
          request.destroy();
        });
        request.on('error', reject);
        const drip = setInterval(() => request.write('['), 50);
        request.on('close', () => clearInterval(drip));
      });
    }

    for (const [what, headers, status] of [
      ['no secret', json, 401],
      ['a wrong secret', { ...json, Authorization: 'Bearer wrong' }, 401],
      ['a content type that is not JSON', { 'Content-Type': 'text/plain', Authorization: 'Bearer s3cret' }, 415],
      ['a declared length over the limit', { ...json, Authorization: 'Bearer s3cret', 'Content-Length': '4000' }, 413],
    ] as Array<[string, Record<string, string>, number]>) {
      it(`answers ${what} with ${status} at once, without waiting for the body`, async () => {
        const answer = await trickle(server.url, headers);
        assert.equal(answer.status, status);
        assert.ok(answer.ms < 1000, `answered in ${answer.ms} ms`);
      });
    }

    it('bounds the bytes held by bodies of requests not yet authenticated, answering 503 beyond it', async () => {
      const budget = new ByteBudget(3000);
      const open = await startServer({ maxBodyBytes: 100_000, budget });
      try {
        // A first unauthenticated body, still arriving, holds 2000 bytes.
        const { port } = new URL(open.url);
        const first = http.request({ host: '127.0.0.1', port, method: 'POST', headers: { ...json, 'Content-Length': '2001' } });
        first.on('error', () => undefined);
        first.write('['.repeat(2000));
        const deadline = performance.now() + 2000;
        while (budget.held < 2000 && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
        assert.equal(budget.held, 2000);
        const declared = await trickle(open.url, { ...json, 'Content-Length': '1500' });
        assert.equal(declared.status, 503, 'a declared length that does not fit is refused at once');
        assert.ok(declared.ms < 1000);
        const chunked = await new Promise<number>((resolve, reject) => {
          const request = http.request(open.url, { method: 'POST', headers: json }, (response) => {
            response.resume();
            resolve(response.statusCode!);
          });
          request.on('error', reject);
          request.write('['.repeat(1500));
        });
        assert.equal(chunked, 503, 'a streamed body that outgrows the budget is refused');
        assert.equal(budget.held, 2000, 'the refused body gave its bytes back');
        first.end(']');
        await new Promise((resolve) => first.on('response', resolve));
        assert.equal(budget.held, 0, 'an answered body is released');
        const retry = await fetch(open.url, { method: 'POST', headers: json, body: JSON.stringify([seedEvent]) });
        assert.equal(retry.status, 200);
      } finally {
        await open.close();
      }
    });

    it('does not count bodies of requests authenticated by the secret or upstream', async () => {
      const budget = new ByteBudget(1);
      budget.tryTake(1);
      const withSecret = await startServer({ secret: 's3cret', maxBodyBytes: 100_000, budget });
      const upstream = await startServer({ maxBodyBytes: 100_000, budget, authenticatedUpstream: true });
      try {
        const body = JSON.stringify([seedEvent]);
        assert.equal((await fetch(withSecret.url, { method: 'POST', headers: { ...json, Authorization: 'Bearer s3cret' }, body })).status, 200);
        assert.equal((await fetch(upstream.url, { method: 'POST', headers: json, body })).status, 200);
        assert.equal(budget.held, 1);
      } finally {
        await withSecret.close();
        await upstream.close();
      }
    });
  });
});
