// Opening a queue directory: what is on disk becomes the queue's starting
// state (see the design header in durable-queue.ts). Steps, in order:
//  1. leftovers of an interrupted migration (`*.ffq.tmp`) are deleted; of
//     several ack markers the highest wins, the others are deleted;
//  2. segments of the format before framed records (`*.ndjson`, one JSON line
//     per record) are rewritten as framed segments (see `migrate`: crash-safe,
//     one old segment in memory at a time), skipping what the marker says is
//     acknowledged;
//  3. the last segment (the one appended to) is walked record by record:
//     a torn or damaged tail is truncated (reported once); its last valid
//     record gives the next sequence number;
//  4. a missing ack marker while segments exist is reported (the marker is
//     created with the directory, before any segment, so segments without
//     one mean it was deleted): every record still on disk is delivered again;
//  5. fully acknowledged segments are deleted; the head segment is walked up
//     to the first unacknowledged record to find its byte offset.
// Sealed segments other than the head are not read at open (on an SD card a
// large backlog would take long): their record counts come from their names
// and are corrected, with damaged ranges reported, when the reader reaches them.

import * as path from 'path';
import { Errno, Io } from './queue-io';
import {
  ACK_RE,
  HEADER_BYTES,
  frameBytesNeeded,
  LEGACY_SEGMENT_RE,
  MIGRATING_RE,
  MIGRATION_DONE,
  migratingName,
  SEGMENT_RE,
  walkFrames,
  WalkSink,
  WalkState,
  writeRecord,
} from './record-format';

export interface CorruptRecord {
  /** The segment file (or, for 'missing-ack-marker', the queue directory). */
  file: string;
  /** Byte offset of the damaged range in that file. */
  offset: number;
  /** Its length in bytes (0 when records are missing without damaged bytes, or for a missing marker). */
  bytes: number;
  /** Records lost in that range (not delivered), when known: sequence numbers [firstSeq, firstSeq + records). */
  records?: number;
  firstSeq?: number;
  /** 'damaged': bytes failed their check and were skipped; 'missing-ack-marker': see `reason`. */
  kind: 'damaged' | 'missing-ack-marker';
  reason: string;
}

export interface Segment {
  /** Sequence number of its first record (its file name). */
  start: number;
  /** Records (sequence numbers) in it: for a sealed segment opened from disk, as its name and the next one's imply, corrected when read. */
  count: number;
  /** Committed bytes: what the reader may read. */
  size: number;
  /** Records from this byte offset on were written by this process: read without checking their CRC. */
  trustedFrom: number;
  file: string;
  sealed: boolean;
}

export interface Recovered {
  segments: Segment[];
  ackFile: string | undefined;
  /** Every record below this sequence number is acknowledged (the head's sequence number, clamped into the data). */
  ackSeq: number;
  nextSeq: number;
  /** Byte offset in segments[0] where the reader starts. */
  headOffset: number;
  count: number;
  byteCount: number;
}

type Report = (record: CorruptRecord) => void;

const SCAN_CHUNK = 1024 * 1024;

/**
 * Streams through the frames of `file` (`size` bytes) from `from`, calling
 * `onRecord(seq, offset, end)` with file offsets; stops when it returns false.
 * Returns the state of the walk (a damaged range at the end is still open in it).
 */
export async function scanFile(
  io: Io,
  file: string,
  size: number,
  state: WalkState,
  onRecord: (seq: number, offset: number, end: number) => boolean,
  onDamaged: WalkSink['damaged'] = () => undefined,
): Promise<{ stoppedAt: number }> {
  const fd = await io.open(file, 'r');
  try {
    let position = 0;
    let want = SCAN_CHUNK;
    while (position < size) {
      const chunk = await io.readAt(fd, position, Math.min(want, size - position));
      if (chunk.length === 0) break;
      const base = position;
      let stopped = false;
      const at = walkFrames(chunk, 0, chunk.length, base, size, state, true, {
        record: (seq, bufferAt, length) => {
          const keep = onRecord(seq, base + bufferAt, base + bufferAt + HEADER_BYTES + length);
          stopped = !keep;
          return keep;
        },
        damaged: onDamaged,
      });
      if (stopped) return { stoppedAt: base + at };
      if (at === 0 && chunk.length < size - position) {
        want = Math.max(want, frameBytesNeeded(chunk, 0, chunk.length)); // one record longer than the chunk
        continue;
      }
      if (at === 0) break; // cannot happen: a frame never needs more than the file has
      position += at;
      want = SCAN_CHUNK;
    }
    return { stoppedAt: position };
  } finally {
    await io.close(fd);
  }
}

export async function recover(io: Io, dir: string, report: Report): Promise<Recovered> {
  await io.mkdir(dir);
  let names = await io.readdir(dir);
  const markers: { name: string; seq: number }[] = [];
  for (const name of names) {
    const m = ACK_RE.exec(name);
    if (m) markers.push({ name, seq: Number(m[1]) });
  }
  markers.sort((a, b) => b.seq - a.seq);
  let ackSeq = markers.length ? markers[0].seq : 0;
  const ackFile = markers.length ? markers[0].name : undefined;
  for (const stale of markers.slice(1)) await io.unlink(path.join(dir, stale.name));
  const markerMissing = !ackFile && names.some((name) => SEGMENT_RE.test(name) || LEGACY_SEGMENT_RE.test(name));

  if (names.some((name) => LEGACY_SEGMENT_RE.test(name) || name === MIGRATION_DONE)) {
    await migrate(io, dir, names, markerMissing ? 0 : ackSeq, report);
    names = await io.readdir(dir);
  }
  const segs: Segment[] = [];
  for (const name of names) {
    if (SEGMENT_RE.test(name))
      segs.push({ start: Number(name.slice(0, 20)), count: 0, size: 0, trustedFrom: Infinity, file: path.join(dir, name), sealed: true });
    else if (MIGRATING_RE.test(name)) await io.unlink(path.join(dir, name));
  }

  segs.sort((a, b) => a.start - b.start);
  for (let i = 0; i < segs.length; i++) {
    const seg = segs[i];
    const next = segs[i + 1];
    seg.sealed = next !== undefined;
    seg.size = await fileSize(io, seg.file);
    if (next) seg.count = next.start - seg.start;
  }
  const last = segs[segs.length - 1];
  if (last) await repairActiveSegment(io, last, report);
  const nextSeq = Math.max(last ? last.start + last.count : 0, ackSeq);

  if (markerMissing && segs.length > 0) {
    const first = segs[0].start;
    ackSeq = first;
    report({
      file: dir,
      offset: 0,
      bytes: 0,
      kind: 'missing-ack-marker',
      firstSeq: first,
      records: nextSeq - first,
      reason:
        `the ack marker (acked-<n>) is missing although ${first > 0 ? `records below ${first} were delivered and deleted` : 'the queue holds records'}: ` +
        `which of the ${nextSeq - first} records on disk were delivered is unknown, so all of them are delivered again`,
    });
  }

  // Drop what is fully acknowledged (and empty sealed segments); find the head.
  let headOffset = 0;
  for (;;) {
    const head = segs[0];
    if (!head) break;
    if ((head.sealed && head.count === 0) || head.start + head.count <= ackSeq) {
      segs.shift();
      await io.unlink(head.file);
      continue;
    }
    if (ackSeq < head.start) ackSeq = head.start; // stale marker: what it points at was deleted
    if (ackSeq > head.start) {
      const state: WalkState = { expected: head.start, limit: head.start + head.count, damageAt: -1 };
      let lastAckedEnd = 0;
      const { stoppedAt } = await scanFile(io, head.file, head.size, state, (seq, _offset, end) => {
        if (seq >= ackSeq) return false;
        lastAckedEnd = end;
        return true;
      });
      // Stopped at the first unacknowledged record: start right after the last acknowledged one
      // (damaged bytes between them are then reported by the reader). Not found: nothing readable is left.
      headOffset = stoppedAt < head.size ? lastAckedEnd : head.size;
    }
    break;
  }
  const head = segs[0];
  const count = head ? segs.reduce((sum, s) => sum + s.count, 0) - (ackSeq - head.start) : 0;
  const byteCount = segs.reduce((sum, s) => sum + s.size, 0) - headOffset;
  return { segments: segs, ackFile, ackSeq, nextSeq, headOffset, count, byteCount };
}

/** Walks the last segment: truncates a torn or damaged tail after its last valid record and counts its records. */
async function repairActiveSegment(io: Io, seg: Segment, report: Report): Promise<void> {
  const state: WalkState = { expected: seg.start, limit: Infinity, damageAt: -1 };
  let lastSeq = seg.start - 1;
  let validEnd = 0;
  await scanFile(io, seg.file, seg.size, state, (seq, _offset, end) => {
    lastSeq = seq;
    validEnd = end;
    return true;
  });
  seg.count = lastSeq + 1 - seg.start;
  if (validEnd < seg.size) {
    const fd = await io.open(seg.file, 'r+');
    try {
      await io.ftruncate(fd, validEnd);
      await io.fsync(fd);
    } finally {
      await io.close(fd);
    }
    report({
      file: seg.file,
      offset: validEnd,
      bytes: seg.size - validEnd,
      kind: 'damaged',
      reason: validEnd === 0 && seg.size < HEADER_BYTES ? 'torn record' : 'torn or damaged end of the segment (truncated)',
    });
    seg.size = validEnd;
  }
}

/**
 * Rewrites the segments of the format before framed records (JSON lines, the
 * n-th line of segment S holding record S + n) as framed segments, one old
 * segment at a time (memory: one segment). The records kept are numbered
 * again without gaps from the first unacknowledged one on, so the reader
 * finds no gap where the old format lost a record (each loss is reported
 * here, once). Lines below `ackSeq` are dropped (acknowledged); a line that
 * does not parse, a torn last line and lines beyond the next segment's start
 * are skipped, one report per contiguous range.
 *
 * Crash-safe: new segments are written as `*.ffq.tmp` and fsync'ed; then the
 * `migration-done` marker commits; then they are renamed, the old files
 * deleted and the marker removed. An open that finds old files without the
 * marker redoes the migration (any `.ffq` then is a leftover of it: nothing
 * is appended before a migration completes); one that finds the marker
 * finishes the commit.
 */
async function migrate(io: Io, dir: string, names: string[], ackSeq: number, report: Report): Promise<void> {
  const legacy = names
    .filter((name) => LEGACY_SEGMENT_RE.test(name))
    .map((name) => ({ start: Number(name.slice(0, 20)), file: path.join(dir, name) }))
    .sort((a, b) => a.start - b.start);
  if (!names.includes(MIGRATION_DONE)) {
    for (const name of names) if (MIGRATING_RE.test(name) || SEGMENT_RE.test(name)) await io.unlink(path.join(dir, name));
    let seq = legacy.length ? Math.max(ackSeq, legacy[0].start) : ackSeq;
    for (let i = 0; i < legacy.length; i++) seq = await migrateLegacySegment(io, dir, legacy[i], legacy[i + 1]?.start ?? Infinity, ackSeq, seq, report);
    await io.close(await io.open(path.join(dir, MIGRATION_DONE), 'w'));
    await syncDir(io, dir);
  }
  for (const name of await io.readdir(dir)) {
    if (MIGRATING_RE.test(name)) await io.rename(path.join(dir, name), path.join(dir, name.slice(0, -'.tmp'.length)));
  }
  for (const old of legacy) await io.unlink(old.file);
  await syncDir(io, dir);
  await io.unlink(path.join(dir, MIGRATION_DONE));
  await syncDir(io, dir);
}

/** Migrates one old segment into `<firstSeq>.ffq.tmp` (nothing when no record is kept); returns the next sequence number. */
async function migrateLegacySegment(
  io: Io,
  dir: string,
  old: { start: number; file: string },
  limit: number,
  ackSeq: number,
  firstSeq: number,
  report: Report,
): Promise<number> {
  const fd = await io.open(old.file, 'r');
  let data: Buffer;
  try {
    data = await io.readAt(fd, 0, await io.size(fd));
  } finally {
    await io.close(fd);
  }
  const records: { json: string; bytes: number }[] = [];
  let damage: { from: number; to: number; records: number; reason: string } | undefined;
  const flushDamage = () => {
    if (damage)
      report({ file: old.file, offset: damage.from, bytes: damage.to - damage.from, records: damage.records, kind: 'damaged', reason: damage.reason });
    damage = undefined;
  };
  const damaged = (from: number, to: number, isRecord: boolean, reason: string) => {
    if (damage && damage.to === from) {
      damage.to = to;
      if (isRecord) damage.records++;
    } else {
      flushDamage();
      damage = { from, to, records: isRecord ? 1 : 0, reason };
    }
  };
  let oldSeq = old.start;
  for (let lineStart = 0; lineStart < data.length; oldSeq++) {
    const newline = data.indexOf(10, lineStart);
    const lineEnd = newline < 0 ? data.length : newline + 1;
    if (newline < 0) damaged(lineStart, lineEnd, false, 'torn last record (no end of line)');
    else if (oldSeq >= limit) damaged(lineStart, lineEnd, false, "record beyond the segment's range");
    else if (oldSeq >= ackSeq) {
      const text = data.toString('utf8', lineStart, newline);
      try {
        JSON.parse(text);
        flushDamage();
        records.push({ json: text, bytes: Buffer.byteLength(text, 'utf8') }); // invalid UTF-8 became U+FFFD in `text`
      } catch (error) {
        damaged(lineStart, lineEnd, true, `unreadable record: ${(error as Error).message}`);
      }
    } else flushDamage();
    lineStart = lineEnd;
  }
  flushDamage();
  if (records.length === 0) return firstSeq;

  const buffer = Buffer.allocUnsafe(records.reduce((sum, r) => sum + HEADER_BYTES + r.bytes, 0));
  let at = 0;
  let seq = firstSeq;
  for (const r of records) at = writeRecord(buffer, at, r.json, seq++);
  const out = await io.open(path.join(dir, migratingName(firstSeq)), 'wx');
  try {
    await io.writeAll(out, buffer);
    await io.fsync(out);
  } finally {
    await io.close(out);
  }
  return seq;
}

async function fileSize(io: Io, file: string): Promise<number> {
  const fd = await io.open(file, 'r');
  try {
    return await io.size(fd);
  } finally {
    await io.close(fd);
  }
}

/** fsyncs the directory (new, renamed and deleted names) where the platform and file system allow it. */
export async function syncDir(io: Io, dir: string): Promise<void> {
  if (process.platform === 'win32') return; // directories cannot be opened for fsync there
  const fd = await io.open(dir, 'r');
  try {
    await io.fsync(fd);
  } catch (error) {
    // some network and FUSE file systems do not support fsync on a directory
    if (!['EINVAL', 'ENOTSUP', 'EOPNOTSUPP', 'EISDIR', 'EPERM', 'EBADF'].includes((error as Errno).code ?? '')) throw error;
  } finally {
    await io.close(fd);
  }
}
