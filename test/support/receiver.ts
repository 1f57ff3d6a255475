// A webhook receiver for tests and benchmarks, on 127.0.0.1: records every
// request body, answers 200 by default and can be told to refuse connections
// (closed port), answer another status (500, 429 with Retry-After, 410 …),
// or answer late.
import http from 'http';
import net from 'net';
import { waitFor } from './wait';

export interface Answer {
  status?: number;
  headers?: Record<string, string>;
  /** Waits this long before answering. */
  delayMs?: number;
  body?: string;
}

export interface ReceivedRequest {
  at: number;
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  /** The parsed JSON body (the raw text when it is not JSON). */
  body: unknown;
  /** The status this request was answered with. */
  status: number;
}

export class Receiver {
  readonly requests: ReceivedRequest[] = [];
  private server: http.Server;
  private answer: Answer = { status: 200 };
  private scripted: Answer[] = [];
  private listening = false;
  /** Skip recording and parsing (benchmarks): only count events. */
  countOnly = false;
  eventCount = 0;
  requestCount = 0;

  private constructor(public port: number) {
    this.server = this.createServer();
  }

  /** Starts listening on `port` (0 = any free port). */
  static async start(port = 0): Promise<Receiver> {
    const receiver = new Receiver(port);
    await receiver.accept();
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/`;
  }

  /** Request bodies, in arrival order. */
  get bodies(): unknown[] {
    return this.requests.map((r) => r.body);
  }

  /** Every element of every body answered with a 2xx, in arrival order. */
  get delivered(): unknown[] {
    return this.requests.filter((r) => r.status >= 200 && r.status < 300).flatMap((r) => (Array.isArray(r.body) ? r.body : [r.body]));
  }

  /** Ids of the delivered events. */
  get deliveredIds(): unknown[] {
    return this.delivered.map((e) => (e as { id?: unknown })?.id);
  }

  /** The answer from now on (after any scripted ones). */
  respondWith(answer: Answer): void {
    this.answer = { status: 200, ...answer };
  }

  /** Answers for the next requests, in order; then the default. */
  script(...answers: Answer[]): void {
    this.scripted.push(...answers);
  }

  /** Closes the port: connections are refused until `accept()`. */
  async refuse(): Promise<void> {
    if (!this.listening) return;
    this.listening = false;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
    this.server = this.createServer();
  }

  /** Listens (again) on the same port. */
  async accept(): Promise<void> {
    if (this.listening) return;
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.port, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.port = (this.server.address() as net.AddressInfo).port;
    this.listening = true;
  }

  async stop(): Promise<void> {
    await this.refuse();
  }

  waitForDelivered(count: number, timeoutMs = 10000): Promise<unknown> {
    return waitFor(() => (this.countOnly ? this.eventCount : this.delivered.length) >= count, timeoutMs, `${count} delivered events`);
  }

  private createServer(): http.Server {
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const answer = this.scripted.shift() ?? this.answer;
        const status = answer.status ?? 200;
        const text = Buffer.concat(chunks).toString('utf8');
        this.requestCount++;
        if (this.countOnly) {
          // Events in a JSON array of objects, counted without parsing.
          if (status >= 200 && status < 300) this.eventCount += countTopLevel(text);
        } else {
          let body: unknown = text;
          try {
            body = JSON.parse(text);
          } catch {
            // kept as text
          }
          this.requests.push({ at: Date.now(), method: req.method ?? '', url: req.url ?? '', headers: req.headers, body, status });
        }
        const send = () => {
          if (res.destroyed) return;
          res.writeHead(status, { 'Content-Type': 'text/plain', ...answer.headers });
          res.end(answer.body ?? '');
        };
        if (answer.delayMs) setTimeout(send, answer.delayMs);
        else send();
      });
    });
    server.keepAliveTimeout = 5000;
    return server;
  }
}

/** Elements of a JSON array of objects/values, counted by depth-1 commas (strings respected). */
function countTopLevel(text: string): number {
  let depth = 0;
  let count = 0;
  let inString = false;
  let any = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92)
        i++; // backslash
      else if (c === 34) inString = false;
      continue;
    }
    if (c === 34) {
      inString = true;
      if (depth === 1) any = true;
    } else if (c === 91 || c === 123) {
      if (depth === 1) any = true;
      depth++;
    } else if (c === 93 || c === 125) depth--;
    else if (c === 44 && depth === 1) count++;
    else if (depth === 1 && c > 32) any = true;
  }
  return any ? count + 1 : 0;
}
