/**
 * SCAN cursors over the store's partition Maps. Internal to src/storage.
 *
 * Cursor = position × 16384 + partition (0 = start, and 0 again when done), so a cursor stays a plain integer that
 * every client round-trips. Walking a Map to a position is O(position), so the live Map iterator behind each
 * returned cursor is kept (up to SCAN_CACHE_SIZE scans in flight) and the next call continues it in O(COUNT).
 * Guarantees: without writes, every key is returned exactly once. With writes, a key present for the whole scan is
 * returned (at least once) while the cursor's iterator is cached: V8 Map iterators survive deletions and
 * insertions. A cursor whose iterator was dropped walks to its position again, which can skip or repeat keys if
 * keys before that position were deleted in the meantime.
 */
import type { Entry } from './entry.js';
import { MAX_PARTITIONS } from './options.js';
import type { ScanResult } from './types.js';
import { isCollection, type ValueType } from './collections.js';

/** Live SCAN iterators kept; older ones are dropped and their scans fall back to walking to the cursor position. */
const SCAN_CACHE_SIZE = 64;

interface ScanState {
  partition: number;
  position: number;
  iterator: Iterator<string>;
}

export class ScanCursors {
  private readonly cache = new Map<number, ScanState>();

  /** One SCAN step; see Store.scan. Keys whose TTL passed before `now` are skipped, and keys not of `type` when given. */
  scan(
    maps: readonly Map<string, Entry>[], cursor: number, count: number, now: number,
    owns?: (partition: number) => boolean, match?: (key: string) => boolean, type?: ValueType,
  ): ScanResult {
    const keys: string[] = [];
    if (!Number.isSafeInteger(cursor) || cursor < 0) cursor = 0;
    let partition = cursor % MAX_PARTITIONS;
    let position = (cursor - partition) / MAX_PARTITIONS;
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
      if (cached !== undefined && cached.partition === partition && cached.position === position) {
        it = cached.iterator;
      } else {
        it = map.keys();
        for (let i = 0; i < position; i++) if (it.next().done === true) break;
      }
      for (;;) {
        if (examined >= budget) {
          const next = position * MAX_PARTITIONS + partition;
          if (this.cache.size >= SCAN_CACHE_SIZE) this.cache.delete(this.cache.keys().next().value!);
          this.cache.set(next, { partition, position, iterator: it });
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
