// The queue's record format: how one item is framed in a segment file, the
// CRC32C that guards it, and the segment and marker file names. Pure
// functions over Buffers, no I/O.
//
// A record (all integers little-endian):
//
//   offset  size  field
//        0     4  magic  FF 46 51 31  ("\xFFFQ1": 0xFF never occurs in UTF-8,
//                        so never inside a payload; a reader that lost its
//                        place finds the next record by searching for it)
//        4     4  CRC32C (Castagnoli) of everything after it: bytes 8..20 and the payload
//        8     4  payload length in bytes (u32)
//       12     8  sequence number (u64, below 2^53): one more than the
//                 previous record's, across segments
//       20     n  payload: JSON.stringify(item) in UTF-8, handed to the sender as is
//
// A record is accepted only if its magic, its length (within the file), its
// CRC and its sequence number (the next one expected, or later) all hold: a
// changed byte anywhere (header or payload) fails the CRC, a record copied
// twice fails the sequence check, and garbage that happens to be valid JSON
// has no valid frame around it. CRC32C detects every error of up to 3 bits
// and every burst up to 32 bits in these lengths, and a random change with
// probability 1 - 2^-32.

export const HEADER_BYTES = 20;
export const MAGIC = Buffer.from([0xff, 0x46, 0x51, 0x31]);
const MAGIC_U32 = MAGIC.readUInt32LE(0);
const TWO_32 = 0x1_0000_0000;
/** Largest payload a frame can carry (u32 length; far above any segment). */
export const MAX_PAYLOAD_BYTES = 0xffff_ffff;

// ---- CRC32C (Castagnoli, reflected polynomial 0x82F63B78), slicing-by-8 ------------------------

const CRC_TABLES: Int32Array = (() => {
  const tables = new Int32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    tables[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    let c = tables[n];
    for (let t = 1; t < 8; t++) {
      c = tables[c & 0xff] ^ (c >>> 8);
      tables[t * 256 + n] = c;
    }
  }
  return tables;
})();

/** CRC32C of `buffer[start, end)`, continuing from `crc` (the CRC of what came before; 0 to start). */
export function crc32c(buffer: Uint8Array, start = 0, end = buffer.length, crc = 0): number {
  const t = CRC_TABLES;
  let c = ~crc;
  let i = start;
  for (; i + 8 <= end; i += 8) {
    const lo = c ^ (buffer[i] | (buffer[i + 1] << 8) | (buffer[i + 2] << 16) | (buffer[i + 3] << 24));
    const hi = buffer[i + 4] | (buffer[i + 5] << 8) | (buffer[i + 6] << 16) | (buffer[i + 7] << 24);
    c =
      t[1792 + (lo & 0xff)] ^
      t[1536 + ((lo >>> 8) & 0xff)] ^
      t[1280 + ((lo >>> 16) & 0xff)] ^
      t[1024 + (lo >>> 24)] ^
      t[768 + (hi & 0xff)] ^
      t[512 + ((hi >>> 8) & 0xff)] ^
      t[256 + ((hi >>> 16) & 0xff)] ^
      t[hi >>> 24];
  }
  for (; i < end; i++) c = t[(c ^ buffer[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

// ---- encode --------------------------------------------------------------------------------------

/** The JSON a queued item is stored as: as in the JSON array the sender POSTs, undefined (and functions) become null. */
export function itemJson(item: unknown): string {
  const json: string | undefined = JSON.stringify(item);
  return json === undefined ? 'null' : json;
}

/**
 * Writes one record (header + `json` as UTF-8) into `buffer` at `at`, which
 * must have room for it (HEADER_BYTES + Buffer.byteLength(json)); returns the
 * offset just after it.
 */
export function writeRecord(buffer: Buffer, at: number, json: string, seq: number): number {
  const payloadAt = at + HEADER_BYTES;
  const payloadBytes = buffer.write(json, payloadAt, 'utf8');
  buffer.writeUInt32LE(MAGIC_U32, at);
  buffer.writeUInt32LE(payloadBytes, at + 8);
  buffer.writeUInt32LE(seq % TWO_32, at + 12);
  buffer.writeUInt32LE(Math.floor(seq / TWO_32), at + 16);
  const end = payloadAt + payloadBytes;
  buffer.writeUInt32LE(crc32c(buffer, at + 8, end), at + 4);
  return end;
}

// ---- decode --------------------------------------------------------------------------------------

/** The frame at the position needs bytes beyond the buffer (that the file has): read further and check again. */
export const NEED_MORE = -1;
/** No valid frame starts at the position. */
export const BAD = -2;

/**
 * Checks the frame at `buffer[at]`, where the buffer holds file data up to
 * `end` and the file has `fileLeft` committed bytes from `at` on. Returns the
 * payload length of a valid frame, NEED_MORE, or BAD. `verify` false skips
 * the CRC (records this process wrote and has not yet let go of).
 */
export function checkFrame(buffer: Buffer, at: number, end: number, fileLeft: number, verify = true): number {
  if (fileLeft < HEADER_BYTES) return BAD;
  if (end - at < HEADER_BYTES) return NEED_MORE;
  if (buffer.readUInt32LE(at) !== MAGIC_U32) return BAD;
  const length = buffer.readUInt32LE(at + 8);
  if (HEADER_BYTES + length > fileLeft) return BAD;
  if (buffer.readUInt32LE(at + 16) >= 0x20_0000) return BAD; // seq ≥ 2^53
  if (end - at < HEADER_BYTES + length) return NEED_MORE;
  if (!verify) return length;
  return crc32c(buffer, at + 8, at + HEADER_BYTES + length) === buffer.readUInt32LE(at + 4) ? length : BAD;
}

/** The sequence number of the (checked) frame at `at`. */
export function frameSeq(buffer: Buffer, at: number): number {
  return buffer.readUInt32LE(at + 16) * TWO_32 + buffer.readUInt32LE(at + 12);
}

/**
 * The first position ≥ `from` where a frame may start: the magic, or a
 * prefix of it cut off by the end of the buffer. -1 when there is none.
 */
export function findMagic(buffer: Buffer, from: number, end: number): number {
  for (let i = buffer.indexOf(0xff, from); i >= 0 && i < end; i = buffer.indexOf(0xff, i + 1)) {
    let k = 1;
    while (k < 4 && i + k < end && buffer[i + k] === MAGIC[k]) k++;
    if (k === 4 || i + k === end) return i;
  }
  return -1;
}

// ---- file names ------------------------------------------------------------------------------------

export const SEGMENT_RE = /^(\d{20})\.ffq$/;
/** Segments of the format before framed records (one JSON line per record), read once and migrated at open. */
export const LEGACY_SEGMENT_RE = /^(\d{20})\.ndjson$/;
export const ACK_RE = /^acked-(\d{20})$/;
/** A segment being written by the migration (renamed to its segment name once complete and fsync'ed). */
export const MIGRATING_RE = /^(\d{20})\.ffq\.tmp$/;

/** Present while a migration is being committed (see recovery.ts). */
export const MIGRATION_DONE = 'migration-done';

const pad = (n: number): string => String(n).padStart(20, '0');
export const segmentName = (start: number): string => `${pad(start)}.ffq`;
export const ackName = (seq: number): string => `acked-${pad(seq)}`;
export const migratingName = (start: number): string => `${pad(start)}.ffq.tmp`;

/** Whether `name` is one of the queue's own files (the only names `destroy` deletes). */
export function isQueueFile(name: string): boolean {
  return SEGMENT_RE.test(name) || LEGACY_SEGMENT_RE.test(name) || ACK_RE.test(name) || MIGRATING_RE.test(name) || name === MIGRATION_DONE;
}

// ---- walking the frames of a segment -------------------------------------------------------------

/** Bytes the frame at `at` needs in the buffer to be checked: its header, then header and payload. */
export function frameBytesNeeded(buffer: Buffer, at: number, end: number): number {
  return end - at < HEADER_BYTES ? HEADER_BYTES : HEADER_BYTES + buffer.readUInt32LE(at + 8);
}

/** Where a walk through one segment stands; kept between the chunks of that segment. */
export interface WalkState {
  /** The sequence number the next record must have at least. */
  expected: number;
  /** Sequence numbers from here on do not belong in this segment (the next segment's start). */
  limit: number;
  /** File offset where the damaged range being walked through began; -1 when none. */
  damageAt: number;
}

export interface WalkSink {
  /** An accepted record at `buffer[at]` with a payload of `length` bytes; false stops the walk before it (not consumed). */
  record(seq: number, at: number, length: number): boolean;
  /**
   * Records `[lostFrom, lostTo)` are not in the file: bytes `[from, to)` (file
   * offsets; empty when the records are simply missing) failed their check.
   * Called once per damaged range, when the next accepted record is found.
   */
  damaged(from: number, to: number, lostFrom: number, lostTo: number): void;
}

/**
 * Walks the frames in `buffer[from, end)`, which holds the file's bytes from
 * offset `base`; the file has `fileEnd` committed bytes. Returns the buffer
 * position where it stopped: `end`, a frame that needs more bytes than the
 * buffer holds (read from there again), or a record the sink refused.
 * Damaged bytes are skipped up to the next valid frame (found by its magic).
 */
export function walkFrames(
  buffer: Buffer,
  from: number,
  end: number,
  base: number,
  fileEnd: number,
  state: WalkState,
  verify: boolean,
  sink: WalkSink,
): number {
  let at = from;
  while (at < end) {
    const length = checkFrame(buffer, at, end, fileEnd - (base + at), verify);
    if (length === NEED_MORE) return at;
    if (length >= 0) {
      const seq = frameSeq(buffer, at);
      if (seq >= state.expected && seq < state.limit) {
        if (state.damageAt >= 0 || seq > state.expected) {
          sink.damaged(state.damageAt >= 0 ? state.damageAt : base + at, base + at, state.expected, seq);
          state.damageAt = -1;
          state.expected = seq;
        }
        if (!sink.record(seq, at, length)) return at;
        state.expected = seq + 1;
        at += HEADER_BYTES + length;
        continue;
      }
      // A valid record out of place (a copy, or beyond the segment's range): never delivered.
      if (state.damageAt < 0) state.damageAt = base + at;
      at += HEADER_BYTES + length;
      continue;
    }
    if (state.damageAt < 0) state.damageAt = base + at;
    const next = findMagic(buffer, at + 1, end);
    at = next < 0 ? end : next;
  }
  return at;
}
