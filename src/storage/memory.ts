/**
 * Memory accounting: what one entry costs, in bytes, as the store counts it against maxMemoryBytes.
 *
 * cost(entry) = ENTRY_OVERHEAD_BYTES + key length + value length (+ BUFFER_OVERHEAD_BYTES when the value is kept as
 * a Buffer, i.e. only above MAX_STRING_VALUE_BYTES); a collection counts its own `bytes` instead of a value length
 * (collections.ts). The overhead is the V8 heap an entry takes beyond its payload:
 * the Entry object (24-byte header + 7 fields = 80 B), the key and value string headers (16 B each plus 8-byte
 * alignment), the partition Map's slot (3 words per entry + buckets, 28-56 B depending on how full the table is),
 * and for a key with a TTL the boxed expiry (16 B) and its `volatile` array slot (8 B).
 *
 * Calibration (Node 20 x64, 1M keys of 16 bytes with 100-byte values, 256 partitions, heap measured after a full GC;
 * bench/storage.ts prints it again): 261.5 B/key without TTL (overhead 145.5), 287.8 B/key with TTL (overhead 171.8).
 * The Map part varies with how full each partition's hash table is (28 B/entry just before it doubles, 56 B just
 * after), which can add ~20 B. We charge 200 for every entry: the TTL case at the worst Map fill, so the accounting
 * errs high (by 5-25%) and does not depend on TTLs (a TTL change never needs memory; EXPIRE cannot fail with OOM).
 * memory.test.ts checks real ≤ accounted. For scale, redis-server 7 takes 200 B/key `used_memory` for the same
 * data. Process RSS is above the accounted bytes by the runtime's own baseline and the GC's headroom (garbage not
 * yet collected): see recommendedHeapLimitMb below and docs/ARCHITECTURE.md ## storage.
 */
import { constants } from 'node:buffer';
import type { StoreValue } from './types.js';
import { isCollection, type Collection } from './collections.js';

/** Per-entry bytes beyond key and value payload (V8 objects and Map slot); see the calibration above. */
export const ENTRY_OVERHEAD_BYTES = 200;

/** Extra bytes of a value kept as a Buffer (Uint8Array + ArrayBuffer objects + backing-store bookkeeping). */
export const BUFFER_OVERHEAD_BYTES = 200;

/** Values up to this length are kept as one-byte V8 strings (compact, no malloc); longer ones as Buffers. */
export const MAX_STRING_VALUE_BYTES = Math.min(constants.MAX_STRING_LENGTH, 512 * 1024 * 1024);

/**
 * The accounted cost of an entry with this key and value. A stored Buffer counts its whole allocation (an APPEND
 * buffer's spare capacity included); the store only keeps Buffers that own their ArrayBuffer (values.ts).
 */
export function entryCost(key: string, value: StoreValue | Collection): number {
  if (typeof value === 'string') return ENTRY_OVERHEAD_BYTES + key.length + value.length;
  if (isCollection(value)) return ENTRY_OVERHEAD_BYTES + key.length + value.bytes;
  return ENTRY_OVERHEAD_BYTES + BUFFER_OVERHEAD_BYTES + key.length + value.buffer.byteLength;
}

/** Bytes of a value (a latin1 string has one char per byte). */
export function valueByteLength(value: StoreValue): number {
  return value.length;
}

/** The value as a Buffer (a copy for a string; the stored Buffer itself otherwise, which must not be mutated). */
export function valueToBuffer(value: StoreValue): Buffer {
  return typeof value === 'string' ? Buffer.from(value, 'latin1') : value;
}

/**
 * The V8 heap limit (`node --max-old-space-size=<MB>`) to start a node with for a given maxMemoryBytes:
 * 1.5 × maxmemory + 64 MB; undefined when maxMemoryBytes is 0 (unlimited). It must be given at process start
 * (v8.setFlagsFromString cannot change it later).
 *
 * Why: the accounting bounds live data, but V8 lets garbage (overwritten values, evicted entries) pile up until its
 * next full GC, and with Node's default limit (~4 GB here) it waits until the heap is ~4× the live size. Measured
 * (writing 4× maxmemory of random SETs of 50-450 bytes, 2-core VM): maxmemory 64 MB → peak heapUsed 249 MB by
 * default, 109-121 MB with a 128-256 MB limit; 256 MB → peak 928 MB by default, 409 MB with 576, 327 MB with 384,
 * at the same throughput. The 64 MB covers the node's own heap (connections, tables); above the limit V8 aborts, so
 * it must stay well above maxmemory.
 */
export function recommendedHeapLimitMb(maxMemoryBytes: number): number | undefined {
  if (maxMemoryBytes <= 0) return undefined;
  return Math.ceil((maxMemoryBytes * 1.5) / (1024 * 1024)) + 64;
}
