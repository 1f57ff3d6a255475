// Shared by the hostile-conditions end-to-end tests (receiver faults, crash
// recovery, redeploys): the pipeline flow (face event source answering 200
// only once the webhook node queued every event → webhook sender →
// receiver), a steady, bounded load of events POSTed to the source, the
// delivery check (lost / repeated / out of order) and the backoff warnings
// parsed from Node-RED's log.
import { sleep } from './wait';

export const SOURCE_PATH = '/findface/events';

export interface PipelineOptions {
  receiverUrl: string;
  /** Properties of the findface-webhook node (merged over the defaults below). */
  webhook?: Record<string, unknown>;
  /** Properties of the findface-event-in node. */
  source?: Record<string, unknown>;
}

/** Backoff of the pipeline's sender: FindFace's factor, a small base so the tests are fast. */
export const FAST_BACKOFF = { backoffBase: 0.02, backoffFactor: 2.7, backoffMax: 1.5 };

/**
 * findface-event-in (webhook mode, respond "queued") → findface-webhook
 * "hook" (title "e2e"). The webhook's status changes and every error a Catch
 * node sees are logged by function nodes, one line each:
 * `status {"fill":…}` and `caught {"message":…}`.
 */
export function pipelineFlows(options: PipelineOptions): unknown[] {
  const nodes: Array<Record<string, unknown>> = [
    { id: 'tab', type: 'tab', label: 'hostile conditions' },
    {
      id: 'source',
      type: 'findface-event-in',
      z: 'tab',
      name: 'source',
      mode: 'webhook',
      path: SOURCE_PATH,
      maxBodyMb: 10,
      respond: 'queued',
      queuedTimeoutS: 2,
      ...options.source,
      wires: [['hook']],
    },
    {
      id: 'hook',
      type: 'findface-webhook',
      z: 'tab',
      name: '',
      title: 'e2e',
      url: options.receiverUrl,
      active: true,
      batchSize: 5,
      lingerMs: 0,
      timeout: 2000,
      ...FAST_BACKOFF,
      maxAttempts: 0,
      successCodes: '200',
      queueMaxEvents: 100000,
      queueMaxMb: 64,
      ...options.webhook,
      wires: [[], []],
    },
    { id: 'status', type: 'status', z: 'tab', scope: ['hook'], wires: [['status-log']] },
    {
      id: 'status-log',
      type: 'function',
      z: 'tab',
      name: 'status-log',
      func: "node.log('status ' + JSON.stringify(msg.status));\nreturn null;",
      outputs: 1,
      wires: [[]],
    },
    { id: 'catch', type: 'catch', z: 'tab', scope: ['hook'], uncaught: false, wires: [['catch-log']] },
    {
      id: 'catch-log',
      type: 'function',
      z: 'tab',
      name: 'catch-log',
      func: "node.log('caught ' + JSON.stringify({ message: msg.error && msg.error.message, source: msg.error && msg.error.source && msg.error.source.id }));\nreturn null;",
      outputs: 1,
      wires: [[]],
    },
  ];
  // Flow nodes need a position (without one Node-RED takes them for config nodes).
  return nodes.map((node, i) => (node.type === 'tab' ? node : { ...node, x: 150 + 200 * (i % 3), y: 80 + 60 * Math.floor(i / 3) }));
}

/** A face event in the seed's (FindFace Security 3.x) shape; `id` is the decimal text of `n`. */
export function faceEvent(n: number, padBytes = 0): Record<string, unknown> {
  const event: Record<string, unknown> = {
    id: String(n),
    camera: 2,
    matched: n % 3 === 0,
    matched_dossier: n % 3 === 0 ? 1 : null,
    matched_lists: n % 3 === 0 ? [1] : [],
    confidence: 0.9098,
    created_date: new Date().toISOString(),
    face: `http://172.20.77.17/uploads/event/${n}_face.jpg`,
  };
  if (padBytes > 0) event.features = { note: 'x'.repeat(padBytes) };
  return event;
}

export interface LoadOptions {
  /** The source's URL now (a restarted Node-RED listens on another port). */
  url: () => string;
  /** Events per POST (default 2). */
  perPost?: number;
  /** Pause between POSTs, ms (default 20). */
  intervalMs?: number;
  /** The load stops by itself after this many POSTs (default 5000): always bounded. */
  maxPosts?: number;
  /** First event id (default 1). */
  firstId?: number;
  /** Bytes of padding per event (default 0). */
  padBytes?: number;
  /** Per POST (default 8000 ms). */
  requestTimeoutMs?: number;
  /** Pause after a POST that got no answer (Node-RED down), ms (default 100). */
  errorPauseMs?: number;
}

/**
 * POSTs events to the source one request at a time, as FindFace does, each
 * request with new, increasing ids (never a repeat: a request that got no
 * 200 is not sent again, so every repeat the receiver sees is the sender's).
 */
export class EventLoad {
  /** Ids answered 200: these must all arrive. */
  readonly acked: number[] = [];
  /** Requests answered otherwise, with their ids. */
  readonly refused: Array<{ status: number; ids: number[]; body: string }> = [];
  /** Requests that got no answer at all (connection refused or reset, timeout). */
  readonly unanswered: Array<{ ids: number[]; error: string }> = [];
  posts = 0;
  private nextId: number;
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly options: LoadOptions) {
    this.nextId = options.firstId ?? 1;
  }

  /** Ids handed out so far: the next load can start after them. */
  get lastId(): number {
    return this.nextId - 1;
  }

  /** Events sent (whatever the answer). */
  get sent(): number {
    return this.nextId - (this.options.firstId ?? 1);
  }

  statusCounts(): Record<string, number> {
    const counts: Record<string, number> = { '200': this.acked.length };
    for (const r of this.refused) counts[String(r.status)] = (counts[String(r.status)] ?? 0) + r.ids.length;
    const none = this.unanswered.reduce((sum, r) => sum + r.ids.length, 0);
    if (none) counts['no answer'] = none;
    return counts;
  }

  start(): this {
    if (this.running) return this;
    this.running = true;
    this.loop = this.run();
    return this;
  }

  /** Stops after the request in progress has its answer. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
  }

  /** Resolves once `count` more POSTs have been answered 200. */
  async waitForAcked(count: number, timeoutMs = 10000): Promise<void> {
    const target = this.acked.length + count;
    const deadline = Date.now() + timeoutMs;
    while (this.acked.length < target) {
      if (Date.now() > deadline)
        throw new Error(`timed out after ${timeoutMs} ms waiting for ${count} acknowledged events (${JSON.stringify(this.statusCounts())})`);
      await sleep(10);
    }
  }

  /** One POST of `count` new events, outside the loop (the loop must be stopped). */
  async postOnce(count: number): Promise<{ status: number; ids: number[] }> {
    return this.post(count);
  }

  private async run(): Promise<void> {
    const maxPosts = this.options.maxPosts ?? 5000;
    while (this.running && this.posts < maxPosts) {
      const { status } = await this.post(this.options.perPost ?? 2);
      if (!this.running) break;
      const pause = status === 0 ? (this.options.errorPauseMs ?? 100) : (this.options.intervalMs ?? 20);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, pause);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
    this.running = false;
  }

  private async post(count: number): Promise<{ status: number; ids: number[] }> {
    const ids: number[] = [];
    for (let i = 0; i < count; i++) ids.push(this.nextId++);
    const body = JSON.stringify(ids.map((n) => faceEvent(n, this.options.padBytes ?? 0)));
    this.posts++;
    try {
      const response = await fetch(this.options.url(), {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body,
        signal: AbortSignal.timeout(this.options.requestTimeoutMs ?? 8000),
      });
      const text = await response.text();
      if (response.status === 200) this.acked.push(...ids);
      else this.refused.push({ status: response.status, ids, body: text });
      return { status: response.status, ids };
    } catch (error) {
      const err = error as Error & { cause?: { code?: string } };
      this.unanswered.push({ ids, error: err.cause?.code ?? err.name ?? String(error) });
      return { status: 0, ids };
    }
  }
}

export interface DeliveryReport {
  /** Events received (with repeats). */
  total: number;
  unique: number;
  /** Receptions of an id already received. */
  duplicates: number;
  /** Ids first received after a higher id. */
  outOfOrder: number[];
  /** Acknowledged ids never received. */
  missing: number[];
  /** Received ids that were never acknowledged to the poster (allowed: at-least-once). */
  unacknowledged: number;
}

/** Checks what a receiver got (event ids in arrival order) against what the source acknowledged. */
export function deliveryReport(receivedIds: unknown[], acked: number[]): DeliveryReport {
  const seen = new Set<number>();
  let max = -Infinity;
  let duplicates = 0;
  const outOfOrder: number[] = [];
  for (const raw of receivedIds) {
    const id = Number(raw);
    if (seen.has(id)) {
      duplicates++;
      continue;
    }
    if (id < max) outOfOrder.push(id);
    seen.add(id);
    max = Math.max(max, id);
  }
  const ackedSet = new Set(acked);
  return {
    total: receivedIds.length,
    unique: seen.size,
    duplicates,
    outOfOrder,
    missing: acked.filter((id) => !seen.has(id)),
    unacknowledged: [...seen].filter((id) => !ackedSet.has(id)).length,
  };
}

export interface BackoffLine {
  seconds: string;
  reason: string;
}

/** The sender's `Backing off for X seconds after failure: …` warnings in a piece of log, in order. */
export function backoffLines(log: string): BackoffLine[] {
  const lines: BackoffLine[] = [];
  for (const match of log.matchAll(/\[warn\] \[findface-webhook:[^\]]*\] Backing off for (\d+\.\d{3}) seconds after failure: (.*)/g)) {
    lines.push({ seconds: match[1], reason: match[2] });
  }
  return lines;
}

/** base × factor^n for n = 1…count, capped at max, as the sender logs them (three decimals). */
export function backoffSchedule(count: number, base = FAST_BACKOFF.backoffBase, factor = FAST_BACKOFF.backoffFactor, max = FAST_BACKOFF.backoffMax): string[] {
  return Array.from({ length: count }, (_, i) => Math.min(base * Math.pow(factor, i + 1), max).toFixed(3));
}
