// Plain HTTP(S) requests to a source listening on a port of its own
// (`listen: "port"`), and a free port to give it. 127.0.0.1 only.
import fs from 'fs';
import http from 'http';
import https from 'https';
import net from 'net';
import path from 'path';

export interface PortAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The parsed JSON body (the raw text when it is not JSON). */
  body: unknown;
  text: string;
}

export interface PortRequest {
  port: number;
  path: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** HTTPS with these options (ca, key, cert …). */
  tls?: https.RequestOptions;
  agent?: http.Agent;
  timeoutMs?: number;
}

export const tlsFixtures = path.join(__dirname, '..', 'fixtures', 'tls');

/** A file of test/fixtures/tls as text (what a tls-config node's credentials hold). */
export function tlsFixture(file: string): string {
  return fs.readFileSync(path.join(tlsFixtures, file), 'utf8');
}

export function portRequest(options: PortRequest): Promise<PortAnswer> {
  return new Promise((resolve, reject) => {
    const transport = options.tls ? https : http;
    const headers = { 'Content-Type': 'application/json', ...options.headers };
    const req = transport.request(
      {
        host: '127.0.0.1',
        port: options.port,
        path: options.path,
        method: options.method ?? 'POST',
        headers,
        agent: options.agent,
        timeout: options.timeoutMs ?? 5000,
        ...options.tls,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = text;
          try {
            body = JSON.parse(text);
          } catch {
            // Not JSON: the text as it came.
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${options.timeoutMs ?? 5000} ms`)));
    req.on('error', reject);
    req.end(options.body);
  });
}

/** A port nothing listens on right now (the OS's pick for port 0, released at once). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Whether something accepts connections on 127.0.0.1:`port`. */
export function accepting(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
