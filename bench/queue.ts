// DurableQueue throughput and memory: append rate (one-event appends as the
// node makes them, arriving in bursts, and chunked appends), drain rate
// (peek+ack at batch 100, 10 and 1), and a 1,000,000-event backlog of
// seed-sized events (appended, closed, reopened, drained) with the peak RSS,
// the disk used and a check that nothing is lost or reordered.
// `node bench/queue.js` (BENCH_QUEUE_BACKLOG=<n> to change the backlog size).
import { runStandalone } from './support/common';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { DurableQueue } from '../nodes/lib/delivery/queue/durable-queue';
import { seedEvent } from '../test/fixtures/events';

const BACKLOG = Number(process.env.BENCH_QUEUE_BACKLOG ?? 1_000_000);
const RATE_EVENTS = 100_000;
const BASE_ID = 4173669353687265180n;

type Event = typeof seedEvent;

const eventAt = (i: number): Event => ({ ...seedEvent, id: String(BASE_ID + BigInt(i)) });
const seconds = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e9;
const mb = (bytes: number): number => +(bytes / 1024 / 1024).toFixed(1);

function diskBytes(dir: string): number {
  let total = 0;
  for (const name of fs.readdirSync(dir)) total += fs.statSync(path.join(dir, name)).size;
  return total;
}

/** `n` one-event appends, issued in bursts of `burst` concurrent calls (as a flood of messages arrives). */
async function appendSingles(queue: DurableQueue, from: number, n: number, burst: number): Promise<void> {
  for (let i = from; i < from + n; i += burst) {
    const calls: Promise<void>[] = [];
    for (let j = i; j < Math.min(i + burst, from + n); j++) calls.push(queue.append([eventAt(j)]));
    await Promise.all(calls);
  }
}

async function appendChunks(queue: DurableQueue, from: number, n: number, chunk: number): Promise<void> {
  for (let i = from; i < from + n; i += chunk) {
    await queue.append(Array.from({ length: Math.min(chunk, from + n - i) }, (_, k) => eventAt(i + k)));
  }
}

/** Drains `n` events with peek(batch)+ack; returns how many were missing or out of order. */
async function drain(queue: DurableQueue, from: number, n: number, batch: number): Promise<number> {
  let expected = from;
  let wrong = 0;
  while (expected < from + n) {
    const items = await queue.peek(Math.min(batch, from + n - expected));
    if (items.length === 0) return wrong + (from + n - expected);
    for (const json of items) if ((JSON.parse(json.toString('utf8')) as { id?: unknown }).id !== String(BASE_ID + BigInt(expected++))) wrong++;
    await queue.ack(items.length);
  }
  return wrong;
}

export async function run() {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ff-queue-bench-'));
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);
  try {
    const eventBytes = Buffer.byteLength(JSON.stringify(eventAt(0))) + 1;

    // -- rates on an empty queue (after a warm-up round for the JIT) ------------------------------
    const rates = await DurableQueue.open({ dir: path.join(root, 'rates') });
    await appendSingles(rates, 0, 20_000, 1000);
    let wrong = await drain(rates, 0, 20_000, 100);
    await appendSingles(rates, 20_000, RATE_EVENTS - 20_000, 1000);
    wrong += await drain(rates, 20_000, RATE_EVENTS - 20_000, 100);
    let t = process.hrtime.bigint();
    await appendSingles(rates, 0, RATE_EVENTS, 1000);
    const appendSinglePerS = RATE_EVENTS / seconds(t);
    t = process.hrtime.bigint();
    wrong += await drain(rates, 0, RATE_EVENTS, 100);
    const drain100PerS = RATE_EVENTS / seconds(t);
    t = process.hrtime.bigint();
    await appendChunks(rates, RATE_EVENTS, RATE_EVENTS, 100);
    const appendChunkPerS = RATE_EVENTS / seconds(t);
    const part = RATE_EVENTS / 5;
    t = process.hrtime.bigint();
    wrong += await drain(rates, RATE_EVENTS, part, 1);
    const drain1PerS = part / seconds(t);
    t = process.hrtime.bigint();
    wrong += await drain(rates, RATE_EVENTS + part, part, 10);
    const drain10PerS = part / seconds(t);
    wrong += await drain(rates, RATE_EVENTS + 2 * part, RATE_EVENTS - 2 * part, 1000);
    await rates.destroy();

    // -- 1M backlog -------------------------------------------------------------------------------
    if (global.gc) global.gc();
    const rssBefore = process.memoryUsage().rss;
    peakRss = rssBefore;
    const dir = path.join(root, 'backlog');
    let queue = await DurableQueue.open({ dir });
    t = process.hrtime.bigint();
    await appendSingles(queue, 0, BACKLOG, 1000);
    const backlogAppendS = seconds(t);
    const lengthAfterAppend = queue.length;
    const disk = diskBytes(dir);
    await queue.close();
    t = process.hrtime.bigint();
    queue = await DurableQueue.open({ dir });
    const reopenMs = seconds(t) * 1000;
    const lengthAfterReopen = queue.length;
    t = process.hrtime.bigint();
    wrong += await drain(queue, 0, BACKLOG, 100);
    const backlogDrainS = seconds(t);
    const left = queue.length;
    const diskAfter = diskBytes(dir);
    await queue.destroy();

    const figures = {
      eventBytes,
      appendSingleEventsPerS: Math.round(appendSinglePerS),
      appendChunk100EventsPerS: Math.round(appendChunkPerS),
      drainBatch100EventsPerS: Math.round(drain100PerS),
      drainBatch10EventsPerS: Math.round(drain10PerS),
      drainBatch1EventsPerS: Math.round(drain1PerS),
      backlogEvents: lengthAfterAppend,
      backlogAppendEventsPerS: Math.round(BACKLOG / backlogAppendS),
      backlogDiskMb: mb(disk),
      backlogReopenMs: Math.round(reopenMs),
      backlogLengthAfterReopen: lengthAfterReopen,
      backlogDrainEventsPerS: Math.round(BACKLOG / backlogDrainS),
      rssBeforeBacklogMb: mb(rssBefore),
      peakRssMb: mb(peakRss),
      rssGrowthMb: mb(peakRss - rssBefore),
      lostOrOutOfOrder: wrong,
      leftInQueue: left,
      diskAfterDrainMb: mb(diskAfter),
    };
    if (lengthAfterAppend !== BACKLOG || lengthAfterReopen !== BACKLOG || wrong !== 0 || left !== 0) {
      throw Object.assign(new Error('queue bench: events lost or out of order'), { figures });
    }
    return figures;
  } finally {
    clearInterval(sampler);
    fs.rmSync(root, { recursive: true, force: true });
  }
}

runStandalone(module, run);
