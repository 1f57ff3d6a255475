// DurableQueue by concern: the record format (CRC32C, frames), damaged bytes
// anywhere in a segment (one report per damaged range, never a damaged or
// repeated record delivered), the migration of queues written by the format
// before framed records (written here by that very code, kept in
// test/support/legacy-durable-queue.ts), and a model-based suite with
// byte-level corruption at random places.
import assert from 'assert/strict';
import fs from 'fs';
import os from 'os';
import path from 'path';
import fc from 'fast-check';
import { CorruptRecord, DurableQueue } from '../../nodes/lib/delivery/queue/durable-queue';
import { BAD, checkFrame, crc32c, frameSeq, HEADER_BYTES, writeRecord } from '../../nodes/lib/delivery/queue/record-format';
import { DurableQueue as LegacyQueue } from '../support/legacy-durable-queue';

interface Item {
  n: number;
  pad?: string;
}

let roots: string[] = [];
function tmpDir(): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ff-dqf-'));
  roots.push(root);
  return path.join(root, 'q');
}

const segments = (dir: string): string[] =>
  fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.ffq'))
    .sort();
const items = (from: number, count: number, pad = ''): Item[] => Array.from({ length: count }, (_, i) => (pad ? { n: from + i, pad } : { n: from + i }));
const range = (from: number, count: number): number[] => Array.from({ length: count }, (_, i) => from + i);

function frame(seq: number, item: unknown): Buffer {
  const json = JSON.stringify(item);
  const buffer = Buffer.alloc(HEADER_BYTES + Buffer.byteLength(json));
  writeRecord(buffer, 0, json, seq);
  return buffer;
}

/**
 * The records of a segment file: [start, end) byte ranges and the item's n.
 * `lenient`: skips bytes that are no valid frame and frames whose sequence
 * number is not above the previous one (a file damaged before), else asserts the file is intact.
 */
function recordsOf(file: string, lenient = false): { start: number; end: number; n: number; seq: number }[] {
  const data = fs.readFileSync(file);
  const out: { start: number; end: number; n: number; seq: number }[] = [];
  let lastSeq = -1;
  for (let at = 0; at < data.length;) {
    const length = checkFrame(data, at, data.length, data.length - at);
    if (length < 0 || frameSeq(data, at) <= lastSeq) {
      assert.ok(lenient, `an intact file (record at ${at})`);
      at++;
      continue;
    }
    const json = data.toString('utf8', at + HEADER_BYTES, at + HEADER_BYTES + length);
    lastSeq = frameSeq(data, at);
    out.push({ start: at, end: at + HEADER_BYTES + length, n: (JSON.parse(json) as Item).n, seq: lastSeq });
    at += HEADER_BYTES + length;
  }
  return out;
}

function recordsOfBuffer(data: Buffer): { start: number; end: number }[] {
  const out: { start: number; end: number }[] = [];
  for (let at = 0; at < data.length;) {
    const length = checkFrame(data, at, data.length, data.length - at);
    out.push({ start: at, end: at + HEADER_BYTES + length });
    at += HEADER_BYTES + length;
  }
  return out;
}

/** Peeks and acks everything; returns the items in order. */
async function drain(q: DurableQueue, batch = 7): Promise<Item[]> {
  const out: Item[] = [];
  for (let guard = 0; guard < 100000; guard++) {
    const got = (await q.peek(batch)).map((b) => JSON.parse(b.toString('utf8')) as Item);
    if (got.length === 0) break;
    out.push(...got);
    await q.ack(got.length);
  }
  return out;
}

describe('DurableQueue record format', function () {
  afterEach(function () {
    for (const root of roots) fs.rmSync(root, { recursive: true, force: true });
    roots = [];
  });

  describe('CRC32C', function () {
    it('matches the standard check values (RFC 3720 B.4, "123456789")', function () {
      assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
      assert.equal(crc32c(Buffer.alloc(32, 0)), 0x8a9136aa);
      assert.equal(crc32c(Buffer.alloc(32, 0xff)), 0x62a8ab43);
      assert.equal(crc32c(Buffer.from(range(0, 32))), 0x46dd794e);
      assert.equal(crc32c(Buffer.from(range(0, 32).reverse())), 0x113fdb5c);
      assert.equal(crc32c(Buffer.alloc(0)), 0);
    });

    it('is the same computed in pieces at any split (slicing-by-8 and the byte loop agree)', function () {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(), (bytes, cut) => {
          const split = bytes.length ? cut % (bytes.length + 1) : 0;
          assert.equal(crc32c(bytes, split, bytes.length, crc32c(bytes, 0, split)), crc32c(bytes));
        }),
        { numRuns: 500 },
      );
    });
  });

  describe('frames', function () {
    it('a frame checks; any single changed byte (header or payload) makes it fail', function () {
      const good = frame(123456789012, { n: 1, s: 'é' });
      assert.equal(checkFrame(good, 0, good.length, good.length), good.length - HEADER_BYTES);
      assert.equal(frameSeq(good, 0), 123456789012);
      for (let i = 0; i < good.length; i++) {
        const bad = Buffer.from(good);
        bad[i] ^= 0x20;
        assert.ok(checkFrame(bad, 0, bad.length, bad.length) < 0, `byte ${i}`);
      }
      assert.equal(checkFrame(Buffer.from('0\n9\n{"n":1}\n'), 0, 12, 12), BAD, 'JSON lines are no frames');
    });
  });

  describe('damaged bytes', function () {
    async function queueOf(count: number, options: { segmentBytes?: number; pad?: string } = {}): Promise<string> {
      const dir = tmpDir();
      const q = await DurableQueue.open({ dir, segmentBytes: options.segmentBytes });
      for (let i = 0; i < count; i += 10) await q.append(items(i, Math.min(10, count - i), options.pad ?? 'p'.repeat(100)));
      await q.close();
      return dir;
    }

    async function reopenAndDrain(dir: string): Promise<{ got: number[]; corrupt: CorruptRecord[] }> {
      const corrupt: CorruptRecord[] = [];
      const q = await DurableQueue.open({ dir, onCorrupt: (r) => corrupt.push(r) });
      const got = (await drain(q)).map((i) => i.n);
      assert.equal(q.length, 0);
      assert.equal(q.bytes, 0);
      await q.close();
      return { got, corrupt };
    }

    const cases: { name: string; corrupt: (data: Buffer, recs: ReturnType<typeof recordsOf>) => { data: Buffer; lost: number[] } }[] = [
      {
        name: 'a \\n inside an undelivered record',
        corrupt: (d, r) => ({ data: Buffer.concat([d.subarray(0, r[5].start + 40), Buffer.from('\n'), d.subarray(r[5].start + 40)]), lost: [r[5].n] }),
      },
      {
        name: '100 KB of Z (no newline) in the middle of a record',
        corrupt: (d, r) => ({
          data: Buffer.concat([d.subarray(0, r[20].start + 30), Buffer.alloc(100 * 1024, 'Z'), d.subarray(r[20].start + 30)]),
          lost: [r[20].n],
        }),
      },
      {
        name: 'a digit changed inside a record (still valid JSON)',
        corrupt: (d, r) => {
          const out = Buffer.from(d);
          const at = out.indexOf('"n":12,', r[12].start) + 5;
          out[at] = out[at] === 0x39 ? 0x38 : out[at] + 1;
          return { data: out, lost: [r[12].n] };
        },
      },
      {
        name: 'garbage lines that parse as JSON (0, 9) between records',
        corrupt: (d, r) => ({ data: Buffer.concat([d.subarray(0, r[7].start), Buffer.from('0\n9\n'), d.subarray(r[7].start)]), lost: [] }),
      },
      {
        name: 'a record copied (a second valid frame of an earlier sequence number)',
        corrupt: (d, r) => ({ data: Buffer.concat([d.subarray(0, r[9].end), d.subarray(r[3].start, r[3].end), d.subarray(r[9].end)]), lost: [] }),
      },
      {
        name: 'a header length field changed to a huge value',
        corrupt: (d, r) => {
          const out = Buffer.from(d);
          out.writeUInt32LE(0x7fffffff, r[4].start + 8);
          return { data: out, lost: [r[4].n] };
        },
      },
      {
        name: 'a range of zeros over three records',
        corrupt: (d, r) => {
          const out = Buffer.from(d);
          out.fill(0, r[10].start + 10, r[12].start + 10);
          return { data: out, lost: [r[10].n, r[11].n, r[12].n] };
        },
      },
    ];

    for (const c of cases) {
      it(`${c.name}: only the damaged records are skipped, in one report`, async function () {
        // sealed segment (the first of two) and the segment being written: both paths
        for (const target of ['sealed', 'active'] as const) {
          const dir = await queueOf(60, { segmentBytes: target === 'sealed' ? 40 * 150 : 8 * 1024 * 1024 });
          const files = segments(dir);
          assert.equal(files.length, target === 'sealed' ? 2 : 1);
          const file = path.join(dir, files[0]);
          const recs = recordsOf(file);
          const { data, lost } = c.corrupt(fs.readFileSync(file), recs);
          fs.writeFileSync(file, data);
          const { got, corrupt } = await reopenAndDrain(dir);
          assert.deepEqual(
            got,
            range(0, 60).filter((n) => !lost.includes(n)),
            `${target}: every intact record once, in order, no damaged one`,
          );
          assert.equal(corrupt.length, 1, `${target}: one report: ${JSON.stringify(corrupt)}`);
          assert.equal(corrupt[0].records ?? 0, lost.length, `${target}: the report says what it cost`);
        }
      });
    }

    it('a whole segment overwritten with random bytes: one report, the other segments intact', async function () {
      const dir = await queueOf(200, { segmentBytes: 50 * 150 });
      const files = segments(dir);
      assert.ok(files.length >= 3);
      const file = path.join(dir, files[1]);
      const lost = recordsOf(file).map((r) => r.n);
      const random = Buffer.alloc(fs.statSync(file).size);
      for (let i = 0; i < random.length; i++) random[i] = Math.floor(Math.random() * 256);
      fs.writeFileSync(file, random);
      const { got, corrupt } = await reopenAndDrain(dir);
      assert.deepEqual(
        got,
        range(0, 200).filter((n) => !lost.includes(n)),
      );
      assert.equal(corrupt.length, 1);
      assert.equal(corrupt[0].records, lost.length);
    });

    it('damage in the acknowledged part of the head segment is not reported and changes nothing', async function () {
      const dir = tmpDir();
      const q = await DurableQueue.open({ dir });
      await q.append(items(0, 20, 'x'.repeat(50)));
      await q.ack(10);
      await q.close();
      const file = path.join(dir, segments(dir)[0]);
      const recs = recordsOf(file);
      const data = fs.readFileSync(file);
      data.fill(0x5a, recs[2].start, recs[5].end);
      fs.writeFileSync(file, data);
      const { got, corrupt } = await reopenAndDrain(dir);
      assert.deepEqual(got, range(10, 10));
      assert.deepEqual(corrupt, []);
    });
  });

  describe('migration of the format before framed records (written by that code)', function () {
    async function legacy(dir: string, build: (q: LegacyQueue) => Promise<void>, segmentBytes?: number): Promise<void> {
      const q = await LegacyQueue.open({ dir, segmentBytes });
      await build(q);
      await q.close();
    }
    const legacySegments = (dir: string): string[] =>
      fs
        .readdirSync(dir)
        .filter((f) => f.endsWith('.ndjson'))
        .sort();

    it('keeps every unacknowledged record, in order, drops the acknowledged ones and removes the old files', async function () {
      const dir = tmpDir();
      await legacy(
        dir,
        async (q) => {
          for (let i = 0; i < 50; i += 5) await q.append(items(i, 5, 'é'.repeat(20)));
          await q.peek(17);
          await q.ack(17);
        },
        300,
      );
      assert.ok(legacySegments(dir).length >= 3, 'several old segments');
      const corrupt: CorruptRecord[] = [];
      const q = await DurableQueue.open({ dir, segmentBytes: 300, onCorrupt: (r) => corrupt.push(r) });
      assert.deepEqual(legacySegments(dir), []);
      assert.ok(segments(dir).length >= 1);
      assert.equal(q.length, 33);
      const peeked = (await q.peek(100)).map(String);
      assert.deepEqual(
        peeked,
        items(17, 33, 'é'.repeat(20)).map((i) => JSON.stringify(i)),
        'the same JSON, byte for byte',
      );
      await q.append(items(50, 2));
      await q.ack(30);
      await q.close();
      const again = await DurableQueue.open({ dir, segmentBytes: 300 });
      assert.deepEqual(
        (await drain(again)).map((i) => i.n),
        range(47, 5),
      );
      await again.close();
      assert.deepEqual(corrupt, []);
    });

    it('the old damage rules still apply once: unreadable and torn lines are skipped with one report per range; invalid UTF-8 becomes U+FFFD', async function () {
      const dir = tmpDir();
      await legacy(dir, async (q) => q.append(items(0, 8)));
      const [name] = legacySegments(dir);
      const file = path.join(dir, name);
      const text = fs.readFileSync(file, 'utf8');
      const lines = text.split('\n');
      lines[2] = '{"n":2!';
      lines[3] = '{"n":3!';
      lines[5] = '{"n":5,"s":"' + '\uFFFD' + '"}';
      const bytes = Buffer.from(lines.join('\n') + '{"n":8,"pad":"tor', 'utf8');
      const at = bytes.indexOf('\uFFFD');
      fs.writeFileSync(file, Buffer.concat([bytes.subarray(0, at), Buffer.from([0xff, 0xfe]), bytes.subarray(at + 3)]));
      const corrupt: CorruptRecord[] = [];
      const q = await DurableQueue.open({ dir, onCorrupt: (r) => corrupt.push(r) });
      const records = (await q.peek(100)).map(String);
      assert.deepEqual(records, ['{"n":0}', '{"n":1}', '{"n":4}', '{"n":5,"s":"\uFFFD\uFFFD"}', '{"n":6}', '{"n":7}']);
      assert.equal(corrupt.length, 2, JSON.stringify(corrupt));
      assert.equal(corrupt[0].records, 2);
      assert.match(corrupt[1].reason, /torn/);
      await q.close();
    });

    it('a migration interrupted before its commit is redone; one interrupted after it is finished; never a duplicate', async function () {
      for (const crash of ['before-commit', 'after-commit'] as const) {
        const dir = tmpDir();
        await legacy(
          dir,
          async (q) => {
            for (let n = 0; n < 6; n++) await q.append(items(n, 1));
          },
          30,
        );
        const olds = legacySegments(dir);
        assert.ok(olds.length >= 2);
        const corrupt: CorruptRecord[] = [];
        if (crash === 'before-commit') {
          // half a new segment and a stray one: both are leftovers of the interrupted attempt
          fs.writeFileSync(path.join(dir, '00000000000000000000.ffq.tmp'), 'half');
          fs.writeFileSync(path.join(dir, '00000000000000000003.ffq'), frame(3, { n: 99 }));
        } else {
          // committed: every new segment written and fsync'ed, one already renamed, the old files still there
          const all = Buffer.concat(items(0, 6).map((item, i) => frame(i, item)));
          const cut = recordsOfBuffer(all)[3].start;
          fs.writeFileSync(path.join(dir, '00000000000000000000.ffq'), all.subarray(0, cut));
          fs.writeFileSync(path.join(dir, '00000000000000000003.ffq.tmp'), all.subarray(cut));
          fs.writeFileSync(path.join(dir, 'migration-done'), '');
        }
        const q = await DurableQueue.open({ dir, onCorrupt: (r) => corrupt.push(r) });
        assert.deepEqual(
          (await drain(q)).map((i) => i.n),
          range(0, 6),
          crash,
        );
        assert.deepEqual(corrupt, [], crash);
        await q.close();
        assert.deepEqual(
          fs.readdirSync(dir).filter((f) => !f.endsWith('.ffq') && !f.startsWith('acked-')),
          [],
          crash,
        );
      }
    });
  });

  describe('model with byte-level corruption at random places', function () {
    type Corruption =
      | { kind: 'flip'; at: number; mask: number }
      | { kind: 'insert'; at: number; bytes: number[] }
      | { kind: 'delete'; at: number; length: number }
      | { kind: 'duplicate'; from: number; to: number }
      | { kind: 'truncate'; at: number };
    type Op =
      { op: 'append'; count: number; pad: number } | { op: 'deliver'; count: number } | { op: 'corrupt'; file: number; c: Corruption } | { op: 'reopen' };

    const corruptionArb: fc.Arbitrary<Corruption> = fc.oneof(
      fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), mask: fc.integer({ min: 1, max: 255 }) }),
      fc.record({
        kind: fc.constant('insert' as const),
        at: fc.nat(),
        bytes: fc.oneof(
          fc.constant<number[]>([10]),
          fc.constant<number[]>(Array<number>(300).fill(0x5a)),
          fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 40 }),
        ),
      }),
      fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 200 }) }),
      fc.record({ kind: fc.constant('duplicate' as const), from: fc.nat(), to: fc.nat() }),
      fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
    );
    const opArb: fc.Arbitrary<Op> = fc.oneof(
      { weight: 4, arbitrary: fc.record({ op: fc.constant('append' as const), count: fc.integer({ min: 1, max: 8 }), pad: fc.integer({ min: 0, max: 80 }) }) },
      { weight: 3, arbitrary: fc.record({ op: fc.constant('deliver' as const), count: fc.integer({ min: 1, max: 10 }) }) },
      { weight: 2, arbitrary: fc.record({ op: fc.constant('corrupt' as const), file: fc.nat(), c: corruptionArb }) },
      { weight: 1, arbitrary: fc.record({ op: fc.constant('reopen' as const) }) },
    );

    it('every intact record is delivered exactly once and in order, no damaged one ever, at most one report per damaged range', async function () {
      this.timeout(60000);
      await fc.assert(
        fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 30 }), fc.integer({ min: 100, max: 700 }), async (ops, segmentBytes) => {
          const dir = tmpDir();
          const reports: CorruptRecord[] = [];
          const options = { dir, segmentBytes, readAheadBytes: 1024, onCorrupt: (r: CorruptRecord) => reports.push(r) };
          let q = await DurableQueue.open(options);
          const appended = new Map<number, string>(); // n → its JSON
          const delivered: number[] = [];
          const damaged = new Set<number>();
          let corruptions = 0;
          let next = 0;
          try {
            for (const op of ops) {
              if (op.op === 'append') {
                const batch = items(next, op.count, 'p'.repeat(op.pad));
                next += op.count;
                await q.append(batch);
                for (const item of batch) appended.set(item.n, JSON.stringify(item));
              } else if (op.op === 'deliver') {
                const got = await q.peek(op.count);
                for (const json of got) {
                  const n = (JSON.parse(json.toString('utf8')) as Item).n;
                  assert.equal(json.toString('utf8'), appended.get(n), 'a delivered record is exactly what was appended');
                  delivered.push(n);
                }
                await q.ack(got.length);
              } else {
                await q.close();
                if (op.op === 'corrupt') {
                  const files = segments(dir);
                  if (files.length > 0) {
                    const file = path.join(dir, files[op.file % files.length]);
                    const data = fs.readFileSync(file);
                    if (data.length > 0) {
                      const recs = recordsOf(file, true);
                      const out = applyCorruption(data, op.c, recs);
                      fs.writeFileSync(file, out);
                      // intact: its frame is still in the file, byte for byte, in sequence order
                      const before = new Map(recs.map((r) => [r.n, data.subarray(r.start, r.end)]));
                      const intact = new Set(
                        recordsOf(file, true)
                          .filter((r) => before.get(r.n)?.equals(out.subarray(r.start, r.end)))
                          .map((r) => r.n),
                      );
                      // a record delivered before its bytes were damaged was delivered intact
                      for (const r of recs) if (!intact.has(r.n) && !delivered.includes(r.n)) damaged.add(r.n);
                      corruptions++;
                    }
                  }
                }
                reports.length = 0; // a range still on disk is reported again after a reopen: once per open
                q = await DurableQueue.open(options);
              }
              assert.ok(reports.length <= corruptions, `${reports.length} reports in one open for ${corruptions} corruptions: ${JSON.stringify(reports)}`);
            }
            for (const item of await drain(q)) {
              assert.equal(JSON.stringify(item), appended.get(item.n));
              delivered.push(item.n);
            }
            assert.equal(q.length, 0);
            // exactly once, in order
            for (let i = 1; i < delivered.length; i++) assert.ok(delivered[i] > delivered[i - 1], `order/repeat at ${i}: ${delivered.join(',')}`);
            const got = new Set(delivered);
            for (const n of appended.keys()) {
              if (!damaged.has(n)) assert.ok(got.has(n), `intact record ${n} delivered (damaged: ${[...damaged].join(',')})`);
            }
            for (const n of damaged) assert.ok(!got.has(n), `damaged record ${n} not delivered`);
            assert.ok(reports.every((r) => r.kind === 'damaged'));
          } finally {
            await q.close();
          }
        }),
        { numRuns: 150 },
      );
    });

    function applyCorruption(data: Buffer, c: Corruption, recs: ReturnType<typeof recordsOf>): Buffer {
      switch (c.kind) {
        case 'flip': {
          const at = c.at % data.length;
          const out = Buffer.from(data);
          out[at] ^= c.mask;
          return out;
        }
        case 'insert': {
          const at = c.at % (data.length + 1);
          return Buffer.concat([data.subarray(0, at), Buffer.from(c.bytes), data.subarray(at)]);
        }
        case 'delete': {
          const at = c.at % data.length;
          const end = Math.min(data.length, at + c.length);
          return Buffer.concat([data.subarray(0, at), data.subarray(end)]);
        }
        case 'duplicate': {
          if (recs.length === 0) return data;
          const r = recs[c.from % recs.length];
          const after = recs.filter((x) => x.start >= r.end);
          const at = after.length ? after[c.to % after.length].end : r.end;
          return Buffer.concat([data.subarray(0, at), data.subarray(r.start, r.end), data.subarray(at)]);
        }
        case 'truncate': {
          const at = c.at % data.length;
          return data.subarray(0, at);
        }
      }
    }
  });
});
