import assert from 'assert/strict';
import { createHash } from 'crypto';
import fs from 'fs';
import os from 'os';
import path from 'path';
import fc from 'fast-check';
import { adoptLegacyFile, childPath, nodeFileName } from '../../nodes/lib/common/node-files';
import { DurableQueue } from '../../nodes/lib/delivery/queue/durable-queue';
import { adoptLegacyQueueDir, legacyQueueDirName, queueDirFor, queuesRoot } from '../../nodes/lib/delivery/queue/queue-dir';

const SAFE_NAME = /^[A-Za-z0-9_-]{0,32}-[0-9a-f]{16}$/;

describe('node-files', function () {
  describe('nodeFileName', function () {
    it('is a readable prefix and the first 16 hex digits of sha256(id)', function () {
      const hash = createHash('sha256').update('a3f0c0de00000308').digest('hex').slice(0, 16);
      assert.equal(nodeFileName('a3f0c0de00000308'), `a3f0c0de00000308-${hash}`);
      assert.equal(nodeFileName('hook'), `hook-${createHash('sha256').update('hook').digest('hex').slice(0, 16)}`);
    });

    it('never yields ".", "..", a separator, NUL or an empty name, whatever the id', function () {
      const ids = [
        '..',
        '.',
        '',
        '/',
        '\\',
        '../..',
        'a/b',
        'a\\b',
        'a\0b',
        '\0',
        'C:',
        'con',
        'ж',
        '😀',
        ' ',
        '.hidden',
        'x'.repeat(10000),
        '../'.repeat(100),
      ];
      for (const id of ids) {
        const name = nodeFileName(id);
        assert.match(name, SAFE_NAME, JSON.stringify(id));
        assert.notEqual(name, '.');
        assert.notEqual(name, '..');
        assert.ok(!name.includes('/') && !name.includes('\\') && !name.includes('\0'), name);
        assert.ok(name.length <= 32 + 1 + 16);
      }
    });

    it('is injective on ids that the old rule mapped together (a/b, a_b, a\\b, a b, aé, ..)', function () {
      const ids = ['a/b', 'a_b', 'a\\b', 'a b', 'ab', 'aéb', '..', '.', '__', '_', 'A/B', 'x'.repeat(40), 'x'.repeat(40) + 'y'];
      const names = ids.map(nodeFileName);
      assert.equal(new Set(names).size, ids.length, names.join(' '));
      assert.deepEqual(new Set(ids.map(legacyQueueDirName)).size < ids.length, true, 'the old rule did collide');
    });

    it('is deterministic and safe for any string (property)', function () {
      fc.assert(
        fc.property(fc.string({ unit: 'binary', maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 200 }), (a, b) => {
          assert.equal(nodeFileName(a), nodeFileName(a));
          assert.match(nodeFileName(a), SAFE_NAME);
          if (a !== b) assert.notEqual(nodeFileName(a), nodeFileName(b));
        }),
        { numRuns: 2000 },
      );
    });

    it('refuses a non-string id', function () {
      assert.throws(() => nodeFileName(undefined as unknown as string), TypeError);
    });
  });

  describe('childPath', function () {
    const parent = path.join(os.tmpdir(), 'ff-parent');

    it('resolves a name strictly inside the parent', function () {
      assert.equal(childPath(parent, 'x'), path.join(parent, 'x'));
      assert.equal(childPath(parent + '/', 'x'), path.join(parent, 'x'));
      assert.equal(childPath(parent, nodeFileName('..')), path.join(parent, nodeFileName('..')));
    });

    it('throws for the parent itself, anything outside it, absolute paths and NUL', function () {
      for (const name of ['', '.', '..', '../x', '../../etc', 'a/../..', '/etc/passwd', parent, 'a\0b', './']) {
        assert.throws(() => childPath(parent, name), /not strictly inside/, JSON.stringify(name));
      }
      assert.throws(() => childPath(parent, '../ff-parent-sibling'), /not strictly inside/);
    });
  });

  describe('queue directories', function () {
    let userDir: string;
    const opened: DurableQueue[] = [];
    beforeEach(function () {
      userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ff-nf-'));
    });
    afterEach(async function () {
      for (const q of opened.splice(0)) await q.close();
      fs.rmSync(userDir, { recursive: true, force: true });
    });

    it('queueDirFor is always a direct child of <userDir>/findface-queues', function () {
      for (const id of ['..', '.', 'a/b', '/', '\\', '\0', 'x'.repeat(5000)]) {
        const dir = queueDirFor(userDir, id);
        assert.equal(path.dirname(dir), queuesRoot(userDir), id);
      }
      assert.notEqual(queueDirFor(userDir, 'a/b'), queueDirFor(userDir, 'a_b'));
    });

    async function legacyQueue(name: string, events: number): Promise<string> {
      const dir = path.join(queuesRoot(userDir), name);
      fs.mkdirSync(dir, { recursive: true });
      const lines = Array.from({ length: events }, (_, n) => JSON.stringify({ n }) + '\n').join('');
      fs.writeFileSync(path.join(dir, '00000000000000000000.ndjson'), lines);
      fs.writeFileSync(path.join(dir, 'acked-00000000000000000000'), '');
      return dir;
    }

    it('moves a queue of the old name to the new one, once, and its events survive', async function () {
      const old = await legacyQueue('hook', 3);
      const result = await adoptLegacyQueueDir(userDir, 'hook');
      assert.deepEqual(result, { moved: true, from: old, to: queueDirFor(userDir, 'hook') });
      assert.ok(!fs.existsSync(old));
      const q = await DurableQueue.open({ dir: queueDirFor(userDir, 'hook') });
      opened.push(q);
      assert.deepEqual((await q.peek(10)).map(String), ['{"n":0}', '{"n":1}', '{"n":2}']);
      assert.deepEqual(await adoptLegacyQueueDir(userDir, 'hook'), { moved: false, reason: 'none' });
    });

    it('leaves the old directory when the new one exists, when a queue has it open, or when it is not a real directory', async function () {
      const old = await legacyQueue('hook', 1);
      fs.mkdirSync(queueDirFor(userDir, 'hook'), { recursive: true });
      assert.deepEqual(await adoptLegacyQueueDir(userDir, 'hook'), { moved: false, reason: 'new-exists' });
      assert.ok(fs.existsSync(old));
      fs.rmSync(queueDirFor(userDir, 'hook'), { recursive: true });

      const q = await DurableQueue.open({ dir: old });
      opened.push(q);
      assert.deepEqual(await adoptLegacyQueueDir(userDir, 'hook'), { moved: false, reason: 'in-use' });
      await q.close();

      const target = fs.mkdtempSync(path.join(os.tmpdir(), 'ff-nf-target-'));
      try {
        fs.symlinkSync(target, path.join(queuesRoot(userDir), 'linked'));
        assert.deepEqual(await adoptLegacyQueueDir(userDir, 'linked'), { moved: false, reason: 'not-a-directory' });
      } finally {
        fs.rmSync(target, { recursive: true, force: true });
      }
    });

    it('never moves for ids whose old name was the user directory or findface-queues itself', async function () {
      fs.mkdirSync(queuesRoot(userDir), { recursive: true });
      fs.writeFileSync(path.join(userDir, 'settings.js'), '');
      assert.deepEqual(await adoptLegacyQueueDir(userDir, '..'), { moved: false, reason: 'unsafe-name' });
      assert.deepEqual(await adoptLegacyQueueDir(userDir, '.'), { moved: false, reason: 'unsafe-name' });
      assert.ok(fs.existsSync(path.join(userDir, 'settings.js')));
      assert.ok(fs.existsSync(queuesRoot(userDir)));
    });

    it('a/b and a_b shared the old directory: the first to open takes it, the other starts empty', async function () {
      await legacyQueue('a_b', 2);
      const first = await adoptLegacyQueueDir(userDir, 'a_b');
      const second = await adoptLegacyQueueDir(userDir, 'a/b');
      assert.equal(first.moved, true);
      assert.deepEqual(second, { moved: false, reason: 'none' });
    });

    it('destroy refuses a directory not strictly inside deleteWithin, and deletes nothing then', async function () {
      for (const [dir, within] of [
        [userDir, queuesRoot(userDir)],
        [queuesRoot(userDir), queuesRoot(userDir)],
      ]) {
        const q = await DurableQueue.open({ dir, deleteWithin: within });
        await q.append([{ n: 1 }]);
        await assert.rejects(q.destroy(), /refusing to delete queue directory/);
        assert.ok(
          fs.readdirSync(dir).some((f) => f.endsWith('.ffq')),
          'nothing deleted',
        );
      }
      const inside = await DurableQueue.open({ dir: queueDirFor(userDir, 'x'), deleteWithin: queuesRoot(userDir) });
      await inside.destroy();
      assert.ok(!fs.existsSync(queueDirFor(userDir, 'x')));
    });

    it('destroy deletes only the queue files in its directory', async function () {
      const dir = queueDirFor(userDir, 'hook');
      const q = await DurableQueue.open({ dir });
      await q.append([{ n: 1 }]);
      fs.writeFileSync(path.join(dir, 'not-ours.txt'), 'keep me');
      await q.destroy();
      assert.deepEqual(fs.readdirSync(dir), ['not-ours.txt']);
      const again = await DurableQueue.open({ dir });
      await again.destroy();
      fs.unlinkSync(path.join(dir, 'not-ours.txt'));
      const third = await DurableQueue.open({ dir });
      await third.destroy();
      assert.ok(!fs.existsSync(dir));
    });
  });

  describe('adoptLegacyFile (poll cursors)', function () {
    let dir: string;
    beforeEach(function () {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ff-nf-cur-'));
    });
    afterEach(function () {
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('moves a regular file to its new name once; never a missing, unsafe or non-regular one, never over an existing file', function () {
      const target = path.join(dir, `${nodeFileName('poll')}.json`);
      fs.writeFileSync(path.join(dir, 'poll.json'), '{"lastId":"5"}');
      assert.equal(adoptLegacyFile(dir, 'poll.json', target), true);
      assert.equal(fs.readFileSync(target, 'utf8'), '{"lastId":"5"}');
      assert.equal(adoptLegacyFile(dir, 'poll.json', target), false);
      fs.writeFileSync(path.join(dir, 'poll.json'), '{"lastId":"1"}');
      assert.equal(adoptLegacyFile(dir, 'poll.json', target), false, 'never over an existing file');
      assert.equal(fs.readFileSync(target, 'utf8'), '{"lastId":"5"}');
      assert.equal(adoptLegacyFile(dir, '..', target), false);
      assert.equal(adoptLegacyFile(dir, '../x.json', target), false);
      fs.mkdirSync(path.join(dir, 'd.json'));
      assert.equal(adoptLegacyFile(dir, 'd.json', path.join(dir, 'other.json')), false);
    });
  });
});
