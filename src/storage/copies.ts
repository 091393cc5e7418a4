/**
 * Helpers of the store's copy support (C4): replicated-op validation, the snapshot reader and the partition
 * digest. Internal to src/storage; the Store methods that use them document the contracts.
 */
import { xxhash64 } from '../hashing/index.js';
import type { Entry } from './entry.js';
import { collectionContentHash, encodeCollection, isCollection, TypedValue } from './collections.js';
import { SNAPSHOT_BATCH_HEADER_BYTES, SNAPSHOT_BATCH_VERSION, SNAPSHOT_ENTRY_HEADER_BYTES, SNAPSHOT_TYPE_CODES, writeSnapshotEntry } from './snapshot-batch.js';
import type { ExportedEntry, PartitionDigest, ReplicatedOp, SnapshotReader, SnapshotReaderOptions } from './types.js';

export const DEFAULT_SNAPSHOT_READER_OPTIONS: Readonly<SnapshotReaderOptions> = Object.freeze({
  maxEntries: 1000,
  maxBytes: 1024 * 1024,
});

/** The most entries one snapshot batch may ask for. */
export const MAX_SNAPSHOT_BATCH_ENTRIES = 1_000_000;

/** Merges over the defaults and validates; throws a TypeError naming the bad option. */
export function resolveSnapshotReaderOptions(options: Partial<SnapshotReaderOptions> = {}): SnapshotReaderOptions {
  const o: SnapshotReaderOptions = { ...DEFAULT_SNAPSHOT_READER_OPTIONS, ...options };
  if (!Number.isSafeInteger(o.maxEntries) || o.maxEntries < 1 || o.maxEntries > MAX_SNAPSHOT_BATCH_ENTRIES) {
    throw new TypeError(`SnapshotReaderOptions.maxEntries must be an integer in [1, ${MAX_SNAPSHOT_BATCH_ENTRIES}], got ${String(o.maxEntries)}`);
  }
  if (!Number.isSafeInteger(o.maxBytes) || o.maxBytes < 1) {
    throw new TypeError(`SnapshotReaderOptions.maxBytes must be a positive safe integer, got ${String(o.maxBytes)}`);
  }
  return o;
}

/** Any char above one byte (a latin1 binary string has none). */
const NOT_LATIN1 = /[\u0100-\uffff]/;

function badOp(what: string): never {
  throw new TypeError(`invalid replicated op: ${what}`);
}

function checkTime(v: unknown): void {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    badOp(`expiresAt must be a non-negative safe integer (absolute ms, 0 = none), got ${String(v)}`);
  }
}

/** Throws a TypeError saying what is wrong unless `op` is a well-formed ReplicatedOp. */
export function checkReplicatedOp(op: unknown): asserts op is ReplicatedOp {
  if (typeof op !== 'object' || op === null) badOp(`expected an object, got ${op === null ? 'null' : typeof op}`);
  const o = op as { kind?: unknown; key?: unknown; value?: unknown; expiresAt?: unknown };
  if (o.kind !== 'set' && o.kind !== 'del' && o.kind !== 'expire') badOp(`kind must be 'set', 'del' or 'expire', got ${String(o.kind)}`);
  if (typeof o.key !== 'string') badOp(`key must be a latin1 string, got ${typeof o.key}`);
  if (NOT_LATIN1.test(o.key)) badOp('key must be a latin1 string (one char per byte)');
  if (o.kind === 'del') return;
  checkTime(o.expiresAt);
  if (o.kind === 'set' && typeof o.value !== 'string' && !Buffer.isBuffer(o.value) && !(o.value instanceof TypedValue)) {
    badOp(`value of a set must be a string, a Buffer or a TypedValue, got ${typeof o.value}`);
  }
}

/**
 * A reader over a live `Map.values()` iterator (see Store.snapshotReader). `cutoff()` is read once per batch:
 * entries with 0 < expiresAt < cutoff are skipped (a primary passes its clock, a copy 0 = keep everything).
 * An entry pulled from the iterator that did not fit the previous batch is kept as `pending` and re-checked
 * (still the map's entry for its key) before it is returned, so every returned entry is the key's state at the
 * moment of the `next()` call that returns it.
 */
export class MapSnapshotReader implements SnapshotReader {
  private readonly iterator: Iterator<Entry>;
  private pending: Entry | undefined;
  private done = false;
  /** The entries of the batch being read (reused: a batch is consumed before the next read). */
  private readonly picked: Entry[] = [];

  constructor(
    private readonly map: Map<string, Entry>,
    private readonly options: SnapshotReaderOptions,
    private readonly cutoff: () => number,
  ) {
    this.iterator = map.values();
  }

  next(): ExportedEntry[] | null {
    const n = this.collect();
    if (n === 0) return null;
    const batch: ExportedEntry[] = new Array<ExportedEntry>(n);
    for (let i = 0; i < n; i++) {
      const e = this.picked[i]!;
      const v = e.value;
      batch[i] = { key: e.key, value: isCollection(v) ? TypedValue.of(v) : v, expiresAt: e.expiresAt };
    }
    this.picked.length = 0;
    return batch;
  }

  nextBatch(): Buffer | null {
    const n = this.collect();
    if (n === 0) return null;
    const picked = this.picked;
    // Collections are encoded once, first, to size the buffer.
    let encoded: Buffer[] | null = null;
    let size = SNAPSHOT_BATCH_HEADER_BYTES;
    for (let i = 0; i < n; i++) {
      const e = picked[i]!;
      const v = e.value;
      if (isCollection(v)) {
        const b = encodeCollection(v);
        (encoded ??= []).push(b);
        size += SNAPSHOT_ENTRY_HEADER_BYTES + e.key.length + b.length;
      } else {
        size += SNAPSHOT_ENTRY_HEADER_BYTES + e.key.length + v.length;
      }
    }
    const out = Buffer.allocUnsafe(size);
    out[0] = SNAPSHOT_BATCH_VERSION;
    out.writeUInt32LE(n, 1);
    let o = SNAPSHOT_BATCH_HEADER_BYTES;
    let c = 0;
    for (let i = 0; i < n; i++) {
      const e = picked[i]!;
      const v = e.value;
      if (isCollection(v)) o = writeSnapshotEntry(out, o, e.key, SNAPSHOT_TYPE_CODES[v.type], encoded![c++]!, e.expiresAt);
      else o = writeSnapshotEntry(out, o, e.key, 0, v, e.expiresAt);
    }
    this.picked.length = 0;
    return out;
  }

  /** Pulls the next batch's entries into `picked`; returns how many (0 = done). */
  private collect(): number {
    if (this.done) return 0;
    const { maxEntries, maxBytes } = this.options;
    const cutoff = this.cutoff();
    const batch = this.picked;
    batch.length = 0;
    let bytes = 0;
    while (batch.length < maxEntries) {
      let e = this.pending;
      this.pending = undefined;
      if (e === undefined) {
        const r = this.iterator.next();
        if (r.done === true) {
          this.done = true;
          break;
        }
        e = r.value;
      } else if (this.map.get(e.key) !== e) {
        continue; // deleted since the last batch (a re-inserted key is a new Entry the iterator reaches later)
      }
      if (e.expiresAt !== 0 && e.expiresAt < cutoff) continue;
      const v = e.value;
      // A collection counts its accounted bytes (close to its encoding's size) so the check costs no encoding.
      const size = isCollection(v) ? v.bytes : v.length;
      if (batch.length > 0 && bytes + size > maxBytes) {
        this.pending = e;
        break;
      }
      bytes += size;
      batch.push(e);
    }
    if (batch.length === 0) this.done = true;
    return batch.length;
  }
}

/**
 * Hashes entries: XXH64(u32 key length ‖ key ‖ u32 low ‖ u32 high of expiresAt ‖ value bytes), little-endian. A
 * string value and a Buffer of the same bytes hash the same. Keeps one growing scratch buffer per instance. Speed is
 * the hashing module's XXH64 (~2.5 µs per 130-byte entry here, bench/storage.ts): fine for a check, not a hot path.
 */
export class EntryHasher {
  private scratch = Buffer.allocUnsafe(256);

  hash(key: string, value: string | Uint8Array, expiresAt: number): bigint {
    const k = key.length;
    const size = k + 12 + value.length;
    if (this.scratch.length < size) this.scratch = Buffer.allocUnsafe(size);
    const b = this.scratch;
    b.writeUInt32LE(k, 0);
    b.write(key, 4, k, 'latin1');
    b.writeUInt32LE(expiresAt % 0x100000000, 4 + k);
    b.writeUInt32LE(Math.floor(expiresAt / 0x100000000), 8 + k);
    if (typeof value === 'string') b.write(value, 12 + k, value.length, 'latin1');
    else b.set(value, 12 + k);
    return xxhash64(b.subarray(0, size));
  }
}

/** The digest of a partition's Map: every entry, expired or not, summed mod 2^64 (order-independent). */
export function mapDigest(map: Map<string, Entry>): PartitionDigest {
  const hasher = new EntryHasher();
  let sum = 0n;
  for (const e of map.values()) {
    // A collection hashes its type tag and order-independent content hash (collections.ts) in place of value bytes.
    const v = e.value;
    sum = BigInt.asUintN(64, sum + hasher.hash(e.key, isCollection(v) ? collectionContentHash(v) : v, e.expiresAt));
  }
  return { keys: map.size, digest: sum.toString(16).padStart(16, '0') };
}
