/**
 * SCAN cursors over the store's partition Maps. Internal to src/storage.
 *
 * A partition Map iterates in insertion order; overwriting a key keeps its place, a new key goes last, a deleted key
 * leaves. So a position in a partition stays exact as long as nothing in the partition is deleted. A cursor is a
 * plain integer below 2^53 that every client round-trips:
 *   cursor = (epoch × 2^27 + position) × 16384 + partition   (0 to start, and 0 again when done)
 * where `epoch` is the partition's deletion count (mod 2^12) at which `position` was exact. Resuming a cursor:
 * 1. the live Map iterator that made it is still cached (up to SCAN_CACHE_SIZE scans in flight; a cursor value two
 *    scans made at once is cached for neither): continue it. V8 Map iterators survive deletions and insertions,
 *    so this is exact; the cursor it returns keeps the old epoch (its position is only counted, not exact);
 * 2. else, no key of the partition was deleted since the epoch: walk to the position, which is still exact;
 * 3. else: walk the partition from its start and return every key up to position + COUNT (keys returned before come
 *    again; none present throughout is skipped, and the scan still advances by COUNT per call).
 * Guarantees: without writes every key exactly once; with writes a key present for the whole scan at least once,
 * except in the one case where case 2 is wrong: the iterator was dropped and exactly a multiple of 4096 deletions
 * happened in that partition in between. A partition past 2^27 keys finishes within one call.
 */
import type { Entry } from './entry.js';
import { MAX_PARTITIONS } from './options.js';
import type { ScanResult } from './types.js';
import { isCollection, type ValueType } from './collections.js';

/** Live SCAN iterators kept; older ones are dropped and their scans resume by position (see above). */
const SCAN_CACHE_SIZE = 64;
const POSITION_LIMIT = 2 ** 27;
const EPOCH_LIMIT = 2 ** 12;

interface ScanState {
  partition: number;
  position: number;
  /** The partition's deletion count when `position` was exact. */
  calibrated: number;
  iterator: Iterator<string>;
}

function makeCursor(partition: number, position: number, calibrated: number): number {
  return ((calibrated % EPOCH_LIMIT) * POSITION_LIMIT + position) * MAX_PARTITIONS + partition;
}

export class ScanCursors {
  private readonly cache = new Map<number, ScanState>();

  /**
   * One SCAN step; see Store.scan. `deletions[p]`: keys deleted from partition p so far. Keys whose TTL passed before
   * `now` are skipped, and keys not of `type` when given.
   */
  scan(
    maps: readonly Map<string, Entry>[], deletions: Uint32Array, cursor: number, count: number, now: number,
    owns?: (partition: number) => boolean, match?: (key: string) => boolean, type?: ValueType,
  ): ScanResult {
    const keys: string[] = [];
    if (!Number.isSafeInteger(cursor) || cursor < 0) cursor = 0;
    let partition = cursor % MAX_PARTITIONS;
    const rest = (cursor - partition) / MAX_PARTITIONS;
    let position = rest % POSITION_LIMIT;
    const epoch = (rest - position) / POSITION_LIMIT;
    const budget = Math.max(1, Math.floor(count));
    let examined = 0;
    const cached = cursor === 0 ? undefined : this.cache.get(cursor);
    if (cached !== undefined) this.cache.delete(cursor);
    while (partition < maps.length) {
      if (owns !== undefined && !owns(partition)) {
        partition++;
        position = 0;
        continue;
      }
      const map = maps[partition]!;
      let it: Iterator<string>;
      let calibrated = deletions[partition]!;
      if (cached !== undefined && cached.partition === partition && cached.position === position) {
        it = cached.iterator;
        calibrated = cached.calibrated;
      } else {
        it = map.keys();
        if (position > 0 && epoch !== deletions[partition]! % EPOCH_LIMIT) {
          // Case 3: keys before the position were deleted; replay from the start, up to position + COUNT.
          examined = -position;
          position = 0;
        } else {
          for (let i = 0; i < position; i++) if (it.next().done === true) break;
        }
      }
      for (;;) {
        if (examined >= budget && position < POSITION_LIMIT - 1) {
          const next = makeCursor(partition, position, calibrated);
          if (this.cache.has(next)) {
            // Another scan made the same cursor value: neither iterator can be told apart, so neither is used.
            this.cache.delete(next);
          } else {
            if (this.cache.size >= SCAN_CACHE_SIZE) this.cache.delete(this.cache.keys().next().value!);
            this.cache.set(next, { partition, position, calibrated, iterator: it });
          }
          return { cursor: next, keys };
        }
        const r = it.next();
        if (r.done === true) break;
        position++;
        examined++;
        const e = map.get(r.value);
        if (e === undefined || (e.expiresAt !== 0 && e.expiresAt < now)) continue;
        if (type !== undefined && (isCollection(e.value) ? e.value.type : 'string') !== type) continue;
        if (match === undefined || match(r.value)) keys.push(r.value);
      }
      partition++;
      position = 0;
    }
    return { cursor: 0, keys };
  }
}
