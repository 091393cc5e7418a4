/**
 * The element containers of hashes, sets and sorted sets: a Map / Set split into 2^k buckets by a hash of the key,
 * so HSCAN/SSCAN/ZSCAN can use Redis's reverse-binary cursor (dictScan) and keep its guarantee: an element present
 * from the start to the end of a full iteration is returned at least once, whatever else is added or deleted
 * meanwhile and however often the table grows or shrinks (an element may be returned more than once). A cursor
 * names a bucket, never a position, so deletions elsewhere cannot move an element past it.
 *
 * - Up to ONE_BUCKET_MAX elements the table is one native Map/Set: no hashing on the hot path, insertion order (as
 *   Redis's compact encodings keep it), and a scan answers everything at once with cursor 0.
 * - Beyond, 2^k buckets of GROW_AVG/2..GROW_AVG elements on average (lookups: one JS string hash, then the bucket's
 *   native Map). The table doubles when the average passes GROW_AVG and halves below SHRINK_AVG (hysteresis).
 *   A bucket is a whole native Map/Set, so the per-element cost is the native one plus the bucket objects spread
 *   over their elements (a few bytes; measured in `npm run bench -- types`, docs/BENCHMARKS.md ## types).
 * - A scan step returns whole buckets (about GROW_AVG/2 elements each) until COUNT is reached, as Redis returns whole
 *   bucket chains.
 * - The hash is seeded by a constant: an adversary who makes keys collide only makes buckets bigger (scan steps
 *   longer); lookups stay native hash-table lookups.
 * Internal to src/storage.
 */

/** Up to this many elements, one bucket (Redis's listpack limit for hashes and sorted sets). */
export const ONE_BUCKET_MAX = 128;
/** Average elements per bucket above which the table doubles. */
const GROW_AVG = 32;
/** Average elements per bucket below which the table halves (well below GROW_AVG/2, so it does not flap). */
const SHRINK_AVG = 4;
/** Buckets at most (2^30): the cursor stays a 32-bit number. */
const MAX_BUCKETS = 2 ** 30;
/** Characters hashed from each end of a long key. */
const HASH_EDGE = 128;

/** A 32-bit hash of a latin1 string (FNV-1a over the chars, then murmur3's finalizer); keys over 256 chars: both ends. */
export function hashKey(s: string): number {
  const n = s.length;
  let h = 0x811c9dc5 ^ n;
  if (n <= 2 * HASH_EDGE) {
    for (let i = 0; i < n; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  } else {
    for (let i = 0; i < HASH_EDGE; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
    for (let i = n - HASH_EDGE; i < n; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function rev32(v: number): number {
  v = ((v >>> 1) & 0x55555555) | ((v & 0x55555555) << 1);
  v = ((v >>> 2) & 0x33333333) | ((v & 0x33333333) << 2);
  v = ((v >>> 4) & 0x0f0f0f0f) | ((v & 0x0f0f0f0f) << 4);
  v = ((v >>> 8) & 0x00ff00ff) | ((v & 0x00ff00ff) << 8);
  return ((v >>> 16) | (v << 16)) >>> 0;
}

/** Redis's dictScan cursor step: increment the bucket bits of `v` (under `mask`) from the high end. 0 = done. */
export function nextCursor(v: number, mask: number): number {
  v = (v | ~mask) >>> 0;
  v = rev32(v);
  v = (v + 1) >>> 0;
  return rev32(v);
}

function bucketsFor(size: number): number {
  let nb = 1;
  while (nb < MAX_BUCKETS && nb * (GROW_AVG / 2) < size) nb *= 2;
  return nb;
}

type Bucket = Map<string, unknown> | Set<string>;

/** The bucket logic shared by ScanMap and ScanSet. */
abstract class Buckets<B extends Bucket> {
  protected table: Array<B | undefined>;
  protected mask = 0;
  private count = 0;

  constructor() {
    this.table = [this.make()];
  }

  protected abstract make(): B;
  /** Puts every element of `from` into `into(key)`. */
  protected abstract moveAll(from: B, into: (key: string) => B): void;

  get size(): number {
    return this.count;
  }

  /** Buckets now (tests and the bench look). */
  get bucketCount(): number {
    return this.mask + 1;
  }

  protected bucketOf(k: string): B | undefined {
    return this.mask === 0 ? this.table[0] : this.table[hashKey(k) & this.mask];
  }

  protected writableBucketOf(k: string): B {
    if (this.mask === 0) return this.table[0]!;
    const i = hashKey(k) & this.mask;
    let b = this.table[i];
    if (b === undefined) this.table[i] = b = this.make();
    return b;
  }

  /** After a new element went in. */
  protected added(): void {
    this.count++;
    if (this.mask === 0 ? this.count > ONE_BUCKET_MAX : this.count > (this.mask + 1) * GROW_AVG && this.mask + 1 < MAX_BUCKETS) {
      this.resize(bucketsFor(this.count));
    }
  }

  has(k: string): boolean {
    return this.bucketOf(k)?.has(k) === true;
  }

  delete(k: string): boolean {
    if (this.mask === 0) {
      if (!this.table[0]!.delete(k)) return false;
      this.count--;
      return true;
    }
    const i = hashKey(k) & this.mask;
    const b = this.table[i];
    if (b === undefined || !b.delete(k)) return false;
    this.count--;
    if (b.size === 0) this.table[i] = undefined;
    if (this.count < (this.mask + 1) * SHRINK_AVG) this.resize(this.count <= ONE_BUCKET_MAX / 2 ? 1 : bucketsFor(this.count));
    return true;
  }

  private resize(nb: number): void {
    const old = this.table;
    this.table = new Array<B | undefined>(nb).fill(undefined);
    this.mask = nb - 1;
    if (nb === 1) this.table[0] = this.make();
    const into = (k: string): B => this.writableBucketOf(k);
    for (const b of old) if (b !== undefined) this.moveAll(b, into);
  }

  /**
   * One scan step from `cursor` (any integer ≥ 0; only its low 32 bits count, as only the bucket bits count in
   * Redis): visits whole buckets until `count` elements were visited, or 10×count empty buckets, or the end.
   * Returns the next cursor, 0 when the iteration is complete.
   */
  protected scanBuckets(cursor: number, count: number, visit: (b: B) => void): number {
    let v = cursor % 2 ** 32 >>> 0;
    let seen = 0;
    let empty = count * 10;
    do {
      const b = this.table[v & this.mask];
      if (b !== undefined && b.size > 0) {
        visit(b);
        seen += b.size;
      } else {
        empty--;
      }
      v = nextCursor(v, this.mask);
    } while (v !== 0 && seen < count && empty > 0);
    return v;
  }

  keys(): IterableIterator<string> {
    return this.mask === 0 ? this.table[0]!.keys() : this.allKeys();
  }

  private *allKeys(): IterableIterator<string> {
    for (const b of this.table) if (b !== undefined) yield* b.keys();
  }
}

/** A Map<string, V> that scans with Redis's cursor guarantee (see the file's comment). */
export class ScanMap<V> extends Buckets<Map<string, V>> {
  protected make(): Map<string, V> {
    return new Map<string, V>();
  }

  protected moveAll(from: Map<string, V>, into: (key: string) => Map<string, V>): void {
    for (const [k, v] of from) into(k).set(k, v);
  }

  get(k: string): V | undefined {
    return this.bucketOf(k)?.get(k);
  }

  set(k: string, v: V): this {
    const b = this.writableBucketOf(k);
    const before = b.size;
    b.set(k, v);
    if (b.size !== before) this.added();
    return this;
  }

  values(): IterableIterator<V> {
    return this.mask === 0 ? this.table[0]!.values() : this.allValues();
  }

  private *allValues(): IterableIterator<V> {
    for (const b of this.table) if (b !== undefined) yield* b.values();
  }

  entries(): IterableIterator<[string, V]> {
    return this.mask === 0 ? this.table[0]!.entries() : this.allEntries();
  }

  private *allEntries(): IterableIterator<[string, V]> {
    for (const b of this.table) if (b !== undefined) yield* b.entries();
  }

  [Symbol.iterator](): IterableIterator<[string, V]> {
    return this.entries();
  }

  /** One scan step (see Buckets.scanBuckets): `visit` gets each entry of the visited buckets. */
  scan(cursor: number, count: number, visit: (k: string, v: V) => void): number {
    return this.scanBuckets(cursor, count, (b) => {
      for (const [k, v] of b) visit(k, v);
    });
  }
}

/** A Set<string> that scans with Redis's cursor guarantee (see the file's comment). */
export class ScanSet extends Buckets<Set<string>> {
  protected make(): Set<string> {
    return new Set<string>();
  }

  protected moveAll(from: Set<string>, into: (key: string) => Set<string>): void {
    for (const k of from) into(k).add(k);
  }

  add(k: string): this {
    const b = this.writableBucketOf(k);
    const before = b.size;
    b.add(k);
    if (b.size !== before) this.added();
    return this;
  }

  values(): IterableIterator<string> {
    return this.keys();
  }

  [Symbol.iterator](): IterableIterator<string> {
    return this.keys();
  }

  /** One scan step (see Buckets.scanBuckets): `visit` gets each member of the visited buckets. */
  scan(cursor: number, count: number, visit: (k: string) => void): number {
    return this.scanBuckets(cursor, count, (b) => {
      for (const k of b) visit(k);
    });
  }
}
