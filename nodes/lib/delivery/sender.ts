// The webhook sender: FindFace's WebhookUpdaterService as a pure send loop.
// Events wait in an EventQueue; by default one request is in flight at a
// time, carrying the oldest `batchSize` payloads, in arrival order, as a JSON
// array. A failed request is retried after FindFace's backoff until it
// succeeds or `maxAttempts` is reached (the batch is then given up); the
// batch leaves the queue only after that (at-least-once).
//
// With `maxInFlight` N > 1, up to N batches are on the wire at once (the
// window): batch k is the queue's records after those of batches 0..k-1. The
// queue is acknowledged only over the contiguous prefix of settled batches
// (delivered or given up), so after a crash at most the N batches of the
// window are sent again; a batch delivered while an older one still retries
// waits in the window, unacknowledged. Order between batches is then not
// kept. A failure's backoff pauses the dispatch of new batches (the ones on
// the wire go on). N = 1 is FindFace's behaviour: one request, strict order.
//
// No Node-RED import: the node wires the transport (an HTTP POST), the
// queue, the clock and the hooks.
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
  /** Batches on the wire at once; default 1 (strict order). */
  maxInFlight?: number;
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
  201: 'Created',
  202: 'Accepted',
  204: 'No Content',
  301: 'Moved Permanently',
  302: 'Found',
  303: 'See Other',
  307: 'Temporary Redirect',
  308: 'Permanent Redirect',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  409: 'Conflict',
  410: 'Gone',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
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

type Outcome = { kind: 'answer'; response: TransportResponse; latencyMs: number } | { kind: 'failed'; error: SendError } | { kind: 'aborted' };

const STOPPED = Symbol('stopped');

/** A batch as it is sent: the queued records, their event ids and the request body. */
interface Batch {
  records: Buffer[];
  ids: EventId[];
  body: Buffer;
}

/** A batch of the window: dispatched, not yet acknowledged. */
interface Flight {
  batch: Batch;
  /** Delivered or given up: may leave the queue once every older flight has too. */
  settled: boolean;
  /** Waiting out a backoff (pauses the dispatch of new batches). */
  backingOff: boolean;
  /** The request on the wire, if any. */
  request?: { controller: AbortController; done: Promise<unknown> };
  /** Resolves when this flight's delivery loop ends. */
  finished?: Promise<void>;
  /** Resolves true once the flight's records have left the queue, false if the sender stopped first. */
  leftQueue: Promise<boolean>;
  resolveLeftQueue: (acked: boolean) => void;
}

function newFlight(batch: Batch): Flight {
  let resolveLeftQueue!: (acked: boolean) => void;
  const leftQueue = new Promise<boolean>((resolve) => (resolveLeftQueue = resolve));
  return { batch, settled: false, backingOff: false, leftQueue, resolveLeftQueue };
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
  private readonly maxInFlight: number;
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
  /** When the oldest event not yet taken into a batch was queued (for linger), on the monotonic clock. */
  private pendingSince: number | undefined;
  /** The dispatcher's pause in progress: resolved early by new work (when `onWork`), a settled flight, or stop. */
  private pause: { wake: () => void; onWork: boolean } | undefined;
  /** Backoff waits in progress, each resolved early by stop. */
  private readonly backoffWakers = new Set<() => void>();
  /** The window, oldest first. */
  private readonly window: Flight[] = [];
  /** Records of the window's batches still at the head of the queue (dispatched or settled, not yet acknowledged). */
  private windowRecords = 0;
  /**
   * Reads and acknowledgements of the queue, one after the other: a read's
   * `skip` (the window's records) is taken when it runs, never while an
   * acknowledgement is moving the queue's head.
   */
  private queueTurn: Promise<unknown> = Promise.resolve();
  /** 410: no new batch until the node is redeployed. */
  private gone = false;

  constructor(options: SenderOptions) {
    this.queue = options.queue;
    this.transport = options.transport;
    this.title = options.title;
    this.batchSize = options.batchSize ?? 1;
    this.lingerMs = options.lingerMs ?? 0;
    this.timeoutMs = options.timeoutMs ?? 10000;
    this.maxInFlight = options.maxInFlight ?? 1;
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
    wholeAtLeast('maxInFlight', this.maxInFlight, 1);
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
    const lengthAfter = await this.queue.append(payloads);
    if (this.pendingSince === undefined) this.pendingSince = this.clock.monotonic();
    const log = this.hooks.log;
    if (log) {
      const first = (typeof lengthAfter === 'number' ? lengthAfter : this.queue.length) - payloads.length;
      for (let i = 0; i < payloads.length; i++) {
        log(`Event ${idText(eventIdOf(payloads[i]))} enqueued for webhook ${this.title} (${first + i + 1} items in queue)`);
      }
    }
    if (this.pause?.onWork) this.pause.wake();
    this.hooks.status?.();
  }

  /**
   * Another instance appended to a shared queue (the queue's length is
   * already refreshed): wakes the sender if it waits for work.
   */
  notifyAppended(): void {
    if (this.pause?.onWork) this.pause.wake();
    this.hooks.status?.();
  }

  /**
   * Stops the loop: no new request, timers cleared. Requests in flight may
   * finish within `graceMs` (a success is then acknowledged); after that they
   * are aborted and their batches stay queued to be sent again on the next start.
   */
  async stop(graceMs = 0): Promise<void> {
    if (!this.running) {
      this.setState('stopped');
      return;
    }
    this.running = false;
    this.pause?.wake();
    for (const wake of [...this.backoffWakers]) wake();
    const requests = this.window.flatMap((flight) => (flight.request ? [flight.request] : []));
    if (requests.length > 0) {
      let timer: unknown;
      const graceOver = new Promise<void>((resolve) => {
        timer = this.clock.setTimeout(resolve, Math.max(0, graceMs));
      });
      await Promise.race([Promise.all(requests.map((request) => request.done)), graceOver]);
      this.clock.clearTimeout(timer);
      for (const request of requests) request.controller.abort();
    }
    await this.loop;
    // Flights still retrying end at their next step; settled ones behind them
    // then stay queued, to be sent again on the next start.
    await Promise.all(this.window.filter((flight) => !flight.settled).map((flight) => flight.finished));
    await this.queueTurn;
    for (const flight of this.window) flight.resolveLeftQueue(false);
    await Promise.all(this.window.map((flight) => flight.finished));
    this.window.length = 0;
    this.windowRecords = 0;
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

  /** The dispatcher waits `ms` (undefined = until woken); woken early by stop, a settled flight, and by new work when `onWork`. */
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

  /** A flight's backoff wait; ended early by stop only. */
  private backoffWait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        this.clock.clearTimeout(timer);
        this.backoffWakers.delete(wake);
        resolve();
      };
      const timer = this.clock.setTimeout(wake, Math.max(0, ms));
      this.backoffWakers.add(wake);
    });
  }

  private wakeDispatcher(): void {
    this.pause?.wake();
  }

  /** Runs `op` on the queue after every read and acknowledgement before it. */
  private inTurn<T>(op: () => Promise<T>): Promise<T> {
    const result = this.queueTurn.then(op);
    this.queueTurn = result.catch(() => undefined);
    return result;
  }

  /** The dispatcher: keeps the window filled with batches while running. */
  private async run(): Promise<void> {
    let next: Promise<Batch | undefined> | undefined;
    while (this.running && !this.gone) {
      if (this.window.length >= this.maxInFlight || this.window.some((flight) => flight.backingOff)) {
        await this.sleep(undefined, false);
        continue;
      }
      const waiting = this.queue.length - this.windowRecords;
      if (waiting <= 0) {
        if (this.window.length === 0) this.setState('idle');
        await this.sleep(undefined, true);
        continue;
      }
      if (this.lingerMs > 0 && waiting < this.batchSize && this.pendingSince !== undefined) {
        const left = this.pendingSince + this.lingerMs - this.clock.monotonic();
        if (left > 0) {
          if (this.window.length === 0) this.setState('lingering');
          await this.sleep(left, true);
          continue;
        }
      }
      let batch = next ? await next : undefined;
      next = undefined;
      if (!batch) {
        const records = await this.queueOp(() => this.inTurn(() => this.queue.peek(this.batchSize, this.windowRecords)));
        if (records === STOPPED) return;
        if (records.length === 0) continue;
        batch = prepareBatch(records);
      }
      if (!this.running) return;
      const count = batch.records.length;
      if (this.queue.length - this.windowRecords <= count) this.pendingSince = undefined;
      const flight = newFlight(batch);
      this.window.push(flight);
      this.windowRecords += count;
      flight.finished = this.deliver(flight);
      // The next full batch is read and encoded while this one is on the wire:
      // it follows the window's records.
      if (this.queue.length >= this.windowRecords + this.batchSize) {
        next = this.inTurn(() => this.queue.peek(this.batchSize, this.windowRecords)).then(
          (records) => (records.length === this.batchSize ? prepareBatch(records) : undefined),
          () => undefined, // read again, with the error handling of the normal path
        );
      }
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
        await this.backoffWait(wait * 1000);
        if (!this.running) return STOPPED;
      }
    }
  }

  /** One flight's attempts, until it is delivered, given up, gone or stopped. */
  private async deliver(flight: Flight): Promise<void> {
    const { records, ids, body } = flight.batch;
    const count = records.length;
    this.hooks.log?.(`Received ${count} events from queue: ${formatIds(ids)}`);
    for (let attempts = 1; ; attempts++) {
      if (!this.running || this.gone) return;
      this.hooks.log?.(`Attempting to send ${count} events`);
      this.setState('sending');
      const outcome = await this.attempt(flight, body);
      if (outcome.kind === 'aborted') return;
      let error: SendError;
      let retryAfter: number | undefined;
      if (outcome.kind === 'answer') {
        const { response } = outcome;
        const verdict = classifyStatus(response.status, this.successCodes);
        if (verdict === 'success') {
          // Acknowledged even while stopping: the receiver has the batch.
          if (!(await this.settle(flight))) return;
          this.lastError = undefined;
          this.hooks.log?.(`Sent ${count} events: ${formatIds(ids)}`);
          this.hooks.delivered?.({ statusCode: response.status, ids, count, attempts, latencyMs: outcome.latencyMs });
          this.hooks.status?.();
          return;
        }
        error = httpError(response);
        if (verdict === 'gone') {
          this.lastError = error;
          if (!this.gone) {
            this.gone = true;
            this.hooks.warn?.(
              `Webhook ${this.title} answered ${error.message}: stopped sending; ${this.queue.length} events kept in queue until the node is redeployed`,
            );
            this.setState('gone');
            const gone = new Error(`${error.message}: the webhook receiver is gone; sending stopped until redeploy`) as Error & { code?: string };
            gone.code = 'GONE';
            this.emitError(gone);
            this.wakeDispatcher();
          }
          return;
        }
        if (verdict === 'reject') return this.giveUp(flight, attempts, error);
        if (RETRY_AFTER_CODES.has(response.status)) {
          // A Retry-After date is wall time: read against now(), then waited on timers (monotonic).
          retryAfter = parseRetryAfter(response.headers?.['retry-after'] as string | undefined, this.clock.now(), this.backoff.max);
          if (retryAfter !== undefined) error = { ...error, message: `${error.message} (Retry-After ${formatSeconds(retryAfter)} s)` };
        }
      } else {
        error = outcome.error;
      }
      this.lastError = error;
      if (this.maxAttempts > 0 && attempts >= this.maxAttempts) return this.giveUp(flight, attempts, error);
      if (!this.running || this.gone) return;
      const wait = retryAfter ?? backoffSeconds(attempts, this.backoff);
      this.hooks.warn?.(`Backing off for ${formatSeconds(wait)} seconds after failure: ${describeError(error)}`);
      flight.backingOff = true;
      this.setState('backoff', wait);
      await this.backoffWait(wait * 1000);
      flight.backingOff = false;
      this.wakeDispatcher();
    }
  }

  private async giveUp(flight: Flight, attempts: number, error: SendError): Promise<void> {
    const { records, ids } = flight.batch;
    this.lastError = error;
    this.hooks.warn?.(`Gave up on ${records.length} events after ${attempts} attempts: ${describeError(error)}: ${formatIds(ids)}`);
    if (!(await this.settle(flight))) return;
    this.hooks.givenUp?.({ payloads: records.map((json) => JSON.parse(json.toString('utf8')) as unknown), ids, attempts, error });
    this.hooks.status?.();
  }

  /**
   * Marks a flight settled and acknowledges the window's settled prefix (a
   * flight behind an older one still on the wire leaves the queue with it).
   * Resolves true once this flight's records have left the queue, false when
   * the sender stopped first (they stay queued and are sent again).
   */
  private settle(flight: Flight): Promise<boolean> {
    flight.settled = true;
    let prefix = 0;
    while (prefix < this.window.length && this.window[prefix].settled) prefix++;
    if (prefix > 0) {
      const leaving = this.window.splice(0, prefix);
      const count = leaving.reduce((sum, settled) => sum + settled.batch.records.length, 0);
      void this.inTurn(async () => {
        const acked = await this.ack(count);
        if (acked) this.windowRecords -= count;
        for (const settled of leaving) settled.resolveLeftQueue(acked);
        this.wakeDispatcher();
      });
    }
    return flight.leftQueue;
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

  private async attempt(flight: Flight, body: Buffer): Promise<Outcome> {
    const controller = new AbortController();
    let timedOut = false;
    let timer: unknown;
    if (this.timeoutMs > 0) {
      timer = this.clock.setTimeout(() => {
        timedOut = true;
        controller.abort();
      }, this.timeoutMs);
    }
    const started = this.clock.monotonic();
    let request: Promise<TransportResponse>;
    try {
      request = this.transport(body, controller.signal);
    } catch (error) {
      request = Promise.reject(error);
    }
    const done = request.then(
      (response): Outcome => ({ kind: 'answer', response, latencyMs: Math.round(this.clock.monotonic() - started) }),
      (error: unknown): Outcome => {
        if (timedOut) return { kind: 'failed', error: { message: `timeout of ${this.timeoutMs}ms exceeded`, code: 'ETIMEDOUT' } };
        if (controller.signal.aborted) return { kind: 'aborted' };
        return { kind: 'failed', error: transportError(error) };
      },
    );
    flight.request = { controller, done };
    try {
      // A success that raced an abort still counts: the receiver has it.
      return await done;
    } finally {
      if (timer !== undefined) this.clock.clearTimeout(timer);
      flight.request = undefined;
    }
  }
}
