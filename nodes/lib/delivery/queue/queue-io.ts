// The queue's file system access: the callback `fs` functions it uses (an
// interface, so tests inject faults: short writes, ENOSPC, EIO, failing
// renames) and promise wrappers with the loops a short read or write needs.

import * as nodeFs from 'fs';

export type Errno = NodeJS.ErrnoException;

/** The callback fs functions the queue uses (Node's `fs` by default; tests inject failures). */
export interface QueueFs {
  open(path: string, flags: string, callback: (err: Errno | null, fd: number) => void): void;
  close(fd: number, callback: (err: Errno | null) => void): void;
  read(
    fd: number,
    buffer: Buffer,
    offset: number,
    length: number,
    position: number,
    callback: (err: Errno | null, bytesRead: number, buffer: Buffer) => void,
  ): void;
  write(
    fd: number,
    buffer: Buffer,
    offset: number,
    length: number,
    position: null,
    callback: (err: Errno | null, written: number, buffer: Buffer) => void,
  ): void;
  fsync(fd: number, callback: (err: Errno | null) => void): void;
  ftruncate(fd: number, len: number, callback: (err: Errno | null) => void): void;
  fstat(fd: number, callback: (err: Errno | null, stats: nodeFs.Stats) => void): void;
  rename(oldPath: string, newPath: string, callback: (err: Errno | null) => void): void;
  unlink(path: string, callback: (err: Errno | null) => void): void;
  readdir(path: string, callback: (err: Errno | null, files: string[]) => void): void;
  mkdir(path: string, options: { recursive: true }, callback: (err: Errno | null, path?: string) => void): void;
  rmdir(path: string, callback: (err: Errno | null) => void): void;
}

/** Node's own fs. */
export const nodeQueueFs = nodeFs as unknown as QueueFs;

/** Promise wrappers over a QueueFs. */
export class Io {
  constructor(private readonly fs: QueueFs) {}

  private call<R>(fn: (cb: (err: Errno | null, result: R) => void) => void): Promise<R> {
    return new Promise<R>((resolve, reject) => fn((err, result) => (err ? reject(err) : resolve(result))));
  }

  open(file: string, flags: string): Promise<number> {
    return this.call((cb) => this.fs.open(file, flags, cb));
  }
  close(fd: number): Promise<void> {
    return this.call<void>((cb) => this.fs.close(fd, (err) => cb(err, undefined)));
  }
  fsync(fd: number): Promise<void> {
    return this.call<void>((cb) => this.fs.fsync(fd, (err) => cb(err, undefined)));
  }
  ftruncate(fd: number, len: number): Promise<void> {
    return this.call<void>((cb) => this.fs.ftruncate(fd, len, (err) => cb(err, undefined)));
  }
  async size(fd: number): Promise<number> {
    return (await this.call<nodeFs.Stats>((cb) => this.fs.fstat(fd, cb))).size;
  }
  rename(from: string, to: string): Promise<void> {
    return this.call<void>((cb) => this.fs.rename(from, to, (err) => cb(err, undefined)));
  }
  unlink(file: string): Promise<void> {
    return this.call<void>((cb) => this.fs.unlink(file, (err) => cb(err, undefined)));
  }
  readdir(dir: string): Promise<string[]> {
    return this.call((cb) => this.fs.readdir(dir, cb));
  }
  mkdir(dir: string): Promise<void> {
    return this.call<void>((cb) => this.fs.mkdir(dir, { recursive: true }, (err) => cb(err, undefined)));
  }
  rmdir(dir: string): Promise<void> {
    return this.call<void>((cb) => this.fs.rmdir(dir, (err) => cb(err, undefined)));
  }

  /** Writes the whole buffer at the end of an O_APPEND fd (a short write is continued; its error is thrown). */
  async writeAll(fd: number, buffer: Buffer): Promise<void> {
    let offset = 0;
    while (offset < buffer.length) {
      const written = await this.call<number>((cb) => this.fs.write(fd, buffer, offset, buffer.length - offset, null, cb));
      if (written <= 0) throw Object.assign(new Error('write wrote nothing'), { code: 'EIO' });
      offset += written;
    }
  }

  /** Reads `length` bytes at `position` (fewer only at end of file). */
  async readAt(fd: number, position: number, length: number): Promise<Buffer> {
    const buffer = Buffer.allocUnsafe(length);
    let got = 0;
    while (got < length) {
      const n = await this.call<number>((cb) => this.fs.read(fd, buffer, got, length - got, position + got, cb));
      if (n === 0) break;
      got += n;
    }
    return got < length ? buffer.subarray(0, got) : buffer;
  }
}
