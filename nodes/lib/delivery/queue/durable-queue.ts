// DurableQueue: the webhook sender's on-disk queue (an EventQueue, see
// queue.ts), one directory per sender node. This file is the concurrent core
// (append, peek, ack, fsync, close); the parts around it, in the manner of
// Vector's disk buffer v2:
//   record-format.ts  the record frame, CRC32C, file names
//   queue-io.ts       the injectable file system (faults in tests)
//   recovery.ts       turning a directory into a starting state at open,
//                     including the migration of the earlier format
//   queue-dir.ts      where a node's queue lives, the upgrade of old names
//
// ## Why a log of our own
// Not because nothing else runs on a Raspberry Pi: classic-level (LevelDB)
// and lmdb do ship ARM prebuilds on npm, and `node:sqlite` is built into
// Node, though only from 22.13 on (unflagged) while this package supports
// Node 20 (Node-RED 3.1 to 4.1). The reasons:
// - zero native dependencies: a palette install never compiles, never
//   fetches a prebuild for a libc or ABI nobody tested, and no Node upgrade
//   breaks it;
// - the shape fits a FIFO: appended at the tail, consumed at the head, so an
//   append-only segment log and one "acknowledged up to" marker are the
//   whole design: no index, no compaction, data files deleted whole;
// - fsync batching on our terms (one fsync per interval, not per event) and
//   appends of a tick joined into one write(2);
// - the sender posts the stored bytes as they are: `peek` hands out views of
//   the JSON read from the file, with no parse and re-encode;
// - memory bounded however long the receiver is down (the pure-JS stores,
//   nedb, lowdb, node-persist, keep everything in memory or rewrite files);
// - small enough to audit, with its failure modes tested byte by byte.
//
// ## On disk (<dir>/)
//   <20-digit seq>.ffq     segments: framed records (record-format.ts: magic, CRC32C,
//                          length, sequence number, JSON payload),
//                          back to back. The name is the sequence number of
//                          its first record; a sealed segment holds the
//                          records up to the next segment's name.
//   acked-<20-digit seq>   the ack marker: an EMPTY file whose name says
//                          "every record below this sequence number is
//                          acknowledged". Created with the directory, before
//                          any segment. An ack is one rename(2): atomic, no
//                          torn bytes, no data block (works on a full disk).
//   *.ndjson               segments of the earlier format (one JSON line per
//                          record), migrated at open (recovery.ts).
//
// ## Invariants
// - Sequence numbers are assigned at write time, one per record, without
//   gaps in what this process writes; the records of a file appear in
//   increasing sequence order.
// - A record is handed out only if its frame checks (magic, length, CRC32C)
//   and its sequence number is above every one handed out before and within
//   its segment's range. So a damaged record is never delivered, a record
//   that follows a damaged one keeps its identity (no shift: never a
//   delivered record again in place of an undelivered one), a copied record
//   is not delivered twice, and garbage that parses as JSON is not a record.
// - Each damaged range (bytes from the first failing check to the next valid
//   record, or the end of the segment) is reported once through `onCorrupt`,
//   with the records it cost; `length` and `bytes` drop by what it held.
// - `append` resolves only after write(2) of its whole group returned; a
//   failed write is truncated away (never half a record in the file).
// - `ack` resolves only after the marker's rename; sealed segments wholly
//   below the marker are deleted.
//
// ## Writes
// Appends arriving in the same tick or while a write is in progress are
// joined into one write(2) (up to 4 MiB), all or nothing per group: on an
// error (ENOSPC, EFBIG, EIO, ...) the segment is ftruncate'd back to its last
// committed size, every append of the group rejects with the real error and
// the queue keeps working once space returns. A segment is sealed when the
// next write would take it over `segmentBytes`.
//
// ## What a crash can lose or repeat
// - Process crash (kill -9, Node-RED crash, redeploy): nothing acknowledged
//   to a caller is lost; the batch that was peeked but not acked is
//   delivered again (at least once). An append that had not resolved may
//   survive in part: its torn record is truncated at the next open.
// - OS crash / power loss: data and markers are fsync'ed every
//   `syncIntervalMs` (default 1000 ms) and on close, never per event. The
//   appends and acks of about the last interval can be lost (lost acks are
//   events delivered again). `syncIntervalMs: 0` fsyncs before every
//   append/ack resolves.
// - Damaged bytes (a bad disk, a file edited by hand): only the records in
//   the damaged range are lost, and reported; never a wrong one delivered.
// - A deleted ack marker: detected at open (segments without a marker) and
//   reported; every record still on disk is delivered again (at most the
//   delivered part of the first segment plus the active one, since fully
//   delivered sealed segments are deleted), because a record the queue cannot
//   prove delivered must not be dropped.
//
// ## Memory
// Only the read-ahead window (`readAheadBytes`, default 512 KiB, or what a
// peek asks for, skip + max, if larger), the pending writes, the last group
// written (at most 4 MiB: a reader that has caught up takes its records from
// there instead of reading them back) and one small object per segment.
//
// One process at a time per directory (the node's id makes it unique; there
// is no cross-process lock file, as a pid in it is unreliable in containers).
// In one process, open() of a directory whose queue is closing waits for the
// close (a redeploy), and rejects while it is open.

import * as path from 'path';
import { EventQueue, QueueFullError } from './queue';
import { Errno, Io, nodeQueueFs, QueueFs } from './queue-io';
import { ackName, HEADER_BYTES, frameBytesNeeded, isQueueFile, itemJson, segmentName, walkFrames, WalkSink, WalkState, writeRecord } from './record-format';
import { CorruptRecord, recover, Segment, syncDir } from './recovery';

export type { QueueFs } from './queue-io';
export type { CorruptRecord } from './recovery';

export interface DurableQueueOptions {
  /** The queue's own directory (created if missing); the node uses `<userDir>/findface-queues/<nodeFileName(id)>`. */
  dir: string;
  /** Most items queued; an append over it rejects with QueueFullError. Default: no limit. */
  maxEvents?: number;
  /** Most bytes of queued records (headers included); an append over it rejects with QueueFullError. Default: no limit. */
  maxBytes?: number;
  /** A segment is sealed before it grows beyond this (default 8 MiB). */
  segmentBytes?: number;
  /** fsync period in ms (default 1000); 0 = fsync before each append/ack resolves. */
  syncIntervalMs?: number;
  /** Bytes read ahead at a time by peek/ack (default 512 KiB). */
  readAheadBytes?: number;
  /** Called once per damaged range skipped (and for a missing ack marker); see CorruptRecord. */
  onCorrupt?: (record: CorruptRecord) => void;
  /** `destroy` refuses to delete `dir` unless it is strictly inside this directory (the node: `<userDir>/findface-queues`). */
  deleteWithin?: string;
  /** File system to use (tests). */
  fs?: QueueFs;
}

/** Raised by calls on a queue that is closing or closed. */
export class QueueClosedError extends Error {
  readonly code = 'QUEUE_CLOSED';
  constructor(operation: string, dir: string) {
    super(`queue ${dir} is closed: cannot ${operation}`);
    this.name = 'QueueClosedError';
  }
}

/** One line for a log: what recovery or the reader skipped, and what it cost. */
export function describeCorrupt(record: CorruptRecord): string {
  if (record.kind === 'missing-ack-marker') return `Queue: ${record.reason}`;
  const lost =
    record.records === undefined
      ? ''
      : record.records === 1
        ? `, 1 event lost (#${record.firstSeq})`
        : record.records > 1
          ? `, ${record.records} events lost (#${record.firstSeq}–#${(record.firstSeq ?? 0) + record.records - 1})`
          : '';
  return `Queue: skipped ${record.bytes} damaged bytes at ${record.offset} in ${path.basename(record.file)}${lost}: ${record.reason}`;
}

const MAX_GROUP_BYTES = 4 * 1024 * 1024;

interface Entry {
  seq: number;
  seg: Segment;
  /** Byte offset just after the record. */
  end: number;
  /** Its bytes in the file (header included). */
  bytes: number;
  /** The record's JSON bytes (a view into the chunk read). */
  record: Buffer;
}

interface PendingAppend {
  /** The items' JSON texts. */
  jsons: string[];
  /** Their bytes as stored (headers included). */
  bytes: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

function checkCount(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new RangeError(`${what} must be a non-negative integer, got ${String(value)}`);
  }
  return value;
}

function positiveOption(value: number | undefined, fallback: number, name: string, allowZero = false): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0 || (value === 0 && !allowZero)) {
    throw new RangeError(`DurableQueue option ${name} must be a positive number, got ${String(value)}`);
  }
  return value;
}

/** Queues open (or closing) in this process, by directory. */
const openQueues = new Map<string, DurableQueue>();

export class DurableQueue implements EventQueue {
  /** Opens (creating, recovering or migrating) the queue in `options.dir`. */
  static async open(options: DurableQueueOptions): Promise<DurableQueue> {
    if (!options || typeof options.dir !== 'string' || options.dir === '') throw new TypeError('DurableQueue.open needs options.dir');
    const dir = path.resolve(options.dir);
    for (;;) {
      const existing = openQueues.get(dir);
      if (!existing) break;
      if (existing.state === 'open') throw new Error(`queue directory ${dir} is already open in this process`);
      await existing.close().catch(() => undefined);
    }
    const queue = new DurableQueue(dir, options);
    openQueues.set(dir, queue);
    try {
      await queue.start();
    } catch (error) {
      await queue.releaseFds();
      openQueues.delete(dir);
      queue.state = 'closed';
      throw error;
    }
    if (queue.syncIntervalMs > 0) {
      queue.timer = setInterval(() => queue.tick(), queue.syncIntervalMs);
      queue.timer.unref();
    }
    return queue;
  }

  /** Whether a queue of this process has `dir` open or is closing it. */
  static isOpen(dir: string): boolean {
    return openQueues.has(path.resolve(dir));
  }

  readonly dir: string;
  private readonly io: Io;
  private readonly maxEvents: number;
  private readonly maxBytes: number;
  private readonly segmentBytes: number;
  private readonly syncIntervalMs: number;
  private readonly readAheadBytes: number;
  private readonly onCorrupt?: (record: CorruptRecord) => void;
  private readonly deleteWithin?: string;

  private state: 'open' | 'closing' | 'closed' = 'open';
  private closing: Promise<void> | undefined;

  /** Segments in order; segments[0] holds the head (first unacknowledged record). */
  private segments: Segment[] = [];
  private nextSeq = 0;
  private count = 0;
  private byteCount = 0;

  // writer (appends)
  private writeFd: number | undefined;
  private writeBroken = false;
  private pending: PendingAppend[] = [];
  private pendingItems = 0;
  private pendingBytes = 0;
  private flushing: Promise<void> | undefined;
  /** The last group written, kept until the reader takes its records (or the next write replaces it). */
  private lastWrite: { seg: Segment; start: number; buffer: Buffer } | undefined;

  // reader (peek/ack), serialized on readerTail
  private readerTail: Promise<unknown> = Promise.resolve();
  /** Records read ahead, all valid, in order; window[0] is the head. */
  private window: Entry[] = [];
  private readSeg: Segment | undefined;
  private readPos = 0;
  private readState: WalkState = { expected: 0, limit: Infinity, damageAt: -1 };
  private readFd: number | undefined;
  private ackFile: string | undefined;
  /** Byte offset and sequence number of the head in segments[0]. */
  private headOffset = 0;
  private headSeq = 0;

  // fsync
  private timer: NodeJS.Timeout | undefined;
  private syncTail: Promise<void> = Promise.resolve();
  private syncRunning = false;
  private dirty = false;
  private dirDirty = false;
  /** Unlinks of deleted segments still running. */
  private readonly unlinking = new Set<Promise<void>>();
  /** fds no longer written (sealed segments): fsync'ed and closed by the next sync. */
  private retired: number[] = [];

  private constructor(dir: string, options: DurableQueueOptions) {
    this.dir = dir;
    this.io = new Io(options.fs ?? nodeQueueFs);
    this.maxEvents = positiveOption(options.maxEvents, Infinity, 'maxEvents');
    this.maxBytes = positiveOption(options.maxBytes, Infinity, 'maxBytes');
    this.segmentBytes = positiveOption(options.segmentBytes, 8 * 1024 * 1024, 'segmentBytes');
    this.syncIntervalMs = positiveOption(options.syncIntervalMs, 1000, 'syncIntervalMs', true);
    this.readAheadBytes = Math.max(1024, positiveOption(options.readAheadBytes, 512 * 1024, 'readAheadBytes'));
    this.onCorrupt = options.onCorrupt;
    this.deleteWithin = options.deleteWithin === undefined ? undefined : path.resolve(options.deleteWithin);
  }

  get length(): number {
    return this.count;
  }

  get bytes(): number {
    return this.byteCount;
  }

  private async start(): Promise<void> {
    const r = await recover(this.io, this.dir, (record) => this.reportCorrupt(record));
    this.segments = r.segments;
    this.nextSeq = r.nextSeq;
    this.count = r.count;
    this.byteCount = r.byteCount;
    this.headOffset = r.headOffset;
    this.headSeq = r.ackSeq;
    this.ackFile = r.ackFile;
    if (this.ackFile !== ackName(r.ackSeq)) await this.writeAck(r.ackSeq);
    const active = this.segments[this.segments.length - 1];
    if (active && !active.sealed) {
      active.trustedFrom = active.size;
      this.writeFd = await this.io.open(active.file, 'a');
    }
    await syncDir(this.io, this.dir);
  }

  // ---- append ------------------------------------------------------------------------------------

  append(items: unknown[]): Promise<void> {
    if (this.state !== 'open') return Promise.reject(new QueueClosedError('append', this.dir));
    if (!Array.isArray(items)) return Promise.reject(new TypeError('append expects an array of items'));
    if (items.length === 0) return Promise.resolve();
    const jsons: string[] = new Array<string>(items.length);
    let bytes = 0;
    try {
      for (let i = 0; i < items.length; i++) {
        const json = itemJson(items[i]);
        jsons[i] = json;
        bytes += HEADER_BYTES + Buffer.byteLength(json, 'utf8');
      }
    } catch (error) {
      return Promise.reject(error); // e.g. a BigInt or a cycle: nothing queued
    }
    const events = this.count + this.pendingItems + items.length;
    if (events > this.maxEvents) {
      return Promise.reject(
        new QueueFullError(`queue full: ${this.count + this.pendingItems} events queued, ${items.length} more would exceed the limit of ${this.maxEvents}`),
      );
    }
    const total = this.byteCount + this.pendingBytes + bytes;
    if (total > this.maxBytes) {
      return Promise.reject(
        new QueueFullError(`queue full: ${this.byteCount + this.pendingBytes} bytes queued, ${bytes} more would exceed the limit of ${this.maxBytes}`),
      );
    }
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ jsons, bytes, resolve, reject });
      this.pendingItems += items.length;
      this.pendingBytes += bytes;
      // Appends of this tick (and those arriving while a write runs) share one write.
      if (!this.flushing) this.flushing = new Promise<void>((r) => setImmediate(r)).then(() => this.flushLoop());
    });
  }

  private async flushLoop(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        let bytes = 0;
        let n = 0;
        while (n < this.pending.length && (n === 0 || bytes + this.pending[n].bytes <= MAX_GROUP_BYTES)) bytes += this.pending[n++].bytes;
        const group = this.pending.splice(0, n);
        try {
          try {
            await this.writeGroup(group, bytes);
          } catch (error) {
            // A full disk, and the segment being written holds only delivered records: free it and try once more.
            if (!(await this.reclaimDeliveredSegment(error))) throw error;
            await this.writeGroup(group, bytes);
          }
          for (const a of group) a.resolve();
        } catch (error) {
          for (const a of group) a.reject(error);
        } finally {
          for (const a of group) {
            this.pendingItems -= a.jsons.length;
            this.pendingBytes -= a.bytes;
          }
        }
      }
    } finally {
      this.flushing = undefined;
    }
  }

  private async writeGroup(group: PendingAppend[], bytes: number): Promise<void> {
    // One buffer for the whole group, each record framed into it once.
    const buffer = Buffer.allocUnsafe(bytes);
    const seg = await this.activeSegment(bytes);
    let at = 0;
    let seq = this.nextSeq;
    for (const a of group) for (const json of a.jsons) at = writeRecord(buffer, at, json, seq++);
    const items = seq - this.nextSeq;
    const fd = this.writeFd as number;
    const before = seg.size;
    try {
      await this.io.writeAll(fd, buffer);
      if (this.syncIntervalMs === 0) await this.io.fsync(fd);
    } catch (error) {
      // Take back whatever part of the group reached the file: no half record stays behind.
      try {
        await this.io.ftruncate(fd, before);
      } catch {
        this.writeBroken = true;
      }
      throw error;
    }
    this.lastWrite = { seg, start: before, buffer };
    seg.size += buffer.length;
    seg.count += items;
    this.nextSeq = seq;
    this.count += items;
    this.byteCount += buffer.length;
    this.dirty = true;
  }

  /**
   * After ENOSPC/EDQUOT/EFBIG: when every record is acknowledged, the segment
   * being written (never sealed while short of segmentBytes, so never deleted)
   * only takes up room. It is sealed and deleted, and the next write starts a
   * new segment. True when it was; false leaves everything as it was.
   */
  private async reclaimDeliveredSegment(error: unknown): Promise<boolean> {
    const code = (error as Errno | null)?.code;
    if (code !== 'ENOSPC' && code !== 'EDQUOT' && code !== 'EFBIG') return false;
    try {
      return await this.readerOp('reclaim', async () => {
        const seg = this.segments[0];
        const idle = this.count === 0 && this.window.length === 0 && this.segments.length === 1;
        if (!idle || seg.sealed || seg.size === 0 || this.headOffset < seg.size || this.writeBroken || this.writeFd === undefined) return false;
        const fd = this.writeFd;
        this.writeFd = undefined;
        seg.sealed = true;
        // A sync in progress may still use the fd (later ones no longer see it); closed now, so the unlink frees the room.
        await this.syncTail;
        await this.io.close(fd).catch(() => undefined);
        await this.dropHead(true);
        if (this.syncIntervalMs === 0) await this.syncDir();
        return true;
      });
    } catch {
      return false;
    }
  }

  /** The segment the next `bytes` go to: the last one, or a new one when it is full (or there is none). */
  private async activeSegment(bytes: number): Promise<Segment> {
    const last = this.segments[this.segments.length - 1];
    const active = last && !last.sealed && this.writeFd !== undefined ? last : undefined;
    if (active && this.writeBroken) {
      // A failed write could not be truncated away: try again before writing after it.
      await this.io.ftruncate(this.writeFd as number, active.size);
      this.writeBroken = false;
    }
    if (active && (active.size === 0 || active.size + bytes <= this.segmentBytes)) return active;
    const seg: Segment = { start: this.nextSeq, trustedFrom: 0, count: 0, size: 0, file: path.join(this.dir, segmentName(this.nextSeq)), sealed: false };
    let fd: number;
    try {
      fd = await this.io.open(seg.file, 'ax');
    } catch (error) {
      if ((error as Errno).code !== 'EEXIST') throw error;
      // A leftover file past the end of the queue (never counted): it holds nothing of ours.
      await this.io.unlink(seg.file);
      fd = await this.io.open(seg.file, 'ax');
    }
    if (active) {
      active.sealed = true;
      // Its data is fsync'ed by the next tick (already, with syncIntervalMs 0) and the fd closed then.
      if (this.syncIntervalMs === 0) await this.io.close(this.writeFd as number).catch(() => undefined);
      else this.retired.push(this.writeFd as number);
    }
    this.writeFd = fd;
    this.segments.push(seg);
    this.dirDirty = true;
    if (this.syncIntervalMs === 0) await this.syncDir();
    return seg;
  }

  // ---- peek / ack --------------------------------------------------------------------------------

  peek(max: number, skip = 0): Promise<Buffer[]> {
    return this.readerOp('peek', async () => {
      const want = checkCount(max, 'peek(max)');
      const from = checkCount(skip, 'peek(skip)');
      while (this.window.length < from + want && (await this.readMore()));
      const to = Math.min(this.window.length, from + want);
      const out: Buffer[] = [];
      for (let i = from; i < to; i++) out.push(this.window[i].record);
      return out;
    });
  }

  ack(count: number): Promise<void> {
    return this.readerOp('ack', async () => {
      checkCount(count, 'ack(count)');
      if (count === 0) return;
      if (count > this.count) throw new RangeError(`cannot acknowledge ${count} items: ${this.count} queued`);
      while (this.window.length < count) {
        if (!(await this.readMore())) throw new RangeError(`cannot acknowledge ${count} items: ${this.window.length} left in the queue's storage`);
      }
      let bytes = 0;
      for (let i = 0; i < count; i++) bytes += this.window[i].bytes;
      const last = this.window[count - 1];
      await this.writeAck(last.seq + 1);
      this.window.splice(0, count);
      this.count -= count;
      this.byteCount -= bytes;
      while (this.segments.length > 0 && this.segments[0] !== last.seg) await this.dropHead();
      this.headOffset = last.end;
      this.headSeq = last.seq + 1;
      if (last.seg.sealed && this.headOffset >= last.seg.size) await this.dropHead();
    });
  }

  private readerOp<R>(operation: string, fn: () => Promise<R>): Promise<R> {
    if (this.state !== 'open') return Promise.reject(new QueueClosedError(operation, this.dir));
    const run = this.readerTail.then(fn);
    this.readerTail = run.catch(() => undefined);
    return run;
  }

  private async writeAck(seq: number): Promise<void> {
    const name = ackName(seq);
    const target = path.join(this.dir, name);
    if (this.ackFile) {
      try {
        await this.io.rename(path.join(this.dir, this.ackFile), target);
      } catch (error) {
        if ((error as Errno).code !== 'ENOENT') throw error;
        await this.createEmpty(target); // the marker was removed behind our back
      }
    } else {
      await this.createEmpty(target);
    }
    this.ackFile = name;
    this.dirDirty = true;
    if (this.syncIntervalMs === 0) await this.syncDir();
  }

  private async createEmpty(file: string): Promise<void> {
    await this.io.close(await this.io.open(file, 'w'));
  }

  // ---- reader ----------------------------------------------------------------------------------------

  /** Starts reading `seg` at `offset`, expecting records from sequence number `expected` on. */
  private enterReadSegment(seg: Segment, offset: number, expected: number): void {
    this.readSeg = seg;
    this.readPos = offset;
    this.readState = { expected: Math.max(expected, seg.start), limit: seg.sealed ? seg.start + seg.count : Infinity, damageAt: -1 };
  }

  /** Reads the next chunk of records into the window; false when everything committed is in it. */
  private async readMore(): Promise<boolean> {
    for (;;) {
      let seg = this.readSeg;
      if (!seg) {
        seg = this.segments[0];
        if (!seg) return false;
        this.enterReadSegment(seg, this.headOffset, this.headSeq);
      }
      if (this.readPos < seg.size) {
        await this.readChunk(seg);
        return true;
      }
      if (!seg.sealed) return false;
      const next = this.segments[this.segments.indexOf(seg) + 1];
      await this.leaveReadSegment(seg);
      if (!next) return false;
      this.enterReadSegment(next, 0, this.readState.expected);
    }
  }

  private async readChunk(seg: Segment): Promise<void> {
    const written = this.lastWrite;
    if (written && written.seg === seg && this.readPos >= written.start && this.readPos < written.start + written.buffer.length) {
      // The reader has caught up with the writer: the records just written are taken from memory, not read back.
      this.lastWrite = undefined;
      const at = this.walk(seg, written.buffer, this.readPos - written.start, written.start, false);
      this.readPos = written.start + at;
      return;
    }
    if (this.readFd === undefined) this.readFd = await this.io.open(seg.file, 'r');
    const available = seg.size - this.readPos;
    let want = Math.min(this.readAheadBytes, available);
    for (;;) {
      const buffer = await this.io.readAt(this.readFd, this.readPos, want);
      if (buffer.length < want) throw new Error(`queue segment ${seg.file} is shorter than expected (${this.readPos + buffer.length} < ${seg.size} bytes)`);
      const at = this.walk(seg, buffer, 0, this.readPos, this.readPos < seg.trustedFrom);
      if (at === 0 && want < available) {
        want = Math.min(Math.max(want * 2, frameBytesNeeded(buffer, 0, buffer.length)), available); // one record longer than the read-ahead
        continue;
      }
      this.readPos += at;
      return;
    }
  }

  /** Adds the valid records of `buffer[from…]` (file offset `base` at index 0) to the window; returns where it stopped. */
  private walk(seg: Segment, buffer: Buffer, from: number, base: number, verify: boolean): number {
    const window = this.window;
    const sink: WalkSink = {
      record: (seq, at, length) => {
        const payloadAt = at + HEADER_BYTES;
        window.push({ seq, seg, end: base + payloadAt + length, bytes: HEADER_BYTES + length, record: buffer.subarray(payloadAt, payloadAt + length) });
        return true;
      },
      damaged: (fromOffset, toOffset, lostFrom, lostTo) => this.skipDamaged(seg, fromOffset, toOffset, lostFrom, lostTo),
    };
    return walkFrames(buffer, from, buffer.length, base, seg.size, this.readState, verify, sink);
  }

  /** Damaged bytes [from, to) of `seg` held records [lostFrom, lostTo): they leave the counts, reported once. */
  private skipDamaged(seg: Segment, from: number, to: number, lostFrom: number, lostTo: number): void {
    this.count -= lostTo - lostFrom;
    this.byteCount -= to - from;
    const reason =
      to === from
        ? 'records missing from the segment'
        : lostTo > lostFrom
          ? 'records failed their check (length, CRC32C or sequence number)'
          : 'bytes that are no valid record (garbage or a copy)';
    this.reportCorrupt({ file: seg.file, offset: from, bytes: to - from, records: lostTo - lostFrom, firstSeq: lostFrom, kind: 'damaged', reason });
  }

  /** The reader is done with `seg`: what its range promised and was not found (damaged or missing at its end) leaves the counts. */
  private async leaveReadSegment(seg: Segment): Promise<void> {
    const state = this.readState;
    if (this.readSeg === seg && seg.sealed && this.readPos >= seg.size) {
      const end = seg.start + seg.count;
      if (state.damageAt >= 0 || state.expected < end)
        this.skipDamaged(seg, state.damageAt >= 0 ? state.damageAt : seg.size, seg.size, Math.min(state.expected, end), end);
      state.damageAt = -1;
      state.expected = Math.max(state.expected, end);
    }
    if (this.readFd !== undefined) {
      const fd = this.readFd;
      this.readFd = undefined;
      await this.io.close(fd).catch(() => undefined);
    }
    this.readSeg = undefined;
  }

  /**
   * Deletes segments[0] (fully acknowledged, sealed). Its file is unlinked in
   * the background (freeing an 8 MiB file takes milliseconds, and the ack that
   * called this is on the sender's path), unless `wait`.
   */
  private async dropHead(wait = false): Promise<void> {
    const seg = this.segments.shift() as Segment;
    if (this.readSeg === seg) await this.leaveReadSegment(seg);
    this.headOffset = 0;
    // A file left behind (unlink failed, or not yet done at a crash) is fully acked and removed at the next open.
    const unlinked = this.io.unlink(seg.file).then(
      () => {
        this.dirDirty = true;
      },
      () => undefined,
    );
    this.unlinking.add(unlinked);
    void unlinked.finally(() => this.unlinking.delete(unlinked));
    if (wait) await unlinked;
  }

  // ---- fsync -----------------------------------------------------------------------------------------

  private tick(): void {
    if (this.syncRunning || !(this.dirty || this.dirDirty || this.retired.length > 0)) return;
    this.sync().catch(() => undefined); // kept dirty: retried at the next tick; close() reports
  }

  private sync(): Promise<void> {
    const run = this.syncTail.then(() => this.doSync());
    this.syncTail = run.catch(() => undefined);
    return run;
  }

  private async doSync(): Promise<void> {
    this.syncRunning = true;
    const dirty = this.dirty;
    const dirDirty = this.dirDirty;
    const retired = this.retired.splice(0);
    this.dirty = false;
    this.dirDirty = false;
    let failure: unknown;
    try {
      const fds = dirty && this.writeFd !== undefined ? [...retired, this.writeFd] : retired;
      for (const fd of fds) {
        try {
          await this.io.fsync(fd);
        } catch (error) {
          failure ??= error;
        }
      }
      for (const fd of retired) await this.io.close(fd).catch(() => undefined);
      if (dirDirty) {
        try {
          await this.syncDir();
        } catch (error) {
          failure ??= error;
        }
      }
    } finally {
      this.syncRunning = false;
    }
    if (failure) {
      this.dirty ||= dirty;
      this.dirDirty ||= dirDirty;
      throw failure;
    }
  }

  private syncDir(): Promise<void> {
    return syncDir(this.io, this.dir);
  }

  private reportCorrupt(record: CorruptRecord): void {
    try {
      this.onCorrupt?.(record);
    } catch {
      // a failing observer must not break reading
    }
  }

  // ---- close / destroy -------------------------------------------------------------------------------

  /** Waits for accepted appends and running peeks/acks, fsyncs and releases every fd and timer. Idempotent. */
  close(): Promise<void> {
    if (!this.closing) {
      if (this.state === 'open') this.state = 'closing';
      this.closing = this.shutdown();
    }
    return this.closing;
  }

  /**
   * Closes the queue and deletes its directory: only the queue's own files
   * (segments, ack marker), then the directory if that left it empty. So a
   * wrong directory can never lose anything but queue files.
   */
  async destroy(): Promise<void> {
    await this.close().catch(() => undefined); // nothing of it is kept, so a failed fsync does not matter
    if (this.deleteWithin !== undefined) {
      const relative = path.relative(this.deleteWithin, this.dir);
      if (relative === '' || relative === '..' || relative.startsWith('..' + path.sep) || path.isAbsolute(relative)) {
        throw new Error(`refusing to delete queue directory ${this.dir}: not inside ${this.deleteWithin}`);
      }
    }
    let names: string[];
    try {
      names = await this.io.readdir(this.dir);
    } catch (error) {
      if ((error as Errno).code === 'ENOENT') return;
      throw error;
    }
    for (const name of names) if (isQueueFile(name)) await this.io.unlink(path.join(this.dir, name));
    await this.io.rmdir(this.dir).catch((error: Errno) => {
      if (error.code !== 'ENOENT' && error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
    });
  }

  private async shutdown(): Promise<void> {
    if (this.state === 'closed') return;
    while (this.flushing) await this.flushing;
    await this.readerTail;
    await Promise.all(this.unlinking);
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    let failure: unknown;
    try {
      await this.syncTail;
      this.dirty = true;
      this.dirDirty = true;
      await this.sync();
    } catch (error) {
      failure = error;
    }
    await this.releaseFds();
    this.state = 'closed';
    if (openQueues.get(this.dir) === this) openQueues.delete(this.dir);
    this.window = [];
    this.lastWrite = undefined;
    if (failure) throw failure;
  }

  private async releaseFds(): Promise<void> {
    const fds = [...this.retired, this.writeFd, this.readFd].filter((fd): fd is number => fd !== undefined);
    this.retired = [];
    this.writeFd = undefined;
    this.readFd = undefined;
    this.readSeg = undefined;
    for (const fd of fds) await this.io.close(fd).catch(() => undefined);
  }
}
