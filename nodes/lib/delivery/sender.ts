// The webhook sender: FindFace's WebhookUpdaterService as a pure send loop.
// Events wait in an EventQueue; one request is in flight at a time, carrying
// the oldest `batchSize` payloads, in arrival order, as a JSON array. A failed
// request is retried after FindFace's backoff until it succeeds or
// `maxAttempts` is reached (the batch is then given up); the batch leaves the
// queue only after that (at-least-once). No Node-RED import: the node wires
// the transport (an HTTP POST), the queue, the clock and the hooks.
import { Clock, systemClock } from '../common/clock';
import { BackoffOptions, DEFAULT_BACKOFF, backoffProblem, backoffSeconds, formatSeconds, parseRetryAfter } from './backoff';
import { EventId, eventIdOf, eventIdOfJson, jsonArray } from './json-records';
import { EventQueue } from './queue/queue';

/** What the transport resolves with for any HTTP answer (it rejects only for no answer at all). */
export interface TransportResponse {
  status: number;
  statusText?: string;
  /** Header names in lower case, as Node.js gives them. */
  headers?: Record<string, unknown>;
}

/**
 * Sends one request body (a JSON array) and resolves with the answer, whatever
 * its status; rejects for a connection error (with Node.js's `code`, e.g.
 * `ECONNREFUSED`) or when `signal` aborts.
 */
export type Transport = (body: Buffer, signal: AbortSignal) => Promise<TransportResponse>;

export type SenderState = 'idle' | 'lingering' | 'sending' | 'backoff' | 'gone' | 'stopped';

export interface SenderStatus {
  state: SenderState;
  /** Events in the queue, including a batch being sent. */
  depth: number;
  /** The wait in progress, in seconds, while `state` is `backoff`. */
  backoffSeconds?: number;
  /** The most recent failure, cleared by the next delivery. */
  lastError?: SendError;
}

export interface SendError {
  message: string;
  /** Node.js error code (`ECONNREFUSED`, `ETIMEDOUT` …), or `HTTP_<status>` for an answer. */
  code: string;
  statusCode?: number;
}

export interface DeliveredReport {
  statusCode: number;
  ids: EventId[];
  count: number;
  /** 1 when the first attempt succeeded. */
  attempts: number;
  /** Duration of the successful request, ms. */
  latencyMs: number;
}

export interface GivenUpReport {
  payloads: unknown[];
  ids: EventId[];
  attempts: number;
  error: SendError;
}

/** Callbacks; each is optional and must not throw. */
export interface SenderHooks {
  log?(line: string): void;
  warn?(line: string): void;
  /** State, depth or last error changed; read `sender.status` (may be called very often: throttle). */
  status?(): void;
  delivered?(report: DeliveredReport): void;
  givenUp?(report: GivenUpReport): void;
  /** 410 Gone (code `GONE`) or a queue I/O error. */
  error?(error: Error & { code?: string }): void;
}

export interface SenderOptions {
  queue: EventQueue;
  transport: Transport;
  /** Names the webhook in log lines. */
  title: string;
  /** Most events in one request; default 1. */
  batchSize?: number;
  /** 0 (default): send at once; > 0: wait up to this long for a batch to fill. */
  lingerMs?: number;
  /** Per request, ms; 0 = none. Default 10000. */
  timeoutMs?: number;
  backoff?: BackoffOptions;
  /** Attempts per batch before it is given up; 0 = forever. Default 10. */
  maxAttempts?: number;
  /** Statuses that mean delivered; default [200]. */
  successCodes?: Iterable<number>;
  clock?: Clock;
  hooks?: SenderHooks;
}

/** HTTP answers that say this very request can never succeed: the batch is given up at once. */
export const REJECT_CODES: ReadonlySet<number> = new Set([400, 413, 415, 422]);
/** Answers whose Retry-After header is honoured. */
export const RETRY_AFTER_CODES: ReadonlySet<number> = new Set([429, 503]);
export const GONE = 410;

export type StatusClass = 'success' | 'gone' | 'reject' | 'retry';

/** What the sender does with an HTTP answer. */
export function classifyStatus(status: number, successCodes: ReadonlySet<number>): StatusClass {
  if (successCodes.has(status)) return 'success';
  if (status === GONE) return 'gone';
  if (REJECT_CODES.has(status)) return 'reject';
  return 'retry';
}

/** Placeholder in log lines for a payload without an id. */
export const NO_ID = '-';

function idText(id: EventId): string {
  return id === null ? NO_ID : String(id);
}

/** Ids as FindFace (Python) prints a list: `['4240944471810639375', 12, -]`. */
export function formatIds(ids: EventId[]): string {
  let out = '[';
  for (let i = 0; i < ids.length; i++) {
    if (i > 0) out += ', ';
    const id = ids[i];
    out += typeof id === 'string' ? `'${id}'` : idText(id);
  }
  return out + ']';
}

/** `ECONNREFUSED connect ECONNREFUSED 127.0.0.1:8888` / `HTTP 500 Internal Server Error`. */
export function describeError(error: SendError): string {
  if (error.statusCode !== undefined) return error.message;
  return error.code && !error.message.startsWith(error.code) ? `${error.code} ${error.message}` : error.message;
}

const STATUS_TEXT: Record<number, string> = {
  201: 'Created', 202: 'Accepted', 204: 'No Content', 301: 'Moved Permanently', 302: 'Found', 303: 'See Other',
  307: 'Temporary Redirect', 308: 'Permanent Redirect',
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
  408: 'Request Timeout', 409: 'Conflict', 410: 'Gone', 413: 'Payload Too Large', 415: 'Unsupported Media Type',
  422: 'Unprocessable Entity', 429: 'Too Many Requests', 500: 'Internal Server Error', 501: 'Not Implemented',
  502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout',
};

function httpError(response: TransportResponse): SendError {
  const text = response.statusText || STATUS_TEXT[response.status] || '';
  return {
    message: `HTTP ${response.status}${text ? ` ${text}` : ''}`,
    code: `HTTP_${response.status}`,
    statusCode: response.status,
  };
}

function transportError(error: unknown): SendError {
  const e = error as { code?: unknown; message?: unknown } | null;
  const code = e && typeof e.code === 'string' && e.code ? e.code : 'ERROR';
  const message = e && typeof e.message === 'string' && e.message ? e.message : String(error);
  return { message, code };
}

type Outcome =
  | { kind: 'answer'; response: TransportResponse; latencyMs: number }
  | { kind: 'failed'; error: SendError }
  | { kind: 'aborted' };

const STOPPED = Symbol('stopped');

/** A batch as it is sent: the queued records, their event ids and the request body. */
interface Batch {
  records: Buffer[];
  ids: EventId[];
  body: Buffer;
}

function prepareBatch(records: Buffer[]): Batch {
  return { records, ids: records.map(eventIdOfJson), body: jsonArray(records) };
}

export class Sender {
  private readonly queue: EventQueue;
  private readonly transport: Transport;
  private readonly title: string;
  private readonly batchSize: number;
  private readonly lingerMs: number;
  private readonly timeoutMs: number;
  private readonly backoff: BackoffOptions;
  private readonly maxAttempts: number;
  private readonly successCodes: ReadonlySet<number>;
  private readonly clock: Clock;
  private readonly hooks: SenderHooks;

  private running = false;
  private loop: Promise<void> | undefined;
  private state: SenderState = 'idle';
  private waitSeconds: number | undefined;
  private lastError: SendError | undefined;
  /** When the oldest event not yet taken into a batch was queued (for linger). */
  private pendingSince: number | undefined;
  /** The pause in progress: resolved early by new work (when `onWork`) or by stop. */
  private pause: { wake: () => void; onWork: boolean } | undefined;
  /** The request in flight. */
  private inFlight: { controller: AbortController; done: Promise<unknown> } | undefined;

  constructor(options: SenderOptions) {
    this.queue = options.queue;
    this.transport = options.transport;
    this.title = options.title;
    this.batchSize = options.batchSize ?? 1;
    this.lingerMs = options.lingerMs ?? 0;
    this.timeoutMs = options.timeoutMs ?? 10000;
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.maxAttempts = options.maxAttempts ?? 10;
    this.successCodes = new Set(options.successCodes ?? [200]);
    // Options come parsed (lib/delivery/webhook-config.ts reports a user's mistakes); anything else is a bug.
    const wholeAtLeast = (name: string, value: number, min: number) => {
      if (!Number.isSafeInteger(value) || value < min) throw new RangeError(`Sender option ${name} must be an integer ≥ ${min}, got ${String(value)}`);
    };
    const atLeastZero = (name: string, value: number) => {
      if (!Number.isFinite(value) || value < 0) throw new RangeError(`Sender option ${name} must be a number ≥ 0, got ${String(value)}`);
    };
    wholeAtLeast('batchSize', this.batchSize, 1);
    wholeAtLeast('maxAttempts', this.maxAttempts, 0);
    atLeastZero('lingerMs', this.lingerMs);
    atLeastZero('timeoutMs', this.timeoutMs);
    const backoffIssue = backoffProblem(this.backoff);
    if (backoffIssue) throw new RangeError(`Sender option backoff: ${backoffIssue}`);
    if (this.successCodes.size === 0) throw new RangeError('Sender option successCodes must hold at least one status');
    this.clock = options.clock ?? systemClock;
    this.hooks = options.hooks ?? {};
  }

  get status(): SenderStatus {
    const status: SenderStatus = { state: this.state, depth: this.queue.length };
    if (this.state === 'backoff') status.backoffSeconds = this.waitSeconds;
    if (this.lastError) status.lastError = this.lastError;
    return status;
  }

  /** Starts delivering whatever is queued (idempotent). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run().catch((error: unknown) => {
      // run() handles its own errors; this is a bug guard, never a crash.
      this.emitError(error instanceof Error ? error : new Error(String(error)));
    });
  }

  /**
   * Queues payloads (resolves once the queue has them durably) and wakes the
   * sender. Rejects with the queue's error (QueueFullError, I/O).
   */
  async enqueue(payloads: unknown[]): Promise<void> {
    if (payloads.length === 0) return;
    await this.queue.append(payloads);
    if (this.pendingSince === undefined) this.pendingSince = this.clock.now();
    const log = this.hooks.log;
    if (log) {
      const first = this.queue.length - payloads.length;
      for (let i = 0; i < payloads.length; i++) {
        log(`Event ${idText(eventIdOf(payloads[i]))} enqueued for webhook ${this.title} (${first + i + 1} items in queue)`);
      }
    }
    if (this.pause?.onWork) this.pause.wake();
    this.hooks.status?.();
  }

  /**
   * Stops the loop: no new request, timers cleared. A request in flight may
   * finish within `graceMs` (a success is then acknowledged); after that it is
   * aborted and its batch stays queued to be sent again on the next start.
   */
  async stop(graceMs = 0): Promise<void> {
    if (!this.running) {
      this.setState('stopped');
      return;
    }
    this.running = false;
    this.pause?.wake();
    const request = this.inFlight;
    if (request) {
      let timer: unknown;
      const graceOver = new Promise<void>((resolve) => {
        timer = this.clock.setTimeout(resolve, Math.max(0, graceMs));
      });
      await Promise.race([request.done, graceOver]);
      this.clock.clearTimeout(timer);
      request.controller.abort();
    }
    await this.loop;
    this.setState('stopped');
  }

  private setState(state: SenderState, waitSeconds?: number): void {
    if (this.state === state && this.waitSeconds === waitSeconds) return;
    this.state = state;
    this.waitSeconds = waitSeconds;
    this.hooks.status?.();
  }

  private emitError(error: Error & { code?: string }): void {
    this.hooks.error?.(error);
  }

  /** Waits `ms` (undefined = until woken); woken early by stop, and by new work when `onWork`. */
  private sleep(ms: number | undefined, onWork: boolean): Promise<void> {
    return new Promise((resolve) => {
      let timer: unknown;
      const wake = () => {
        if (timer !== undefined) this.clock.clearTimeout(timer);
        if (this.pause?.wake === wake) this.pause = undefined;
        resolve();
      };
      this.pause = { wake, onWork };
      if (ms !== undefined) timer = this.clock.setTimeout(wake, Math.max(0, ms));
    });
  }

  private async run(): Promise<void> {
    let next: Promise<Batch | undefined> | undefined;
    while (this.running) {
      if (this.queue.length === 0) {
        this.setState('idle');
        await this.sleep(undefined, true);
        continue;
      }
      if (this.lingerMs > 0 && this.queue.length < this.batchSize && this.pendingSince !== undefined) {
        const left = this.pendingSince + this.lingerMs - this.clock.now();
        if (left > 0) {
          this.setState('lingering');
          await this.sleep(left, true);
          continue;
        }
      }
      let batch = next ? await next : undefined;
      next = undefined;
      if (!batch) {
        const records = await this.queueOp(() => this.queue.peek(this.batchSize));
        if (records === STOPPED) return;
        if (records.length === 0) continue;
        batch = prepareBatch(records);
      }
      const count = batch.records.length;
      if (this.queue.length <= count) this.pendingSince = undefined;
      if (!this.running) return;
      // The next full batch is read and encoded while this one is on the wire;
      // it is the head of the queue once this one is acknowledged.
      if (this.queue.length >= count + this.batchSize) {
        next = this.queue.peek(this.batchSize, count).then(
          (records) => (records.length === this.batchSize ? prepareBatch(records) : undefined),
          () => undefined, // read again, with the error handling of the normal path
        );
      }
      const result = await this.deliver(batch);
      if (result !== 'done') return;
    }
  }

  /** Runs a queue operation, retrying I/O errors with backoff until it succeeds or the sender stops. */
  private async queueOp<T>(op: () => Promise<T>): Promise<T | typeof STOPPED> {
    for (let failures = 1; ; failures++) {
      try {
        return await op();
      } catch (error) {
        const err = error instanceof Error ? error : new Error(String(error));
        this.emitError(err);
        if (!this.running) return STOPPED;
        const wait = backoffSeconds(failures, this.backoff);
        this.hooks.warn?.(`Backing off for ${formatSeconds(wait)} seconds after failure: queue ${describeError(transportError(err))}`);
        this.setState('backoff', wait);
        await this.sleep(wait * 1000, false);
        if (!this.running) return STOPPED;
      }
    }
  }

  private async deliver({ records, ids, body }: Batch): Promise<'done' | 'gone' | 'stopped'> {
    const count = records.length;
    this.hooks.log?.(`Received ${count} events from queue: ${formatIds(ids)}`);
    for (let attempts = 1; ; attempts++) {
      if (!this.running) return 'stopped';
      this.hooks.log?.(`Attempting to send ${count} events`);
      this.setState('sending');
      const outcome = await this.attempt(body);
      if (outcome.kind === 'aborted') return 'stopped';
      let error: SendError;
      let retryAfter: number | undefined;
      if (outcome.kind === 'answer') {
        const { response } = outcome;
        const verdict = classifyStatus(response.status, this.successCodes);
        if (verdict === 'success') {
          // Acknowledged even while stopping: the receiver has the batch.
          await this.ack(count);
          this.lastError = undefined;
          this.hooks.log?.(`Sent ${count} events: ${formatIds(ids)}`);
          this.hooks.delivered?.({ statusCode: response.status, ids, count, attempts, latencyMs: outcome.latencyMs });
          this.hooks.status?.();
          return 'done';
        }
        error = httpError(response);
        if (verdict === 'gone') {
          this.lastError = error;
          this.hooks.warn?.(`Webhook ${this.title} answered ${error.message}: stopped sending; ${this.queue.length} events kept in queue until the node is redeployed`);
          this.setState('gone');
          const gone = new Error(`${error.message}: the webhook receiver is gone; sending stopped until redeploy`) as Error & { code?: string };
          gone.code = 'GONE';
          this.emitError(gone);
          return 'gone';
        }
        if (verdict === 'reject') {
          return this.giveUp(records, ids, attempts, error);
        }
        if (RETRY_AFTER_CODES.has(response.status)) {
          retryAfter = parseRetryAfter(response.headers?.['retry-after'] as string | undefined, this.clock.now(), this.backoff.max);
          if (retryAfter !== undefined) error = { ...error, message: `${error.message} (Retry-After ${formatSeconds(retryAfter)} s)` };
        }
      } else {
        error = outcome.error;
      }
      this.lastError = error;
      if (this.maxAttempts > 0 && attempts >= this.maxAttempts) {
        return this.giveUp(records, ids, attempts, error);
      }
      if (!this.running) return 'stopped';
      const wait = retryAfter ?? backoffSeconds(attempts, this.backoff);
      this.hooks.warn?.(`Backing off for ${formatSeconds(wait)} seconds after failure: ${describeError(error)}`);
      this.setState('backoff', wait);
      await this.sleep(wait * 1000, false);
    }
  }

  private async giveUp(batch: Buffer[], ids: EventId[], attempts: number, error: SendError): Promise<'done' | 'stopped'> {
    this.lastError = error;
    this.hooks.warn?.(`Gave up on ${batch.length} events after ${attempts} attempts: ${describeError(error)}: ${formatIds(ids)}`);
    const acked = await this.ack(batch.length);
    if (!acked) return 'stopped';
    this.hooks.givenUp?.({ payloads: batch.map((json) => JSON.parse(json.toString('utf8')) as unknown), ids, attempts, error });
    this.hooks.status?.();
    return 'done';
  }

  private async ack(count: number): Promise<boolean> {
    try {
      await this.queue.ack(count);
      return true;
    } catch (error) {
      this.emitError(error instanceof Error ? error : new Error(String(error)));
      // Retry while running; when stopping, the batch stays queued (sent again later).
      if (!this.running) return false;
      return (await this.queueOp(() => this.queue.ack(count))) !== STOPPED;
    }
  }

  private async attempt(body: Buffer): Promise<Outcome> {
    const controller = new AbortController();
    let timedOut = false;
    let timer: unknown;
    if (this.timeoutMs > 0) {
      timer = this.clock.setTimeout(() => {
        timedOut = true;
        controller.abort();
      }, this.timeoutMs);
    }
    const started = this.clock.now();
    let request: Promise<TransportResponse>;
    try {
      request = this.transport(body, controller.signal);
    } catch (error) {
      request = Promise.reject(error);
    }
    const done = request.then(
      (response): Outcome => ({ kind: 'answer', response, latencyMs: this.clock.now() - started }),
      (error: unknown): Outcome => {
        if (timedOut) return { kind: 'failed', error: { message: `timeout of ${this.timeoutMs}ms exceeded`, code: 'ETIMEDOUT' } };
        if (controller.signal.aborted) return { kind: 'aborted' };
        return { kind: 'failed', error: transportError(error) };
      },
    );
    this.inFlight = { controller, done };
    try {
      const outcome = await done;
      // A success that raced an abort still counts: the receiver has it.
      return outcome;
    } finally {
      if (timer !== undefined) this.clock.clearTimeout(timer);
      this.inFlight = undefined;
    }
  }
}
