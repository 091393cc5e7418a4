/**
 * How the store builds and keeps values so that the accounted bytes match real memory:
 * - values up to MAX_STRING_VALUE_BYTES are flat one-byte V8 strings (compact, no malloc, no pooled slabs);
 * - a value grown by APPEND past APPEND_STRING_MAX becomes a growable Buffer the store owns alone (its own
 *   ArrayBuffer, capacity doubling like Redis's sds, so repeated APPEND is amortized O(1));
 * - nothing is a ConsString: `a + b` in V8 makes a 32-byte rope node per concatenation, so 1,000 one-byte APPENDs
 *   would hold ~32 KB for a 1 KB value (measured); every concatenation here is flattened.
 * Bytes inside a stored Buffer below its length are never changed (SETRANGE copies), so a Buffer handed to a
 * reader (GET, a write listener) stays valid; APPEND only writes past the old length.
 */
import { BUFFER_OVERHEAD_BYTES, ENTRY_OVERHEAD_BYTES, MAX_STRING_VALUE_BYTES } from './memory.js';
import type { StoreValue } from './types.js';

/** APPEND results up to this size stay flat strings (rebuilt each time: O(n), cheap while small). */
export const APPEND_STRING_MAX = 4096;
/** Growth of an APPEND buffer: double up to 1 MB, then +1 MB (Redis's SDS_MAX_PREALLOC). */
const MAX_PREALLOC = 1024 * 1024;

/** A sink for flattening reads: a store to an object field cannot be dead-code-eliminated by the optimizer. */
const flattenSink = { x: 0 };

/** Returns `s` flat: reading a char from the middle of a ConsString makes V8 flatten it in place. */
export function flat(s: string): string {
  if (s.length > 1) flattenSink.x ^= s.charCodeAt(s.length >> 1);
  return s;
}

/** Node's Buffer has latin1Slice (what toString('latin1') calls after its argument checks); @types/node omits it. */
type Latin1Buffer = Buffer & { latin1Slice(start: number, end: number): string };

export function asString(v: StoreValue): string {
  return typeof v === 'string' ? v : (v as Latin1Buffer).latin1Slice(0, v.length);
}

/** A Buffer that owns its memory (never a view into Node's shared 8 KB pool), `capacity` bytes, holding `v`. */
function ownedBuffer(v: StoreValue, length: number, capacity: number): Buffer {
  const out = Buffer.allocUnsafeSlow(capacity);
  if (typeof v === 'string') out.write(v, 0, v.length, 'latin1');
  else v.copy(out, 0, 0, v.length);
  if (capacity > v.length) out.fill(0, v.length, capacity);
  return out.subarray(0, length);
}

/** The form in which the store keeps a value a caller passed in (always a copy of a Buffer). */
export function ownValue(v: StoreValue): StoreValue {
  if (typeof v === 'string') return flat(v);
  return v.length <= MAX_STRING_VALUE_BYTES ? (v as Latin1Buffer).latin1Slice(0, v.length) : ownedBuffer(v, v.length, v.length);
}

/** Allocated bytes of a stored Buffer (its capacity), or of a string (its length). */
function capacityOf(v: StoreValue): number {
  return typeof v === 'string' ? v.length : v.buffer.byteLength;
}

function grownCapacity(length: number, maxValueBytes: number): number {
  const want = length < MAX_PREALLOC ? length * 2 : length + MAX_PREALLOC;
  return Math.max(length, Math.min(want, maxValueBytes));
}

/** Accounted cost of the entry after appending up to `newLength` bytes (computed before building, to reserve first). */
export function appendCost(key: string, current: StoreValue, newLength: number, maxValueBytes: number): number {
  if (newLength <= APPEND_STRING_MAX && newLength <= MAX_STRING_VALUE_BYTES) return ENTRY_OVERHEAD_BYTES + key.length + newLength;
  if (typeof current !== 'string' && current.byteOffset === 0 && current.buffer.byteLength >= newLength) {
    return ENTRY_OVERHEAD_BYTES + BUFFER_OVERHEAD_BYTES + key.length + capacityOf(current);
  }
  return ENTRY_OVERHEAD_BYTES + BUFFER_OVERHEAD_BYTES + key.length + grownCapacity(newLength, maxValueBytes);
}

/** `current` + `tail` (`newLength` bytes), growing in place when the owned buffer has room. Matches appendCost. */
export function appendValue(current: StoreValue, tail: StoreValue, newLength: number, maxValueBytes: number): StoreValue {
  if (newLength <= APPEND_STRING_MAX && newLength <= MAX_STRING_VALUE_BYTES) return flat(asString(current) + asString(tail));
  if (typeof current !== 'string' && current.byteOffset === 0 && current.buffer.byteLength >= newLength) {
    const whole = Buffer.from(current.buffer, 0, newLength);
    if (typeof tail === 'string') whole.write(tail, current.length, tail.length, 'latin1');
    else tail.copy(whole, current.length);
    return whole;
  }
  const grown = ownedBuffer(current, newLength, grownCapacity(newLength, maxValueBytes));
  if (typeof tail === 'string') grown.write(tail, current.length, tail.length, 'latin1');
  else tail.copy(grown, current.length);
  return grown;
}

/**
 * Accounted cost of an entry whose value is `length` bytes in its plain form (what ownValue and overwriteValue make),
 * computed before building it so the store can reserve first.
 */
export function plainCost(key: string, length: number): number {
  return length <= MAX_STRING_VALUE_BYTES ? ENTRY_OVERHEAD_BYTES + key.length + length : ENTRY_OVERHEAD_BYTES + BUFFER_OVERHEAD_BYTES + key.length + length;
}

/** `base` with `value` written at `offset`, zero-padded, `length` bytes: always a new value (readers keep the old). */
export function overwriteValue(base: StoreValue, offset: number, value: StoreValue, length: number): StoreValue {
  if (length <= MAX_STRING_VALUE_BYTES) {
    const s = asString(base);
    const v = asString(value);
    const head = offset <= s.length ? s.slice(0, offset) : s + '\0'.repeat(offset - s.length);
    return flat(head + v + s.slice(offset + v.length));
  }
  const out = ownedBuffer(base, length, length);
  if (typeof value === 'string') out.write(value, offset, value.length, 'latin1');
  else value.copy(out, offset);
  return out;
}
