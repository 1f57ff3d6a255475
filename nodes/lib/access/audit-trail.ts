// The door's audit trail on disk: one JSON line per decision in
// `<dir>/<YYYY-MM-DD>.jsonl` (UTC day of writing), `<YYYY-MM-DD>.<n>.jsonl`
// once a file reaches maxBytes; files older than keepDays are deleted.
//
// Off the decision's path: `append` only serialises into a buffer and
// returns; one write at a time drains it (all lines queued so far in one
// append), so an open never waits for the disk. Every write holds whole
// lines, so a reader (the admin endpoint, `tail -f`) sees complete lines
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

export interface AuditTrailOptions {
  dir: string;
  maxBytes: number;
  keepDays: number;
  /** Most bytes of lines waiting for the disk. */
  bufferBytes?: number;
  retryMs?: number;
  now?: () => number;
  /** Called once per failure streak with the error, and with null when writes work again. */
  onProblem?: (error: Error | null) => void;
}

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
    this.kick();
  }

  private kick(): void {
    if (this.writing || this.retryTimer || this.lines.length === 0) return;
    this.writing = this.drain().finally(() => {
      this.writing = undefined;
      if (!this.retryTimer) this.kick();
    });
  }

  private async drain(): Promise<void> {
    const lines = this.lines;
    const bytes = this.bufferedBytes;
    this.lines = [];
    this.bufferedBytes = 0;
    const chunk = lines.join('');
    try {
      const file = await this.fileFor(Buffer.byteLength(chunk));
      await fs.promises.appendFile(file, chunk);
      this.current!.size += Buffer.byteLength(chunk);
      this.written += lines.length;
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

  /** The file the next chunk goes to: today's, the next numbered one once full. */
  private async fileFor(chunkBytes: number): Promise<string> {
    const day = new Date(this.now()).toISOString().slice(0, 10);
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
