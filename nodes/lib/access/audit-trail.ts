// The door's audit trail on disk: one JSON line per decision in
// `<dir>/<YYYY-MM-DD>.jsonl` (UTC day of writing), `<YYYY-MM-DD>.<n>.jsonl`
// once a file reaches maxBytes; files older than keepDays are deleted.
//
// Off the decision's path: `append` only serialises into a buffer and
// returns; one write at a time drains it (all lines queued so far in one
// append), started in a quiet moment after the decision (see QUIET_MS), so
// an open never waits for the disk. The file is kept open while lines keep
// coming. Every write holds whole lines, so a reader (the admin endpoint, `tail -f`) sees complete lines
// while the file grows; a torn last line after a crash is skipped on read.
// The buffer is bounded (bufferBytes): when the disk cannot keep up or a
// write fails (disk full, permissions), lines stay buffered and the write is
// retried every retryMs; past the bound the oldest buffered lines are
// dropped and counted (`dropped`), and the door keeps deciding. The trail
// is a record of decisions, not a queue of actions: nothing is replayed
// from it.
import fs from 'fs';
import path from 'path';
import type { AuditRecord } from './audit-record';
import { isoTime } from '../common/iso-time';

export interface AuditTrailOptions {
  dir: string;
  maxBytes: number;
  keepDays: number;
  /** Most bytes of lines waiting for the disk. */
  bufferBytes?: number;
  retryMs?: number;
  /** A write starts once no line has come for this long (default QUIET_MS) ... */
  quietMs?: number;
  /** ... or this long after the first line waiting for it (default MAX_WAIT_MS). */
  maxWaitMs?: number;
  /** How long after the last write the file is closed (default IDLE_CLOSE_MS). */
  idleCloseMs?: number;
  now?: () => number;
  /** Called once per failure streak with the error, and with null when writes work again. */
  onProblem?: (error: Error | null) => void;
}

// A write, even one handed to libuv's threads, costs the event loop a wake-up
// and, on a busy machine, the core: it waits for a quiet moment (no line for
// QUIET_MS, i.e. after the open that was just decided has gone out), or
// MAX_WAIT_MS at most, or for WRITE_NOW_BYTES of lines (bench/access.ts,
// door latency). A crash loses what waits, as it loses what is being written.
const QUIET_MS = 20;
const MAX_WAIT_MS = 1000;
const WRITE_NOW_BYTES = 256 * 1024;
/** The current file stays open while lines keep coming, and is closed this long after the last write (a file moved or deleted by hand is then made anew). */
const IDLE_CLOSE_MS = 2000;
const FILE = /^(\d{4}-\d{2}-\d{2})(?:\.(\d+))?\.jsonl$/;
const DAY_MS = 86_400_000;

interface AuditFile {
  name: string;
  day: string;
  index: number;
}

function auditFiles(names: string[]): AuditFile[] {
  const files: AuditFile[] = [];
  for (const name of names) {
    const match = FILE.exec(name);
    if (match) files.push({ name, day: match[1], index: match[2] === undefined ? 0 : Number(match[2]) });
  }
  // Oldest first.
  return files.sort((a, b) => (a.day === b.day ? a.index - b.index : a.day < b.day ? -1 : 1));
}

const fileName = (day: string, index: number) => (index === 0 ? `${day}.jsonl` : `${day}.${index}.jsonl`);

export class AuditTrail {
  private lines: string[] = [];
  private bufferedBytes = 0;
  private writing: Promise<void> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private current: { day: string; index: number; size: number } | undefined;
  /** The open file being appended to: opening it per write cost more than the write (bench/access.ts, door latency). */
  private handle: { file: string; fd: fs.promises.FileHandle } | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private batchTimer: NodeJS.Timeout | undefined;
  /** performance.now() when the batch timer was first set for the lines waiting. */
  private batchSince = 0;
  /** A failure was reported and no write has worked since. */
  private failing = false;
  private closed = false;
  /** Lines written to disk, and lines dropped because the buffer was full. */
  written = 0;
  dropped = 0;
  private readonly bufferBytes: number;
  private readonly retryMs: number;
  private readonly now: () => number;

  constructor(private readonly options: AuditTrailOptions) {
    this.bufferBytes = options.bufferBytes ?? 4 * 1024 * 1024;
    this.retryMs = options.retryMs ?? 1000;
    this.now = options.now ?? Date.now;
  }

  get pending(): number {
    return this.lines.length;
  }

  append(record: AuditRecord): void {
    if (this.closed) return;
    const line = `${JSON.stringify(record)}\n`;
    this.lines.push(line);
    this.bufferedBytes += line.length;
    while (this.bufferedBytes > this.bufferBytes && this.lines.length > 0) {
      this.bufferedBytes -= (this.lines.shift() as string).length;
      this.dropped++;
    }
    this.schedule();
  }

  /** A write soon: in the first quiet moment (see QUIET_MS). */
  private schedule(): void {
    if (this.writing || this.retryTimer || this.lines.length === 0) return;
    if (this.bufferedBytes >= WRITE_NOW_BYTES) {
      this.kick();
      return;
    }
    const quietMs = this.options.quietMs ?? QUIET_MS;
    if (!this.batchTimer) {
      this.batchSince = performance.now();
      this.batchTimer = setTimeout(() => {
        this.batchTimer = undefined;
        this.kick();
      }, quietMs);
    } else if (performance.now() - this.batchSince + quietMs <= (this.options.maxWaitMs ?? MAX_WAIT_MS)) {
      this.batchTimer.refresh();
    }
  }

  private clearBatch(): void {
    if (this.batchTimer) clearTimeout(this.batchTimer);
    this.batchTimer = undefined;
  }

  /** A write now, unless one is running (it schedules the next) or the disk is being waited for. */
  private kick(): void {
    if (this.writing || this.retryTimer || this.lines.length === 0) return;
    this.clearBatch();
    this.writing = this.drain().finally(() => {
      this.writing = undefined;
      if (!this.retryTimer) this.schedule();
    });
  }

  private async drain(): Promise<void> {
    const lines = this.lines;
    const bytes = this.bufferedBytes;
    this.lines = [];
    this.bufferedBytes = 0;
    const chunk = Buffer.from(lines.join(''), 'utf8');
    try {
      const file = await this.fileFor(chunk.length);
      if (this.handle?.file !== file) {
        await this.closeFile();
        this.handle = { file, fd: await fs.promises.open(file, 'a') };
      }
      await this.handle.fd.appendFile(chunk);
      this.current!.size += chunk.length;
      this.written += lines.length;
      this.closeWhenIdle();
      if (this.failing) {
        this.failing = false;
        this.options.onProblem?.(null);
      }
    } catch (error) {
      // Put them back in front, oldest first, within the bound.
      this.lines = lines.concat(this.lines);
      this.bufferedBytes += bytes;
      while (this.bufferedBytes > this.bufferBytes && this.lines.length > 0) {
        this.bufferedBytes -= (this.lines.shift() as string).length;
        this.dropped++;
      }
      this.current = undefined;
      await this.closeFile();
      if (!this.failing) {
        this.failing = true;
        this.options.onProblem?.(error as Error);
      }
      if (!this.closed && !this.retryTimer) {
        this.retryTimer = setTimeout(() => {
          this.retryTimer = undefined;
          this.kick();
        }, this.retryMs);
      }
    }
  }

  private closeWhenIdle(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined;
      if (!this.writing) void this.closeFile();
    }, this.options.idleCloseMs ?? IDLE_CLOSE_MS);
    this.idleTimer.unref();
  }

  private async closeFile(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    // A file that cannot be closed has nothing more to give; the next write opens it again.
    await handle?.fd.close().catch(() => undefined);
  }

  /** The file the next chunk goes to: today's, the next numbered one once full. */
  private async fileFor(chunkBytes: number): Promise<string> {
    const day = isoTime(this.now()).slice(0, 10);
    if (!this.current || this.current.day !== day) {
      await fs.promises.mkdir(this.options.dir, { recursive: true });
      const names = await fs.promises.readdir(this.options.dir);
      await this.removeExpired(names, day);
      const today = auditFiles(names).filter((file) => file.day === day);
      const last = today[today.length - 1];
      const index = last ? last.index : 0;
      let size: number;
      try {
        size = (await fs.promises.stat(path.join(this.options.dir, fileName(day, index)))).size;
      } catch {
        size = 0;
      }
      this.current = { day, index, size };
    }
    if (this.current.size > 0 && this.current.size + chunkBytes > this.options.maxBytes) {
      this.current = { day, index: this.current.index + 1, size: 0 };
    }
    return path.join(this.options.dir, fileName(day, this.current.index));
  }

  private async removeExpired(names: string[], today: string): Promise<void> {
    const oldestKept = new Date(Date.parse(`${today}T00:00:00Z`) - (this.options.keepDays - 1) * DAY_MS).toISOString().slice(0, 10);
    for (const file of auditFiles(names)) {
      if (file.day < oldestKept) await fs.promises.rm(path.join(this.options.dir, file.name), { force: true });
    }
  }

  /** Writes what is buffered (one attempt; lines a failing disk refuses stay counted as pending). */
  async flush(): Promise<void> {
    this.clearBatch();
    if (this.retryTimer) {
      clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
    }
    while (this.writing) await this.writing;
    if (this.lines.length > 0) {
      this.writing = this.drain().finally(() => {
        this.writing = undefined;
      });
      await this.writing;
    }
    if (this.retryTimer && this.closed) {
      clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
    }
  }

  /** Flushes, then takes no more lines and sets no more timers. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.clearBatch();
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    await this.closeFile();
  }
}

const TAIL_CHUNK = 64 * 1024;

/** The last `limit` lines of one file, newest first, complete lines only. */
async function tailLines(file: string, limit: number): Promise<string[]> {
  const handle = await fs.promises.open(file, 'r');
  try {
    const { size } = await handle.stat();
    let end = size;
    let carry = '';
    const lines: string[] = [];
    let first = true;
    while (end > 0 && lines.length < limit) {
      const start = Math.max(0, end - TAIL_CHUNK);
      const buffer = Buffer.alloc(end - start);
      await handle.read(buffer, 0, buffer.length, start);
      const text = buffer.toString('utf8') + carry;
      const parts = text.split('\n');
      carry = start > 0 ? (parts.shift() as string) : '';
      if (first) {
        // The last part is empty after a final newline, or a line still being written.
        parts.pop();
        first = false;
      }
      for (let index = parts.length - 1; index >= 0 && lines.length < limit; index--) if (parts[index] !== '') lines.push(parts[index]);
      end = start;
    }
    if (carry !== '' && lines.length < limit) lines.push(carry);
    return lines;
  } finally {
    await handle.close();
  }
}

/** The last `limit` decisions in the trail under `dir`, newest first; [] when there is none. */
export async function readRecentAudit(dir: string, limit: number): Promise<AuditRecord[]> {
  let names: string[];
  try {
    names = await fs.promises.readdir(dir);
  } catch {
    return [];
  }
  const records: AuditRecord[] = [];
  for (const file of auditFiles(names).reverse()) {
    for (const line of await tailLines(path.join(dir, file.name), limit - records.length)) {
      try {
        records.push(JSON.parse(line) as AuditRecord);
      } catch {
        // A line torn by a crash: not a decision anyone can read back.
      }
    }
    if (records.length >= limit) break;
  }
  return records;
}
