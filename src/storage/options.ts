/**
 * Options of the storage engine (STYLE.md "options once"): StoreOptions, the frozen defaults, and
 * resolveStoreOptions() which merges and validates, throwing a TypeError that names the bad option.
 */

/** What the store does when a write needs memory above `maxMemoryBytes`. */
export type EvictionPolicy = 'allkeys-lru' | 'volatile-ttl' | 'noeviction';

export const EVICTION_POLICIES: readonly EvictionPolicy[] = Object.freeze(['allkeys-lru', 'volatile-ttl', 'noeviction']);

/** The most partitions a store can have (one per slot); also the radix of SCAN cursors. */
export const MAX_PARTITIONS = 16384;

/** Redis's proto-max-bulk-len default: no string may grow past 512 MB. */
export const MAX_VALUE_BYTES_LIMIT = 512 * 1024 * 1024;

export interface StoreOptions {
  /** Number of partitions, 1..16384. Every call names a partition in [0, partitionCount); the caller computes it from the key's slot. */
  partitionCount: number;
  /**
   * Budget for the entries, in accounted bytes (see `entryCost` in memory.ts); 0 = unlimited. A write that would take
   * `usedBytes` above it first evicts by `evictionPolicy`, and fails with OOM when nothing more can be evicted.
   */
  maxMemoryBytes: number;
  /** allkeys-lru (default; exact LRU), volatile-ttl (keys with the nearest expiry first, sampled), noeviction (writes fail with OOM). */
  evictionPolicy: EvictionPolicy;
  /** Largest string a write may create (SET, APPEND, SETRANGE), bytes; Redis's proto-max-bulk-len, at most 512 MB. */
  maxValueBytes: number;
  /** volatile-ttl: volatile keys sampled per eviction, the one expiring first goes (Redis maxmemory-samples). More = closer to exact, slower. */
  evictionSamples: number;
  /**
   * When the store reads its Clock: 'task' (default) once per task, so a pipeline of commands from one socket read
   * shares one time snapshot (staleness ≤ the length of that synchronous run; much faster, see store.ts `now`);
   * 'call' on every access (tests that advance a ManualClock and call the store in the same task use it).
   */
  timeSnapshot: 'task' | 'call';
  /** Seed of the store's PRNG (eviction sampling); fixed so tests are reproducible. */
  randomSeed: number;
}

export const DEFAULT_STORE_OPTIONS: Readonly<StoreOptions> = Object.freeze({
  partitionCount: 256,
  maxMemoryBytes: 0,
  evictionPolicy: 'allkeys-lru',
  maxValueBytes: MAX_VALUE_BYTES_LIMIT,
  evictionSamples: 5,
  timeSnapshot: 'task',
  randomSeed: 0x2545f491,
});

function intIn(name: string, v: unknown, min: number, max: number): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new TypeError(`StoreOptions.${name} must be an integer in [${min}, ${max}], got ${String(v)}`);
  }
}

/** Merges `options` over the defaults and validates every field; throws a TypeError naming the bad option. */
export function resolveStoreOptions(options: Partial<StoreOptions> = {}): StoreOptions {
  const o: StoreOptions = { ...DEFAULT_STORE_OPTIONS, ...options };
  intIn('partitionCount', o.partitionCount, 1, MAX_PARTITIONS);
  intIn('maxMemoryBytes', o.maxMemoryBytes, 0, Number.MAX_SAFE_INTEGER);
  if (!EVICTION_POLICIES.includes(o.evictionPolicy)) {
    throw new TypeError(`StoreOptions.evictionPolicy must be one of ${EVICTION_POLICIES.join(', ')}, got ${String(o.evictionPolicy)}`);
  }
  intIn('maxValueBytes', o.maxValueBytes, 1, MAX_VALUE_BYTES_LIMIT);
  intIn('evictionSamples', o.evictionSamples, 1, 64);
  if (o.timeSnapshot !== 'task' && o.timeSnapshot !== 'call') {
    throw new TypeError(`StoreOptions.timeSnapshot must be 'task' or 'call', got ${String(o.timeSnapshot)}`);
  }
  intIn('randomSeed', o.randomSeed, 0, 0xffffffff);
  return o;
}

const UNITS: Readonly<Record<string, number>> = Object.freeze({
  '': 1, b: 1, k: 1000, kb: 1024, m: 1000 ** 2, mb: 1024 ** 2, g: 1000 ** 3, gb: 1024 ** 3,
});

/**
 * Parses a size the way redis.conf does: `256mb` = 256×1024², `1k` = 1000, `1kb` = 1024, units b/k/kb/m/mb/g/gb in any
 * case, a plain number = bytes. Throws a TypeError on anything else (negative, fractional, unknown unit, overflow).
 */
export function parseBytes(text: string): number {
  const m = /^\s*(\d+)\s*([a-zA-Z]*)\s*$/.exec(text);
  const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new TypeError(`invalid size ${JSON.stringify(text)}: expected e.g. 1048576, 512kb, 256mb, 2gb`);
  const n = Number(m[1]) * unit;
  if (!Number.isSafeInteger(n)) throw new TypeError(`invalid size ${JSON.stringify(text)}: too large`);
  return n;
}
