/**
 * The element containers of hashes, sets and sorted sets: a native Map / Set (every lookup and iteration, in
 * insertion order) plus, once the collection is big, a scan index that lets HSCAN/SSCAN/ZSCAN use Redis's
 * reverse-binary cursor (dictScan) and keep its guarantee: an element present from the start to the end of a full
 * iteration is returned at least once, whatever else is added or deleted meanwhile and however often the index grows
 * or shrinks (an element may be returned more than once). A cursor names a bucket, never a position, so deletions
 * elsewhere cannot move an element past it.
 *
 * - Up to ONE_BUCKET_MAX elements there is no index: a scan answers everything at once with cursor 0 (as Redis's
 *   compact encodings do).
 * - Beyond, the index is 2^k arrays ("buckets") of the keys whose hash (hashKey, low k bits) is the bucket number,
 *   GROW_AVG/2..GROW_AVG keys each on average. It doubles when the average passes GROW_AVG and halves below
 *   SHRINK_AVG (hysteresis), rebuilt from the Map. Reads never touch it; an add pushes the key to its bucket, a
 *   delete swaps it out of its bucket. Cost: about one pointer and its array slack per element (measured in
 *   memory.test.ts and `npm run bench -- types`, docs/BENCHMARKS.md ## types).
 * - A scan step returns whole buckets (GROW_AVG/2..GROW_AVG keys) until COUNT is reached, as Redis returns whole
 *   bucket chains.
 * - The hash is seeded by a constant: an adversary who makes keys collide only makes buckets bigger (scan steps and
 *   deletes longer); lookups stay native hash-table lookups.
 * Internal to src/storage.
 */

/** Up to this many elements, no scan index (Redis's listpack limit for hashes and sorted sets). */
export const ONE_BUCKET_MAX = 128;
/** Average keys per bucket above which the index doubles. */
const GROW_AVG = 32;
/** Average keys per bucket below which the index halves (well below GROW_AVG/2, so it does not flap). */
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

/** Buckets for `size` keys: the most that still hold GROW_AVG/2 keys each on average (at least 1). */
function bucketsFor(size: number): number {
  let nb = 1;
  while (nb < MAX_BUCKETS && nb * 2 * (GROW_AVG / 2) <= size) nb *= 2;
  return nb;
}

type Items = Map<string, unknown> | Set<string>;

/** The scan index shared by ScanMap and ScanSet over their native `items`. */
abstract class Indexed<B extends Items> {
  /** Bucket b: the keys whose hashKey & mask is b; null while the collection is small (no index). */
  private table: Array<string[] | undefined> | null = null;
  private mask = 0;

  constructor(protected readonly items: B) {}

  get size(): number {
    return this.items.size;
  }

  /** Buckets of the scan index now, 1 without one (tests and the bench look). */
  get bucketCount(): number {
    return this.mask + 1;
  }

  has(k: string): boolean {
    return this.items.has(k);
  }

  keys(): IterableIterator<string> {
    return this.items.keys();
  }

  delete(k: string): boolean {
    if (!this.items.delete(k)) return false;
    const t = this.table;
    if (t === null) return true;
    const i = hashKey(k) & this.mask;
    const b = t[i]!;
    const j = b.indexOf(k);
    const last = b.pop()!;
    if (j < b.length) b[j] = last;
    if (b.length === 0) t[i] = undefined;
    const n = this.items.size;
    if (n < (this.mask + 1) * SHRINK_AVG) this.rebuild(n <= ONE_BUCKET_MAX / 2 ? 0 : bucketsFor(n));
    return true;
  }

  /** After `k` went into `items` as a new key. */
  protected added(k: string): void {
    const t = this.table;
    const n = this.items.size;
    if (t === null) {
      if (n > ONE_BUCKET_MAX) this.rebuild(bucketsFor(n));
      return;
    }
    if (n > (this.mask + 1) * GROW_AVG && this.mask + 1 < MAX_BUCKETS) {
      this.rebuild(bucketsFor(n));
      return;
    }
    const i = hashKey(k) & this.mask;
    const b = t[i];
    if (b === undefined) t[i] = [k];
    else b.push(k);
  }

  /** A new index of `nb` buckets (0 = none) from the keys. */
  private rebuild(nb: number): void {
    if (nb === 0) {
      this.table = null;
      this.mask = 0;
      return;
    }
    const mask = nb - 1;
    const hashes = new Uint32Array(this.items.size);
    const counts = new Uint32Array(nb);
    let j = 0;
    for (const k of this.items.keys()) counts[(hashes[j++] = hashKey(k) & mask)]!++;
    j = 0;
    const t = new Array<string[] | undefined>(nb);
    for (let i = 0; i < nb; i++) {
      if (counts[i] === 0) continue;
      // Room for the bucket to double (until the next rebuild, on average) without reallocating: V8 keeps an
      // array's capacity when its length drops to no less than half of it, and grows small arrays by 1.5× + 16.
      const b = new Array<string>(2 * counts[i]!);
      b.length = counts[i]!;
      t[i] = b;
    }
    for (const k of this.items.keys()) {
      const i = hashes[j++]!;
      t[i]![--counts[i]!] = k;
    }
    this.table = t;
    this.mask = mask;
  }

  /**
   * One scan step from `cursor` (any integer ≥ 0; only its low 32 bits count, as only the bucket bits count in
   * Redis): visits whole buckets until `count` keys were visited, or 10×count empty buckets, or the end; without an
   * index, every key. Returns the next cursor, 0 when the iteration is complete. `visit` must not change the items.
   */
  protected scanKeys(cursor: number, count: number, visit: (k: string) => void): number {
    const t = this.table;
    if (t === null) {
      for (const k of this.items.keys()) visit(k);
      return 0;
    }
    const mask = this.mask;
    let v = cursor % 2 ** 32 >>> 0;
    let seen = 0;
    let empty = count * 10;
    do {
      const b = t[v & mask];
      if (b !== undefined) {
        for (const k of b) visit(k);
        seen += b.length;
      } else {
        empty--;
      }
      v = nextCursor(v, mask);
    } while (v !== 0 && seen < count && empty > 0);
    return v;
  }
}

/** A Map<string, V> whose scan keeps Redis's cursor guarantee (see the file's comment). */
export class ScanMap<V> extends Indexed<Map<string, V>> {
  constructor() {
    super(new Map<string, V>());
  }

  get(k: string): V | undefined {
    return this.items.get(k);
  }

  set(k: string, v: V): this {
    const n = this.items.size;
    this.items.set(k, v);
    if (this.items.size !== n) this.added(k);
    return this;
  }

  values(): IterableIterator<V> {
    return this.items.values();
  }

  entries(): IterableIterator<[string, V]> {
    return this.items.entries();
  }

  [Symbol.iterator](): IterableIterator<[string, V]> {
    return this.items.entries();
  }

  /** One scan step (see Indexed.scanKeys): `visit` gets each entry of the visited buckets. */
  scan(cursor: number, count: number, visit: (k: string, v: V) => void): number {
    return this.scanKeys(cursor, count, (k) => visit(k, this.items.get(k)!));
  }
}

/** A Set<string> whose scan keeps Redis's cursor guarantee (see the file's comment). */
export class ScanSet extends Indexed<Set<string>> {
  constructor() {
    super(new Set<string>());
  }

  add(k: string): this {
    const n = this.items.size;
    this.items.add(k);
    if (this.items.size !== n) this.added(k);
    return this;
  }

  values(): IterableIterator<string> {
    return this.items.values();
  }

  [Symbol.iterator](): IterableIterator<string> {
    return this.items.values();
  }

  /** One scan step (see Indexed.scanKeys): `visit` gets each member of the visited buckets. */
  scan(cursor: number, count: number, visit: (k: string) => void): number {
    return this.scanKeys(cursor, count, visit);
  }
}
