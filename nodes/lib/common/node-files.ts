// File and directory names derived from Node-RED node ids. Ids come from
// imported flows, so any string is possible ("..", ".", "a/b", NUL, 10 KB of
// unicode): a name is never used as given. `nodeFileName` maps every id to a
// distinct name that is safe in every directory on every platform, and
// `childPath` refuses any path that is not strictly inside its parent.

import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';

const READABLE_PREFIX_CHARS = 32;
const HASH_HEX_DIGITS = 16;

/**
 * An injective, safe file or directory name for a node id: the id's
 * characters in [A-Za-z0-9_-] (at most 32 of them, for a reader of the
 * directory listing) + `-` + the first 16 hex digits of sha256(id). Never
 * `.` or `..`, never a separator, never empty; `a/b` and `a_b` differ.
 */
export function nodeFileName(id: string): string {
  if (typeof id !== 'string') throw new TypeError(`a node id must be a string, got ${typeof id}`);
  const readable = id.replace(/[^A-Za-z0-9_-]/g, '').slice(0, READABLE_PREFIX_CHARS);
  const digest = createHash('sha256').update(id, 'utf8').digest('hex').slice(0, HASH_HEX_DIGITS);
  return `${readable}-${digest}`;
}

/** `parent` joined with `name`, resolved; throws unless the result is strictly inside `parent` (not `parent` itself). */
export function childPath(parent: string, name: string): string {
  const base = path.resolve(parent);
  const child = path.resolve(base, name);
  const relative = path.relative(base, child);
  if (relative === '' || relative === '..' || relative.startsWith('..' + path.sep) || path.isAbsolute(relative) || name.includes('\0')) {
    throw new Error(`refusing path ${JSON.stringify(name)}: not strictly inside ${base}`);
  }
  return child;
}

/**
 * Moves the file `parent/legacyName` (a name an earlier version derived from
 * a node id) to `target`, when it is a regular file strictly inside `parent`
 * and `target` does not exist yet. True when it moved. Never throws for a
 * name that is unsafe or missing: that file is then simply not adopted.
 */
export function adoptLegacyFile(parent: string, legacyName: string, target: string): boolean {
  let legacy: string;
  try {
    legacy = childPath(parent, legacyName);
  } catch {
    return false;
  }
  if (path.dirname(legacy) !== path.resolve(parent) || legacy === path.resolve(target)) return false;
  try {
    if (!fs.lstatSync(legacy).isFile() || fs.existsSync(target)) return false;
    fs.renameSync(legacy, target);
    return true;
  } catch {
    return false;
  }
}
