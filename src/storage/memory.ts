/**
 * Memory accounting: what one entry costs, in bytes, as the store counts it against maxMemoryBytes.
 *
 * cost(entry) = ENTRY_OVERHEAD_BYTES + key length + value length (+ BUFFER_OVERHEAD_BYTES when the value is kept as
 * a Buffer). The overhead is the measured V8 cost of one entry beyond its payload bytes: the Map slot, the Entry
 * object (7 fields), the key string header, the value string header, and the boxed expiry number — calibrated in
 * bench/storage.ts (see docs/BENCHMARKS.md ## storage) by filling a store and reading process memory. The cost does
 * not depend on whether the key has a TTL, so a TTL change never needs memory (EXPIRE cannot fail with OOM).
 */
import { constants } from 'node:buffer';
import type { StoreValue } from './types.js';

/** Per-entry bytes beyond key and value payload (V8 objects and Map slot), measured on Node 20 x64. */
export const ENTRY_OVERHEAD_BYTES = 160;

/** Extra bytes of a value kept as a Buffer (Uint8Array + ArrayBuffer objects + backing-store bookkeeping). */
export const BUFFER_OVERHEAD_BYTES = 200;

/** Values up to this length are kept as one-byte V8 strings (compact, no malloc); longer ones as Buffers. */
export const MAX_STRING_VALUE_BYTES = Math.min(constants.MAX_STRING_LENGTH, 512 * 1024 * 1024);

/** The accounted cost of an entry with this key and value. */
export function entryCost(key: string, value: StoreValue): number {
  return typeof value === 'string'
    ? ENTRY_OVERHEAD_BYTES + key.length + value.length
    : ENTRY_OVERHEAD_BYTES + BUFFER_OVERHEAD_BYTES + key.length + value.length;
}

/** Bytes of a value (a latin1 string has one char per byte). */
export function valueByteLength(value: StoreValue): number {
  return value.length;
}

/** The value as a Buffer (a copy for a string; the stored Buffer itself otherwise, which must not be mutated). */
export function valueToBuffer(value: StoreValue): Buffer {
  return typeof value === 'string' ? Buffer.from(value, 'latin1') : value;
}
