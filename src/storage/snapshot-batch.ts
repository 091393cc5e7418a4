/**
 * The binary snapshot batch: whole keys of one partition in one length-prefixed buffer, what a primary sends a
 * learner (`SNAPB` frame, src/node/replication/frames.ts) and what `Store.applySnapshotBatch` applies in bulk. Pure
 * codec, no clock, no store.
 *
 * Layout (little-endian):
 *
 *   u8  version (1)
 *   u32 count
 *   count × entry:
 *     u8  type        0 string, 1 hash, 2 set, 3 zset (the collection encoding of collections.ts)
 *     u32 key length
 *     u32 value length
 *     f64 expiresAt   absolute ms since the epoch, an integer in [0, 2^53), 0 = no TTL
 *     key bytes, value bytes
 *
 * Why binary rather than the RESP array of the older `SNAP` frame: a RESP batch of 2,000 keys is 6,000 bulk strings
 * for the reply decoder (a Buffer each, a decimal length each, re-parsed from the frame start on every socket chunk)
 * and 6,000 more conversions in the frame decoder; this layout is one bulk string read with fixed-width headers, and
 * the store turns each key and value straight into its own strings (docs/BENCHMARKS.md, rebalance).
 */
import { decodeCollection, type Collection, type CollectionType } from './collections.js';

export const SNAPSHOT_BATCH_VERSION = 1;
/** Bytes before the first entry: version and count. */
export const SNAPSHOT_BATCH_HEADER_BYTES = 5;
/** Bytes of one entry's fixed part: type, key length, value length, expiresAt. */
export const SNAPSHOT_ENTRY_HEADER_BYTES = 17;

/** Type codes of the batch (append-only). */
export const SNAPSHOT_TYPE_CODES: Readonly<Record<'string' | CollectionType, number>> = Object.freeze({ string: 0, hash: 1, set: 2, zset: 3 });
const COLLECTION_OF_CODE: ReadonlyArray<CollectionType | undefined> = [undefined, 'hash', 'set', 'zset'];

/** Bounds a decoder enforces on a batch from the wire. */
export interface SnapshotBatchLimits {
  /** Most entries in one batch. */
  maxEntries: number;
  /** Longest key. */
  maxKeyBytes: number;
  /** Longest value (a string, or a collection's encoding). */
  maxValueBytes: number;
}

export const DEFAULT_SNAPSHOT_BATCH_LIMITS: Readonly<SnapshotBatchLimits> = Object.freeze({
  maxEntries: 1_000_000,
  maxKeyBytes: 512 * 1024 * 1024,
  maxValueBytes: 512 * 1024 * 1024,
});

/** A batch that does not decode: the whole batch is refused (nothing of it applied). */
export class SnapshotBatchError extends Error {
  constructor(message: string) {
    super(`invalid snapshot batch: ${message}`);
    this.name = 'SnapshotBatchError';
  }
}

/** One entry to encode: a string value (latin1 string or bytes), or a collection's type and encoding. */
export interface SnapshotBatchEntry {
  readonly key: string;
  readonly type: 'string' | CollectionType;
  readonly value: string | Uint8Array;
  readonly expiresAt: number;
}

/** Node's Buffer has latin1Write / latin1Slice (what write/toString('latin1') call after their checks); @types/node omits them. */
type Latin1Buffer = Buffer & { latin1Write(s: string, offset: number): number; latin1Slice(start: number, end: number): string };

/** Encoded size of a batch of these entries. */
export function snapshotBatchSize(entries: ReadonlyArray<SnapshotBatchEntry>): number {
  let n = SNAPSHOT_BATCH_HEADER_BYTES;
  for (const e of entries) n += SNAPSHOT_ENTRY_HEADER_BYTES + e.key.length + e.value.length;
  return n;
}

/**
 * Writes a batch into one new Buffer. Keys and string values are latin1 (one char per byte, as the store keeps them).
 * Throws a TypeError for an entry the layout cannot carry (a bad expiresAt).
 */
export function encodeSnapshotBatch(entries: ReadonlyArray<SnapshotBatchEntry>): Buffer {
  const b = Buffer.allocUnsafe(snapshotBatchSize(entries)) as Latin1Buffer;
  b[0] = SNAPSHOT_BATCH_VERSION;
  b.writeUInt32LE(entries.length, 1);
  let o = SNAPSHOT_BATCH_HEADER_BYTES;
  for (const e of entries) o = writeSnapshotEntry(b, o, e.key, SNAPSHOT_TYPE_CODES[e.type], e.value, e.expiresAt);
  return b;
}

/**
 * Writes one entry at `o` (the caller sized the buffer: SNAPSHOT_ENTRY_HEADER_BYTES + key + value bytes) and
 * returns the offset after it. For the store's reader, which encodes straight from its entries.
 */
export function writeSnapshotEntry(b: Buffer, o: number, key: string, typeCode: number, value: string | Uint8Array, expiresAt: number): number {
  if (!Number.isSafeInteger(expiresAt) || expiresAt < 0) throw new TypeError(`snapshot batch: expiresAt must be a non-negative safe integer, got ${expiresAt}`);
  const lb = b as Latin1Buffer;
  lb[o] = typeCode;
  lb.writeUInt32LE(key.length, o + 1);
  lb.writeUInt32LE(value.length, o + 5);
  lb.writeDoubleLE(expiresAt, o + 9);
  o += SNAPSHOT_ENTRY_HEADER_BYTES;
  o += lb.latin1Write(key, o);
  if (typeof value === 'string') o += lb.latin1Write(value, o);
  else {
    lb.set(value, o);
    o += value.length;
  }
  return o;
}

/**
 * A checked batch: `count` entries, and per collection entry its decoded value (index = entry number; absent for
 * strings). `validateSnapshotBatch` makes one; `forEachSnapshotEntry` walks it.
 */
export interface CheckedSnapshotBatch {
  readonly buffer: Buffer;
  readonly count: number;
  /** Total key + value bytes. */
  readonly payloadBytes: number;
  /** Longest string value (0 when none). */
  readonly maxStringBytes: number;
  readonly collections: ReadonlyMap<number, Collection> | null;
}

/**
 * Checks a whole batch from the wire before anything of it is applied: version, count, each entry's type, lengths
 * within `limits` and within the buffer, expiry an integer in [0, 2^53), collections that decode, no trailing bytes.
 * Throws SnapshotBatchError naming the first problem.
 */
export function validateSnapshotBatch(b: Buffer, limits: SnapshotBatchLimits = DEFAULT_SNAPSHOT_BATCH_LIMITS): CheckedSnapshotBatch {
  if (b.length < SNAPSHOT_BATCH_HEADER_BYTES) throw new SnapshotBatchError(`${b.length} bytes, shorter than its header`);
  if (b[0] !== SNAPSHOT_BATCH_VERSION) throw new SnapshotBatchError(`version ${b[0]}, expected ${SNAPSHOT_BATCH_VERSION}`);
  const count = b.readUInt32LE(1);
  if (count > limits.maxEntries) throw new SnapshotBatchError(`${count} entries, more than ${limits.maxEntries}`);
  // Every entry takes at least its header: a count past that cannot be honest.
  if (count > (b.length - SNAPSHOT_BATCH_HEADER_BYTES) / SNAPSHOT_ENTRY_HEADER_BYTES) throw new SnapshotBatchError(`count ${count} larger than ${b.length} bytes allow`);
  let collections: Map<number, Collection> | null = null;
  let o = SNAPSHOT_BATCH_HEADER_BYTES;
  let payload = 0;
  let maxString = 0;
  for (let i = 0; i < count; i++) {
    if (o + SNAPSHOT_ENTRY_HEADER_BYTES > b.length) throw new SnapshotBatchError(`entry ${i}: truncated header`);
    const type = b[o]!;
    const kl = b.readUInt32LE(o + 1);
    const vl = b.readUInt32LE(o + 5);
    const exp = b.readDoubleLE(o + 9);
    if (type > 3) throw new SnapshotBatchError(`entry ${i}: unknown type ${type}`);
    if (kl > limits.maxKeyBytes) throw new SnapshotBatchError(`entry ${i}: key of ${kl} bytes, more than ${limits.maxKeyBytes}`);
    if (vl > limits.maxValueBytes) throw new SnapshotBatchError(`entry ${i}: value of ${vl} bytes, more than ${limits.maxValueBytes}`);
    if (!Number.isSafeInteger(exp) || exp < 0) throw new SnapshotBatchError(`entry ${i}: expiresAt ${exp} is not an integer in [0, 2^53)`);
    o += SNAPSHOT_ENTRY_HEADER_BYTES;
    if (o + kl + vl > b.length) throw new SnapshotBatchError(`entry ${i}: ${kl + vl} key and value bytes past the end`);
    if (type !== 0) {
      const ctype = COLLECTION_OF_CODE[type]!;
      let c: Collection;
      try {
        c = decodeCollection(ctype, b.subarray(o + kl, o + kl + vl));
      } catch (err) {
        throw new SnapshotBatchError(`entry ${i}: ${(err as Error).message}`);
      }
      if (c.size === 0) throw new SnapshotBatchError(`entry ${i}: empty ${ctype}`);
      (collections ??= new Map()).set(i, c);
    } else if (vl > maxString) {
      maxString = vl;
    }
    o += kl + vl;
    payload += kl + vl;
  }
  if (o !== b.length) throw new SnapshotBatchError(`${b.length - o} trailing bytes`);
  return { buffer: b, count, payloadBytes: payload, maxStringBytes: maxString, collections };
}

/**
 * Calls `fn` for each entry of a checked batch, in order: the key as a latin1 string, the value's offsets in the
 * buffer (a string value) or its decoded collection, and expiresAt. No allocation beyond the key string.
 */
export function forEachSnapshotEntry(
  batch: CheckedSnapshotBatch,
  fn: (key: string, valueStart: number, valueEnd: number, collection: Collection | undefined, expiresAt: number) => void,
): void {
  const b = batch.buffer as Latin1Buffer;
  const colls = batch.collections;
  let o = SNAPSHOT_BATCH_HEADER_BYTES;
  for (let i = 0; i < batch.count; i++) {
    const type = b[o]!;
    const kl = b.readUInt32LE(o + 1);
    const vl = b.readUInt32LE(o + 5);
    const exp = b.readDoubleLE(o + 9);
    o += SNAPSHOT_ENTRY_HEADER_BYTES;
    const key = b.latin1Slice(o, o + kl);
    o += kl;
    fn(key, o, o + vl, type === 0 || colls === null ? undefined : colls.get(i), exp);
    o += vl;
  }
}

/** A decoded entry (tests and tools; the store applies batches without building these). */
export interface DecodedSnapshotEntry {
  readonly key: string;
  readonly type: 'string' | CollectionType;
  /** The value's bytes (a string value) or the collection's encoding. */
  readonly value: Buffer;
  readonly expiresAt: number;
}

/** Validates and decodes a batch into entries (for tests and tools). Throws SnapshotBatchError. */
export function decodeSnapshotBatch(b: Buffer, limits: SnapshotBatchLimits = DEFAULT_SNAPSHOT_BATCH_LIMITS): DecodedSnapshotEntry[] {
  const checked = validateSnapshotBatch(b, limits);
  const out: DecodedSnapshotEntry[] = [];
  let o = SNAPSHOT_BATCH_HEADER_BYTES;
  for (let i = 0; i < checked.count; i++) {
    const type = b[o]!;
    const kl = b.readUInt32LE(o + 1);
    const vl = b.readUInt32LE(o + 5);
    const expiresAt = b.readDoubleLE(o + 9);
    o += SNAPSHOT_ENTRY_HEADER_BYTES;
    out.push({ key: b.toString('latin1', o, o + kl), type: type === 0 ? 'string' : COLLECTION_OF_CODE[type]!, value: Buffer.from(b.subarray(o + kl, o + kl + vl)), expiresAt });
    o += kl + vl;
  }
  return out;
}
