// Safe per-node file and directory names: a node id comes from a flow file and
// may hold any character, so it is never used as a path as it is.
import crypto from 'crypto';
import path from 'path';

const READABLE_MAX = 32;

/**
 * An injective, safe file/dir name for a node id: the id's characters in
 * [A-Za-z0-9_-] (at most 32) + `-` + the first 16 hex digits of sha256(id).
 * Never `.` or `..`, never a separator, and `a/b` and `a_b` differ.
 */
export function nodeFileName(id: string): string {
  const readable = id.replace(/[^A-Za-z0-9_-]/g, '').slice(0, READABLE_MAX);
  const digest = crypto.createHash('sha256').update(id, 'utf8').digest('hex').slice(0, 16);
  return `${readable}-${digest}`;
}

/** `parent/name` resolved; throws unless the result is strictly inside `parent`. */
export function childPath(parent: string, name: string): string {
  const base = path.resolve(parent);
  const child = path.resolve(base, name);
  const relative = path.relative(base, child);
  if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative)) {
    throw new Error(`"${name}" is not a name inside ${base}`);
  }
  return child;
}
