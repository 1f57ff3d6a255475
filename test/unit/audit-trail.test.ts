// The door's audit trail: one JSON line per decision, rotated by size and
// day, old days deleted, read back newest first while it is written, and a
// bounded buffer that drops (and counts) the oldest lines when the disk
// refuses them, without ever blocking append.
import assert from 'assert/strict';
import fs from 'fs';
import os from 'os';
import path from 'path';
import type { AuditRecord } from '../../nodes/lib/access/audit-record';
import { auditRecord } from '../../nodes/lib/access/audit-record';
import { AuditTrail, readRecentAudit } from '../../nodes/lib/access/audit-trail';

function record(index: number, time = '2026-03-02T09:00:00.000Z'): AuditRecord {
  return { time, door: 'Main', person: index, camera: 1, event: `e${index}`, confidence: 0.9, decision: 'granted', reason: null, ageMs: 10, image: null };
}

describe('door audit trail', function () {
  let dir: string;
  beforeEach(function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ff-audit-'));
  });
  afterEach(function () {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('builds a record from a decision, with the face image where the event has one', function () {
    const line = auditRecord(
      'Main',
      { kind: 'denied', reason: 'stale', eventId: '7', cameraId: 2, personId: 12, confidence: 0.8, ageMs: 61_234.4 },
      { id: '7', camera: 2, face: 'http://ff/uploads/f.jpg' },
      Date.parse('2026-03-02T09:00:00Z'),
    );
    assert.deepEqual(line, {
      time: '2026-03-02T09:00:00.000Z',
      door: 'Main',
      person: 12,
      camera: 2,
      event: '7',
      confidence: 0.8,
      decision: 'denied',
      reason: 'stale',
      ageMs: 61_234,
      image: 'http://ff/uploads/f.jpg',
    });
    const multi = auditRecord(
      'Main',
      { kind: 'cooldown', remainingMs: 1, eventId: '8', cameraId: 2, personId: 3, confidence: undefined, ageMs: undefined },
      { id: '8', camera: 2, thumbnail: 'https://ff/t.jpg' },
      0,
    );
    assert.equal(multi.image, 'https://ff/t.jpg');
    assert.equal(multi.reason, 'cooldown');
    assert.equal(multi.ageMs, null);
  });

  it('appends one line per decision and reads the last ones back newest first', async function () {
    const trail = new AuditTrail({ dir, maxBytes: 1_000_000, keepDays: 7, now: () => Date.parse('2026-03-02T09:00:00Z') });
    for (let index = 0; index < 25; index++) trail.append(record(index));
    await trail.close();
    const lines = fs.readFileSync(path.join(dir, '2026-03-02.jsonl'), 'utf8').split('\n');
    assert.equal(lines.length, 26);
    assert.equal(lines[25], '');
    assert.deepEqual(JSON.parse(lines[3]), record(3));
    const recent = await readRecentAudit(dir, 5);
    assert.deepEqual(
      recent.map((r) => r.person),
      [24, 23, 22, 21, 20],
    );
    assert.equal(trail.written, 25);
  });

  it('starts a numbered file at maxBytes and a new one each day, and deletes days past keepDays', async function () {
    let now = Date.parse('2026-03-01T23:59:00Z');
    fs.writeFileSync(path.join(dir, '2026-02-20.jsonl'), `${JSON.stringify(record(-1))}\n`);
    fs.writeFileSync(path.join(dir, '2026-02-27.jsonl'), `${JSON.stringify(record(-2))}\n`);
    const lineBytes = JSON.stringify(record(10)).length + 1;
    const trail = new AuditTrail({ dir, maxBytes: lineBytes * 2, keepDays: 3, now: () => now });
    for (let index = 10; index < 15; index++) {
      trail.append(record(index));
      await trail.flush();
    }
    now = Date.parse('2026-03-02T00:00:01Z');
    trail.append(record(20));
    await trail.close();
    // 02-20 went when the trail opened on 03-01 (keeping 02-27..03-01), 02-27 when the day became 03-02.
    assert.deepEqual(fs.readdirSync(dir).sort(), ['2026-03-01.1.jsonl', '2026-03-01.2.jsonl', '2026-03-01.jsonl', '2026-03-02.jsonl']);
    const recent = await readRecentAudit(dir, 100);
    assert.deepEqual(
      recent.map((r) => r.person),
      [20, 14, 13, 12, 11, 10],
    );
  });

  it('keeps its file open while lines come, closes it when idle (a file deleted by hand is then made anew) and on close', async function () {
    const trail = new AuditTrail({ dir, maxBytes: 1_000_000, keepDays: 7, idleCloseMs: 50, now: () => Date.parse('2026-03-02T09:00:00Z') });
    const file = path.join(dir, '2026-03-02.jsonl');
    const openOnFile = () =>
      fs.existsSync('/proc/self/fd')
        ? fs.readdirSync('/proc/self/fd').filter((fd) => {
            try {
              return fs.readlinkSync(`/proc/self/fd/${fd}`) === file;
            } catch {
              return false;
            }
          }).length
        : -1;
    for (let index = 0; index < 3; index++) {
      trail.append(record(index));
      await trail.flush();
    }
    if (openOnFile() >= 0) assert.equal(openOnFile(), 1, 'one descriptor on the file while it is written');
    await new Promise((resolve) => setTimeout(resolve, 200));
    if (openOnFile() >= 0) assert.equal(openOnFile(), 0, 'the file is still open after the idle time');
    fs.rmSync(file);
    trail.append(record(3));
    await trail.close();
    if (openOnFile() >= 0) assert.equal(openOnFile(), 0, 'the file is still open after close');
    assert.deepEqual(
      (await readRecentAudit(dir, 10)).map((r) => r.person),
      [3],
    );
  });

  it('writes in a quiet moment after the lines, or after maxWaitMs when they keep coming, never in append', async function () {
    const trail = new AuditTrail({ dir, maxBytes: 1_000_000, keepDays: 7, quietMs: 30, maxWaitMs: 150, now: () => Date.parse('2026-03-02T09:00:00Z') });
    const file = path.join(dir, '2026-03-02.jsonl');
    const lines = () => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').length - 1 : 0);
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    trail.append(record(0));
    trail.append(record(1));
    assert.equal(lines(), 0);
    assert.equal(trail.pending, 2);
    await sleep(150);
    assert.equal(lines(), 2, 'not written once the lines stopped');
    // A line every 10 ms: never 30 ms of quiet, so maxWaitMs decides.
    let sent = 2;
    const started = Date.now();
    while (Date.now() - started < 400) {
      trail.append(record(sent++));
      await sleep(10);
    }
    assert.ok(lines() > 2, 'nothing written while lines kept coming');
    await trail.close();
    assert.equal(lines(), sent);
  });

  it('skips a torn last line (a crash mid-write) and reads across files', async function () {
    fs.writeFileSync(path.join(dir, '2026-03-01.jsonl'), `${JSON.stringify(record(1))}\n`);
    fs.writeFileSync(path.join(dir, '2026-03-02.jsonl'), `${JSON.stringify(record(2))}\n${JSON.stringify(record(3)).slice(0, 20)}`);
    assert.deepEqual(
      (await readRecentAudit(dir, 10)).map((r) => r.person),
      [2, 1],
    );
    assert.deepEqual(await readRecentAudit(path.join(dir, 'none'), 10), []);
  });

  it('when the disk refuses the lines: append never throws or waits, the buffer stays bounded, the oldest are counted as dropped, and writing resumes', async function () {
    const blocked = path.join(dir, 'blocked');
    fs.writeFileSync(blocked, 'a file where the directory should be');
    const problems: Array<string | null> = [];
    const lineBytes = JSON.stringify(record(0)).length + 1;
    const trail = new AuditTrail({
      dir: blocked,
      maxBytes: 1_000_000,
      keepDays: 7,
      bufferBytes: lineBytes * 4,
      retryMs: 20,
      onProblem: (error) => problems.push(error ? error.message : null),
    });
    for (let index = 0; index < 10; index++) trail.append(record(index));
    await trail.flush();
    assert.equal(problems.length, 1);
    assert.ok(trail.pending <= 4);
    assert.equal(trail.dropped + trail.pending, 10);
    fs.rmSync(blocked);
    const deadline = Date.now() + 3000;
    while (trail.written === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    await trail.close();
    assert.equal(trail.written, 10 - trail.dropped);
    assert.deepEqual(problems[problems.length - 1], null);
    assert.deepEqual(
      (await readRecentAudit(blocked, 10)).map((r) => r.person),
      [9, 8, 7, 6].slice(0, trail.written),
    );
  });
});
