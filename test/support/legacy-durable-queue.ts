// The DurableQueue as it was at dbe90f5 (one JSON line per record, `*.ndjson` segments),
// kept verbatim as a test fixture: tests write queues with it to check that today's queue
// reads and migrates them. Not used by the package.

// DurableQueue: the webhook sender's on-disk queue (an EventQueue, see
// queue.ts). One directory per sender node; pure Node.js `fs`, no Node-RED
// import and no native module.
//
// Why a log of our own: the package must install from the palette manager on
// a Raspberry Pi, so nothing native (LevelDB/classic-level, SQLite,
// LMDB). The pure-JS stores (nedb/@seald-io/nedb, lowdb, node-persist, ...)
// keep the whole data set in memory or rewrite whole files, which breaks
// "memory bounded however long the receiver is down". A FIFO that is only
// appended at the tail and consumed at the head needs no index: an
// append-only segment log plus one "acknowledged up to" marker is the whole
// design, and small enough (one file, no dependency) to be audited.
//
// On disk (<dir>/):
//   <20-digit seq>.ndjson   segments. One record per line: JSON.stringify(item)
//                           + '\n' (JSON.stringify escapes control characters,
//                           so a record never contains a raw newline). The
//                           name is the sequence number of the segment's first
//                           record; a sealed segment holds exactly
//                           nextName - name records, so opening a large backlog
//                           does not read it (important on an SD card).
//   acked-<20-digit seq>    an EMPTY file whose name says "every record with a
//                           sequence number below this is acknowledged".
//                           An ack is one rename(2): atomic, no torn or stale
//                           bytes to parse, no compaction, and it needs no data
//                           block, so acknowledging (and then deleting segments)
//                           still works on a full disk. An ack log of records
//                           would need a torn-record rule and compaction.
//
// Writes: appends arriving in the same tick or while a write is in progress
// are joined into one write(2) (up to 4 MiB), all or nothing per group: on
// an error (ENOSPC, EFBIG, EIO, ...) the segment is ftruncate'd back to its
// last committed size, every append of the group rejects with the real error
// and the queue keeps working once space returns. A segment is sealed when
// the next write would take it over `segmentBytes`; a sealed segment is
// deleted once fully acknowledged.
//
// Durability:
// - Process crash (kill -9, Node-RED crash, redeploy): `append` resolves only
//   after write(2) returned and `ack` only after the rename, so the OS has
//   both; nothing acknowledged to the caller is lost. After a crash at most
//   the batch that was peeked but not acked is delivered again. An append
//   that had NOT resolved may survive in part (a kill can split a large
//   write(2) at a page boundary); its caller never got an answer, which
//   at-least-once allows.
// - OS crash / power loss: data and ack markers are fsync'ed every
//   `syncIntervalMs` (default 1000 ms: the segment being written, segments
//   sealed since the last tick, the directory) and on close, never per
//   event. Worst case: the appends and acks of about the last sync interval
//   (plus the fsync's own duration) are lost: lost appends are lost events,
//   lost acks are events delivered again. On file systems
//   without ordered data (not ext4's default) a crash can also leave garbage
//   in the last interval's data: unreadable records are skipped and reported
//   through `onCorrupt`, never block the queue. `syncIntervalMs: 0` fsyncs
//   before every append/ack resolves (slow, for those who need it).
//
// Recovery (open): list segments; check the tail of every segment (a torn
// last record, i.e. no final '\n' or a line that does not parse, is truncated;
// everything before it is kept); count records (from the names for sealed
// segments, a streaming scan of the last one); take the highest ack marker
// and clamp it into [first record, end] (a stale marker behind deleted
// segments or ahead of lost data is tolerated); delete fully acked segments;
// find the head's byte offset with a streaming scan of that one segment.
// Length and bytes are then known without loading the queue into memory.
//
// Memory: only the read-ahead window (`readAheadBytes`, default 512 KiB,
// or what a peek asks for, skip + max, if larger), the pending writes, the last group
// written (at most 4 MiB: a reader that has caught up takes its records from
// there instead of reading them back) and one small object per segment are
// held; the backlog stays on disk.
//
// One process at a time per directory (the node's id makes it unique; there
// is no cross-process lock file, as a pid in it is unreliable in containers).
// In one process, open() of a directory whose queue is closing waits for the
// close (a redeploy), and rejects while it is open.

import * as nodeFs from 'fs';
import * as path from 'path';
import { EventQueue, QueueFullError } from '../../nodes/lib/delivery/queue/queue';

type Errno = NodeJS.ErrnoException;

/** The callback fs functions the queue uses (Node's `fs` by default; tests inject failures). */
export interface QueueFs {
  open(path: string, flags: string, callback: (err: Errno | null, fd: number) => void): void;
  close(fd: number, callback: (err: Errno | null) => void): void;
  read(
    fd: number,
    buffer: Buffer,
    offset: number,
    length: number,
    position: number,
    callback: (err: Errno | null, bytesRead: number, buffer: Buffer) => void,
  ): void;
  write(
    fd: number,
    buffer: Buffer,
    offset: number,
    length: number,
    position: null,
    callback: (err: Errno | null, written: number, buffer: Buffer) => void,
  ): void;
  fsync(fd: number, callback: (err: Errno | null) => void): void;
  ftruncate(fd: number, len: number, callback: (err: Errno | null) => void): void;
  fstat(fd: number, callback: (err: Errno | null, stats: nodeFs.Stats) => void): void;
  rename(oldPath: string, newPath: string, callback: (err: Errno | null) => void): void;
  unlink(path: string, callback: (err: Errno | null) => void): void;
  readdir(path: string, callback: (err: Errno | null, files: string[]) => void): void;
  mkdir(path: string, options: { recursive: true }, callback: (err: Errno | null, path?: string) => void): void;
  rm(path: string, options: { recursive: true; force: true }, callback: (err: Errno | null) => void): void;
}

export interface CorruptRecord {
  /** The segment file. */
  file: string;
  /** Byte offset of the unreadable data in that file. */
  offset: number;
  /** Its length in bytes. */
  bytes: number;
  reason: string;
}

export interface DurableQueueOptions {
  /** The queue's own directory (created if missing); the node uses `<userDir>/findface-queues/<node id>`. */
  dir: string;
  /** Most items queued; an append over it rejects with QueueFullError. Default: no limit. */
  maxEvents?: number;
  /** Most bytes of queued records; an append over it rejects with QueueFullError. Default: no limit. */
  maxBytes?: number;
  /** A segment is sealed before it grows beyond this (default 8 MiB). */
  segmentBytes?: number;
  /** fsync period in ms (default 1000); 0 = fsync before each append/ack resolves. */
  syncIntervalMs?: number;
  /** Bytes read ahead at a time by peek/ack (default 512 KiB). */
  readAheadBytes?: number;
  /** Called for data that is skipped because it cannot be read back (torn or garbage records). */
  onCorrupt?: (record: CorruptRecord) => void;
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

const SEGMENT_RE = /^(\d{20})\.ndjson$/;
const ACK_RE = /^acked-(\d{20})$/;
const NEWLINE = 10;
const MAX_GROUP_BYTES = 4 * 1024 * 1024;
const SCAN_CHUNK = 1024 * 1024;
const TAIL_CHUNK = 64 * 1024;

const pad = (n: number): string => String(n).padStart(20, '0');
const segmentName = (start: number): string => `${pad(start)}.ndjson`;
const ackName = (seq: number): string => `acked-${pad(seq)}`;

interface Segment {
  start: number;
  /**
   * Records from this byte offset on were appended by this process (JSON.stringify output that
   * write(2) accepted): handed out as they are. Records before it (found on disk at open) are
   * checked with JSON.parse when read, as an OS crash can leave garbage in them.
   */
  trustedFrom: number;
  /** Records in the file (for a sealed segment opened from disk: as its name implies, corrected when read). */
  count: number;
  /** Committed bytes: what the reader may read. */
  size: number;
  file: string;
  sealed: boolean;
  repaired?: boolean;
}

interface Entry {
  seq: number;
  seg: Segment;
  /** Index of the record in its segment. */
  index: number;
  /** Byte offset just after the record. */
  end: number;
  bytes: number;
  /** The record's JSON bytes (a view into the chunk read). */
  record: Buffer | undefined;
  corrupt: boolean;
}

interface PendingAppend {
  /** The records, one JSON line each. */
  text: string;
  count: number;
  bytes: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** Promise wrappers over a QueueFs. */
class Io {
  constructor(private readonly fs: QueueFs) {}

  private call<R>(fn: (cb: (err: Errno | null, result: R) => void) => void): Promise<R> {
    return new Promise<R>((resolve, reject) => fn((err, result) => (err ? reject(err) : resolve(result))));
  }

  open(file: string, flags: string): Promise<number> {
    return this.call((cb) => this.fs.open(file, flags, cb));
  }
  close(fd: number): Promise<void> {
    return this.call<void>((cb) => this.fs.close(fd, (err) => cb(err, undefined)));
  }
  fsync(fd: number): Promise<void> {
    return this.call<void>((cb) => this.fs.fsync(fd, (err) => cb(err, undefined)));
  }
  ftruncate(fd: number, len: number): Promise<void> {
    return this.call<void>((cb) => this.fs.ftruncate(fd, len, (err) => cb(err, undefined)));
  }
  async size(fd: number): Promise<number> {
    return (await this.call<nodeFs.Stats>((cb) => this.fs.fstat(fd, cb))).size;
  }
  rename(from: string, to: string): Promise<void> {
    return this.call<void>((cb) => this.fs.rename(from, to, (err) => cb(err, undefined)));
  }
  unlink(file: string): Promise<void> {
    return this.call<void>((cb) => this.fs.unlink(file, (err) => cb(err, undefined)));
  }
  readdir(dir: string): Promise<string[]> {
    return this.call((cb) => this.fs.readdir(dir, cb));
  }
  mkdir(dir: string): Promise<void> {
    return this.call<void>((cb) => this.fs.mkdir(dir, { recursive: true }, (err) => cb(err, undefined)));
  }
  rm(dir: string): Promise<void> {
    return this.call<void>((cb) => this.fs.rm(dir, { recursive: true, force: true }, (err) => cb(err, undefined)));
  }

  /** Writes the whole buffer at the end of an O_APPEND fd (a short write is continued; its error is thrown). */
  async writeAll(fd: number, buffer: Buffer): Promise<void> {
    let offset = 0;
    while (offset < buffer.length) {
      const written = await this.call<number>((cb) => this.fs.write(fd, buffer, offset, buffer.length - offset, null, cb));
      if (written <= 0) throw Object.assign(new Error('write wrote nothing'), { code: 'EIO' });
      offset += written;
    }
  }

  /** Reads `length` bytes at `position` (fewer only at end of file). */
  async readAt(fd: number, position: number, length: number): Promise<Buffer> {
    const buffer = Buffer.allocUnsafe(length);
    let got = 0;
    while (got < length) {
      const n = await this.call<number>((cb) => this.fs.read(fd, buffer, got, length - got, position + got, cb));
      if (n === 0) break;
      got += n;
    }
    return got < length ? buffer.subarray(0, got) : buffer;
  }
}

function encode(items: unknown[]): string {
  let text = '';
  for (const item of items) {
    // As in the JSON array the sender POSTs, undefined (and functions) become null.
    const json: string | undefined = JSON.stringify(item);
    text += (json === undefined ? 'null' : json) + '\n';
  }
  return text;
}

function parses(buffer: Buffer): boolean {
  try {
    JSON.parse(buffer.toString('utf8'));
    return true;
  } catch {
    return false;
  }
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

/** Queues open in this process, by directory. */
const openQueues = new Map<string, DurableQueue>();

export class DurableQueue implements EventQueue {
  /** Opens (creating or recovering) the queue in `options.dir`. */
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
      await queue.recover();
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

  readonly dir: string;
  private readonly io: Io;
  private readonly maxEvents: number;
  private readonly maxBytes: number;
  private readonly segmentBytes: number;
  private readonly syncIntervalMs: number;
  private readonly readAheadBytes: number;
  private readonly onCorrupt?: (record: CorruptRecord) => void;

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
  private window: Entry[] = [];
  private windowValid = 0;
  private readSeg: Segment | undefined;
  private readPos = 0;
  private readIndex = 0;
  private readFd: number | undefined;
  private ackFile: string | undefined;
  private headOffset = 0;
  private headIndex = 0;

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
    this.io = new Io(options.fs ?? (nodeFs as unknown as QueueFs));
    this.maxEvents = positiveOption(options.maxEvents, Infinity, 'maxEvents');
    this.maxBytes = positiveOption(options.maxBytes, Infinity, 'maxBytes');
    this.segmentBytes = positiveOption(options.segmentBytes, 8 * 1024 * 1024, 'segmentBytes');
    this.syncIntervalMs = positiveOption(options.syncIntervalMs, 1000, 'syncIntervalMs', true);
    this.readAheadBytes = Math.max(1024, positiveOption(options.readAheadBytes, 512 * 1024, 'readAheadBytes'));
    this.onCorrupt = options.onCorrupt;
  }

  get length(): number {
    return this.count;
  }

  get bytes(): number {
    return this.byteCount;
  }

  // ---- append ------------------------------------------------------------------------------------

  append(items: unknown[]): Promise<void> {
    if (this.state !== 'open') return Promise.reject(new QueueClosedError('append', this.dir));
    if (!Array.isArray(items)) return Promise.reject(new TypeError('append expects an array of items'));
    if (items.length === 0) return Promise.resolve();
    let text: string;
    try {
      text = encode(items);
    } catch (error) {
      return Promise.reject(error); // e.g. a BigInt or a cycle: nothing queued
    }
    const bytes = Buffer.byteLength(text, 'utf8');
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
      this.pending.push({ text, count: items.length, bytes, resolve, reject });
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
            this.pendingItems -= a.count;
            this.pendingBytes -= a.bytes;
          }
        }
      }
    } finally {
      this.flushing = undefined;
    }
  }

  private async writeGroup(group: PendingAppend[], bytes: number): Promise<void> {
    // One buffer for the whole group, each append's text encoded into it once.
    const buffer = Buffer.allocUnsafe(bytes);
    let at = 0;
    for (const a of group) at += buffer.write(a.text, at, 'utf8');
    const items = group.reduce((sum, a) => sum + a.count, 0);
    const seg = await this.activeSegment(bytes);
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
    this.nextSeq += items;
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
      let skipping = checkCount(skip, 'peek(skip)');
      while (this.windowValid < skipping + want && (await this.readMore()));
      const out: Buffer[] = [];
      for (let i = 0; out.length < want && i < this.window.length; i++) {
        const entry = this.window[i];
        if (entry.corrupt) continue;
        if (skipping > 0) skipping--;
        else out.push(entry.record as Buffer);
      }
      return out;
    });
  }

  ack(count: number): Promise<void> {
    return this.readerOp('ack', async () => {
      checkCount(count, 'ack(count)');
      if (count === 0) return;
      if (count > this.count) throw new RangeError(`cannot acknowledge ${count} items: ${this.count} queued`);
      while (this.windowValid < count) {
        if (!(await this.readMore())) throw new RangeError(`cannot acknowledge ${count} items: ${this.windowValid} left in the queue's storage`);
      }
      let cut = 0;
      let valid = 0;
      let bytes = 0;
      while (valid < count) {
        const entry = this.window[cut++];
        if (!entry.corrupt) {
          valid++;
          bytes += entry.bytes;
        }
      }
      while (cut < this.window.length && this.window[cut].corrupt) cut++; // unreadable records right behind go too
      const last = this.window[cut - 1];
      await this.writeAck(last.seq + 1);
      this.window.splice(0, cut);
      this.windowValid -= count;
      this.count -= count;
      this.byteCount -= bytes;
      while (this.segments.length > 0 && this.segments[0] !== last.seg) await this.dropHead();
      this.headOffset = last.end;
      this.headIndex = last.index + 1;
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

  /** Reads the next chunk of records into the window; false when everything committed is in it. */
  private async readMore(): Promise<boolean> {
    for (;;) {
      let seg = this.readSeg;
      if (!seg) {
        seg = this.segments[0];
        if (!seg) return false;
        this.readSeg = seg;
        this.readPos = this.headOffset;
        this.readIndex = this.headIndex;
      }
      if (this.readPos < seg.size) {
        await this.readChunk(seg);
        return true;
      }
      if (!seg.sealed) return false;
      const next = this.segments[this.segments.indexOf(seg) + 1];
      await this.leaveReadSegment(seg);
      if (!next) return false;
      this.readSeg = next;
      this.readPos = 0;
      this.readIndex = 0;
    }
  }

  private async readChunk(seg: Segment): Promise<void> {
    const written = this.lastWrite;
    if (written && written.seg === seg && this.readPos >= written.start && this.readPos < written.start + written.buffer.length) {
      // The reader has caught up with the writer: the records just written are taken from memory, not read back.
      const buffer = written.buffer.subarray(this.readPos - written.start);
      this.lastWrite = undefined;
      this.pushRecords(seg, buffer, buffer.length - 1);
      return;
    }
    if (this.readFd === undefined) this.readFd = await this.io.open(seg.file, 'r');
    const available = seg.size - this.readPos;
    let want = Math.min(this.readAheadBytes, available);
    for (;;) {
      const buffer = await this.io.readAt(this.readFd, this.readPos, want);
      if (buffer.length < want) throw new Error(`queue segment ${seg.file} is shorter than expected (${this.readPos + buffer.length} < ${seg.size} bytes)`);
      const lastNewline = buffer.lastIndexOf(NEWLINE);
      if (lastNewline < 0) {
        if (want < available) {
          want = Math.min(want * 2, available); // one record longer than the read-ahead
          continue;
        }
        // Committed data always ends with '\n'; anything else cannot be read back.
        this.pushEntry(seg, buffer, 0, buffer.length, buffer.length, 'no end of record');
        this.readPos += buffer.length;
        return;
      }
      this.pushRecords(seg, buffer, lastNewline);
      return;
    }
  }

  /** Adds the records of `buffer` (read at readPos) up to its `lastNewline` to the window. */
  private pushRecords(seg: Segment, buffer: Buffer, lastNewline: number): void {
    let start = 0;
    while (start <= lastNewline) {
      const end = buffer.indexOf(NEWLINE, start);
      this.pushEntry(seg, buffer, start, end, end + 1 - start);
      start = end + 1;
    }
    this.readPos += lastNewline + 1;
  }

  private pushEntry(seg: Segment, buffer: Buffer, start: number, end: number, bytes: number, forced?: string): void {
    const index = this.readIndex++;
    const offset = this.readPos + start;
    const entry: Entry = { seq: seg.start + index, seg, index, end: offset + bytes, bytes, record: undefined, corrupt: false };
    let reason = forced;
    if (seg.sealed && index >= seg.count) {
      // More records than the segment's name allows (files edited by hand): never counted, not delivered.
      reason = "record beyond the segment's range";
      this.count++; // undone below: only its bytes were counted
    } else if (!reason && offset >= seg.trustedFrom) {
      entry.record = buffer.subarray(start, end);
    } else if (!reason) {
      const text = buffer.toString('utf8', start, end);
      try {
        JSON.parse(text);
        // Bytes that are not UTF-8 were decoded as U+FFFD: send that, never the invalid bytes.
        entry.record = text.includes('\uFFFD') ? Buffer.from(text, 'utf8') : buffer.subarray(start, end);
      } catch (error) {
        reason = `unreadable record: ${(error as Error).message}`;
      }
    }
    if (reason) {
      entry.corrupt = true;
      this.count--;
      this.byteCount -= bytes;
      this.reportCorrupt({ file: seg.file, offset, bytes, reason });
    } else {
      this.windowValid++;
    }
    this.window.push(entry);
  }

  /** The reader is done with `seg`: correct its count if it held fewer records than its name implied. */
  private async leaveReadSegment(seg: Segment): Promise<void> {
    if (seg.sealed && this.readIndex < seg.count) {
      this.count -= seg.count - this.readIndex;
      seg.count = this.readIndex;
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
    this.headIndex = 0;
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

  // ---- recovery ------------------------------------------------------------------------------------

  private async recover(): Promise<void> {
    await this.io.mkdir(this.dir);
    const names = await this.io.readdir(this.dir);
    const segs: Segment[] = [];
    const markers: { name: string; seq: number }[] = [];
    for (const name of names) {
      let m = SEGMENT_RE.exec(name);
      if (m) segs.push({ start: Number(m[1]), trustedFrom: Infinity, count: 0, size: 0, file: path.join(this.dir, name), sealed: true });
      else if ((m = ACK_RE.exec(name))) markers.push({ name, seq: Number(m[1]) });
    }
    segs.sort((a, b) => a.start - b.start);
    markers.sort((a, b) => b.seq - a.seq);
    let ackSeq = markers.length ? markers[0].seq : 0;
    this.ackFile = markers.length ? markers[0].name : undefined;
    for (const stale of markers.slice(1)) await this.io.unlink(path.join(this.dir, stale.name));

    for (const seg of segs) await this.repairTail(seg);
    for (let i = 0; i < segs.length; i++) {
      const seg = segs[i];
      const next = segs[i + 1];
      seg.sealed = next !== undefined;
      if (seg.size === 0) seg.count = 0;
      else if (next && !seg.repaired) seg.count = next.start - seg.start;
      else seg.count = (await this.scan(seg, Infinity)).count;
    }
    const last = segs[segs.length - 1];
    this.nextSeq = Math.max(last ? last.start + last.count : 0, ackSeq);

    // Drop what is fully acknowledged (and empty sealed segments); find the head.
    for (;;) {
      const head = segs[0];
      if (!head) break;
      if ((head.sealed && head.count === 0) || head.start + head.count <= ackSeq) {
        segs.shift();
        await this.io.unlink(head.file);
        continue;
      }
      if (ackSeq < head.start) ackSeq = head.start; // stale marker: what it points at was deleted
      const index = ackSeq - head.start;
      const found = index === 0 ? { count: 0, offset: 0 } : await this.scan(head, index);
      if (found.count < index) {
        // The segment held fewer records than its name implied (lost data): all of it is acked.
        head.count = found.count;
        continue;
      }
      this.headIndex = index;
      this.headOffset = found.offset;
      break;
    }
    this.segments = segs;
    this.count = segs.reduce((sum, s) => sum + s.count, 0) - this.headIndex;
    this.byteCount = segs.reduce((sum, s) => sum + s.size, 0) - this.headOffset;

    if (this.ackFile !== ackName(ackSeq) || !this.ackFile) await this.writeAck(ackSeq);
    const active = segs[segs.length - 1];
    if (active && !active.sealed) {
      active.trustedFrom = active.size;
      this.writeFd = await this.io.open(active.file, 'a');
    }
    await this.syncDir();
  }

  /** Truncates a torn or unreadable last record of `seg` (keeps everything before it). */
  private async repairTail(seg: Segment): Promise<void> {
    const fd = await this.io.open(seg.file, 'r+');
    try {
      seg.size = await this.io.size(fd);
      let end = seg.size;
      let reason = '';
      while (end > 0) {
        const newline = await this.lastNewline(fd, end);
        if (newline !== end - 1) {
          reason ||= 'torn last record (no end of line)';
          end = newline + 1;
          continue;
        }
        const start = (await this.lastNewline(fd, end - 1)) + 1;
        if (parses(await this.io.readAt(fd, start, end - 1 - start))) break;
        reason ||= 'unreadable last record';
        end = start;
      }
      if (end < seg.size) {
        await this.io.ftruncate(fd, end);
        this.reportCorrupt({ file: seg.file, offset: end, bytes: seg.size - end, reason });
        seg.size = end;
        seg.repaired = true;
        this.dirty = true;
      }
    } finally {
      await this.io.close(fd);
    }
  }

  /** Position of the last '\n' before `end`, or -1. */
  private async lastNewline(fd: number, end: number): Promise<number> {
    let to = end;
    while (to > 0) {
      const from = Math.max(0, to - TAIL_CHUNK);
      const chunk = await this.io.readAt(fd, from, to - from);
      const i = chunk.lastIndexOf(NEWLINE);
      if (i >= 0) return from + i;
      to = from;
    }
    return -1;
  }

  /** Streams through `seg` counting records, stopping after `stopAfter` of them; offset = just after the last counted. */
  private async scan(seg: Segment, stopAfter: number): Promise<{ count: number; offset: number }> {
    const fd = await this.io.open(seg.file, 'r');
    try {
      let count = 0;
      let offset = 0;
      for (let position = 0; position < seg.size && count < stopAfter;) {
        const chunk = await this.io.readAt(fd, position, Math.min(SCAN_CHUNK, seg.size - position));
        if (chunk.length === 0) break;
        for (let i = chunk.indexOf(NEWLINE); i >= 0 && count < stopAfter; i = chunk.indexOf(NEWLINE, i + 1)) {
          count++;
          offset = position + i + 1;
        }
        position += chunk.length;
      }
      return { count, offset };
    } finally {
      await this.io.close(fd);
    }
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

  /** fsyncs the directory (new, renamed and deleted names) where the platform and file system allow it. */
  private async syncDir(): Promise<void> {
    if (process.platform === 'win32') return; // directories cannot be opened for fsync there
    const fd = await this.io.open(this.dir, 'r');
    try {
      await this.io.fsync(fd);
    } catch (error) {
      // some network and FUSE file systems do not support fsync on a directory
      if (!['EINVAL', 'ENOTSUP', 'EOPNOTSUPP', 'EISDIR', 'EPERM', 'EBADF'].includes((error as Errno).code ?? '')) throw error;
    } finally {
      await this.io.close(fd);
    }
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

  /** Closes the queue and deletes its directory. */
  async destroy(): Promise<void> {
    await this.close().catch(() => undefined); // nothing of it is kept, so a failed fsync does not matter
    await this.io.rm(this.dir);
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
    this.windowValid = 0;
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
