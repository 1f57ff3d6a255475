// Who was seen: the matched card's name and watch lists, from
// `GET /cards/humans/{id}/` (FindFace Multi's OpenAPI, `HumanCard`: `name`,
// `watch_lists`), kept in a cache bounded in size and age. No Node-RED import.
//
// It never makes an event wait: `peek()` answers at once with what the cache
// holds, and for a card it does not hold starts one lookup in the background,
// so that the person's next event carries the card. An event is a door that
// may open; a second round trip to FindFace on its way (which can be slow or
// down) must not delay it, and a lookup that fails must not drop it. The
// price: the first event of a person after a restart (or after the entry
// expired) comes without the card.
import { Clock, systemClock } from '../common/clock';
import type { HumanCard, RequestOptions } from './findface-api';
import { isFindFaceApiError } from './findface-api';

/** What `msg.findface.card` holds. */
export interface CardInfo {
  id: number;
  name: string;
  watchLists: number[];
}

export interface CardLookupOptions {
  /** Reads one card (`client.getHumanCard`). */
  fetch(id: number, options: RequestOptions): Promise<HumanCard>;
  /** Most cards kept (default 1000); the least recently used goes first. */
  maxEntries?: number;
  /** How long a card is kept (ms, default 5 minutes): a renamed card or changed list shows after that. */
  ttlMs?: number;
  /** After a failed lookup, no new one for this card for this long (ms, default 30 s); a 404 is kept for ttlMs. */
  failureTtlMs?: number;
  /** Most lookups in flight at once (default 4); more cards wait for their next event. */
  maxInFlight?: number;
  /** Per lookup (ms, default 5000). */
  timeoutMs?: number;
  /** A lookup failed (for a rate-limited warning; the message names no secret). */
  onError?(id: number, message: string): void;
  clock?: Clock;
}

type Entry = { card: CardInfo | null; until: number };

export class CardLookup {
  private readonly entries = new Map<number, Entry>();
  private readonly inFlight = new Map<number, AbortController>();
  private readonly maxEntries: number;
  private readonly ttlMs: number;
  private readonly failureTtlMs: number;
  private readonly maxInFlight: number;
  private readonly timeoutMs: number;
  private readonly clock: Clock;
  private stopped = false;

  constructor(private readonly options: CardLookupOptions) {
    this.maxEntries = Math.max(1, options.maxEntries ?? 1000);
    this.ttlMs = options.ttlMs ?? 5 * 60 * 1000;
    this.failureTtlMs = options.failureTtlMs ?? 30 * 1000;
    this.maxInFlight = Math.max(1, options.maxInFlight ?? 4);
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.clock = options.clock ?? systemClock;
  }

  /** Cards held now (for tests and the status). */
  get size(): number {
    return this.entries.size;
  }

  /**
   * The card if the cache holds it (fresh), else undefined at once, starting
   * its lookup in the background. Never throws, never waits.
   */
  peek(id: number): CardInfo | undefined {
    if (!Number.isSafeInteger(id) || id < 0) return undefined;
    const now = this.clock.now();
    const entry = this.entries.get(id);
    if (entry && entry.until > now) {
      // Least recently used goes first: a hit moves the entry to the end.
      this.entries.delete(id);
      this.entries.set(id, entry);
      return entry.card ?? undefined;
    }
    this.start(id);
    return undefined;
  }

  /** Waits for the lookups in flight (tests). */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await new Promise((resolve) => setImmediate(resolve));
  }

  /** Cancels the lookups in flight; peek() then only answers from the cache. */
  stop(): void {
    this.stopped = true;
    for (const controller of this.inFlight.values()) controller.abort();
    this.inFlight.clear();
  }

  private start(id: number): void {
    if (this.stopped || this.inFlight.has(id) || this.inFlight.size >= this.maxInFlight) return;
    const controller = new AbortController();
    this.inFlight.set(id, controller);
    const timer = this.clock.setTimeout(() => controller.abort(), this.timeoutMs);
    const done = () => {
      this.clock.clearTimeout(timer);
      if (this.inFlight.get(id) === controller) this.inFlight.delete(id);
    };
    let fetched: Promise<HumanCard>;
    try {
      fetched = this.options.fetch(id, { signal: controller.signal });
    } catch (error) {
      fetched = Promise.reject(error);
    }
    fetched.then(
      (card) => {
        done();
        if (this.stopped) return;
        this.store(id, { card: { id: card.id, name: card.name, watchLists: [...card.watch_lists] }, until: this.clock.now() + this.ttlMs });
      },
      (error: unknown) => {
        done();
        if (this.stopped) return;
        const notFound = isFindFaceApiError(error) && error.status === 404;
        this.store(id, { card: null, until: this.clock.now() + (notFound ? this.ttlMs : this.failureTtlMs) });
        if (!notFound) this.options.onError?.(id, (error as Error)?.message ?? String(error));
      },
    );
  }

  private store(id: number, entry: Entry): void {
    this.entries.delete(id);
    this.entries.set(id, entry);
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as number);
  }
}
