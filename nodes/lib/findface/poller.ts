// Reads new face events from FindFace's `GET /events/faces/` and emits each
// once, in creation (id) order, remembering where it stopped across restarts.
// No Node-RED import: the node gives it an event source (FindFaceClient), a
// cursor store (a JSON file or Node-RED context) and callbacks.
//
// How it reads: every `intervalMs` one poll asks for
//   ordering=id & limit=<pageSize> & id_gte=<last emitted id> & <filters>
// and follows `next_page` until the last page (at most `maxPagesPerPoll`
// pages; the rest follows at once in the next poll). `id_gte` is inclusive
// (FindFace documents `id_gte` as "greater than or equal to"), so the first
// result is normally the last event already emitted: events whose id is not
// greater than the cursor are dropped here, which also keeps the node correct
// when a server ignores `id_gte`. Ids are uint64 numbers in strings
// ("4173669353687265180", above 2^53) and are compared as BigInt.
//
// Delivery is AT-LEAST-ONCE: the cursor is saved after each page's events have
// been emitted, so a crash (or kill -9) between emitting and saving re-emits
// at most that page (≤ pageSize events) after the restart; nothing is ever
// skipped. A clean stop() waits for the save, so a redeploy or restart emits
// nothing twice. (At-most-once would save before emitting and lose up to a
// page on a crash; for door control a repeated event is the smaller harm.)
//
// Failures: network errors, timeouts, 5xx and 429 are retried after
// backoff.base × backoff.factor^n seconds (0.270, 0.729, 1.968 … capped at
// backoff.max, as FindFace's webhook sender does); 401/403 (and other errors
// that retrying cannot fix: bad filters, TLS, wrong URL) halt the poller,
// which tries again only every `haltRetryMs` or when trigger() is called.
import { Clock, OneShotTimer, systemClock } from '../common/clock';
import fs from 'fs';
import path from 'path';
import { backoffSeconds, BackoffOptions, DEFAULT_BACKOFF } from '../delivery/backoff';
import { eventProblem, FaceEvent } from '../event/event';
import { ApiErrorKind, isFindFaceApiError, Page, Query, RawEvent, RequestOptions } from './findface-api';

/** Where the poller stopped. */
export interface Cursor {
  /** Id of the last event emitted (a decimal string); null: none yet, every event on the server is new. */
  lastId: string | null;
  /** PollerOptions.sourceKey at the time of the save. */
  source?: string;
  /** ISO time of the save (informational). */
  savedAt?: string;
}

/** Keeps the cursor across restarts (a JSON file in the user dir, Node-RED context …). */
export interface CursorStore {
  load(): Promise<Cursor | undefined>;
  save(cursor: Cursor): Promise<void>;
}

/** A store in memory (tests, or a node that accepts losing its place on restart). */
export class MemoryCursorStore implements CursorStore {
  cursor: Cursor | undefined;
  saves = 0;
  constructor(initial?: Cursor) {
    this.cursor = initial ? { ...initial } : undefined;
  }
  async load(): Promise<Cursor | undefined> {
    return this.cursor ? { ...this.cursor } : undefined;
  }
  async save(cursor: Cursor): Promise<void> {
    this.saves++;
    this.cursor = { ...cursor };
  }
}

/**
 * A store in a JSON file (e.g. `<userDir>/findface-cursors/<node id>.json`),
 * written atomically (temporary file, fsync, rename), so a crash leaves the
 * old or the new cursor, never a torn file. A missing file loads as undefined;
 * an unreadable one rejects (the poller warns and starts afresh).
 */
export class FileCursorStore implements CursorStore {
  constructor(readonly file: string) {}

  async load(): Promise<Cursor | undefined> {
    let text: string;
    try {
      text = await fs.promises.readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || !('lastId' in parsed)) throw new Error(`${this.file} holds no cursor`);
    return parsed as Cursor;
  }

  async save(cursor: Cursor): Promise<void> {
    await fs.promises.mkdir(path.dirname(this.file), { recursive: true });
    const temporary = `${this.file}.${process.pid}.tmp`;
    const handle = await fs.promises.open(temporary, 'w');
    try {
      await handle.writeFile(JSON.stringify(cursor));
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.promises.rename(temporary, this.file);
  }

  /** Deletes the file (a removed node). */
  async remove(): Promise<void> {
    await fs.promises.rm(this.file, { force: true });
  }
}

/** What the poller reads from; FindFaceClient fits. */
export interface EventSource {
  listEvents(query: Query, pageCursor?: string | null, options?: RequestOptions): Promise<Page<RawEvent>>;
}

/** Query parameters the poller sets itself; a filter may not use them. */
export const RESERVED_PARAMS: readonly string[] = Object.freeze(['id_gte', 'id_gt', 'id_lte', 'id_lt', 'ordering', 'limit', 'page']);

export interface PollerOptions {
  source: EventSource;
  store: CursorStore;
  /** Called for each new event, oldest first; awaited when it returns a promise. A throw counts as a failed poll. */
  onEvent(event: FaceEvent): void | Promise<void>;
  /** Called on every change of state (see PollerStatus; statusText() words it). */
  onStatus?(status: PollerStatus): void;
  /** Things worth a node.warn: malformed events skipped, the cursor store failing. */
  onWarning?(message: string): void;
  /** Pause between polls when nothing failed (ms, default 5000). */
  intervalMs?: number;
  /** `limit` per request (default 100). */
  pageSize?: number;
  /** Pages read in one poll before yielding (default 50); the rest is read at once afterwards. */
  maxPagesPerPoll?: number;
  /**
   * On a server that does not list in id order, the most new events one poll
   * may hold to emit them oldest first (default 10000); more halts the poller
   * with an `order` error rather than skip any.
   */
  maxEventsPerPoll?: number;
  /**
   * The local re-check of the filters: the name of the first one the event
   * fails (it is not emitted, the cursor moves past it), or null to emit it.
   */
  select?(event: FaceEvent): string | null;
  /**
   * FindFace's own query parameters, passed through (e.g.
   * `{cameras: [1, 2], camera_groups: [3], matched: true, created_date_gte: '2024-01-01T00:00:00Z'}`).
   * RESERVED_PARAMS are not allowed.
   */
  filters?: Query;
  /** With no saved cursor: 'now' (default) emits only events created from now on; 'beginning' every event the server has. */
  startAt?: 'now' | 'beginning';
  /** Identifies the server (e.g. its URL): a saved cursor of another source is ignored (startAt applies). */
  sourceKey?: string;
  /** Retry schedule for transient failures (default 0.1 s × 2.7^n, at most 100 s). */
  backoff?: BackoffOptions;
  /** After an auth (401/403) or configuration failure, the next attempt is this much later (ms, default 300000). */
  haltRetryMs?: number;
  clock?: Clock;
}

export type PollerState =
  /** Not started. */
  | 'idle'
  /** A poll is in progress. */
  | 'polling'
  /** Up to date; the next poll is in waitMs. */
  | 'waiting'
  /** A transient failure (server down, 5xx, timeout); retrying in waitMs. */
  | 'backoff'
  /** Auth or configuration failure; retrying only in waitMs (haltRetryMs) or on trigger(). */
  | 'halted'
  | 'stopped';

export interface PollerError {
  /** `order`: the server's ordering or paging cannot be read without skipping (see Poller.drain). */
  kind: ApiErrorKind | 'emit' | 'order' | 'internal';
  status?: number;
  message: string;
}

export interface PollerStatus {
  state: PollerState;
  /** The cursor: last event id emitted (or the start position); null when none; undefined before the first poll. */
  lastId: string | null | undefined;
  /** Events emitted since start(). */
  emitted: number;
  /** Events the server sent that the local re-check of the filters held back, since start(). */
  excluded: number;
  /** Consecutive failed polls. */
  failures: number;
  /** For waiting/backoff/halted: ms until the next poll. */
  waitMs?: number;
  /** The failure behind backoff/halted. */
  error?: PollerError;
}

const DEFAULTS = {
  intervalMs: 5000,
  pageSize: 100,
  maxPagesPerPoll: 50,
  maxEventsPerPoll: 10000,
  haltRetryMs: 300000,
};

/** A problem with the options (bad numbers, reserved filter keys), or null. */
export function pollerOptionsProblem(options: Partial<PollerOptions>): string | null {
  const positive = (value: unknown) => value === undefined || (typeof value === 'number' && Number.isFinite(value) && value > 0);
  if (!positive(options.intervalMs)) return 'the poll interval must be a number of ms above 0';
  if (!positive(options.haltRetryMs)) return 'haltRetryMs must be a number of ms above 0';
  const wholePositive = (value: unknown) => value === undefined || (typeof value === 'number' && Number.isSafeInteger(value) && value > 0);
  if (!wholePositive(options.pageSize)) return 'the page size must be a whole number above 0';
  if (!wholePositive(options.maxPagesPerPoll)) return 'maxPagesPerPoll must be a whole number above 0';
  if (!wholePositive(options.maxEventsPerPoll)) return 'maxEventsPerPoll must be a whole number above 0';
  if (options.startAt !== undefined && options.startAt !== 'now' && options.startAt !== 'beginning') {
    return 'startAt must be "now" or "beginning"';
  }
  if (options.filters !== undefined) {
    if (typeof options.filters !== 'object' || options.filters === null || Array.isArray(options.filters)) {
      return 'the filters must be an object of FindFace query parameters';
    }
    for (const [key, value] of Object.entries(options.filters)) {
      if (RESERVED_PARAMS.includes(key)) return `the filter "${key}" is set by the poller itself and cannot be given`;
      const ok =
        value === undefined ||
        value === null ||
        ['string', 'number', 'boolean'].includes(typeof value) ||
        (Array.isArray(value) && value.every((v) => typeof v === 'string' || typeof v === 'number'));
      if (!ok) return `the filter "${key}" must be a string, number, boolean or a list of strings/numbers`;
    }
  }
  return null;
}

const DIGITS = /^\d+$/;

/** A comparable event id: a decimal string (numbers are converted); null for anything else. */
export function idKey(id: unknown): string | null {
  if (typeof id === 'number' && Number.isSafeInteger(id) && id >= 0) return String(id);
  if (typeof id === 'string' && DIGITS.test(id)) return id.replace(/^0+(?=\d)/, '');
  return null;
}

/** Compares two decimal id strings numerically (any length). */
export function compareIds(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** The status in a few English words (the node may word it with its own i18n instead). */
export function statusText(status: PollerStatus): string {
  const seconds = (ms: number | undefined) => `${((ms ?? 0) / 1000).toFixed(ms !== undefined && ms < 10000 ? 1 : 0)} s`;
  switch (status.state) {
    case 'idle':
      return 'not started';
    case 'polling':
      return `polling · ${status.emitted} events`;
    case 'waiting':
      return `up to date · ${status.emitted} events`;
    case 'backoff':
      return `retrying in ${seconds(status.waitMs)} (failure ${status.failures}): ${status.error?.message ?? ''}`;
    case 'halted': {
      const what = status.error?.kind === 'auth' ? `auth error${status.error.status ? ` ${status.error.status}` : ''}` : 'stopped by an error';
      return `${what}: ${status.error?.message ?? ''} · next try in ${seconds(status.waitMs)} or on trigger`;
    }
    case 'stopped':
      return 'stopped';
  }
}

export class Poller {
  private readonly source: EventSource;
  private readonly store: CursorStore;
  private readonly options: PollerOptions;
  private readonly clock: Clock;
  private readonly intervalMs: number;
  private readonly pageSize: number;
  private readonly maxPagesPerPoll: number;
  private readonly haltRetryMs: number;
  private readonly backoff: BackoffOptions;
  private readonly filters: Query;

  private lastId: string | null | undefined = undefined;
  private emitted = 0;
  private failures = 0;
  private state: PollerState = 'idle';
  private waitMs: number | undefined;
  private error: PollerError | undefined;
  private readonly timer: OneShotTimer;
  private running: Promise<void> | undefined;
  private abort: AbortController | undefined;
  private again = false;
  /** Where the next poll goes on, for a server that lists in id order but ignores id_gte. */
  private resumePage: string | undefined;
  private readonly maxEventsPerPoll: number;
  private excluded = 0;
  private readonly exclusionWarned = new Set<string>();
  private orderWarned = false;
  private started = false;
  private stopped = false;

  /** Throws for unusable options (see pollerOptionsProblem). */
  constructor(options: PollerOptions) {
    const problem = pollerOptionsProblem(options);
    if (problem) throw new Error(problem);
    this.options = options;
    this.source = options.source;
    this.store = options.store;
    this.clock = options.clock ?? systemClock;
    this.timer = new OneShotTimer(this.clock);
    this.intervalMs = options.intervalMs ?? DEFAULTS.intervalMs;
    this.pageSize = options.pageSize ?? DEFAULTS.pageSize;
    this.maxPagesPerPoll = options.maxPagesPerPoll ?? DEFAULTS.maxPagesPerPoll;
    this.maxEventsPerPoll = options.maxEventsPerPoll ?? DEFAULTS.maxEventsPerPoll;
    this.haltRetryMs = options.haltRetryMs ?? DEFAULTS.haltRetryMs;
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.filters = { ...(options.filters ?? {}) };
  }

  get status(): PollerStatus {
    const status: PollerStatus = { state: this.state, lastId: this.lastId, emitted: this.emitted, excluded: this.excluded, failures: this.failures };
    if (this.waitMs !== undefined && (this.state === 'waiting' || this.state === 'backoff' || this.state === 'halted')) status.waitMs = this.waitMs;
    if (this.error && (this.state === 'backoff' || this.state === 'halted')) status.error = { ...this.error };
    return status;
  }

  /** Starts polling at once. Calling it again does nothing. */
  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    this.schedule(0);
  }

  /** Polls now (also ends a halt or a backoff wait); while a poll runs, another follows it at once. */
  trigger(): void {
    if (!this.started || this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.schedule(0);
  }

  /**
   * Stops: clears the timer, cancels the request in flight, lets an emission
   * in progress finish its event and saves the cursor. No event is emitted
   * after the promise resolves (nor after stop() was called, beyond the one
   * being emitted).
   */
  async stop(): Promise<void> {
    if (this.stopped) {
      await this.running;
      return;
    }
    this.stopped = true;
    this.timer.clear();
    this.abort?.abort();
    await this.running;
    this.setState('stopped');
  }

  private schedule(ms: number): void {
    this.timer.clear();
    if (this.stopped) return;
    this.timer.start(ms, () => {
      if (this.stopped || this.running) return;
      this.again = false;
      this.running = this.cycle().then(
        (nextMs) => {
          this.running = undefined;
          if (this.stopped) return;
          this.schedule(this.again ? 0 : nextMs);
        },
        (error: unknown) => {
          // cycle() catches everything; this is a last resort against a stuck poller.
          this.running = undefined;
          this.warn(`internal error: ${(error as Error)?.message ?? String(error)}`);
          if (!this.stopped) this.schedule(this.haltRetryMs);
        },
      );
    });
  }

  private setState(state: PollerState, waitMs?: number): void {
    this.state = state;
    this.waitMs = waitMs;
    this.options.onStatus?.(this.status);
  }

  private warn(message: string): void {
    this.options.onWarning?.(message);
  }

  /** One poll; answers the wait before the next. Never throws. */
  private async cycle(): Promise<number> {
    const abort = new AbortController();
    this.abort = abort;
    this.setState('polling');
    try {
      if (this.lastId === undefined) await this.initialise(abort.signal);
      const more = await this.drain(abort.signal);
      this.failures = 0;
      this.error = undefined;
      if (this.stopped) return 0;
      if (more) return 0;
      this.setState('waiting', this.intervalMs);
      return this.intervalMs;
    } catch (error) {
      if (this.stopped) return 0;
      this.failures++;
      this.error = toPollerError(error);
      const retryable = isFindFaceApiError(error) ? error.retryable : this.error.kind === 'emit';
      if (retryable) {
        const waitMs = Math.round(backoffSeconds(this.failures, this.backoff) * 1000);
        this.setState('backoff', waitMs);
        return waitMs;
      }
      this.setState('halted', this.haltRetryMs);
      return this.haltRetryMs;
    } finally {
      if (this.abort === abort) this.abort = undefined;
    }
  }

  /** Sets lastId from the store, else from startAt. */
  private async initialise(signal: AbortSignal): Promise<void> {
    let stored: Cursor | undefined;
    try {
      stored = await this.store.load();
    } catch (error) {
      this.warn(`cannot read the saved position, starting afresh: ${(error as Error)?.message ?? String(error)}`);
    }
    if (stored) {
      const sameSource = this.options.sourceKey === undefined || stored.source === undefined || stored.source === this.options.sourceKey;
      const validId = stored.lastId === null || idKey(stored.lastId) !== null;
      if (sameSource && validId) {
        this.lastId = stored.lastId === null ? null : idKey(stored.lastId);
        return;
      }
      this.warn(
        sameSource
          ? `the saved position "${String(stored.lastId)}" is not an event id; starting afresh`
          : `the saved position belongs to ${stored.source}, not ${this.options.sourceKey}; starting afresh`,
      );
    }
    if (this.options.startAt === 'beginning') {
      this.lastId = null;
    } else {
      // The newest matching event marks "now"; events after it are new.
      const page = await this.source.listEvents({ ...this.filters, ordering: '-id', limit: 1 }, null, { signal });
      let newest: string | null = null;
      for (const event of page.results) {
        const key = idKey(event.id);
        if (key !== null && (newest === null || compareIds(key, newest) > 0)) newest = key;
      }
      this.lastId = newest;
    }
    if (this.stopped) return;
    await this.save();
  }

  /**
   * One poll's reading: pages until the poller is sure it holds every event
   * newer than the cursor (or, on a server proven to list in id order, the
   * oldest maxPagesPerPoll pages of them), then emits them oldest first.
   * Answers true when more is to be read at once.
   *
   * Nothing is emitted before the reading ends, so a server whose order only
   * shows on a later page (newest first, `page` as an offset, `ordering` or
   * `id_gte` ignored) cannot make an event come out of order or be passed
   * over. What the reading proves:
   * - ascending (every id read greater than the one before): the events read
   *   are the oldest new ones, whatever is left comes in the next poll;
   * - descending within each page, pages newest first: reading stops once an
   *   id at or below the cursor shows (everything after is older);
   * - anything else: the reading goes to the last page.
   * When it cannot be sure (the listing stops early, or more than
   * maxEventsPerPoll events would have to be held) the poll fails with an
   * `order` error that says why, and nothing of it is emitted.
   */
  private async drain(signal: AbortSignal): Promise<boolean> {
    const cursor = this.lastId ?? null;
    const query: Query = { ...this.filters, ordering: 'id', limit: this.pageSize };
    if (cursor) query.id_gte = cursor;
    const fresh = new Map<string, RawEvent>();
    const seenPages = new Set<string>();
    let pageCursor: string | null = this.resumePage ?? null;
    this.resumePage = undefined;
    let previous: string | undefined;
    let ascending = true;
    let pagesDescending = true;
    let previousHead: string | undefined;
    let reachedCursor = false;
    let belowCursor = false;
    let read = 0;
    let fullLastPage: boolean;
    for (let pages = 0; ; pages++) {
      const page: Page<RawEvent> = await this.source.listEvents(query, pageCursor, { signal });
      if (this.stopped) return false;
      let pageHead: string | undefined;
      let pagePrevious: string | undefined;
      for (const event of page.results) {
        const key = idKey(event.id);
        if (key === null) {
          this.warn(`skipped an event without a usable id (${JSON.stringify(event.id) ?? 'none'})`);
          continue;
        }
        read++;
        if (previous !== undefined && compareIds(key, previous) <= 0) ascending = false;
        if (pagePrevious !== undefined && compareIds(key, pagePrevious) > 0) pagesDescending = false;
        if (pageHead === undefined) pageHead = key;
        previous = key;
        pagePrevious = key;
        if (cursor !== null && compareIds(key, cursor) <= 0) {
          reachedCursor = true;
          if (compareIds(key, cursor) < 0) belowCursor = true;
          continue;
        }
        if (!fresh.has(key)) fresh.set(key, event);
      }
      if (pageHead !== undefined && previousHead !== undefined && compareIds(pageHead, previousHead) > 0) pagesDescending = false;
      if (pageHead !== undefined) previousHead = pageHead;
      fullLastPage = page.results.length >= this.pageSize;
      const next = page.nextPage;
      const ended = !next || next === pageCursor || seenPages.has(next);
      const provenAscending = ascending && read >= 2;
      const provenDescending = !ascending && pagesDescending;
      if (ended) {
        if (fullLastPage && read >= 2 && !ascending && !reachedCursor) {
          // A full page and no next one, not in id order: older new events may
          // be there that this server will not list.
          throw new OrderError(
            `the server lists events newest first (it ignores ordering=id${cursor ? ' and id_gte' : ''}) and gives no next page after a full page of ${page.results.length}: ` +
              `events between the last one emitted (${cursor ?? 'none yet'}) and ${lowest(fresh) ?? 'the oldest listed'} cannot be read, so none are emitted (raise the page size, or fix the server's paging)`,
          );
        }
        if (provenAscending && belowCursor) {
          if (fresh.size === 0 && fullLastPage && !pageCursor) {
            throw new OrderError(
              `the server ignores id_gte and gives no next page after a full page of ${page.results.length} old events: newer events cannot be reached (raise the page size, or fix the server's paging)`,
            );
          }
          // In id order but id_gte ignored: the next poll starts from this last page, not from the oldest event.
          this.resumePage = pageCursor ?? undefined;
        }
        break;
      }
      seenPages.add(next);
      if (provenDescending && reachedCursor) break;
      if (provenAscending && pages + 1 >= this.maxPagesPerPoll) {
        // The oldest new events are read; the rest follows at once. A server that
        // ignores id_gte would list the old ones again: go on from this page instead.
        if (belowCursor) this.resumePage = next;
        await this.emitAll(fresh);
        return true;
      }
      if (fresh.size > this.maxEventsPerPoll || pages + 1 >= this.maxPagesPerPoll * 20) {
        throw new OrderError(
          `the server does not list events in id order (it ignores ordering=id${cursor ? ' or id_gte' : ''}) and more than ${fresh.size} new events would have to be held to emit them oldest first: none are emitted (narrow pollFilters, or fix the server's ordering)`,
        );
      }
      pageCursor = next;
    }
    if (!ascending && !this.orderWarned) {
      this.orderWarned = true;
      this.warn(
        'the server does not list events in id order (ordering=id is ignored): each poll reads until it reaches events already emitted, then emits the new ones oldest first',
      );
    }
    await this.emitAll(fresh);
    return false;
  }

  /** Emits `fresh` in id order (the local selection first), saving the cursor every page and at the end. */
  private async emitAll(fresh: Map<string, RawEvent>): Promise<void> {
    const ordered = [...fresh.entries()].sort((a, b) => compareIds(a[0], b[0]));
    let unsaved = 0;
    try {
      for (const [key, event] of ordered) {
        if (this.stopped) break;
        const problem = eventProblem(event);
        if (problem) {
          this.warn(`skipped event ${key}: it ${problem}`);
        } else {
          const failing = this.options.select ? this.options.select(event as FaceEvent) : null;
          if (failing !== null) {
            this.excluded++;
            if (!this.exclusionWarned.has(failing)) {
              this.exclusionWarned.add(failing);
              this.warn(
                `the server sent event ${key}, which does not match "${failing}" of pollFilters (it may ignore that parameter): such events are not emitted`,
              );
            }
          } else {
            try {
              await this.options.onEvent(event as FaceEvent);
            } catch (error) {
              throw new EmitError((error as Error)?.message ?? String(error));
            }
            this.emitted++;
          }
        }
        this.lastId = key;
        unsaved++;
        if (unsaved >= this.pageSize) {
          unsaved = 0;
          await this.save();
        }
      }
    } finally {
      if (unsaved > 0) await this.save();
    }
  }

  private async save(): Promise<void> {
    const cursor: Cursor = { lastId: this.lastId ?? null, savedAt: new Date(this.clock.now()).toISOString() };
    if (this.options.sourceKey !== undefined) cursor.source = this.options.sourceKey;
    try {
      await this.store.save(cursor);
    } catch (error) {
      // The position in memory still prevents duplicates until a restart.
      this.warn(`cannot save the position (last id ${cursor.lastId}): ${(error as Error)?.message ?? String(error)}`);
    }
  }
}

/** The lowest id among `events`' keys, or undefined. */
function lowest(events: Map<string, RawEvent>): string | undefined {
  let low: string | undefined;
  for (const key of events.keys()) if (low === undefined || compareIds(key, low) < 0) low = key;
  return low;
}

/** The server's ordering or paging keeps the poller from emitting every event once, oldest first. */
class OrderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OrderError';
  }
}

class EmitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EmitError';
  }
}

function toPollerError(error: unknown): PollerError {
  if (isFindFaceApiError(error)) {
    const result: PollerError = { kind: error.kind, message: error.message };
    if (error.status !== undefined) result.status = error.status;
    return result;
  }
  if (error instanceof EmitError) return { kind: 'emit', message: `emitting an event failed: ${error.message}` };
  if (error instanceof OrderError) return { kind: 'order', message: error.message };
  return { kind: 'internal', message: (error as Error)?.message ?? String(error) };
}
