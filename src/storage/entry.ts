/**
 * The store's entry record and its intrusive list (the CLOCK ring used by allkeys-lru). Internal to src/storage.
 */
import { MAX_PARTITIONS } from './options.js';
import type { StoreValue } from './types.js';
import type { Collection } from './collections.js';

/**
 * One key. Lives in its partition's Map, in the CLOCK list (allkeys-lru only) and, when it has a TTL, in the
 * `volatile` array at `vidx`. `expiresAt` is absolute ms, 0 = none. `meta` packs the partition (low 14 bits) and
 * the REFERENCED bit of the CLOCK approximation of LRU, so an access costs one Smi write and no extra field.
 */
export class Entry {
  key: string;
  /** A string value, or a collection (hash, set, sorted set; see collections.ts). */
  value: StoreValue | Collection;
  meta: number;
  expiresAt: number;
  prev: Entry;
  next: Entry;
  vidx: number;

  constructor(key: string, value: StoreValue | Collection, partition: number, expiresAt: number) {
    this.key = key;
    this.value = value;
    this.meta = partition;
    this.expiresAt = expiresAt;
    this.prev = this;
    this.next = this;
    this.vidx = -1;
  }
}

export const PARTITION_MASK = MAX_PARTITIONS - 1;
/** Set on access; the eviction hand clears it and gives the entry a second chance (CLOCK). */
export const REFERENCED = MAX_PARTITIONS;
/** Second chances the eviction hand gives per eviction before it evicts anyway: bounds the pause after a read-heavy phase. */
export const CLOCK_MAX_SECOND_CHANCES = 64;

export function unlink(e: Entry): void {
  e.prev.next = e.next;
  e.next.prev = e.prev;
  e.prev = e;
  e.next = e;
}

export function linkBefore(e: Entry, at: Entry): void {
  e.prev = at.prev;
  e.next = at;
  at.prev.next = e;
  at.prev = e;
}
