// Where a webhook node's queue lives, and the moves and deletes around it.
// `<userDir>/findface-queues/<nodeFileName(id)>`: one directory per node id,
// an injective name that can never leave `findface-queues/` (see
// lib/common/node-files.ts). Queues of earlier versions used the id with
// [^A-Za-z0-9._-] replaced by `_`; `adoptLegacyQueueDir` moves such a
// directory to its new name once, so a user's queued events survive the
// upgrade.

import * as nodeFs from 'fs';
import * as path from 'path';
import { childPath, nodeFileName } from '../../common/node-files';
import { DurableQueue } from './durable-queue';

export const QUEUES_DIR_NAME = 'findface-queues';

/** `<userDir>/findface-queues`. */
export function queuesRoot(userDir: string): string {
  return path.resolve(userDir, QUEUES_DIR_NAME);
}

/** The queue directory of node `id`: always a direct child of `queuesRoot(userDir)`. */
export function queueDirFor(userDir: string, id: string): string {
  return childPath(queuesRoot(userDir), nodeFileName(id));
}

/** The directory name versions up to 0.x (dbe90f5) used: the id with [^A-Za-z0-9._-] → `_` (not injective, may be `.`/`..`). */
export function legacyQueueDirName(id: string): string {
  return id.replace(/[^A-Za-z0-9._-]/g, '_');
}

export type AdoptResult =
  { moved: true; from: string; to: string } | { moved: false; reason: 'none' | 'new-exists' | 'unsafe-name' | 'not-a-directory' | 'in-use' };

/**
 * Moves the directory an earlier version used for node `id` to its new name,
 * when the old one exists and the new one does not. Only a real directory
 * (not a symlink) that is a direct child of `findface-queues/` under a name
 * other than `.`/`..`, and that no queue of this process has open, is moved;
 * the move is one rename(2) (atomic: a second node with a colliding old name
 * finds nothing left to take).
 */
export async function adoptLegacyQueueDir(userDir: string, id: string): Promise<AdoptResult> {
  const root = queuesRoot(userDir);
  const target = queueDirFor(userDir, id);
  const name = legacyQueueDirName(id);
  let legacy: string;
  try {
    legacy = childPath(root, name);
  } catch {
    return { moved: false, reason: 'unsafe-name' };
  }
  if (path.dirname(legacy) !== root || legacy === target) return { moved: false, reason: 'unsafe-name' };
  let stats: nodeFs.Stats;
  try {
    stats = await nodeFs.promises.lstat(legacy);
  } catch {
    return { moved: false, reason: 'none' };
  }
  if (!stats.isDirectory()) return { moved: false, reason: 'not-a-directory' };
  if (DurableQueue.isOpen(legacy)) return { moved: false, reason: 'in-use' };
  try {
    await nodeFs.promises.lstat(target);
    return { moved: false, reason: 'new-exists' };
  } catch {
    // the new directory does not exist yet: move the old one there
  }
  try {
    await nodeFs.promises.rename(legacy, target);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { moved: false, reason: 'none' }; // taken by another node just now
    if (code === 'EEXIST' || code === 'ENOTEMPTY') return { moved: false, reason: 'new-exists' };
    throw error;
  }
  return { moved: true, from: legacy, to: target };
}
