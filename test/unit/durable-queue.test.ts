import assert from 'assert/strict';
import { spawn, spawnSync, execFileSync } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import readline from 'readline';
import v8 from 'v8';
import vm from 'vm';
import FakeTimers from '@sinonjs/fake-timers';
import fc from 'fast-check';
import { CorruptRecord, describeCorrupt, DurableQueue, DurableQueueOptions, QueueClosedError, QueueFs } from '../../nodes/lib/delivery/queue/durable-queue';
import { QueueFullError } from '../../nodes/lib/delivery/queue/queue';
import { HEADER_BYTES, writeRecord } from '../../nodes/lib/delivery/queue/record-format';
import { waitFor } from '../support/wait';

const CHILD = path.join(__dirname, '..', 'support', 'queue-crash-child.js');

interface Item {
  n: number;
  pad?: string;
}

let roots: string[] = [];
const opened: DurableQueue[] = [];

function tmpDir(): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ff-dq-'));
  roots.push(root);
  return path.join(root, 'q');
}

async function open(options: DurableQueueOptions): Promise<DurableQueue> {
  const queue = await DurableQueue.open(options);
  opened.push(queue);
  return queue;
}

/** peek, with the JSON texts parsed back into items. */
async function peekValues<T = Item>(queue: DurableQueue, max: number, skip = 0): Promise<T[]> {
  return (await queue.peek(max, skip)).map((json) => JSON.parse(json.toString('utf8')) as T);
}

/** Appends one record at a time (at most 1000) until an append fails; how many went in, and the error. */
async function fillUntilFull(q: DurableQueue, pad: string): Promise<{ n: number; failure?: NodeJS.ErrnoException }> {
  for (let n = 0; n < 1000; n++) {
    try {
      await q.append([{ n, pad }]);
    } catch (error) {
      return { n, failure: error as NodeJS.ErrnoException };
    }
  }
  return { n: 1000 };
}

const segments = (dir: string): string[] =>
  fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.ffq'))
    .sort();
/** Bytes an item takes in a segment: its frame header and its JSON. */
const stored = (item: unknown): number => HEADER_BYTES + Buffer.byteLength(JSON.stringify(item));
const markers = (dir: string): string[] => fs.readdirSync(dir).filter((f) => f.startsWith('acked-'));
const items = (from: number, count: number, pad = ''): Item[] => Array.from({ length: count }, (_, i) => (pad ? { n: from + i, pad } : { n: from + i }));
const ns = (list: Item[]): number[] => list.map((i) => i.n);
const range = (from: number, count: number): number[] => Array.from({ length: count }, (_, i) => from + i);

/** One framed record, as the queue writes it. */
function frame(seq: number, item: unknown): Buffer {
  const json = JSON.stringify(item);
  const buffer = Buffer.alloc(HEADER_BYTES + Buffer.byteLength(json));
  writeRecord(buffer, 0, json, seq);
  return buffer;
}

function errno(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: injected failure`), { code });
}

/** Node's fs with switchable failures and call counters. */
function faultyFs() {
  const real = fs as unknown as QueueFs;
  const state = {
    writeFails: undefined as string | undefined,
    halfWriteFirst: false,
    ftruncateFails: 0,
    openFails: undefined as ((file: string, flags: string) => string | undefined) | undefined,
    renameFails: undefined as string | undefined,
    writes: 0,
    reads: 0,
    fsyncs: [] as number[],
  };
  const ffs: QueueFs = {
    ...real,
    open(file, flags, cb) {
      const code = state.openFails?.(file, flags);
      if (code) return process.nextTick(cb, errno(code), -1);
      real.open(file, flags, cb);
    },
    write(fd, buffer, offset, length, position, cb) {
      state.writes++;
      if (state.writeFails) {
        if (state.halfWriteFirst && length > 1) {
          // a short write first (as write(2) does when the disk fills up mid-buffer), then the error
          state.halfWriteFirst = false;
          return real.write(fd, buffer, offset, Math.floor(length / 2), position, cb);
        }
        return process.nextTick(cb, errno(state.writeFails), 0, buffer);
      }
      real.write(fd, buffer, offset, length, position, cb);
    },
    read(fd, buffer, offset, length, position, cb) {
      state.reads++;
      real.read(fd, buffer, offset, length, position, cb);
    },
    ftruncate(fd, len, cb) {
      if (state.ftruncateFails > 0) {
        state.ftruncateFails--;
        return process.nextTick(cb, errno('EIO'));
      }
      real.ftruncate(fd, len, cb);
    },
    rename(from, to, cb) {
      if (state.renameFails) return process.nextTick(cb, errno(state.renameFails));
      real.rename(from, to, cb);
    },
    fsync(fd, cb) {
      state.fsyncs.push(fd);
      real.fsync(fd, cb);
    },
  };
  return { fs: ffs, state };
}

function fdCount(): number {
  return fs.readdirSync('/proc/self/fd').length;
}

describe('DurableQueue', function () {
  afterEach(async function () {
    for (const q of opened.splice(0)) await q.close().catch(() => undefined);
    for (const root of roots) fs.rmSync(root, { recursive: true, force: true });
    roots = [];
  });

  describe('append / peek / ack', function () {
    it('keeps order; peek does not remove; ack removes the oldest', async function () {
      const q = await open({ dir: tmpDir() });
      assert.equal(q.length, 0);
      assert.deepEqual(await peekValues(q, 10), []);
      await q.append(items(0, 3));
      await q.append(items(3, 2));
      assert.equal(q.length, 5);
      assert.deepEqual(ns(await peekValues(q, 2)), [0, 1]);
      assert.deepEqual(ns(await peekValues(q, 2)), [0, 1], 'peek again: same batch');
      assert.deepEqual(ns(await peekValues(q, 100)), [0, 1, 2, 3, 4]);
      assert.deepEqual(await peekValues(q, 0), []);
      await q.ack(2);
      assert.equal(q.length, 3);
      assert.deepEqual(ns(await peekValues(q, 10)), [2, 3, 4]);
      await q.ack(3);
      assert.equal(q.length, 0);
      assert.equal(q.bytes, 0);
      assert.deepEqual(await peekValues(q, 10), []);
    });

    it('counts bytes as stored (a frame header and the JSON per item)', async function () {
      const q = await open({ dir: tmpDir() });
      await q.append([{ a: 'é' }, 'x']);
      assert.equal(q.bytes, 2 * HEADER_BYTES + Buffer.byteLength('{"a":"é"}"x"'));
      await q.ack(1);
      assert.equal(q.bytes, HEADER_BYTES + Buffer.byteLength('"x"'));
    });

    it('round-trips JSON values (newlines, unicode, nesting); undefined becomes null as in the POSTed array', async function () {
      const q = await open({ dir: tmpDir() });
      const values = ['line\nbreak\r\n', { nested: { deep: [1, 'two', null, true] } }, 'ü—😀 \u2028', 0, -1.5e300, null, '', [], {}];
      await q.append(values);
      await q.append([undefined]);
      assert.deepEqual(await peekValues(q, 100), [...values, null]);
    });

    it('hands out each item as the UTF-8 JSON it stored, and skips the first `skip` items when asked', async function () {
      const q = await open({ dir: tmpDir() });
      await q.append([{ a: 'é', b: [1, null] }, 'x', undefined, 7]);
      const texts = (await q.peek(10)).map((record) => record.toString('utf8'));
      assert.deepEqual(texts, ['{"a":"é","b":[1,null]}', '"x"', 'null', '7']);
      assert.deepEqual((await q.peek(2, 1)).map(String), ['"x"', 'null']);
      assert.deepEqual((await q.peek(10, 3)).map(String), ['7']);
      assert.deepEqual(await q.peek(10, 4), []);
      await assert.rejects(q.peek(1, -1), RangeError);
      await q.ack(1);
      assert.deepEqual((await q.peek(1, 1)).map(String), ['null']);
    });

    it('rejects an item that cannot be serialised, queuing nothing of that call', async function () {
      const q = await open({ dir: tmpDir() });
      await q.append([1]);
      await assert.rejects(q.append([2, 10n]), TypeError);
      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;
      await assert.rejects(q.append([cyclic]), TypeError);
      assert.equal(q.length, 1);
      assert.deepEqual(await peekValues(q, 10), [1]);
    });

    it('validates counts: ack beyond the queue or a bad number rejects and changes nothing', async function () {
      const q = await open({ dir: tmpDir() });
      await q.append(items(0, 2));
      await assert.rejects(q.ack(3), RangeError);
      await assert.rejects(q.ack(-1), RangeError);
      await assert.rejects(q.ack(1.5), RangeError);
      await assert.rejects(q.peek(-1), RangeError);
      await assert.rejects(q.peek(NaN), RangeError);
      await q.ack(0);
      assert.equal(q.length, 2);
      assert.deepEqual(ns(await peekValues(q, 5)), [0, 1]);
    });

    it('joins the appends of one tick into one write(2), in call order', async function () {
      const { fs: ffs, state } = faultyFs();
      const q = await open({ dir: tmpDir(), fs: ffs });
      state.writes = 0;
      await Promise.all(range(0, 200).map((n) => q.append([{ n }])));
      assert.equal(state.writes, 1);
      assert.deepEqual(ns(await peekValues(q, 1000)), range(0, 200));
    });

    it('groups appends arriving while a write is in progress', async function () {
      const { fs: ffs, state } = faultyFs();
      const q = await open({ dir: tmpDir(), fs: ffs });
      state.writes = 0;
      const first = q.append([{ n: 0 }]);
      await new Promise((r) => setImmediate(r)); // the first write is now under way
      const rest = range(1, 50).map((n) => q.append([{ n }]));
      await Promise.all([first, ...rest]);
      assert.ok(state.writes <= 2, `${state.writes} writes`);
      assert.deepEqual(ns(await peekValues(q, 100)), range(0, 51));
    });

    it('takes records just written from memory when the reader has caught up, and reads a backlog from disk', async function () {
      const faulty = faultyFs();
      const q = await open({ dir: tmpDir(), fs: faulty.fs });
      const readsAtOpen = faulty.state.reads;
      for (let round = 0; round < 5; round++) {
        await q.append(items(round * 3, 3));
        assert.deepEqual(ns(await peekValues(q, 10)), range(round * 3, 3));
        await q.ack(3);
      }
      assert.equal(faulty.state.reads, readsAtOpen, 'streaming: no read(2)');
      // Two writes before the reader looks: the first group is read back from the file, the last from memory.
      await q.append(items(15, 2));
      await q.append(items(17, 2));
      assert.deepEqual(ns(await peekValues(q, 10)), range(15, 4));
      assert.ok(faulty.state.reads > readsAtOpen, 'the older group is read from disk');
      await q.close();
      const again = await open({ dir: q.dir });
      assert.deepEqual(ns(await peekValues(again, 10)), range(15, 4), 'what was taken from memory is on disk too');
    });

    it('reads the rest of a group from memory after a read-ahead that ended inside it', async function () {
      const faulty = faultyFs();
      const q = await open({ dir: tmpDir(), fs: faulty.fs, readAheadBytes: 1024 });
      await q.append(items(0, 5, 'a'.repeat(100))); // about 600 bytes, read back from disk
      await q.append(items(5, 8, 'b'.repeat(100))); // about 950 bytes: the read-ahead ends inside it
      const readsBefore = faulty.state.reads;
      assert.deepEqual(ns(await peekValues(q, 100)), range(0, 13));
      assert.equal(faulty.state.reads - readsBefore, 1, 'one read(2) of 1024 bytes, the rest from memory');
      await q.ack(13);
      assert.equal(q.length, 0);
    });

    it('reads records longer than the read-ahead window', async function () {
      const dir = tmpDir();
      const q = await open({ dir, readAheadBytes: 1024 });
      const big = 'b'.repeat(10_000);
      await q.append([{ n: 0 }, { n: 1, pad: big }, { n: 2 }]);
      assert.deepEqual(await peekValues(q, 3), [{ n: 0 }, { n: 1, pad: big }, { n: 2 }]);
      await q.ack(2);
      await q.close();
      const again = await open({ dir, readAheadBytes: 1024 });
      assert.deepEqual(await peekValues(again, 3), [{ n: 2 }]);
    });

    it('matches an in-memory model for any sequence of appends, peeks, acks and reopens', async function () {
      this.timeout(30000);
      type Op =
        | { op: 'append'; count: number; pad: number; split: boolean }
        | { op: 'peek'; max: number; skip: number }
        | { op: 'ack'; count: number }
        | { op: 'reopen' };
      const opArb: fc.Arbitrary<Op> = fc.oneof(
        // split: two appends in the same tick (one write of both)
        fc.record({ op: fc.constant('append' as const), count: fc.integer({ min: 0, max: 12 }), pad: fc.integer({ min: 0, max: 120 }), split: fc.boolean() }),
        fc.record({ op: fc.constant('peek' as const), max: fc.integer({ min: 0, max: 20 }), skip: fc.integer({ min: 0, max: 15 }) }),
        fc.record({ op: fc.constant('ack' as const), count: fc.integer({ min: 0, max: 20 }) }),
        fc.record({ op: fc.constant('reopen' as const) }),
      );
      await fc.assert(
        fc.asyncProperty(fc.array(opArb, { maxLength: 40 }), fc.integer({ min: 64, max: 600 }), async (ops, segmentBytes) => {
          const dir = tmpDir();
          const options = { dir, segmentBytes, readAheadBytes: 1024 };
          let q = await DurableQueue.open(options);
          const model: Item[] = [];
          let next = 0;
          try {
            for (const op of ops) {
              if (op.op === 'append') {
                const batch = items(next, op.count, 'p'.repeat(op.pad));
                next += op.count;
                if (op.split) {
                  const half = Math.floor(batch.length / 2);
                  await Promise.all([q.append(batch.slice(0, half)), q.append(batch.slice(half))]);
                } else {
                  await q.append(batch);
                }
                model.push(...batch);
              } else if (op.op === 'peek') {
                assert.deepEqual(await peekValues(q, op.max, op.skip), model.slice(op.skip, op.skip + op.max));
              } else if (op.op === 'ack') {
                const count = Math.min(op.count, model.length);
                await q.ack(count);
                model.splice(0, count);
              } else {
                await q.close();
                q = await DurableQueue.open(options);
              }
              assert.equal(q.length, model.length);
              assert.equal(
                q.bytes,
                model.reduce((sum, item) => sum + stored(item), 0),
              );
            }
            assert.deepEqual(
              (await q.peek(1000)).map(String),
              model.map((item) => JSON.stringify(item)),
              'the stored JSON, byte for byte',
            );
          } finally {
            await q.close();
          }
        }),
        { numRuns: 100 },
      );
    });
  });

  describe('segments', function () {
    it('rolls over to a new segment when one is full and deletes fully acknowledged ones', async function () {
      const dir = tmpDir();
      const q = await open({ dir, segmentBytes: 100 });
      for (let n = 0; n < 30; n++) await q.append([{ n, pad: 'abcdefghij' }]); // 26-27 bytes each
      const files = segments(dir);
      assert.ok(files.length >= 8, `${files.length} segments`);
      // each segment is named after its first record's sequence number
      assert.equal(files[0], '00000000000000000000.ffq');
      const starts = files.map((f) => Number(f.slice(0, 20)));
      for (let i = 1; i < starts.length; i++) assert.ok(starts[i] > starts[i - 1]);
      for (const f of files) assert.ok(fs.statSync(path.join(dir, f)).size <= 100);

      await q.ack(10);
      // The files are unlinked in the background, off the sender's path.
      const left = await waitFor(() => (segments(dir).length < files.length ? segments(dir) : undefined), 5000, 'acknowledged segments deleted');
      assert.ok(Number(left[0].slice(0, 20)) <= 10 && Number(left[0].slice(0, 20)) > 0);
      assert.deepEqual(ns(await peekValues(q, 100)), range(10, 20));

      await q.close();
      const again = await open({ dir, segmentBytes: 100 });
      assert.equal(again.length, 20);
      assert.deepEqual(ns(await peekValues(again, 100)), range(10, 20));
      await again.ack(20);
      assert.equal(again.length, 0);
      await waitFor(() => segments(dir).length <= 1, 5000, 'only the segment being written left');
      await again.append([{ n: 30 }]);
      assert.deepEqual(ns(await peekValues(again, 5)), [30]);
    });

    it('deletes a fully acknowledged segment left behind (crash between ack and unlink) at open', async function () {
      const dir = tmpDir();
      const q = await open({ dir, segmentBytes: 100 });
      for (let n = 0; n < 20; n++) await q.append([{ n, pad: 'abcdefghij' }]);
      const before = segments(dir);
      await peekValues(q, 10);
      await q.ack(10);
      await q.close();
      // put the deleted segments back, as if the process died before unlinking them
      const deleted = before.filter((f) => !segments(dir).includes(f));
      assert.ok(deleted.length > 0);
      for (const f of deleted) fs.writeFileSync(path.join(dir, f), '{"n":-1}\n'.repeat(3));
      const again = await open({ dir, segmentBytes: 100 });
      assert.deepEqual(ns(await peekValues(again, 100)), range(10, 10));
      for (const f of deleted) assert.ok(!fs.existsSync(path.join(dir, f)));
    });
  });

  describe('restart and recovery', function () {
    it('survives close + reopen with what was acknowledged gone', async function () {
      const dir = tmpDir();
      const q = await open({ dir });
      await q.append(items(0, 100));
      await peekValues(q, 30);
      await q.ack(30);
      await q.close();
      const again = await open({ dir });
      assert.equal(again.length, 70);
      assert.equal(
        again.bytes,
        items(30, 70).reduce((s, i) => s + stored(i), 0),
      );
      assert.deepEqual(ns(await peekValues(again, 1000)), range(30, 70));
      await again.append(items(100, 1));
      await again.ack(70);
      assert.deepEqual(ns(await peekValues(again, 10)), [100]);
    });

    it('close waits for appends already called', async function () {
      const dir = tmpDir();
      const q = await open({ dir });
      const appended = q.append(items(0, 5));
      await q.close();
      await appended;
      const again = await open({ dir });
      assert.deepEqual(ns(await peekValues(again, 10)), range(0, 5));
    });

    it('truncates a torn last record and keeps everything before it', async function () {
      const dir = tmpDir();
      const q = await open({ dir });
      await q.append(items(0, 5));
      await q.close();
      const file = path.join(dir, segments(dir)[0]);
      const good = fs.statSync(file).size;
      fs.appendFileSync(file, '{"n":5,"pad":"tor');
      const corrupt: CorruptRecord[] = [];
      const again = await open({ dir, onCorrupt: (r) => corrupt.push(r) });
      assert.equal(fs.statSync(file).size, good);
      assert.equal(corrupt.length, 1);
      assert.equal(corrupt[0].offset, good);
      assert.match(corrupt[0].reason, /torn/);
      assert.equal(again.length, 5);
      await again.append([{ n: 5 }]);
      assert.deepEqual(ns(await peekValues(again, 10)), range(0, 6));
      await again.close();
      const third = await open({ dir });
      assert.deepEqual(ns(await peekValues(third, 10)), range(0, 6));
    });

    it('truncates damaged bytes after the last valid record (garbage or zeros after a power loss)', async function () {
      const dir = tmpDir();
      const q = await open({ dir });
      await q.append(items(0, 3));
      await q.close();
      const file = path.join(dir, segments(dir)[0]);
      const good = fs.statSync(file).size;
      fs.appendFileSync(file, Buffer.concat([frame(3, { n: 3 }), frame(4, { n: 4 }).subarray(0, 15), Buffer.alloc(50), Buffer.from('{"n":9}\n')]));
      const corrupt: CorruptRecord[] = [];
      const again = await open({ dir, onCorrupt: (r) => corrupt.push(r) });
      assert.equal(again.length, 4);
      assert.equal(fs.statSync(file).size, good + stored({ n: 3 }));
      assert.equal(corrupt.length, 1, 'one report for the whole damaged tail');
      assert.deepEqual(ns(await peekValues(again, 10)), range(0, 4));
      await again.append([{ n: 4 }]);
      await again.close();
      assert.deepEqual(ns(await peekValues(await open({ dir }), 10)), range(0, 5));
    });

    it('a sealed segment that lost its end: the records it held are reported when read, and only those are missing', async function () {
      const dir = tmpDir();
      const q = await open({ dir, segmentBytes: 120 });
      for (let n = 0; n < 12; n++) await q.append([{ n, pad: 'abc' }]);
      await q.close();
      const files = segments(dir);
      assert.ok(files.length >= 3);
      // tear the middle of the first segment's last record, as a lost page could
      const first = path.join(dir, files[0]);
      fs.truncateSync(first, fs.statSync(first).size - 5);
      const lost = Number(files[1].slice(0, 20)) - 1; // the record that was torn
      const corrupt: CorruptRecord[] = [];
      const again = await open({ dir, segmentBytes: 120, onCorrupt: (r) => corrupt.push(r) });
      assert.equal(again.length, 12, 'sealed segments are not read at open');
      assert.deepEqual(
        ns(await peekValues(again, 100)),
        range(0, 12).filter((n) => n !== lost),
      );
      assert.equal(again.length, 11);
      assert.equal(corrupt.length, 1);
      assert.equal(corrupt[0].records, 1);
      assert.equal(corrupt[0].firstSeq, lost);
      await again.ack(11);
      assert.equal(again.length, 0);
    });

    it('tolerates a stale ack marker behind deleted segments', async function () {
      const dir = tmpDir();
      const q = await open({ dir, segmentBytes: 100 });
      for (let n = 0; n < 30; n++) await q.append([{ n, pad: 'abcdefghij' }]);
      await q.ack(12);
      await q.close();
      const firstStart = Number(segments(dir)[0].slice(0, 20));
      assert.ok(firstStart > 0 && firstStart <= 12);
      const [marker] = markers(dir);
      fs.renameSync(path.join(dir, marker), path.join(dir, 'acked-00000000000000000000'));
      const again = await open({ dir, segmentBytes: 100 });
      // what the marker says is gone is gone; the rest of the first segment is delivered again
      assert.equal(again.length, 30 - firstStart);
      assert.deepEqual(ns(await peekValues(again, 100)), range(firstStart, 30 - firstStart));
      assert.deepEqual(markers(dir), [`acked-${String(firstStart).padStart(20, '0')}`]);
    });

    it('tolerates an ack marker ahead of the data (acknowledged data lost) and several markers', async function () {
      const dir = tmpDir();
      const q = await open({ dir });
      await q.append(items(0, 10));
      await q.close();
      fs.writeFileSync(path.join(dir, 'acked-00000000000000000004'), '');
      fs.writeFileSync(path.join(dir, 'acked-00000000000000001000'), '');
      const again = await open({ dir });
      assert.equal(again.length, 0);
      assert.deepEqual(markers(dir), ['acked-00000000000000001000']);
      await again.append(items(10, 2));
      assert.equal(again.length, 2);
      assert.deepEqual(ns(await peekValues(again, 10)), [10, 11], 'new appends are not swallowed by the old marker');
      await again.close();
      const third = await open({ dir });
      assert.deepEqual(ns(await peekValues(third, 10)), [10, 11]);
      assert.deepEqual(segments(dir), ['00000000000000001000.ffq']);
    });

    it('a deleted ack marker is detected and reported once; every record on disk is then delivered again (none is dropped unproven)', async function () {
      const dir = tmpDir();
      const q = await open({ dir, segmentBytes: 100 });
      for (let n = 0; n < 10; n++) await q.append([{ n, pad: 'abcdefghij' }]);
      await q.ack(5);
      await q.close();
      const firstStart = Number(segments(dir)[0].slice(0, 20));
      assert.ok(firstStart > 0, 'delivered segments were deleted');
      for (const m of markers(dir)) fs.unlinkSync(path.join(dir, m));
      const corrupt: CorruptRecord[] = [];
      const again = await open({ dir, segmentBytes: 100, onCorrupt: (r) => corrupt.push(r) });
      assert.equal(corrupt.length, 1);
      assert.equal(corrupt[0].kind, 'missing-ack-marker');
      assert.equal(corrupt[0].firstSeq, firstStart);
      assert.match(corrupt[0].reason, new RegExp(`records below ${firstStart} were delivered`));
      assert.match(describeCorrupt(corrupt[0]), /ack marker .* is missing/);
      assert.deepEqual(ns(await peekValues(again, 100)), range(firstStart, 10 - firstStart));
      assert.deepEqual(markers(dir), [`acked-${String(firstStart).padStart(20, '0')}`], 'a marker is written again');
      await again.close();
      const third = await open({ dir, segmentBytes: 100, onCorrupt: (r) => corrupt.push(r) });
      assert.equal(corrupt.length, 1, 'reported once');
      assert.equal(third.length, 10 - firstStart);
    });

    it('a fresh queue writes its marker before any segment, so a new directory is not mistaken for a lost marker', async function () {
      const dir = tmpDir();
      const corrupt: CorruptRecord[] = [];
      const q = await open({ dir, onCorrupt: (r) => corrupt.push(r) });
      assert.deepEqual(markers(dir), ['acked-00000000000000000000']);
      await q.append(items(0, 2));
      await q.close();
      await open({ dir, onCorrupt: (r) => corrupt.push(r) });
      assert.deepEqual(corrupt, []);
    });

    it('skips (and reports) a record whose CRC fails in the middle, keeping the ones after it', async function () {
      const dir = tmpDir();
      const q = await open({ dir });
      await q.append(items(0, 4));
      await q.close();
      const file = path.join(dir, segments(dir)[0]);
      const data = fs.readFileSync(file);
      // {"n":1} → {"n":7}: still valid JSON, the CRC tells
      const at = data.indexOf('{"n":1}') + 5;
      data[at] = '7'.charCodeAt(0);
      fs.writeFileSync(file, data);
      const corrupt: CorruptRecord[] = [];
      const again = await open({ dir, onCorrupt: (r) => corrupt.push(r) });
      assert.equal(again.length, 4, 'the last segment is walked at open, but its damage is reported by the reader');
      assert.deepEqual(ns(await peekValues(again, 10)), [0, 2, 3]);
      assert.equal(again.length, 3);
      assert.equal(corrupt.length, 1);
      assert.deepEqual([corrupt[0].records, corrupt[0].firstSeq, corrupt[0].bytes], [1, 1, stored({ n: 1 })]);
      await again.ack(1);
      assert.deepEqual(ns(await peekValues(again, 10)), [2, 3]);
      await again.close();
      const third = await open({ dir });
      assert.deepEqual(ns(await peekValues(third, 10)), [2, 3]);
    });

    it('crash (SIGKILL mid-stream): every resolved append is kept in order, at most the in-flight batch comes back', async function () {
      this.timeout(40000);
      const dir = tmpDir();
      let first = 0;
      let lastHead = 0;
      for (let round = 0; round < 3; round++) {
        const child = spawn(process.execPath, [CHILD, 'crash', dir, String(first), '4096'], { stdio: ['ignore', 'pipe', 'pipe'] });
        let stderr = '';
        child.stderr.on('data', (d) => (stderr += d));
        let appended = first;
        let acked = -1;
        const target = first + 1500 + Math.floor(Math.random() * 2000);
        const lines = readline.createInterface({ input: child.stdout });
        const closed = new Promise<void>((resolve) => lines.on('close', resolve));
        const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
        lines.on('line', (line) => {
          const [kind, value] = line.split(' ');
          if (kind === 'A') appended = Math.max(appended, Number(value));
          if (kind === 'K') acked = Math.max(acked, Number(value));
          if (appended >= target && !child.killed) child.kill('SIGKILL');
        });
        const timeout = setTimeout(() => child.kill('SIGKILL'), 20000);
        const signal = await exited;
        await closed; // lines already in the pipe are read
        clearTimeout(timeout);
        assert.equal(signal, 'SIGKILL', stderr);
        assert.ok(appended >= target, `child appended only up to ${appended}: ${stderr}`);

        const q = await DurableQueue.open({ dir, segmentBytes: 4096 });
        const all = await peekValues(q, q.length);
        assert.equal(all.length, q.length);
        assert.ok(all.length > 0, 'a backlog is left');
        const head = all[0].n;
        all.forEach((item, i) => assert.equal(item.n, head + i, `record ${i} after the crash`));
        const end = head + all.length;
        assert.ok(end >= appended, `every resolved append survives: queue ends at ${end}, ${appended} were resolved`);
        assert.ok(head >= lastHead, 'nothing acknowledged in an earlier round comes back');
        if (acked >= 0) {
          assert.ok(head >= acked, `acknowledged records are gone (head ${head}, acked up to ${acked})`);
          assert.ok(head - acked <= 50, `at most one batch (≤ 50) was acked without being reported (head ${head}, acked ${acked})`);
        }
        await q.close();
        lastHead = head;
        first = end;
      }
      const q = await DurableQueue.open({ dir, segmentBytes: 4096 });
      let expected = lastHead;
      while (q.length > 0) {
        const batch = await peekValues(q, 500);
        for (const item of batch) assert.equal(item.n, expected++);
        await q.ack(batch.length);
      }
      assert.equal(expected, first);
      await q.close();
      assert.ok(segments(dir).length <= 1, 'fully acknowledged segments are deleted (by close at the latest)');
    });
  });

  describe('limits', function () {
    it('maxEvents: an append that would exceed it rejects with QueueFullError and writes nothing', async function () {
      const dir = tmpDir();
      const q = await open({ dir, maxEvents: 5 });
      await q.append(items(0, 3));
      const size = fs.statSync(path.join(dir, segments(dir)[0])).size;
      await assert.rejects(q.append(items(3, 3)), (e: unknown) => e instanceof QueueFullError && (e as QueueFullError).code === 'QUEUE_FULL');
      assert.equal(fs.statSync(path.join(dir, segments(dir)[0])).size, size);
      assert.equal(q.length, 3);
      await q.append(items(3, 2));
      await assert.rejects(q.append(items(5, 1)), QueueFullError);
      await q.ack(2);
      await q.append(items(5, 2));
      assert.deepEqual(ns(await peekValues(q, 10)), range(2, 5));
    });

    it('maxEvents counts appends not yet written (same tick)', async function () {
      const q = await open({ dir: tmpDir(), maxEvents: 3 });
      const results = await Promise.allSettled([q.append(items(0, 2)), q.append(items(2, 2)), q.append(items(4, 1))]);
      assert.deepEqual(
        results.map((r) => r.status),
        ['fulfilled', 'rejected', 'fulfilled'],
      );
      assert.deepEqual(ns(await peekValues(q, 10)), [0, 1, 4]);
    });

    it('maxBytes: an append that would exceed it rejects with QueueFullError', async function () {
      const dir = tmpDir();
      const one = stored({ n: 0 }); // 27 bytes
      const q = await open({ dir, maxBytes: one * 4 });
      await q.append(items(0, 4));
      assert.equal(q.bytes, one * 4);
      await assert.rejects(q.append(items(4, 1)), QueueFullError);
      await assert.rejects(q.append([{ n: 0, pad: 'x'.repeat(100) }]), QueueFullError);
      assert.equal(q.length, 4);
      await q.ack(1);
      await q.append(items(4, 1));
      assert.equal(q.bytes, one * 4);
      await assert.rejects(q.append(items(5, 1)), QueueFullError);
    });
  });

  describe('memory', function () {
    it('holds only a window of a large backlog in memory', async function () {
      this.timeout(30000);
      v8.setFlagsFromString('--expose-gc');
      const gc = vm.runInNewContext('gc') as () => void;
      const dir = tmpDir();
      const q = await open({ dir });
      const N = 300_000;
      const pad = 'm'.repeat(150); // ~170 bytes per record, ~50 MB on disk
      gc();
      const heapBefore = process.memoryUsage().heapUsed;
      let heapPeak = heapBefore;
      for (let i = 0; i < N; i += 1000) {
        await q.append(Array.from({ length: 1000 }, (_, k) => ({ n: i + k, pad: pad + (i + k) })));
        if (i % 50_000 === 0) {
          gc();
          heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
        }
      }
      gc();
      heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
      assert.equal(q.length, N);
      assert.ok(q.bytes > 50 * 1024 * 1024);
      let expected = 0;
      while (q.length > 0) {
        const batch = await peekValues(q, 1000);
        for (const item of batch) assert.equal(item.n, expected++);
        await q.ack(batch.length);
        if (expected % 50_000 === 0) {
          gc();
          heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
        }
      }
      assert.equal(expected, N);
      const growthMb = (heapPeak - heapBefore) / 1024 / 1024;
      assert.ok(growthMb < 12, `heap grew by ${growthMb.toFixed(1)} MB for a ${(N * 170) / 1e6} MB backlog`);
    });
  });

  describe('disk errors', function () {
    it('a failed (short) write rejects with the real error, leaves no half record, and the next append works', async function () {
      const dir = tmpDir();
      const { fs: ffs, state } = faultyFs();
      const q = await open({ dir, fs: ffs });
      await q.append(items(0, 3));
      const file = path.join(dir, segments(dir)[0]);
      const size = fs.statSync(file).size;
      state.writeFails = 'ENOSPC';
      state.halfWriteFirst = true;
      await assert.rejects(q.append(items(3, 40, 'xyz')), /ENOSPC/);
      await assert.rejects(q.append(items(3, 1)), (e: NodeJS.ErrnoException) => e.code === 'ENOSPC');
      assert.equal(fs.statSync(file).size, size, 'the partial write was truncated away');
      assert.equal(q.length, 3);
      // peek and ack still work while appends fail
      assert.deepEqual(ns(await peekValues(q, 1)), [0]);
      await q.ack(1);
      state.writeFails = undefined; // space returns
      await q.append(items(3, 2));
      assert.deepEqual(ns(await peekValues(q, 10)), [1, 2, 3, 4]);
      await q.close();
      const again = await open({ dir });
      assert.deepEqual(ns(await peekValues(again, 10)), [1, 2, 3, 4]);
    });

    it('if the failed write cannot be truncated away, the next append truncates it first', async function () {
      const dir = tmpDir();
      const { fs: ffs, state } = faultyFs();
      const q = await open({ dir, fs: ffs });
      await q.append(items(0, 2));
      state.writeFails = 'EIO';
      state.halfWriteFirst = true;
      state.ftruncateFails = 2;
      await assert.rejects(q.append(items(2, 20)), /EIO/); // half of it stays in the file for now
      state.writeFails = undefined;
      await assert.rejects(q.append(items(2, 1)), /EIO/); // truncating still fails: refuse to write after garbage
      await q.append(items(2, 1));
      assert.deepEqual(ns(await peekValues(q, 10)), [0, 1, 2]);
      await q.close();
      const again = await open({ dir });
      assert.deepEqual(ns(await peekValues(again, 10)), [0, 1, 2]);
    });

    it('a new segment that cannot be created (EACCES/EROFS) rejects the append only', async function () {
      const dir = tmpDir();
      const { fs: ffs, state } = faultyFs();
      const q = await open({ dir, fs: ffs, segmentBytes: 165 });
      await q.append(items(0, 6)); // 162 bytes: the next record needs a new segment
      state.openFails = (file, flags) => (file.endsWith('.ffq') && flags === 'ax' ? 'EACCES' : undefined);
      await assert.rejects(q.append(items(6, 1)), (e: NodeJS.ErrnoException) => e.code === 'EACCES');
      state.openFails = () => 'EROFS';
      await assert.rejects(q.append(items(6, 1)), (e: NodeJS.ErrnoException) => e.code === 'EROFS');
      state.openFails = undefined;
      await q.append(items(6, 1));
      assert.deepEqual(ns(await peekValues(q, 10)), range(0, 7));
      assert.equal(segments(dir).length, 2);
    });

    it('a failed ack rejects and acknowledges nothing', async function () {
      const dir = tmpDir();
      const { fs: ffs, state } = faultyFs();
      const q = await open({ dir, fs: ffs });
      await q.append(items(0, 3));
      state.renameFails = 'EROFS';
      await assert.rejects(q.ack(2), (e: NodeJS.ErrnoException) => e.code === 'EROFS');
      assert.equal(q.length, 3);
      assert.deepEqual(ns(await peekValues(q, 10)), [0, 1, 2]);
      state.renameFails = undefined;
      await q.ack(2);
      await q.close();
      const again = await open({ dir });
      assert.deepEqual(ns(await peekValues(again, 10)), [2]);
    });

    it('file-size limit (a child under `ulimit -f`): EFBIG rejects, nothing half-written, acks still work', async function () {
      this.timeout(20000);
      const dir = tmpDir();
      const limitKb = 64;
      const run = spawnSync('bash', ['-c', `ulimit -f ${limitKb}; exec "$0" "$1" fill "$2"`, process.execPath, CHILD, dir], {
        encoding: 'utf8',
        timeout: 15000,
      });
      assert.equal(run.status, 0, run.stderr);
      const out = run.stdout.trim().split('\n');
      const [, code, n, length, bytes] = out[0].split(' ');
      assert.equal(code, 'EFBIG', run.stdout);
      assert.equal(Number(length), Number(n), 'the failed append did not count');
      assert.equal(out[1], `E2 EFBIG ${length} ${bytes}`, 'the next append fails the same way and changes nothing');
      assert.equal(out[2], `K 0 ${Number(n) - 1}`);
      assert.equal(out[3], 'C');
      const file = path.join(dir, segments(dir)[0]);
      const content = fs.readFileSync(file);
      assert.equal(content.length, Number(bytes), 'file holds exactly the committed records');
      assert.ok(content.length <= limitKb * 1024);
      // "space returns": reopen without the limit
      const q = await open({ dir });
      assert.equal(q.length, Number(n) - 1);
      const all = await peekValues(q, q.length);
      assert.deepEqual(ns(all), range(1, Number(n) - 1));
      await q.append([{ n: Number(n) }]);
      assert.equal(q.length, Number(n));
    });

    describe('on a real tiny file system (tmpfs; needs root and mount, else skipped)', function () {
      let mnt: string | undefined;
      before(function () {
        if (process.platform !== 'linux' || process.getuid?.() !== 0) return this.skip();
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ff-dq-tmpfs-'));
        try {
          execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=128k', 'tmpfs', dir], { stdio: 'ignore' });
          mnt = dir;
        } catch {
          fs.rmdirSync(dir);
          this.skip();
        }
      });
      after(function () {
        if (!mnt) return;
        try {
          execFileSync('umount', [mnt], { stdio: 'ignore' });
        } catch {
          execFileSync('umount', ['-l', mnt], { stdio: 'ignore' });
        }
        fs.rmdirSync(mnt);
      });

      it('ENOSPC: rejects with the real error, keeps what is queued, works again once space returns; EROFS on open', async function () {
        const root = mnt as string;
        const dir = path.join(root, 'q');
        const filler = path.join(root, 'filler');
        fs.writeFileSync(filler, Buffer.alloc(48 * 1024));
        const q = await DurableQueue.open({ dir });
        const pad = 'f'.repeat(1000);
        const { n, failure } = await fillUntilFull(q, pad);
        assert.equal(failure?.code, 'ENOSPC');
        assert.equal(q.length, n);
        const file = path.join(dir, segments(dir)[0]);
        assert.equal(fs.statSync(file).size, q.bytes, 'no half record on disk');
        await assert.rejects(q.append([{ n, pad }]), /ENOSPC/);
        await q.ack(2); // a rename: works on a full disk
        fs.unlinkSync(filler);
        await q.append([{ n, pad }]);
        assert.equal(q.length, n - 1);
        await q.close();

        execFileSync('mount', ['-o', 'remount,ro', root]);
        try {
          await assert.rejects(DurableQueue.open({ dir }), (e: NodeJS.ErrnoException) => e.code === 'EROFS');
        } finally {
          execFileSync('mount', ['-o', 'remount,rw', root]);
        }
        const again = await DurableQueue.open({ dir });
        assert.deepEqual(ns(await peekValues(again, 1000)), range(2, n - 1));
        await again.destroy();
      });

      it('ENOSPC once everything is delivered: the delivered segment being written is freed, so appends work again on their own', async function () {
        const dir = path.join(mnt as string, 'q-reclaim');
        const q = await DurableQueue.open({ dir });
        const pad = 'r'.repeat(1000);
        const { n, failure } = await fillUntilFull(q, pad);
        assert.equal(failure?.code, 'ENOSPC');
        const [first] = segments(dir);
        // Records still queued: nothing can be freed, the append fails and nothing queued is touched.
        assert.deepEqual(ns(await peekValues(q, n - 1)), range(0, n - 1));
        await q.ack(n - 1);
        await assert.rejects(q.append([{ n, pad }]), /ENOSPC/);
        assert.deepEqual(segments(dir), [first]);
        assert.deepEqual(ns(await peekValues(q, 10)), [n - 1]);
        // The last one delivered too: the full segment only holds delivered records, and the next append frees it.
        await q.ack(1);
        await q.append([{ n, pad }]);
        await q.append([{ n: n + 1, pad }]);
        assert.equal(q.length, 2);
        assert.equal(segments(dir).length, 1);
        assert.notEqual(segments(dir)[0], first, 'a new segment');
        assert.deepEqual(ns(await peekValues(q, 10)), [n, n + 1]);
        await q.close();
        const again = await DurableQueue.open({ dir });
        assert.deepEqual(ns(await peekValues(again, 10)), [n, n + 1]);
        await again.ack(2);
        assert.equal(again.length, 0);
        await again.destroy();
      });
    });
  });

  describe('fsync, close and destroy', function () {
    it('fsyncs on the interval (not per append) and on close', async function () {
      const { fs: ffs, state } = faultyFs();
      const clock = FakeTimers.install({ toFake: ['setInterval', 'clearInterval'] });
      try {
        const q = await open({ dir: tmpDir(), fs: ffs, syncIntervalMs: 1000 });
        state.fsyncs = [];
        for (let i = 0; i < 20; i++) await q.append(items(i, 1));
        await peekValues(q, 5);
        await q.ack(5);
        assert.equal(state.fsyncs.length, 0, 'no fsync per append or ack');
        clock.tick(999);
        await new Promise((r) => setTimeout(r, 20));
        assert.equal(state.fsyncs.length, 0);
        clock.tick(1);
        await waitFor(() => state.fsyncs.length >= 2, 2000, 'fsync of the segment and the directory');
        const synced = state.fsyncs.length;
        clock.tick(5000); // idle: nothing to sync
        await new Promise((r) => setTimeout(r, 20));
        assert.equal(state.fsyncs.length, synced);
        await q.append(items(20, 1));
        await q.close();
        assert.ok(state.fsyncs.length > synced, 'close fsyncs');
      } finally {
        clock.uninstall();
      }
    });

    it('syncIntervalMs 0 fsyncs before each append and ack resolves, and keeps no sealed fd open', async function () {
      const { fs: ffs, state } = faultyFs();
      const fdsBefore = fdCount();
      const q = await open({ dir: tmpDir(), fs: ffs, syncIntervalMs: 0, segmentBytes: 200 });
      state.fsyncs = [];
      await q.append(items(0, 2));
      assert.equal(state.fsyncs.length, 2, 'the new segment and its directory entry');
      await q.append(items(2, 2));
      assert.equal(state.fsyncs.length, 3);
      await q.ack(1);
      assert.equal(state.fsyncs.length, 4);
      for (let n = 4; n < 40; n++) await q.append(items(n, 1)); // several rollovers
      assert.ok(fdCount() <= fdsBefore + 2, `${fdCount() - fdsBefore} fds open`);
    });

    it('close releases every fd and timer; methods after close reject; close is idempotent', async function () {
      const fdsBefore = fdCount();
      const clock = FakeTimers.install({ toFake: ['setInterval', 'clearInterval'] });
      const dir = tmpDir();
      let q: DurableQueue;
      try {
        q = await DurableQueue.open({ dir, segmentBytes: 100 });
        for (let n = 0; n < 20; n++) await q.append([{ n, pad: 'abcdefghij' }]);
        await peekValues(q, 15);
        await q.ack(3);
        assert.equal(clock.countTimers(), 1, 'the fsync interval');
        await q.close();
        await q.close();
        assert.equal(clock.countTimers(), 0);
      } finally {
        clock.uninstall();
      }
      assert.equal(fdCount(), fdsBefore);
      for (const call of [() => q.append(items(0, 1)), () => q.peek(1), () => q.ack(1)]) {
        await assert.rejects(call(), (e: unknown) => e instanceof QueueClosedError && e.code === 'QUEUE_CLOSED' && /closed/.test(e.message));
      }
      assert.ok(fs.existsSync(dir), 'close keeps the queue');
    });

    it('refuses a second open of the same directory while it is open', async function () {
      const dir = tmpDir();
      const q = await open({ dir });
      await assert.rejects(DurableQueue.open({ dir }), /already open/);
      const closing = q.close();
      const again = await open({ dir }); // waits for the close
      await closing;
      assert.equal(again.length, 0);
    });

    it('destroy closes and removes the directory', async function () {
      const fdsBefore = fdCount();
      const dir = tmpDir();
      const q = await DurableQueue.open({ dir });
      await q.append(items(0, 3));
      await q.destroy();
      assert.equal(fs.existsSync(dir), false);
      assert.equal(fdCount(), fdsBefore);
      await assert.rejects(q.append(items(0, 1)), QueueClosedError);
      const fresh = await open({ dir });
      assert.equal(fresh.length, 0);
    });
  });
});
